package io.streamrank.shared;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.streamrank.events.ChannelCount;
import io.streamrank.events.ChannelCounts;
import io.streamrank.events.UniqueUsersWindow;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

class SharedEventStreamTest {
    static final long NOW = 1_700_100_000L;

    private RedisEndpoint redis;
    private String ns;
    private final List<AutoCloseable> open = new ArrayList<>();

    @BeforeEach
    void setUp() {
        redis = RedisEndpoint.open(RedisTestSupport.uri());
        ns = RedisTestSupport.namespace();
    }

    @AfterEach
    void tearDown() throws Exception {
        for (AutoCloseable c : open) {
            c.close();
        }
        if (redis != null) { // null when setUp skipped: no test server configured
            redis.close();
        }
    }

    record Events(String[] types, String[] users, String[] channels, long[] stamps) {
        static Events random(Random rnd, int n) {
            Events e = new Events(new String[n], new String[n], new String[n], new long[n]);
            for (int i = 0; i < n; i++) {
                e.types[i] = "message";
                e.users[i] = "u" + rnd.nextInt(300);
                e.channels[i] = "c" + rnd.nextInt(12);
                // Some older than the hour, some in the future (clamped to now).
                e.stamps[i] = NOW - 5000 + rnd.nextInt(5100);
            }
            return e;
        }
    }

    private SharedEventConsumer consumer(DeliveryCallback cb, SharedEventConsumer.Options o) {
        RedisEndpoint endpoint = RedisEndpoint.open(RedisTestSupport.uri());
        open.add(endpoint);
        SharedEventConsumer c = new SharedEventConsumer(endpoint, ns, "main", cb, o);
        open.add(c);
        return c;
    }

    @Test
    void globalStatisticsEqualTheEmbeddedModelExactly() {
        SharedEventStream a = new SharedEventStream(redis, ns, "main");
        RedisEndpoint other = RedisEndpoint.open(RedisTestSupport.uri());
        open.add(other);
        SharedEventStream b = new SharedEventStream(other, ns, "main"); // a second "process"
        UniqueUsersWindow users = new UniqueUsersWindow();
        ChannelCounts channels = new ChannelCounts();
        Random rnd = new Random(1);
        long total = 0;
        for (int round = 0; round < 20; round++) {
            Events e = Events.random(rnd, 1 + rnd.nextInt(700));
            List<String> ids = (round % 2 == 0 ? a : b).publish(e.types, e.users, e.channels, e.stamps, 0,
                    e.users.length, NOW);
            assertEquals(e.users.length, ids.size());
            users.advanceTo(NOW);
            for (int i = 0; i < e.users.length; i++) {
                users.record(e.users[i], e.stamps[i]);
                channels.record(e.channels[i]);
            }
            total += e.users.length;
        }
        a.recordDropped(7);
        b.recordDropped(5);
        for (SharedEventStream s : List.of(a, b)) {
            assertEquals(total, s.acceptedCount());
            assertEquals(12, s.droppedCount());
            assertEquals(users.count(NOW), s.uniqueUsersLastHour(NOW));
            assertEquals(channels.top(5), s.topChannels(5));
            assertEquals(total, s.streamLength());
        }
        List<ChannelCount> all = a.topChannels(100);
        assertEquals(12, all.size());
        assertEquals(total, all.stream().mapToLong(ChannelCount::count).sum());
    }

    @Test
    void eachEventReachesExactlyOneCallbackAndIsAcknowledged() throws Exception {
        SharedEventStream s = new SharedEventStream(redis, ns, "main");
        Map<String, Integer> seen = new ConcurrentHashMap<>();
        AtomicInteger total = new AtomicInteger();
        int n = 3000;
        CountDownLatch all = new CountDownLatch(n);
        DeliveryCallback cb = batch -> {
            for (DeliveredEvent e : batch) {
                seen.merge(e.streamId(), 1, Integer::sum);
                total.incrementAndGet();
                all.countDown();
            }
            return true;
        };
        SharedEventConsumer c1 = consumer(cb, new SharedEventConsumer.Options(100, 200, 30_000, 3, 10));
        SharedEventConsumer c2 = consumer(cb, new SharedEventConsumer.Options(100, 200, 30_000, 3, 10));
        c1.start();
        c2.start();
        Set<String> published = new HashSet<>();
        Random rnd = new Random(2);
        for (int sent = 0; sent < n; ) {
            Events e = Events.random(rnd, Math.min(n - sent, 1 + rnd.nextInt(400)));
            published.addAll(s.publish(e.types, e.users, e.channels, e.stamps, 0, e.users.length, NOW));
            sent += e.users.length;
        }
        assertTrue(all.await(30, TimeUnit.SECONDS), "every event delivered");
        c1.close();
        c2.close();
        assertEquals(published, seen.keySet());
        assertEquals(n, total.get(), "no event delivered twice");
        assertEquals(n, c1.deliveredCount() + c2.deliveredCount());
        long pending = redis.call("xpending", j -> j.xpending(s.keys().key("stream"), SharedEventConsumer.GROUP).getTotal());
        assertEquals(0, pending, "every delivered batch acknowledged");
    }

    @Test
    void failuresAreRetriedThenDeadLetteredWithTheAttemptCountFromRedis() throws Exception {
        SharedEventStream s = new SharedEventStream(redis, ns, "main");
        Events good = Events.random(new Random(3), 5);
        Map<String, List<Long>> attempts = new ConcurrentHashMap<>();
        CountDownLatch done = new CountDownLatch(1);
        // The first batch fails once then succeeds; "poison" batches always fail.
        DeliveryCallback cb = batch -> {
            boolean poison = batch.stream().anyMatch(e -> e.userId().equals("poison"));
            for (DeliveredEvent e : batch) {
                attempts.computeIfAbsent(e.streamId(), k -> new ArrayList<>()).add(e.deliveryCount());
            }
            if (poison) {
                throw new IllegalStateException("database says no");
            }
            boolean firstTry = batch.get(0).deliveryCount() == 1;
            if (!firstTry) {
                done.countDown();
            }
            return !firstTry;
        };
        SharedEventConsumer c = consumer(cb, new SharedEventConsumer.Options(100, 200, 30_000, 3, 5));
        List<String> goodIds = s.publish(good.types, good.users, good.channels, good.stamps, 0, 5, NOW);
        while (c.pollOnce() == 0) {
            // the batch is there already; a poll returns 0 only on an empty read
        }
        assertTrue(done.await(1, TimeUnit.SECONDS));
        for (String id : goodIds) {
            assertEquals(List.of(1L, 2L), attempts.get(id), "failed once, retried once with the count from Redis");
        }
        String[] t = {"message"};
        List<String> poisonIds = s.publish(t, new String[] {"poison"}, new String[] {"c"}, new long[] {NOW}, 0, 1, NOW);
        while (c.pollOnce() == 0) {
            // wait for it
        }
        assertEquals(List.of(1L, 2L, 3L), attempts.get(poisonIds.get(0)), "three attempts, then dead");
        assertEquals(1, s.deadLetterCount());
        var dead = redis.call("xrange", j -> j.xrange(s.keys().key("dead"), "-", "+"));
        assertEquals(poisonIds.get(0), dead.get(0).getFields().get("src"));
        assertEquals("3", dead.get(0).getFields().get("attempts"));
        assertTrue(dead.get(0).getFields().get("error").contains("database says no"));
        long pending = redis.call("xpending", j -> j.xpending(s.keys().key("stream"), SharedEventConsumer.GROUP).getTotal());
        assertEquals(0, pending, "dead letters are acknowledged in the same MULTI");
    }

    @Test
    void aBatchLeftPendingByADeadConsumerIsClaimedByAnotherAndCountsItsAttempts() throws Exception {
        SharedEventStream s = new SharedEventStream(redis, ns, "main");
        CountDownLatch inCallback = new CountDownLatch(1);
        CountDownLatch never = new CountDownLatch(1);
        SharedEventConsumer dying = consumer(batch -> {
            inCallback.countDown();
            never.await(); // stuck mid-batch, as if killed: it never acknowledges
            return true;
        }, new SharedEventConsumer.Options(100, 200, 30_000, 5, 5));
        Events e = Events.random(new Random(4), 50);
        List<String> ids = s.publish(e.types, e.users, e.channels, e.stamps, 0, 50, NOW);
        dying.start();
        assertTrue(inCallback.await(10, TimeUnit.SECONDS));

        Map<String, Long> got = new HashMap<>();
        SharedEventConsumer rescuer = consumer(batch -> {
            for (DeliveredEvent d : batch) {
                got.put(d.streamId(), d.deliveryCount());
            }
            return true;
        }, new SharedEventConsumer.Options(100, 200, 300, 5, 5));
        long deadline = System.nanoTime() + 20_000_000_000L;
        while (got.size() < 50 && System.nanoTime() < deadline) {
            rescuer.pollOnce(); // claims once the entries are idle for 300 ms
        }
        assertEquals(new HashSet<>(ids), got.keySet());
        assertTrue(got.values().stream().allMatch(c -> c == 2), "second delivery: " + got.values());
        assertEquals(50, rescuer.claimedCount());
        long pending = redis.call("xpending", j -> j.xpending(s.keys().key("stream"), SharedEventConsumer.GROUP).getTotal());
        assertEquals(0, pending);
        never.countDown();
    }

    @Test
    void redisDownPublishFailsFastAndNothingAcknowledgedIsLostOverAnAofRestart() throws Exception {
        try (RedisTestSupport.PrivateServer server = new RedisTestSupport.PrivateServer()) {
            RedisEndpoint endpoint = RedisEndpoint.open(server.uri(), 500);
            open.add(endpoint);
            SharedEventStream s = new SharedEventStream(endpoint, ns, "main");
            Random rnd = new Random(6);
            Set<String> acked = new HashSet<>();
            for (int i = 0; i < 10; i++) {
                Events e = Events.random(rnd, 100);
                acked.addAll(s.publish(e.types, e.users, e.channels, e.stamps, 0, 100, NOW));
            }
            server.kill9();
            Events e = Events.random(rnd, 100);
            SharedUnavailableException ex = assertThrows(SharedUnavailableException.class,
                    () -> s.publish(e.types, e.users, e.channels, e.stamps, 0, 100, NOW));
            assertTrue(ex.getMessage().contains("timeout 500 ms"), ex.getMessage());
            assertThrows(SharedUnavailableException.class, () -> s.acceptedCount());
            server.start();
            assertEquals(1000, s.acceptedCount(), "counted = stored, after the restart");
            Set<String> stored = new HashSet<>();
            endpoint.call("xrange", j -> j.xrange(s.keys().key("stream"), "-", "+"))
                    .forEach(x -> stored.add(x.getID().toString()));
            assertEquals(acked, stored);
        }
    }

    @Test
    void consumersTrimWhatEveryoneAcknowledgedAndNothingElse() {
        SharedEventStream s = new SharedEventStream(redis, ns, "main");
        Events e = Events.random(new Random(8), 400);
        s.publish(e.types, e.users, e.channels, e.stamps, 0, 400, NOW);
        Set<String> seen = new HashSet<>();
        SharedEventConsumer c = consumer(batch -> {
            batch.forEach(d -> seen.add(d.streamId()));
            return true;
        }, new SharedEventConsumer.Options(5, 100, 30_000, 3, 5));
        for (int i = 0; i < 70; i++) { // the 64th poll trims
            c.pollOnce();
        }
        assertEquals(350, seen.size());
        long length = s.streamLength();
        assertTrue(length < 400, "acknowledged entries trimmed: " + length);
        assertTrue(length >= 50, "undelivered entries kept: " + length);
        while (c.pollOnce() > 0) {
            // the rest is still there to deliver
        }
        assertEquals(400, seen.size());
        assertEquals(400, s.acceptedCount(), "trimming the stream does not change the counts");
    }
}

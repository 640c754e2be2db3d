package io.streamrank.events;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.CyclicBarrier;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.AtomicReference;
import org.junit.jupiter.api.Test;

class EventProcessorTest {
    private static final long T0 = 1_700_000_000L;
    private static final long MS = 1_000_000L;

    private final ManualClock clock = new ManualClock(T0);

    private EventProcessor processor(int bufferSize, int batchSize, long flushMillis, RetryPolicy retry) {
        return new EventProcessor(bufferSize, batchSize, flushMillis * MS, retry, clock);
    }

    private EventProcessor processor(int bufferSize, int batchSize, long flushMillis) {
        return processor(bufferSize, batchSize, flushMillis, new RetryPolicy(2, 10 * MS, 100 * MS));
    }

    /** Offers events "e{from}".."e{from+n-1}" from users u{i % users} on channel ch{i % channels}. */
    private static int offer(EventProcessor p, int from, int n, int users, int channels) {
        String[] t = new String[n];
        String[] u = new String[n];
        String[] c = new String[n];
        long[] ts = new long[n];
        for (int i = 0; i < n; i++) {
            t[i] = "e" + (from + i);
            u[i] = "u" + ((from + i) % users);
            c[i] = "ch" + ((from + i) % channels);
            ts[i] = T0;
        }
        return p.offer(t, u, c, ts, 0, n, T0, 0);
    }

    private static int offer(EventProcessor p, int from, int n) {
        return offer(p, from, n, 1_000_000, 1);
    }

    private static List<String> types(Batch b) {
        List<String> out = new ArrayList<>();
        for (int i = 0; i < b.size(); i++) {
            out.add(b.type(i));
        }
        return out;
    }

    @Test
    void aFullBatchIsReadyAtOnceAndKeepsPushOrder() {
        EventProcessor p = processor(100, 10, 1000);
        assertEquals(25, offer(p, 0, 25));
        Batch a = p.pollBatch();
        Batch b = p.pollBatch();
        assertNotNull(a);
        assertNotNull(b);
        assertNull(p.pollBatch(), "5 events left: not a full batch and not old enough");
        assertEquals(List.of("e0", "e1", "e2", "e3", "e4", "e5", "e6", "e7", "e8", "e9"), types(a));
        assertEquals("e10", b.type(0));
        assertEquals(0, a.firstSeq());
        assertEquals(10, b.firstSeq());
    }

    @Test
    void aPartialBatchGoesOutFlushIntervalAfterItsOldestEvent() {
        EventProcessor p = processor(100, 10, 1000);
        offer(p, 0, 3);
        clock.advance(400, TimeUnit.MILLISECONDS);
        offer(p, 3, 2);
        clock.advance(599, TimeUnit.MILLISECONDS);
        assertNull(p.pollBatch());
        clock.advance(1, TimeUnit.MILLISECONDS);
        Batch b = p.pollBatch();
        assertNotNull(b);
        assertEquals(5, b.size());
    }

    @Test
    void theAgeOfStagedEventsCountsTowardsTheInterval() {
        EventProcessor p = processor(100, 10, 1000);
        String[] one = {"x"};
        p.offer(one, one, one, new long[] {T0}, 0, 1, T0, 700 * MS); // pushed 700 ms ago
        clock.advance(299, TimeUnit.MILLISECONDS);
        assertNull(p.pollBatch());
        clock.advance(1, TimeUnit.MILLISECONDS);
        assertNotNull(p.pollBatch());
    }

    @Test
    void bufferSizeBoundsEverythingNotYetDelivered() {
        EventProcessor p = processor(20, 10, 1000);
        assertEquals(15, offer(p, 0, 15));
        assertEquals(5, offer(p, 15, 10), "only 5 slots left");
        assertEquals(5, p.droppedCount());
        Batch a = p.pollBatch();
        Batch b = p.pollBatch();
        assertNotNull(a);
        assertNotNull(b);
        // Both batches are inside a "callback": still counted against the buffer.
        assertEquals(0, offer(p, 20, 1));
        assertEquals(0, p.freeCapacity());
        p.complete(a.id());
        assertEquals(10, p.freeCapacity());
        assertEquals(10, offer(p, 20, 12));
        assertEquals(20 + 10, p.acceptedCount());
        assertEquals(5 + 1 + 2, p.droppedCount());
        assertEquals(20, p.pendingCount());
        assertEquals(10, p.deliveredCount());
    }

    @Test
    void statisticsCountEveryAcceptedEventAndNothingDropped() {
        EventProcessor p = processor(10, 5, 1000);
        offer(p, 0, 25, 7, 3); // 10 accepted
        assertEquals(10, p.acceptedCount());
        assertEquals(List.of(new ChannelCount("ch0", 4), new ChannelCount("ch1", 3), new ChannelCount("ch2", 3)),
                p.topChannels(5));
        assertEquals(7, p.uniqueUsersLastHour(T0));
        assertEquals(0, p.uniqueUsersLastHour(T0 + 3600));
    }

    @Test
    void aFailedBatchIsRetriedAfterBackoffThenDeadLettered() {
        EventProcessor p = processor(100, 4, 1000, new RetryPolicy(2, 10 * MS, 15 * MS));
        offer(p, 0, 4);
        Batch b = p.pollBatch();
        p.fail(b.id(), "boom 1");
        assertNull(p.pollBatch(), "backing off");
        clock.advance(10, TimeUnit.MILLISECONDS);
        Batch again = p.pollBatch();
        assertEquals(b.id(), again.id());
        assertEquals(1, again.failures());
        p.fail(again.id(), "boom 2");
        clock.advance(14, TimeUnit.MILLISECONDS);
        assertNull(p.pollBatch(), "second back-off is min(20, 15) ms");
        clock.advance(1, TimeUnit.MILLISECONDS);
        Batch last = p.pollBatch();
        p.fail(last.id(), "boom 3");
        assertEquals(4, p.deadLetterEventCount());
        assertEquals(0, p.pendingCount());
        List<EventProcessor.FailedBatch> dead = p.deadLetters();
        assertEquals(1, dead.size());
        assertEquals(3, dead.get(0).failures());
        assertEquals("boom 3", dead.get(0).lastError());
        assertEquals(List.of("e0", "e1", "e2", "e3"), types(dead.get(0).batch()));
        assertEquals(96, p.freeCapacity(), "dead letters hold their buffer space");
    }

    @Test
    void deadLettersCanBeRedrivenOrDiscarded() throws Exception {
        EventProcessor p = processor(10, 4, 1000, new RetryPolicy(0, 0, 0));
        offer(p, 0, 8);
        Batch a = p.pollBatch();
        Batch b = p.pollBatch();
        p.fail(a.id(), "x");
        p.fail(b.id(), "y");
        assertEquals(8, p.deadLetterEventCount());
        assertEquals(8, p.flush(0, TimeUnit.MILLISECONDS), "flush reports the dead letters");
        assertEquals(8, p.redriveDeadLetters());
        assertEquals(0, p.deadLetterEventCount());
        assertEquals(8, p.pendingCount());
        Batch again = p.pollBatch();
        assertEquals(a.id(), again.id());
        assertEquals(0, again.failures(), "a re-drive starts a fresh retry budget");
        p.complete(again.id());
        Batch again2 = p.pollBatch();
        p.fail(again2.id(), "z");
        assertEquals(4, p.discardDeadLetters());
        assertEquals(10, p.freeCapacity());
        assertEquals(0, p.flush(0, TimeUnit.MILLISECONDS));
        assertEquals(4, p.deliveredCount());
    }

    @Test
    void aReleasedBatchComesBackFirstWithoutCountingAsAFailure() {
        EventProcessor p = processor(100, 2, 1000);
        offer(p, 0, 4);
        Batch a = p.pollBatch();
        p.release(a.id());
        Batch again = p.pollBatch();
        assertEquals(a.id(), again.id());
        assertEquals(0, again.failures());
        assertThrows(IllegalArgumentException.class, () -> p.complete(a.id() + 100));
    }

    @Test
    void nothingIsHandedOutWhileDeliveryIsDisabled() throws Exception {
        EventProcessor p = processor(100, 2, 10);
        p.setDeliveryEnabled(false);
        offer(p, 0, 4);
        clock.advance(1, TimeUnit.SECONDS);
        assertNull(p.pollBatch());
        IllegalStateException e = assertThrows(IllegalStateException.class, () -> p.flush(1, TimeUnit.SECONDS));
        assertTrue(e.getMessage().contains("no flush callback"), e.getMessage());
        p.setDeliveryEnabled(true);
        assertNotNull(p.pollBatch());
    }

    @Test
    void flushSendsPartialBatchesAndWaitsForTheirCallbacks() throws Exception {
        EventProcessor p = processor(100, 10, 60_000);
        offer(p, 0, 3);
        AtomicLong result = new AtomicLong(-99);
        CountDownLatch started = new CountDownLatch(1);
        Thread flusher = new Thread(() -> {
            started.countDown();
            try {
                result.set(p.flush(-1, TimeUnit.MILLISECONDS));
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        });
        flusher.start();
        started.await();
        Batch b = p.nextBatch(10, TimeUnit.SECONDS); // the flush makes the partial batch ready
        assertNotNull(b);
        assertEquals(3, b.size());
        assertTrue(flusher.isAlive() || result.get() == -99, "flush must wait for the callback");
        p.complete(b.id());
        flusher.join();
        assertEquals(0, result.get());
    }

    @Test
    void awaitSettledReturnsMinusOneOnTimeout() throws Exception {
        EventProcessor p = processor(100, 10, 60_000);
        offer(p, 0, 3);
        assertEquals(-1, p.flush(1, TimeUnit.MILLISECONDS));
        Batch b = p.pollBatch(); // the flush target made it ready
        assertNotNull(b);
        assertEquals(-1, p.awaitSettled(3, 1, TimeUnit.MILLISECONDS), "in flight: not settled");
        p.complete(b.id());
        assertEquals(0, p.awaitSettled(3, 0, TimeUnit.MILLISECONDS));
        assertEquals(0, p.awaitSettled(0, 0, TimeUnit.MILLISECONDS));
    }

    @Test
    void closeDeliversTheRestThenConsumersFinish() throws Exception {
        EventProcessor p = processor(100, 10, 60_000);
        offer(p, 0, 3);
        p.close();
        assertEquals(0, offer(p, 3, 5));
        assertEquals(5, p.droppedCount());
        assertFalse(p.isFinished());
        Batch b = p.nextBatch(1, TimeUnit.SECONDS);
        assertEquals(3, b.size());
        assertFalse(p.isFinished(), "a batch is still in flight and could fail");
        p.complete(b.id());
        assertTrue(p.isFinished());
        assertNull(p.nextBatch(1, TimeUnit.SECONDS));
    }

    @Test
    void shutdownStopsConsumersAndFailsFlushWaiters() throws Exception {
        EventProcessor p = processor(100, 10, 60_000);
        offer(p, 0, 3);
        p.setDeliveryEnabled(true);
        p.shutdown();
        assertNull(p.nextBatch(1, TimeUnit.SECONDS));
        assertThrows(IllegalStateException.class, () -> p.flush(1, TimeUnit.SECONDS));
    }

    @Test
    void nullFieldsAreRejectedBeforeAnythingIsAccepted() {
        EventProcessor p = processor(100, 10, 1000);
        String[] t = {"a", "b"};
        String[] u = {"a", null};
        assertThrows(NullPointerException.class, () -> p.offer(t, u, t, new long[2], 0, 2, T0, 0));
        assertEquals(0, p.acceptedCount());
        assertThrows(IllegalArgumentException.class, () -> p.offer(t, t, t, new long[2], 1, 2, T0, 0));
    }

    @Test
    void constructorRejectsNonPositiveSettings() {
        assertThrows(IllegalArgumentException.class, () -> processor(0, 1, 1));
        assertThrows(IllegalArgumentException.class, () -> processor(1, 0, 1));
        assertThrows(IllegalArgumentException.class, () -> processor(1, 1, 0));
    }

    @Test
    void aBlockedConsumerWakesWhenABatchFillsAndWhenTheIntervalPasses() throws Exception {
        EventProcessor p = new EventProcessor(1000, 10, 50 * MS, RetryPolicy.DEFAULT, Clock.SYSTEM);
        AtomicReference<Batch> got = new AtomicReference<>();
        CountDownLatch waiting = new CountDownLatch(1);
        Thread consumer = new Thread(() -> {
            waiting.countDown();
            try {
                got.set(p.nextBatch(30, TimeUnit.SECONDS));
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        });
        consumer.start();
        waiting.await();
        offer(p, 0, 10);
        consumer.join();
        assertEquals(10, got.get().size());
        p.complete(got.get().id());
        // One lone event: delivered once the (real) 50 ms interval passed, not at the timeout.
        offer(p, 10, 1);
        Batch lone = p.nextBatch(30, TimeUnit.SECONDS);
        assertNotNull(lone);
        assertEquals("e10", lone.type(0));
    }

    /**
     * Several producer threads offer concurrently while several consumer threads take batches,
     * fail some of them (they are retried) and complete the rest: every accepted event is
     * delivered exactly once, in order within its producer, and accepted + dropped = offered.
     */
    @Test
    void concurrentProducersAndConsumersLoseAndDuplicateNothing() throws Exception {
        int producers = 4;
        int perProducer = 50_000;
        EventProcessor p = new EventProcessor(4096, 100, 5 * MS, new RetryPolicy(100, 0, 0), Clock.SYSTEM);
        ConcurrentHashMap<String, Boolean> delivered = new ConcurrentHashMap<>();
        AtomicLong duplicates = new AtomicLong();
        AtomicLong acceptedByProducers = new AtomicLong();
        AtomicReference<Throwable> failure = new AtomicReference<>();
        CyclicBarrier start = new CyclicBarrier(producers);
        List<Thread> threads = new ArrayList<>();
        for (int id = 0; id < producers; id++) {
            int producer = id;
            threads.add(new Thread(() -> {
                try {
                    start.await();
                    int next = 0;
                    while (next < perProducer) {
                        int n = Math.min(37, perProducer - next);
                        String[] t = new String[n];
                        String[] u = new String[n];
                        String[] c = new String[n];
                        long[] ts = new long[n];
                        for (int i = 0; i < n; i++) {
                            t[i] = "p" + producer + ":" + (next + i);
                            u[i] = "u" + ((next + i) % 1000);
                            c[i] = "ch" + producer;
                            ts[i] = T0;
                        }
                        int took = p.offer(t, u, c, ts, 0, n);
                        acceptedByProducers.addAndGet(took);
                        next += n; // refused events are dropped, as push_event would
                    }
                } catch (Throwable e) {
                    failure.set(e);
                }
            }));
        }
        List<Thread> consumers = new ArrayList<>();
        for (int i = 0; i < 3; i++) {
            consumers.add(new Thread(() -> {
                try {
                    long calls = 0;
                    Batch b;
                    while ((b = p.nextBatch(10, TimeUnit.SECONDS)) != null) {
                        if (++calls % 7 == 0) {
                            p.fail(b.id(), "transient");
                            continue;
                        }
                        int lastSeen = -1;
                        String lastProducer = null;
                        for (int k = 0; k < b.size(); k++) {
                            if (delivered.putIfAbsent(b.type(k), Boolean.TRUE) != null) {
                                duplicates.incrementAndGet();
                            }
                            String[] parts = b.type(k).split(":");
                            int seq = Integer.parseInt(parts[1]);
                            if (parts[0].equals(lastProducer) && seq <= lastSeen) {
                                throw new AssertionError("out of order within a producer: " + b.type(k));
                            }
                            lastProducer = parts[0];
                            lastSeen = seq;
                        }
                        p.complete(b.id());
                    }
                } catch (Throwable e) {
                    failure.set(e);
                }
            }));
        }
        consumers.forEach(Thread::start);
        threads.forEach(Thread::start);
        for (Thread t : threads) {
            t.join();
        }
        assertEquals(0, p.flush(60, TimeUnit.SECONDS), "everything settles, nothing dead-lettered");
        p.close();
        for (Thread t : consumers) {
            t.join();
        }
        if (failure.get() != null) {
            throw new AssertionError(failure.get());
        }
        long accepted = acceptedByProducers.get();
        assertEquals(accepted, p.acceptedCount());
        assertEquals((long) producers * perProducer, p.acceptedCount() + p.droppedCount());
        assertEquals(accepted, delivered.size());
        assertEquals(0, duplicates.get());
        assertEquals(accepted, p.deliveredCount());
        assertEquals(0, p.pendingCount());
        long channelTotal = p.topChannels(producers).stream().mapToLong(ChannelCount::count).sum();
        assertEquals(accepted, channelTotal);
        assertArrayEquals(new long[] {4096}, new long[] {p.freeCapacity()});
    }

    @Test
    void flushRacesFromManyThreadsAllReturnOnceTheirEventsSettled() throws Exception {
        EventProcessor p = new EventProcessor(100_000, 50, 10_000 * MS, RetryPolicy.DEFAULT, Clock.SYSTEM);
        Thread consumer = new Thread(() -> {
            try {
                Batch b;
                while ((b = p.nextBatch(10, TimeUnit.SECONDS)) != null) {
                    p.complete(b.id());
                }
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        });
        consumer.start();
        AtomicReference<Throwable> failure = new AtomicReference<>();
        List<Thread> flushers = new ArrayList<>();
        for (int id = 0; id < 6; id++) {
            int me = id;
            flushers.add(new Thread(() -> {
                try {
                    for (int round = 0; round < 50; round++) {
                        offer(p, me * 100_000 + round * 7, 7);
                        long mine = p.acceptedCount(); // my events are below this
                        if (p.awaitSettled(mine, 30, TimeUnit.SECONDS) != 0) {
                            throw new AssertionError("flush did not settle");
                        }
                        if (p.deliveredCount() < mine) {
                            throw new AssertionError("flush returned before delivery: " + p.deliveredCount() + " < " + mine);
                        }
                    }
                } catch (Throwable e) {
                    failure.set(e);
                }
            }));
        }
        flushers.forEach(Thread::start);
        for (Thread t : flushers) {
            t.join();
        }
        p.close();
        consumer.join();
        if (failure.get() != null) {
            throw new AssertionError(failure.get());
        }
        assertEquals(6 * 50 * 7, p.deliveredCount());
    }

    @Test
    void reservationIsAllOrNothingWhenAskedAndPublicationNeedsOne() throws Exception {
        EventProcessor p = processor(10, 5, 1000);
        assertEquals(6, p.reserve(6, true));
        assertThrows(IllegalStateException.class, () -> p.reserve(5, true), "only 4 left");
        assertEquals(6, p.acceptedCount(), "a refused all-or-nothing reservation takes nothing");
        assertEquals(4, p.reserve(9, false));
        assertEquals(5, p.droppedCount());
        String[] t = {"a", "b", "c", "d", "e", "f", "g", "h", "i", "j", "k"};
        long[] ts = new long[11];
        p.publishReserved(t, t, t, ts, 0, 10, T0, clock.nanoTime());
        assertThrows(IllegalStateException.class, () -> p.publishReserved(t, t, t, ts, 10, 1, T0, 0),
                "nothing left reserved");
        assertEquals(10, p.publishedCount());
        assertEquals(10, p.topChannels(20).size());
    }

    @Test
    void closeWaitsForReservedEventsToBePublishedAndDelivered() throws Exception {
        EventProcessor p = processor(10, 5, 1000);
        assertEquals(3, p.reserve(3, true));
        p.close();
        assertThrows(IllegalStateException.class, () -> p.reserve(1, true));
        assertFalse(p.isFinished(), "3 accepted events are not published yet");
        String[] t = {"a", "b", "c"};
        p.publishReserved(t, t, t, new long[3], 0, 3, T0, clock.nanoTime());
        Batch b = p.pollBatch();
        assertEquals(3, b.size());
        p.complete(b.id());
        assertTrue(p.isFinished());
    }
}

package io.streamrank.shared;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.streamrank.leaderboard.DecayedLeaderboard;
import io.streamrank.leaderboard.RankedUser;
import io.streamrank.leaderboard.UpdateBatch;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.TreeMap;
import java.util.concurrent.ConcurrentSkipListMap;
import java.util.concurrent.CyclicBarrier;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

class ReplicatedLeaderboardTest {
    static final double DECAY = 0.95;
    static final long MAX_USERS = 10_000;
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

    private ReplicatedLeaderboard replica(RedisEndpoint endpoint, long maxUsers) {
        ReplicatedLeaderboard r = ReplicatedLeaderboard.open(endpoint, ns, "main", DECAY, maxUsers);
        open.add(r);
        return r;
    }

    private ReplicatedLeaderboard replica() {
        // Each replica its own endpoint (own pool, own tailer connection), as separate processes.
        RedisEndpoint endpoint = RedisEndpoint.open(RedisTestSupport.uri());
        open.add(endpoint);
        return replica(endpoint, MAX_USERS);
    }

    /** One log entry as its writer made it: updates, or a removal (ids = {user}, points = null). */
    record Write(String[] ids, double[] points, long[] stamps) {}

    /** Applies the writes in stream-id order to a fresh board: what every replica must equal. */
    static DecayedLeaderboard model(Map<StreamId, Write> writes, long maxUsers) {
        DecayedLeaderboard m = new DecayedLeaderboard(DECAY, maxUsers);
        for (Write w : new TreeMap<>(writes).values()) {
            if (w.points == null) {
                m.remove(w.ids[0]);
            } else {
                m.apply(new UpdateBatch(w.ids, w.points, w.stamps));
            }
        }
        return m;
    }

    /** Bit-identical boards: what replicas that applied the same log from the same start show. */
    static void assertSameBoard(DecayedLeaderboard expected, DecayedLeaderboard actual, String who) {
        assertEquals(expected.size(), actual.size(), who + ": size");
        List<RankedUser> all = expected.top(Integer.MAX_VALUE, NOW);
        assertEquals(all, actual.top(Integer.MAX_VALUE, NOW), who + ": every user, rank, score and last update");
        for (RankedUser u : all.subList(0, Math.min(50, all.size()))) {
            assertEquals(u, actual.rank(u.userId(), NOW), who + ": rank of " + u.userId());
        }
    }

    static Write randomBatch(Random rnd, String prefix, int users) {
        int n = 1 + rnd.nextInt(20);
        String[] ids = new String[n];
        double[] pts = new double[n];
        long[] ts = new long[n];
        for (int i = 0; i < n; i++) {
            ids[i] = prefix + rnd.nextInt(users);
            pts[i] = rnd.nextInt(1000) / 7.0;
            ts[i] = NOW - rnd.nextInt(86_400 * 3);
        }
        return new Write(ids, pts, ts);
    }

    @Test
    void theWriterReadsItsOwnWriteAsSoonAsAppendReturns() {
        ReplicatedLeaderboard r = replica();
        StreamId id = r.append(new String[] {"alice", "bob"}, new double[] {5, 3}, new long[] {NOW, NOW});
        assertFalse(r.appliedId().compareTo(id) < 0, "append returned before its entry was applied");
        assertEquals("alice", r.board().top(1, NOW).get(0).userId());
        assertNotNull(r.board().rank("bob", NOW));
        assertTrue(r.remove("bob"), "bob was on the board");
        assertFalse(r.remove("bob"), "bob is gone");
        assertEquals(1, r.board().size());
    }

    @Test
    void concurrentWritersOnThreeReplicasConvergeToTheLogOrderModel() throws Exception {
        int replicas = 3;
        int batchesPerWriter = 150;
        List<ReplicatedLeaderboard> rs = new ArrayList<>();
        for (int i = 0; i < replicas; i++) {
            rs.add(replica());
        }
        Map<StreamId, Write> writes = new ConcurrentSkipListMap<>();
        CyclicBarrier start = new CyclicBarrier(replicas);
        List<Thread> writers = new ArrayList<>();
        List<Throwable> errors = new java.util.concurrent.CopyOnWriteArrayList<>();
        for (int w = 0; w < replicas; w++) {
            ReplicatedLeaderboard r = rs.get(w);
            long seed = 1000 + w;
            Thread t = new Thread(() -> {
                try {
                    Random rnd = new Random(seed);
                    start.await();
                    for (int b = 0; b < batchesPerWriter; b++) {
                        if (rnd.nextInt(10) == 0) {
                            String victim = "u" + rnd.nextInt(200);
                            // The id of a removal is not returned: read it from the replica's position
                            // right after (our own entry is the last one we waited for).
                            StreamId before = r.appliedId();
                            r.remove(victim);
                            writes.put(findOwnRemoval(r, before, victim), new Write(new String[] {victim}, null, null));
                        } else {
                            Write wr = randomBatch(rnd, "u", 200);
                            StreamId id = r.append(wr.ids, wr.points, wr.stamps, 1000);
                            writes.put(id, wr);
                        }
                    }
                } catch (Throwable e) {
                    errors.add(e);
                }
            });
            t.start();
            writers.add(t);
        }
        for (Thread t : writers) {
            t.join();
        }
        assertEquals(List.of(), errors);
        assertEquals(replicas * batchesPerWriter, writes.size(), "one log entry per write, none merged or lost");
        DecayedLeaderboard model = model(writes, MAX_USERS);
        for (int i = 0; i < replicas; i++) {
            assertTrue(rs.get(i).catchUp(10_000), "replica " + i + " caught up");
            assertSameBoard(model, rs.get(i).board(), "replica " + i);
            assertEquals(writes.size(), rs.get(i).appliedEntries(), "replica " + i + " applied each entry once");
        }
        // A late joiner without any snapshot replays the whole log.
        assertSameBoard(model, replica().board(), "late joiner");
    }

    /** The id of this replica's own removal of {@code user} after {@code before}, from the log. */
    private StreamId findOwnRemoval(ReplicatedLeaderboard r, StreamId before, String user) {
        return redis.call("xrange", j -> {
            for (var e : j.xrange(r.keys().key("log"), "(" + before, "+")) {
                var f = e.getFields();
                if ("r".equals(f.get("k")) && user.equals(f.get("d")) && r.origin().equals(f.get("o"))) {
                    return new StreamId(e.getID().getTime(), e.getID().getSequence());
                }
            }
            throw new AssertionError("own removal not in the log");
        });
    }

    @Test
    void evictionAtMaxUsersIsTheSameOnEveryReplica() {
        RedisEndpoint e1 = RedisEndpoint.open(RedisTestSupport.uri());
        RedisEndpoint e2 = RedisEndpoint.open(RedisTestSupport.uri());
        open.add(e1);
        open.add(e2);
        ReplicatedLeaderboard a = replica(e1, 50);
        ReplicatedLeaderboard b = replica(e2, 50);
        Map<StreamId, Write> writes = new TreeMap<>();
        Random rnd = new Random(7);
        for (int i = 0; i < 60; i++) {
            Write w = randomBatch(rnd, "v", 500);
            writes.put((i % 2 == 0 ? a : b).append(w.ids, w.points, w.stamps, 1000), w);
        }
        DecayedLeaderboard model = model(writes, 50);
        assertTrue(a.catchUp(10_000) && b.catchUp(10_000));
        assertEquals(50, model.size());
        assertSameBoard(model, a.board(), "a");
        assertSameBoard(model, b.board(), "b");
    }

    @Test
    void snapshotsCoverTheirPositionTrimTheLogAndNeverGoBack() {
        ReplicatedLeaderboard a = replica();
        Map<StreamId, Write> writes = new TreeMap<>();
        Random rnd = new Random(3);
        for (int i = 0; i < 40; i++) {
            Write w = randomBatch(rnd, "s", 100);
            writes.put(a.append(w.ids, w.points, w.stamps, 1000), w);
        }
        assertEquals(ReplicatedLeaderboard.SnapshotResult.WRITTEN, a.snapshotNow());
        StreamId first = a.snapshotId();
        assertEquals(a.appliedId(), first);
        // A replica that stopped following the log is behind: its snapshot must be refused.
        ReplicatedLeaderboard stale = replica();
        stale.close();
        for (int i = 0; i < 40; i++) {
            Write w = randomBatch(rnd, "s", 100);
            writes.put(a.append(w.ids, w.points, w.stamps, 1000), w);
        }
        assertEquals(ReplicatedLeaderboard.SnapshotResult.WRITTEN, a.snapshotNow());
        StreamId second = a.snapshotId();
        assertTrue(second.after(first));
        assertEquals(ReplicatedLeaderboard.SnapshotResult.NOT_NEWER, stale.snapshotNow(),
                "a replica behind the stored snapshot must not replace it");
        assertEquals(second, a.snapshotId());
        long logLength = redis.call("xlen", j -> j.xlen(a.keys().key("log")));
        assertEquals(41, logLength, "log trimmed behind the previous snapshot (its entry kept)");
        // Lease held by someone else: no snapshot.
        Lease other = Lease.tryAcquire(redis, a.keys().key("lease"), 60_000);
        assertEquals(ReplicatedLeaderboard.SnapshotResult.LEASE_BUSY, a.snapshotNow());
        other.release();
        for (int i = 0; i < 10; i++) {
            Write w = randomBatch(rnd, "s", 100);
            writes.put(a.append(w.ids, w.points, w.stamps, 1000), w);
        }
        // A late joiner: snapshot plus the log after it, equal to the model of every write.
        ReplicatedLeaderboard late = replica();
        DecayedLeaderboard model = model(writes, MAX_USERS);
        assertSameBoard(model, late.board(), "late joiner");
        assertEquals(10, late.appliedEntries(), "only the entries after the snapshot were replayed");
        assertSameBoard(model, a.board(), "writer");
    }

    @Test
    void aReplicaLeftBehindTheTrimmedLogReloadsTheSnapshot() throws Exception {
        ReplicatedLeaderboard a = replica();
        ReplicatedLeaderboard lagging = replica();
        Map<StreamId, Write> writes = new TreeMap<>();
        Random rnd = new Random(11);
        java.util.concurrent.CountDownLatch gate = new java.util.concurrent.CountDownLatch(1);
        lagging.holdTailer = gate;
        Write w0 = randomBatch(rnd, "z", 100);
        StreamId first = a.append(w0.ids, w0.points, w0.stamps, 1000);
        writes.put(first, w0);
        // The tailer stops at the gate before its next read: it holds nothing, or just `first`.
        for (int round = 0; round < 2; round++) {
            for (int i = 0; i < 20; i++) {
                Write w = randomBatch(rnd, "z", 100);
                writes.put(a.append(w.ids, w.points, w.stamps, 1000), w);
            }
            assertEquals(ReplicatedLeaderboard.SnapshotResult.WRITTEN, a.snapshotNow());
        }
        assertFalse(lagging.appliedId().after(first), "held back while the log was trimmed past it");
        gate.countDown();
        assertTrue(lagging.catchUp(10_000));
        assertEquals(1, lagging.reloads(), "it found the trimmed gap and reloaded the snapshot");
        assertSameBoard(model(writes, MAX_USERS), lagging.board(), "lagging replica");
    }

    @Test
    void redisDownWritesFailFastReplicaAnswersAndCatchesUpAfterAnAofRestart() throws Exception {
        try (RedisTestSupport.PrivateServer server = new RedisTestSupport.PrivateServer()) {
            RedisEndpoint e1 = RedisEndpoint.open(server.uri(), 500);
            RedisEndpoint e2 = RedisEndpoint.open(server.uri(), 500);
            open.add(e1);
            open.add(e2);
            ReplicatedLeaderboard writer = replica(e1, MAX_USERS);
            ReplicatedLeaderboard reader = replica(e2, MAX_USERS);
            Map<StreamId, Write> writes = new TreeMap<>();
            Random rnd = new Random(5);
            for (int i = 0; i < 30; i++) {
                Write w = randomBatch(rnd, "f", 100);
                writes.put(writer.append(w.ids, w.points, w.stamps, 1000), w);
            }
            assertTrue(reader.catchUp(10_000));
            List<RankedUser> before = reader.board().top(10, NOW);

            server.kill9();
            Write refused = randomBatch(rnd, "f", 100);
            SharedUnavailableException e = assertThrows(SharedUnavailableException.class,
                    () -> writer.append(refused.ids, refused.points, refused.stamps, 1000));
            assertTrue(e.getMessage().contains("127.0.0.1:" + server.port), e.getMessage());
            assertEquals(before, reader.board().top(10, NOW), "the replica answers from what it has");

            server.start(); // same port, same folder: the AOF brings back every acknowledged entry
            for (int i = 0; i < 10; i++) {
                Write w = randomBatch(rnd, "f", 100);
                writes.put(writer.append(w.ids, w.points, w.stamps, 1000), w);
            }
            long logLength = e1.call("xlen", j -> j.xlen(writer.keys().key("log")));
            assertEquals(writes.size(), logLength, "every acknowledged entry survived, the refused one is absent");
            assertTrue(reader.catchUp(10_000), "the reader reconnected and caught up");
            DecayedLeaderboard model = model(writes, MAX_USERS);
            assertSameBoard(model, reader.board(), "reader");
            assertSameBoard(model, writer.board(), "writer");
        }
    }

    @Test
    void aFrozenRedisMakesWritesFailWithinTheTimeoutNotHang() throws Exception {
        try (RedisTestSupport.PrivateServer server = new RedisTestSupport.PrivateServer()) {
            RedisEndpoint e1 = RedisEndpoint.open(server.uri(), 300);
            open.add(e1);
            ReplicatedLeaderboard r = replica(e1, MAX_USERS);
            r.append(new String[] {"a"}, new double[] {1}, new long[] {NOW});
            server.freeze(true);
            try {
                SharedUnavailableException e = assertThrows(SharedUnavailableException.class,
                        () -> r.append(new String[] {"b"}, new double[] {1}, new long[] {NOW}));
                assertTrue(e.getMessage().contains("timeout 300 ms"), e.getMessage());
                assertEquals(1, r.board().size(), "the replica still answers");
            } finally {
                server.freeze(false);
            }
            r.append(new String[] {"c"}, new double[] {1}, new long[] {NOW});
            assertTrue(r.catchUp(10_000));
            assertNotNull(r.board().rank("c", NOW), "c went through");
            // b timed out: it may or may not be stored (a request sent before the freeze can run
            // when the server wakes); what is certain is that it is in the log at most once.
            long bs = LogReader.read(e1, ns, "main", "0-0").stream()
                    .filter(x -> x.ids().length == 1 && x.ids()[0].equals("b")).count();
            assertTrue(bs <= 1, "b appended " + bs + " times");
            assertEquals(2 + bs, r.board().size());
        }
    }
}

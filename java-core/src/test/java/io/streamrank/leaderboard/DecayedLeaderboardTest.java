package io.streamrank.leaderboard;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.concurrent.CyclicBarrier;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

class DecayedLeaderboardTest {
    static final long T0 = 1_700_000_000L;
    static final long DAY = 86_400L;

    private static List<String> ids(List<RankedUser> users) {
        List<String> out = new ArrayList<>();
        for (RankedUser u : users) {
            out.add(u.userId());
        }
        return out;
    }

    @Test
    void wholeDaysOfDecayAreExact() {
        DecayedLeaderboard lb = new DecayedLeaderboard(0.5, 0);
        lb.update("a", 8, T0);
        assertEquals(8.0, lb.rank("a", T0).score());
        assertEquals(4.0, lb.rank("a", T0 + DAY).score());
        assertEquals(2.0, lb.rank("a", T0 + 2 * DAY).score());
        lb.update("a", 4, T0 + DAY); // decays from its own timestamp
        assertEquals(8 * 0.25 + 4 * 0.5, lb.rank("a", T0 + 2 * DAY).score());
        assertEquals(T0 + DAY, lb.rank("a", T0).lastUpdate());
        lb.update("a", 100, T0 - DAY); // an older contribution does not move last_update back
        assertEquals(T0 + DAY, lb.rank("a", T0).lastUpdate());
        assertEquals(8 * 0.25 + 4 * 0.5 + 100 * 0.125, lb.rank("a", T0 + 2 * DAY).score());
        // Querying before the contributions grows them, as the formula says.
        assertEquals(8 + 4 * 2 + 100 * 0.5, lb.rank("a", T0).score());
    }

    @Test
    void scoresFollowTheFormulaForRandomContributions() {
        Random rnd = new Random(42);
        double d = 0.95;
        DecayedLeaderboard lb = new DecayedLeaderboard(d, 0);
        Map<String, List<double[]>> contributions = new HashMap<>();
        for (int i = 0; i < 3000; i++) {
            String id = "u" + rnd.nextInt(200);
            double p = rnd.nextInt(10) == 0 ? -rnd.nextDouble() * 50 : rnd.nextDouble() * 100;
            long t = T0 + rnd.nextInt(60 * (int) DAY) - 30 * DAY;
            lb.update(id, p, t);
            contributions.computeIfAbsent(id, k -> new ArrayList<>()).add(new double[] {p, t});
        }
        long now = T0 + 45 * DAY + 1234;
        Map<String, Double> expected = new HashMap<>();
        for (Map.Entry<String, List<double[]>> e : contributions.entrySet()) {
            double s = 0;
            double scale = 0;
            for (double[] c : e.getValue()) {
                s += c[0] * Math.pow(d, (now - c[1]) / 86400.0);
                scale += Math.abs(c[0] * Math.pow(d, (now - c[1]) / 86400.0));
            }
            RankedUser u = lb.rank(e.getKey(), now);
            assertEquals(s, u.score(), 1e-12 * scale, e.getKey());
            expected.put(e.getKey(), s);
        }
        List<RankedUser> all = lb.top(1000, now);
        assertEquals(contributions.size(), all.size());
        for (int i = 0; i < all.size(); i++) {
            assertEquals(i + 1, all.get(i).rank());
            if (i > 0) {
                assertTrue(all.get(i - 1).score() >= all.get(i).score(), "scores non-increasing");
            }
            assertEquals(i + 1, lb.rank(all.get(i).userId(), now).rank());
        }
    }

    @Test
    void rankingDoesNotChangeAsTimePasses() {
        DecayedLeaderboard lb = new DecayedLeaderboard(0.9, 0);
        lb.update("old-big", 100, T0 - 10 * DAY);
        lb.update("new-small", 60, T0);
        List<String> now = ids(lb.top(10, T0));
        List<String> later = ids(lb.top(10, T0 + 365 * DAY));
        assertEquals(now, later);
    }

    @Test
    void tiesAreBrokenByIdAndZeroPointsForUnknownUsersAddNobody() {
        DecayedLeaderboard lb = new DecayedLeaderboard(1.0, 0);
        lb.update("b", 5, T0);
        lb.update("a", 5, T0);
        lb.update("c", 5, T0);
        lb.update("ghost", 0.0, T0);
        lb.update("ghost2", -0.0, T0);
        assertEquals(List.of("a", "b", "c"), ids(lb.top(10, T0)));
        assertEquals(3, lb.size());
        assertNull(lb.rank("ghost", T0));
        lb.update("a", 0.0, T0 + 50); // known user: no score change, last_update moves
        assertEquals(T0 + 50, lb.rank("a", T0).lastUpdate());
        lb.update("c", -10, T0);
        assertEquals(-5.0, lb.rank("c", T0).score());
        assertEquals(3, lb.rank("c", T0).rank());
        assertThrows(IllegalArgumentException.class, () -> lb.update("x", Double.NaN, T0));
        assertThrows(IllegalArgumentException.class, () -> lb.update("x", Double.POSITIVE_INFINITY, T0));
        assertThrows(NullPointerException.class, () -> lb.update(null, 1, T0));
    }

    @Test
    void evictsTheLowestRankedWhenFull() {
        DecayedLeaderboard lb = new DecayedLeaderboard(1.0, 3);
        lb.update("a", 30, T0);
        lb.update("b", 20, T0);
        lb.update("c", 10, T0);
        lb.update("d", 25, T0); // c goes
        assertEquals(List.of("a", "d", "b"), ids(lb.top(10, T0)));
        lb.update("e", 1, T0); // the newcomer itself is the lowest: it goes
        assertEquals(List.of("a", "d", "b"), ids(lb.top(10, T0)));
        lb.update("b", 0.0, T0);
        lb.update("z", 20, T0); // ties with b; "z" > "b", so z ranks lower and goes
        assertEquals(List.of("a", "d", "b"), ids(lb.top(10, T0)));
        lb.update("a0", 20, T0); // ties with b; "a0" < "b", so b goes
        assertEquals(List.of("a", "d", "a0"), ids(lb.top(10, T0)));
        assertEquals(3, lb.size());
        assertThrows(IllegalArgumentException.class, () -> new DecayedLeaderboard(0.9, -1));
    }

    @Test
    void decayFactorMustBeInZeroOne() {
        for (double bad : new double[] {0.0, -0.5, 1.0000001, Double.NaN, Double.POSITIVE_INFINITY}) {
            assertThrows(IllegalArgumentException.class, () -> new DecayedLeaderboard(bad, 10), "" + bad);
        }
        assertEquals(1.0, new DecayedLeaderboard(1.0, 0).decayFactor());
        assertEquals(Double.MIN_VALUE, new DecayedLeaderboard(Double.MIN_VALUE, 0).decayFactor());
    }

    @Test
    void rangesFollowRedisZrevrange() {
        DecayedLeaderboard lb = new DecayedLeaderboard(1.0, 0);
        for (int i = 0; i < 10; i++) {
            lb.update("u" + i, 100 - i, T0); // u0 best ... u9 worst
        }
        assertEquals(List.of("u0", "u1", "u2"), ids(lb.range(0, 2, T0)));
        assertEquals(List.of("u8", "u9"), ids(lb.range(-2, -1, T0)));
        assertEquals(10, lb.range(0, -1, T0).size());
        assertEquals(List.of("u9"), ids(lb.range(9, 100, T0)));
        assertEquals(List.of(), ids(lb.range(5, 4, T0)));
        assertEquals(List.of(), ids(lb.range(10, 20, T0)));
        assertEquals(List.of("u0", "u1"), ids(lb.range(-100, 1, T0)));
        assertEquals(List.of(), ids(lb.range(-100, -50, T0)));
        assertEquals(List.of(), ids(lb.range(Long.MIN_VALUE, Long.MIN_VALUE, T0)));
        assertEquals(10, lb.range(Long.MIN_VALUE, Long.MAX_VALUE, T0).size());
        assertEquals(4, lb.range(3, 5, T0).get(0).rank());
        assertEquals(List.of(), lb.top(0, T0));
        assertEquals(List.of(), lb.top(-3, T0));
        assertEquals(10, lb.top(Integer.MAX_VALUE, T0).size());

        assertEquals(List.of("u3", "u4", "u5"), ids(lb.around("u4", 1, T0)));
        assertEquals(List.of("u0", "u1", "u2"), ids(lb.around("u0", 2, T0)));
        assertEquals(List.of("u8", "u9"), ids(lb.around("u9", 1, T0)));
        assertEquals(List.of("u5"), ids(lb.around("u5", 0, T0)));
        assertEquals(10, lb.around("u5", Integer.MAX_VALUE, T0).size());
        assertEquals(List.of(), lb.around("nobody", 3, T0));
        assertThrows(IllegalArgumentException.class, () -> lb.around("u1", -1, T0));

        assertTrue(lb.remove("u0"));
        assertTrue(!lb.remove("u0"));
        assertEquals(1, lb.rank("u1", T0).rank());
        assertEquals(9, lb.size());
    }

    @Test
    void referenceMovesBeforeWeightsOverflowAndScoresStayExact() {
        DecayedLeaderboard lb = new DecayedLeaderboard(0.5, 0);
        lb.update("early", 1e100, T0);
        long late = T0 + 400 * DAY; // weight 2^400 > e^256: the reference must move
        lb.update("late", 1, late);
        assertEquals(1, lb.renormalisations());
        assertEquals(1.0, lb.rank("late", late).score());
        assertEquals(1e100 * Math.pow(0.5, 400), lb.rank("early", late).score(), 1e-12 * 1e100 * Math.pow(0.5, 400));
        assertEquals(List.of("late", "early"), ids(lb.top(5, late)));
        // Much later still, scores keep decaying from their own timestamps.
        long later = late + 1000 * DAY;
        lb.update("latest", 1, later);
        assertEquals(2, lb.renormalisations());
        assertEquals(Math.pow(0.5, 1000), lb.rank("late", later).score(), 1e-12 * Math.pow(0.5, 1000));
        assertEquals(1.0, lb.rank("latest", later).score());
    }

    @Test
    void underflowTiesAfterMovingTheReferenceAreOrderedById() {
        DecayedLeaderboard lb = new DecayedLeaderboard(0.5, 0);
        lb.update("a", 1e-300, T0); // score order c > b > a, id order a < b < c
        lb.update("b", 2e-300, T0);
        lb.update("c", 3e-300, T0);
        assertEquals(List.of("c", "b", "a"), ids(lb.top(5, T0)));
        long late = T0 + 400 * DAY; // moving the reference multiplies by 2^-400: all become 0
        lb.update("d", 1, late);
        assertEquals(1, lb.renormalisations());
        List<RankedUser> top = lb.top(5, late);
        assertEquals(List.of("d", "a", "b", "c"), ids(top));
        assertEquals(0.0, top.get(1).score());
        for (RankedUser u : top) {
            assertEquals(u.rank(), lb.rank(u.userId(), late).rank());
        }
    }

    @Test
    void extremeValuesSaturateInsteadOfBecomingInfinite() {
        DecayedLeaderboard lb = new DecayedLeaderboard(0.95, 0);
        lb.update("big", Double.MAX_VALUE, T0);
        lb.update("big", Double.MAX_VALUE, T0);
        assertEquals(Double.MAX_VALUE, lb.rank("big", T0).score());
        lb.update("neg", -Double.MAX_VALUE, T0);
        lb.update("neg", -Double.MAX_VALUE, T0);
        assertEquals(-Double.MAX_VALUE, lb.rank("neg", T0).score());
        // Far in the past relative to the query, the factor alone over/underflows; the product is still right.
        DecayedLeaderboard tiny = new DecayedLeaderboard(1e-300, 0);
        tiny.update("x", 1e300, T0);
        assertEquals(1.0, tiny.rank("x", T0 + DAY).score(), 1e-12);
        assertEquals(0.0, tiny.rank("x", T0 + 3 * DAY).score());
        assertEquals(Double.MAX_VALUE, tiny.rank("x", T0 - 2 * DAY).score());
        DecayedLeaderboard none = new DecayedLeaderboard(1.0, 0);
        none.update("x", 3, T0);
        none.update("x", 4, T0 + 1000 * 365 * DAY);
        assertEquals(7.0, none.rank("x", 0).score());
        assertEquals(0, none.renormalisations());
    }

    private static UpdateBatch batch(Object... triples) {
        int n = triples.length / 3;
        String[] ids = new String[n];
        double[] points = new double[n];
        long[] stamps = new long[n];
        for (int i = 0; i < n; i++) {
            ids[i] = (String) triples[3 * i];
            points[i] = ((Number) triples[3 * i + 1]).doubleValue();
            stamps[i] = ((Number) triples[3 * i + 2]).longValue();
        }
        return new UpdateBatch(ids, points, stamps);
    }

    @Test
    void submittedBatchesApplyInOrderBeforeAnyLaterCall() {
        // Order matters with eviction: applied in order the result is a = 5; b's batch first would give 6.
        DecayedLeaderboard lb = new DecayedLeaderboard(1.0, 1);
        lb.submit(batch("a", 1, T0));
        lb.submit(batch("b", 2, T0, "a", 5, T0));
        assertEquals(5.0, lb.rank("a", T0).score());
        assertNull(lb.rank("b", T0));
        assertEquals(0, lb.pendingBatches());
        lb.submit(batch("c", 9, T0));
        lb.update("d", 10, T0); // a synchronous call also applies what is queued first
        assertEquals(List.of("d"), ids(lb.top(5, T0)));
    }

    @Test
    void theQueueIsBoundedAndEveryBatchLands() {
        DecayedLeaderboard lb = new DecayedLeaderboard(1.0, 0);
        for (int i = 0; i < 200; i++) {
            lb.submit(batch("u" + (i % 10), 1, T0 + i));
            assertTrue(lb.pendingBatches() <= DecayedLeaderboard.MAX_PENDING);
        }
        assertEquals(10, lb.size());
        for (int u = 0; u < 10; u++) {
            assertEquals(20.0, lb.rank("u" + u, T0).score());
        }
    }

    @Test
    void aLoadAppliesEarlierBatchesToTheOldBoardFirst(@org.junit.jupiter.api.io.TempDir java.nio.file.Path dir)
            throws Exception {
        DecayedLeaderboard saved = new DecayedLeaderboard(1.0, 0);
        saved.update("from-file", 1, T0);
        java.nio.file.Path file = dir.resolve("b.json");
        saved.save(file);
        DecayedLeaderboard lb = new DecayedLeaderboard(1.0, 0);
        lb.submit(batch("before-load", 1, T0));
        lb.load(file);
        assertEquals(List.of("from-file"), ids(lb.top(5, T0)));
    }

    @Test
    void batchesAreCheckedWhole() {
        assertThrows(IllegalArgumentException.class, () -> batch("a", 1, T0, "b", Double.NaN, T0));
        assertThrows(NullPointerException.class, () -> new UpdateBatch(new String[] {null}, new double[] {1}, new long[] {1}));
        assertThrows(IllegalArgumentException.class, () -> new UpdateBatch(new String[] {"a"}, new double[0], new long[] {1}));
    }

    @Test
    void concurrentSubmittersAndReadersSeeExactTotals() throws Exception {
        DecayedLeaderboard lb = new DecayedLeaderboard(1.0, 0);
        int threads = 3;
        int rounds = 300;
        CyclicBarrier start = new CyclicBarrier(threads + 1);
        ExecutorService pool = Executors.newFixedThreadPool(threads + 1);
        try {
            List<Future<?>> futures = new ArrayList<>();
            for (int t = 0; t < threads; t++) {
                final int thread = t;
                futures.add(pool.submit(() -> {
                    start.await();
                    for (int r = 0; r < rounds; r++) {
                        lb.submit(batch("t" + thread + "-a", 1, T0 + r, "t" + thread + "-b", 2, T0 + r));
                    }
                    return null;
                }));
            }
            futures.add(pool.submit(() -> {
                start.await();
                for (int i = 0; i < 500; i++) {
                    // One call, one lock hold: a batch is never seen half applied, so within one
                    // snapshot each thread's b (2 points per batch) is exactly twice its a.
                    Map<String, Double> seen = new HashMap<>();
                    for (RankedUser u : lb.range(0, -1, T0)) {
                        seen.put(u.userId(), u.score());
                    }
                    for (int t = 0; t < threads; t++) {
                        Double a = seen.get("t" + t + "-a");
                        Double b = seen.get("t" + t + "-b");
                        assertEquals(a == null, b == null);
                        if (a != null) {
                            assertEquals(2 * a, b);
                        }
                    }
                }
                return null;
            }));
            for (Future<?> f : futures) {
                f.get(60, TimeUnit.SECONDS);
            }
        } finally {
            pool.shutdownNow();
        }
        for (int t = 0; t < threads; t++) {
            assertEquals((double) rounds, lb.rank("t" + t + "-a", T0).score());
            assertEquals(2.0 * rounds, lb.rank("t" + t + "-b", T0).score());
        }
    }

    @Test
    void concurrentWritersAndReadersSeeExactTotals() throws Exception {
        DecayedLeaderboard lb = new DecayedLeaderboard(1.0, 0);
        int threads = 4;
        int usersPerThread = 200;
        int rounds = 50;
        CyclicBarrier start = new CyclicBarrier(threads + 1);
        ExecutorService pool = Executors.newFixedThreadPool(threads + 1);
        try {
            List<Future<?>> futures = new ArrayList<>();
            for (int t = 0; t < threads; t++) {
                final int thread = t;
                futures.add(pool.submit(() -> {
                    start.await();
                    for (int r = 0; r < rounds; r++) {
                        for (int u = 0; u < usersPerThread; u++) {
                            lb.update("t" + thread + "-u" + u, u + 1, T0 + r);
                        }
                    }
                    return null;
                }));
            }
            futures.add(pool.submit(() -> {
                start.await();
                for (int i = 0; i < 300; i++) {
                    List<RankedUser> top = lb.top(50, T0);
                    for (int j = 1; j < top.size(); j++) {
                        assertTrue(top.get(j - 1).score() >= top.get(j).score());
                        assertEquals(j + 1, top.get(j).rank());
                    }
                }
                return null;
            }));
            for (Future<?> f : futures) {
                f.get(60, TimeUnit.SECONDS);
            }
        } finally {
            pool.shutdownNow();
        }
        assertEquals(threads * usersPerThread, lb.size());
        for (int t = 0; t < threads; t++) {
            for (int u = 0; u < usersPerThread; u++) {
                RankedUser ru = lb.rank("t" + t + "-u" + u, T0);
                assertEquals((double) (u + 1) * rounds, ru.score());
                assertEquals(T0 + rounds - 1, ru.lastUpdate());
            }
        }
    }
}

package io.streamrank.leaderboard;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import io.streamrank.skiplist.IdOrder;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.List;
import java.util.Random;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/** Issue 11 items 13-15 on the Java side: the timestamp rule, valid-Unicode ids, snapshot paths. */
class InputRulesTest {
    static final long T0 = 1_700_000_000L;
    static final long DAY = 86400;

    @TempDir
    Path dir;

    @Test
    void theFutureHorizonIsWhereAWeightReachesEToThe256() {
        assertEquals(Long.MAX_VALUE, Timestamps.futureHorizon(new Decay(1.0)));
        long h95 = Timestamps.futureHorizon(new Decay(0.95));
        assertEquals(256 / -Math.log(0.95), h95 / (double) DAY, 1.0 / DAY); // ~4991 days, 13.7 years
        assertTrue(h95 > 13 * 365 * DAY && h95 < 14 * 365 * DAY);
        long h5 = Timestamps.futureHorizon(new Decay(0.5));
        assertTrue(h5 > 369 * DAY && h5 < 370 * DAY, "" + h5);
        assertEquals(Timestamps.LAST_DATETIME_SECOND, Timestamps.latestAccepted(T0, Long.MAX_VALUE));
        assertEquals(Timestamps.LAST_DATETIME_SECOND, Timestamps.latestAccepted(Long.MAX_VALUE - 5, 10));
    }

    @Test
    void timestampProblemsSayWhatLooksWrong() {
        Decay d = new Decay(0.95);
        assertNull(Timestamps.problem(T0, T0, d));
        assertNull(Timestamps.problem(1, T0, d)); // any past time
        assertNull(Timestamps.problem(T0 + Timestamps.futureHorizon(d), T0, d));
        assertTrue(Timestamps.problem(T0 + Timestamps.futureHorizon(d) + 1, T0, d).contains("days ahead"));
        assertEquals("1700000000000 looks like milliseconds (epoch seconds expected; the board's clock says "
                + T0 + ")", Timestamps.problem(T0 * 1000, T0, d));
        assertTrue(Timestamps.problem(T0 * 1_000_000, T0, d).contains("microseconds"));
        assertTrue(Timestamps.problem(T0 * 1_000_000_000, T0, d).contains("nanoseconds"));
        assertTrue(Timestamps.problem(0, T0, d).contains("not a positive"));
        String far = Timestamps.problem(T0 + 45 * 365 * DAY, T0, d);
        assertTrue(far.contains("with decay_factor=0.95 at most"), far);
        Decay none = new Decay(1.0); // nothing decays: no limit but the datetime range
        assertNull(Timestamps.problem(T0 + 1000 * 365 * DAY, T0, none));
        assertNull(Timestamps.problem(Timestamps.LAST_DATETIME_SECOND, T0, none));
        assertTrue(Timestamps.problem(T0 * 1000, T0, none).contains("looks like milliseconds"));
        assertEquals((Timestamps.LAST_DATETIME_SECOND + 1) + " is after 9999-12-31T23:59:59Z (253402300799), "
                + "the last second a datetime can hold", Timestamps.problem(Timestamps.LAST_DATETIME_SECOND + 1, T0, none));
    }

    /** Issue 11 item 13: one such last_update in a snapshot used to zero every other score. */
    @Test
    void aSnapshotEntryStampedInMillisecondsIsRefusedNamingTheEntry() throws IOException {
        Path f = dir.resolve("ms.json");
        Files.writeString(f, "{\"decay_factor\": 0.95, \"max_users\": 0, \"entries\": ["
                + "{\"user_id\": \"a\", \"score\": 10, \"last_update\": " + T0 + "},"
                + "{\"user_id\": \"b\", \"score\": 5, \"last_update\": " + (T0 * 1000) + "}]}");
        DecayedLeaderboard lb = new DecayedLeaderboard(0.5, 7);
        lb.update("kept", 1, T0);
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> lb.load(f, T0));
        assertTrue(e.getMessage().contains("entries[1].last_update 1700000000000 looks like milliseconds"), e.getMessage());
        assertEquals(List.of("kept"), lb.top(10, T0).stream().map(RankedUser::userId).toList()); // nothing half-loaded
        assertEquals(0.5, lb.decayFactor());
    }

    @Test
    void aSnapshotEntryFarAheadOrNotPositiveIsRefused() throws IOException {
        for (long stamp : new long[] {T0 + 45 * 365 * DAY, 0, -5}) {
            Path f = dir.resolve("bad" + Math.abs(stamp) + ".json");
            Files.writeString(f, "{\"decay_factor\": 0.95, \"max_users\": 0, \"entries\": ["
                    + "{\"user_id\": \"a\", \"score\": 10, \"last_update\": " + stamp + "}]}");
            IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                    () -> new DecayedLeaderboard(0.9, 0).load(f, T0));
            assertTrue(e.getMessage().contains("entries[0].last_update " + stamp), e.getMessage());
        }
    }

    /**
     * The point of the rule: every timestamp it accepts (any past one, up to the horizon ahead)
     * leaves the other users' scores and order as the exact sum says (relative 1e-9), through
     * the re-normalisation such a timestamp triggers.
     */
    @Test
    void acceptedTimestampsNeverDisturbOtherUsers() {
        Random rnd = new Random(11);
        double[] decays = {0.95, 0.5, 0.3, 0.999, 1e-6};
        for (int trial = 0; trial < 200; trial++) {
            double d = decays[trial % decays.length];
            long horizon = Timestamps.futureHorizon(new Decay(d));
            Board board = new Board(d, 0);
            String[] ids = {"a", "b", "c", "d"};
            double[] exact = new double[ids.length]; // scores at T0
            for (int i = 0; i < ids.length; i++) {
                double p = 1 + rnd.nextInt(1000);
                long t = T0 - rnd.nextInt(3 * (int) DAY);
                board.add(ids[i], p, t);
                exact[i] = p * Math.pow(d, (T0 - t) / (double) DAY);
            }
            for (int k = 0; k < 5; k++) {
                long t = rnd.nextBoolean() ? T0 + (long) (rnd.nextDouble() * horizon)
                        : 1 + (long) (rnd.nextDouble() * T0);
                if (rnd.nextInt(4) == 0) {
                    t = T0 + horizon; // the edge
                }
                assertNull(Timestamps.problem(t, T0, board.decay));
                board.add("outlier", 1 + rnd.nextInt(1000), t);
            }
            Decay.Scaler at = board.scalerAt(T0);
            for (int i = 0; i < ids.length; i++) {
                double got = at.apply(board.get(ids[i]).score());
                assertEquals(exact[i], got, 1e-9 * exact[i], "trial " + trial + " decay " + d + " user " + ids[i]);
            }
        }
    }

    /** Issue 11 item 15: a lone surrogate loaded from a snapshot could not be asked about. */
    @Test
    void snapshotIdsMustBeValidUnicode() throws IOException {
        Path lone = dir.resolve("lone.json");
        Files.writeString(lone, "{\"decay_factor\": 0.9, \"max_users\": 0, \"entries\": ["
                + "{\"user_id\": \"ok\", \"score\": 1, \"last_update\": " + T0 + "},"
                + "{\"user_id\": \"x\\ud83d\", \"score\": 1, \"last_update\": " + T0 + "}]}");
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> new DecayedLeaderboard(0.9, 0).load(lone, T0));
        assertTrue(e.getMessage().contains("entries[1].user_id contains a lone surrogate (\\ud83d at index 1)"),
                e.getMessage());
        Path pair = dir.resolve("pair.json");
        Files.writeString(pair, "{\"decay_factor\": 0.9, \"max_users\": 0, \"entries\": ["
                + "{\"user_id\": \"\\ud83d\\ude00\", \"score\": 1, \"last_update\": " + T0 + "}]}");
        DecayedLeaderboard lb = new DecayedLeaderboard(0.9, 0);
        lb.load(pair, T0); // an escaped pair is one valid code point
        assertEquals("\uD83D\uDE00", lb.top(1, T0).get(0).userId());
    }

    @Test
    void loneSurrogatesAreFound() {
        assertEquals(-1, IdOrder.firstLoneSurrogate("plain \u00e9 \uD83D\uDE00"));
        assertEquals(0, IdOrder.firstLoneSurrogate("\uDE00\uD83D"));
        assertEquals(1, IdOrder.firstLoneSurrogate("a\uD83D"));
        assertEquals(2, IdOrder.firstLoneSurrogate("ab\uD83Dc"));
    }

    /** Issue 11 item 14: a save used to replace a symbolic link with a regular file. */
    @Test
    void saveWritesThroughASymbolicLink() throws IOException {
        Path real = Files.createDirectories(dir.resolve("data")).resolve("board.json");
        Files.writeString(real, "old");
        Path link = dir.resolve("board.json");
        Files.createSymbolicLink(link, Path.of("data/board.json")); // relative, as ln -s makes them
        Path link2 = dir.resolve("again.json");
        Files.createSymbolicLink(link2, link); // a chain
        DecayedLeaderboard lb = new DecayedLeaderboard(0.9, 0);
        lb.update("a", 1, T0);
        lb.save(link2);
        assertTrue(Files.isSymbolicLink(link) && Files.isSymbolicLink(link2), "links kept");
        assertTrue(Files.readString(real).contains("\"user_id\": \"a\""));
        try (var files = Files.list(real.getParent())) {
            assertEquals(1, files.count(), "no temporary file left");
        }
        DecayedLeaderboard back = new DecayedLeaderboard(0.5, 0);
        back.load(link2, T0);
        assertEquals(1, back.size());
    }

    @Test
    void aDanglingLinkIsCreatedBySaveAndNotFoundByLoad() throws IOException {
        Path link = dir.resolve("dangling.json");
        Files.createSymbolicLink(link, dir.resolve("target.json"));
        assertThrows(NoSuchFileException.class, () -> new DecayedLeaderboard(0.9, 0).load(link, T0));
        DecayedLeaderboard lb = new DecayedLeaderboard(0.9, 0);
        lb.update("a", 1, T0);
        lb.save(link);
        assertTrue(Files.isSymbolicLink(link));
        assertTrue(Files.isRegularFile(dir.resolve("target.json")));
    }

    @Test
    void aLinkLoopIsAnError() throws IOException {
        Path a = dir.resolve("a.json");
        Path b = dir.resolve("b.json");
        Files.createSymbolicLink(a, b);
        Files.createSymbolicLink(b, a);
        DecayedLeaderboard lb = new DecayedLeaderboard(0.9, 0);
        IOException e = assertThrows(IOException.class, () -> lb.save(a));
        assertTrue(e.getMessage().contains("too many levels of symbolic links"), e.getMessage());
    }

    @Test
    void directoriesAreRefusedBothWays() {
        DecayedLeaderboard lb = new DecayedLeaderboard(0.9, 0);
        NotARegularFileException s = assertThrows(NotARegularFileException.class, () -> lb.save(dir));
        assertTrue(s.isDirectory() && s.getMessage().contains("it is a directory"), s.getMessage());
        NotARegularFileException l = assertThrows(NotARegularFileException.class, () -> lb.load(dir, T0));
        assertTrue(l.isDirectory() && l.getMessage().contains(dir.toString()), l.getMessage());
    }

    /** Issue 11 item 14: a load from a FIFO used to block forever. */
    @Test
    @Timeout(value = 60, unit = TimeUnit.SECONDS)
    void aFifoIsRefusedWithoutOpeningIt() throws Exception {
        Path fifo = dir.resolve("pipe.json");
        Process mk;
        try {
            mk = new ProcessBuilder("mkfifo", fifo.toString()).inheritIO().start();
        } catch (IOException e) {
            assumeTrue(false, "mkfifo not available: " + e);
            return;
        }
        assumeTrue(mk.waitFor() == 0, "mkfifo failed");
        DecayedLeaderboard lb = new DecayedLeaderboard(0.9, 0);
        lb.update("a", 1, T0);
        CompletableFuture<Throwable> load = CompletableFuture.supplyAsync(() -> {
            try {
                lb.load(fifo, T0);
                return null;
            } catch (Throwable t) {
                return t;
            }
        });
        Throwable t = load.get(30, TimeUnit.SECONDS); // blocked in open() forever on main
        assertTrue(t instanceof NotARegularFileException, String.valueOf(t));
        assertFalse(((NotARegularFileException) t).isDirectory());
        assertTrue(t.getMessage().contains("not a regular file"), t.getMessage());
        NotARegularFileException s = assertThrows(NotARegularFileException.class, () -> lb.save(fifo));
        assertTrue(s.getMessage().contains("not a regular file"));
        assertEquals(1, lb.size());
    }
}

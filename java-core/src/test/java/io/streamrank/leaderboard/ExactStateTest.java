package io.streamrank.leaderboard;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.Random;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class ExactStateTest {
    static final long NOW = 1_700_100_000L;

    static void feed(DecayedLeaderboard lb, Random rnd, int n, int span) {
        for (int i = 0; i < n; i++) {
            lb.update("u" + rnd.nextInt(500), rnd.nextInt(1000) / 7.0, NOW - rnd.nextInt(span));
        }
    }

    @Test
    void aRestoredBoardStaysBitIdenticalUnderFurtherUpdates(@TempDir Path dir) throws Exception {
        DecayedLeaderboard original = new DecayedLeaderboard(0.95, 300);
        feed(original, new Random(1), 5000, 86_400 * 30);
        DecayedLeaderboard restored = new DecayedLeaderboard(0.5, 1);
        ExactState.restore(restored, ExactState.capture(original));
        assertEquals(original.top(1000, NOW), restored.top(1000, NOW));
        assertEquals(0.95, restored.decayFactor());
        assertEquals(300, restored.maxUsers());
        // The same further updates (evictions at 300 included) keep them bit-identical.
        feed(original, new Random(2), 5000, 86_400 * 30);
        feed(restored, new Random(2), 5000, 86_400 * 30);
        assertEquals(original.top(1000, NOW), restored.top(1000, NOW));

        // The oracle can fail: the JSON snapshot (rescaled scores, new R) does drift.
        Path file = dir.resolve("s.json");
        DecayedLeaderboard a = new DecayedLeaderboard(0.95, 0);
        feed(a, new Random(3), 5000, 86_400 * 30);
        a.save(file);
        DecayedLeaderboard viaJson = new DecayedLeaderboard(0.95, 0);
        viaJson.load(file);
        feed(a, new Random(4), 2000, 86_400 * 30);
        feed(viaJson, new Random(4), 2000, 86_400 * 30);
        assertNotEquals(a.top(1000, NOW), viaJson.top(1000, NOW));
        assertEquals(ids(a), ids(viaJson));
        Files.deleteIfExists(file);
    }

    static String ids(DecayedLeaderboard lb) {
        return Arrays.toString(lb.top(1000, NOW).stream().map(RankedUser::userId).toArray());
    }

    @Test
    void malformedStateChangesNothing() {
        DecayedLeaderboard lb = new DecayedLeaderboard(0.95, 0);
        lb.update("a", 1, NOW);
        byte[] good = ExactState.capture(lb);
        DecayedLeaderboard target = new DecayedLeaderboard(0.95, 0);
        target.update("keep", 2, NOW);
        assertThrows(IllegalArgumentException.class, () -> ExactState.restore(target, new byte[] {1, 2, 3}));
        assertThrows(IllegalArgumentException.class,
                () -> ExactState.restore(target, Arrays.copyOf(good, good.length - 3)));
        assertEquals("keep", target.top(1, NOW).get(0).userId());
    }
}

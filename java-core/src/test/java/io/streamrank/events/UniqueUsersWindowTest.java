package io.streamrank.events;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.HashMap;
import java.util.Map;
import java.util.Random;
import org.junit.jupiter.api.Test;

class UniqueUsersWindowTest {
    private static final long T0 = 1_700_000_000L;

    @Test
    void countsDistinctUsersInTheLastHourToTheSecond() {
        UniqueUsersWindow w = new UniqueUsersWindow();
        w.advanceTo(T0);
        w.record("a", T0 - 3599); // inside: (now-3600, now]
        w.record("b", T0 - 3600); // exactly an hour old: outside
        w.record("c", T0);
        w.record("c", T0 - 10);   // older event of a known user changes nothing
        assertEquals(2, w.count(T0));
        assertEquals(1, w.count(T0 + 1)); // "a" is now exactly an hour old
        assertEquals(1, w.count(T0 + 3599));
        assertEquals(0, w.count(T0 + 3600));
    }

    @Test
    void aNewerEventMovesTheUserForward() {
        UniqueUsersWindow w = new UniqueUsersWindow();
        w.advanceTo(T0);
        w.record("a", T0 - 3000);
        w.record("a", T0 - 100); // another minute bucket
        w.record("a", T0 - 95);  // same minute
        assertEquals(1, w.count(T0 + 3000));
        assertEquals(1, w.count(T0 + 3504));
        assertEquals(0, w.count(T0 + 3505));
        assertEquals(1, w.trackedUsers()); // its minute is only partly expired
        assertEquals(0, w.count(T0 + 3600));
        assertEquals(0, w.trackedUsers());
    }

    @Test
    void futureEventsCountAsNowAndExpireAnHourLater() {
        UniqueUsersWindow w = new UniqueUsersWindow();
        w.advanceTo(T0);
        w.record("future", T0 + 1_000_000);
        assertEquals(1, w.count(T0));
        assertEquals(1, w.count(T0 + 3599));
        assertEquals(0, w.count(T0 + 3600));
    }

    @Test
    void eventsAlreadyOutsideTheWindowAreNotKept() {
        UniqueUsersWindow w = new UniqueUsersWindow();
        w.advanceTo(T0);
        for (int i = 0; i < 1000; i++) {
            w.record("old" + i, 1000 + i);
        }
        assertEquals(0, w.count(T0));
        assertEquals(0, w.trackedUsers());
    }

    @Test
    void expiredMinutesAreReleased() {
        UniqueUsersWindow w = new UniqueUsersWindow();
        for (int minute = 0; minute < 180; minute++) {
            long now = T0 + 60L * minute;
            w.advanceTo(now);
            for (int i = 0; i < 100; i++) {
                w.record("m" + minute + "u" + i, now);
            }
        }
        long now = T0 + 60L * 179;
        assertEquals(6000, w.count(now));
        // One hour of minutes plus at most the partially expired one.
        assertTrue(w.bucketCount() <= 61, "buckets: " + w.bucketCount());
        assertTrue(w.trackedUsers() <= 6100, "tracked: " + w.trackedUsers());
        assertEquals(0, w.count(now + 3600));
        assertEquals(0, w.count(now + 3660)); // the last minute is now wholly expired
        assertEquals(0, w.trackedUsers());
        assertEquals(0, w.bucketCount());
    }

    @Test
    void timeNeverMovesBack() {
        UniqueUsersWindow w = new UniqueUsersWindow();
        w.advanceTo(T0);
        w.record("a", T0);
        w.advanceTo(T0 + 4000);
        assertEquals(0, w.count(T0)); // asking about the past answers for the latest now
        assertEquals(T0 + 4000, w.now());
    }

    @Test
    void matchesABruteForceModelOnRandomStreams() {
        Random rnd = new Random(42);
        for (int trial = 0; trial < 20; trial++) {
            UniqueUsersWindow w = new UniqueUsersWindow();
            Map<String, Long> lastSeen = new HashMap<>();
            long now = T0;
            for (int step = 0; step < 3000; step++) {
                now += rnd.nextInt(5) == 0 ? rnd.nextInt(400) : 0;
                w.advanceTo(now);
                String user = "u" + rnd.nextInt(300);
                long ts = now - rnd.nextInt(5000) + rnd.nextInt(20); // some in the future
                w.record(user, ts);
                long clamped = Math.min(ts, now);
                lastSeen.merge(user, clamped, Math::max);
                if (step % 50 == 0) {
                    long cutoff = now - 3600;
                    long expected = lastSeen.values().stream().filter(v -> v > cutoff).count();
                    assertEquals(expected, w.count(now), "trial " + trial + " step " + step);
                }
            }
        }
    }
}

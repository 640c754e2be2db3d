package io.streamrank.events;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Random;
import java.util.Set;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

class UniqueUsersWindowTest {
    private static final long T0 = 1_700_000_000L;
    private static final long HOUR = 3600;

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
    void aNewerEventMovesTheUserForwardAndExpiredUsersAreForgottenAfterTheGrace() {
        UniqueUsersWindow w = new UniqueUsersWindow();
        w.advanceTo(T0);
        w.record("a", T0 - 3000);
        w.record("a", T0 - 100); // another minute
        w.record("a", T0 - 95);  // same minute
        assertEquals(1, w.count(T0 + 3000));
        assertEquals(1, w.count(T0 + 3504));
        assertEquals(0, w.count(T0 + 3505));
        assertEquals(1, w.trackedUsers()); // kept for a clock that steps back within the grace
        assertEquals(0, w.count(T0 + 3505 + UniqueUsersWindow.GRACE_SECONDS + 60));
        assertEquals(0, w.trackedUsers());
        assertEquals(0, w.bucketCount());
    }

    /** Issue 11 item 16: a future-stamped event used to drop out one hour after it arrived. */
    @Test
    void aFutureStampedEventCountsFromArrivalUntilAnHourAfterItsTimestamp() {
        ManualClock clock = new ManualClock(T0);
        UniqueUsersWindow w = new UniqueUsersWindow();
        w.advanceTo(clock.epochSeconds());
        w.record("skewed", T0 + 2 * HOUR);
        assertEquals(1, w.count(clock.epochSeconds()));
        clock.advance(HOUR, TimeUnit.SECONDS);
        assertEquals(1, w.count(clock.epochSeconds())); // main: 0 here
        clock.advance(2 * HOUR - 1, TimeUnit.SECONDS);
        assertEquals(1, w.count(clock.epochSeconds())); // T0 + 3h - 1
        clock.advance(1, TimeUnit.SECONDS);
        assertEquals(0, w.count(clock.epochSeconds())); // an hour after its timestamp
    }

    @Test
    void aTimestampFarAheadCountsAsStampedADayAhead() {
        UniqueUsersWindow w = new UniqueUsersWindow();
        w.advanceTo(T0);
        w.record("ms", T0 * 1000); // milliseconds by mistake
        long last = T0 + UniqueUsersWindow.MAX_AHEAD_SECONDS + HOUR - 1;
        assertEquals(1, w.count(last));
        assertEquals(0, w.count(last + 1));
        w.count(last + UniqueUsersWindow.GRACE_SECONDS + 61);
        assertEquals(0, w.trackedUsers());
    }

    /** Issue 11 item 16: after the clock stepped forward and back, the count was 0 for new events. */
    @Test
    void eventsAcceptedAfterTheClockStepsBackCount() {
        ManualClock clock = new ManualClock(T0);
        UniqueUsersWindow w = new UniqueUsersWindow();
        w.advanceTo(clock.epochSeconds());
        w.record("before", T0 - 60);
        clock.setEpochSeconds(T0 + 86400); // a wrong clock, a day ahead
        w.advanceTo(clock.epochSeconds());
        w.record("during", T0 + 86400);
        clock.setEpochSeconds(T0 + 120); // corrected by NTP
        w.advanceTo(clock.epochSeconds());
        w.record("after", T0 + 120);
        w.record("after2", T0 + 100);
        // "during" counts from T0 + 86400 on; "before" was forgotten while the clock was a day
        // ahead (it had been out of the window for more than the grace by that clock).
        assertEquals(2, w.count(clock.epochSeconds())); // main: 1 (only "during", at the old maximum)
        assertEquals(1, w.count(T0 + 86400));
    }

    @Test
    void aClockSteppingBackWithinTheGraceIsExact() {
        UniqueUsersWindow w = new UniqueUsersWindow();
        w.advanceTo(T0);
        w.record("a", T0);
        w.record("b", T0 - 1000);
        assertEquals(2, w.count(T0));
        assertEquals(0, w.count(T0 + HOUR)); // clock jumps ahead by an hour
        assertEquals(2, w.count(T0 + 10));        // and back: both still there (main: 0)
        assertEquals(1, w.count(T0 - 500));       // before "a" was stamped: only "b"
        assertEquals(T0 - 500, w.now());
    }

    @Test
    void recordNeedsAClockFirst() {
        assertThrows(IllegalStateException.class, () -> new UniqueUsersWindow().record("a", T0));
    }

    @Test
    void eventsAlreadyOutsideTheWindowAndGraceAreNotKept() {
        UniqueUsersWindow w = new UniqueUsersWindow();
        w.advanceTo(T0);
        for (int i = 0; i < 1000; i++) {
            w.record("old" + i, 1000 + i);
        }
        assertEquals(0, w.count(T0));
        assertEquals(0, w.trackedUsers());
    }

    @Test
    void memoryIsBoundedByTheLastTwoHours() {
        UniqueUsersWindow w = new UniqueUsersWindow();
        for (int minute = 0; minute < 300; minute++) {
            long now = T0 + 60L * minute;
            w.advanceTo(now);
            for (int i = 0; i < 100; i++) {
                w.record("m" + minute + "u" + i, now);
            }
        }
        long now = T0 + 60L * 299;
        assertEquals(6000, w.count(now));
        // Users whose span ended within the grace, plus at most one partial minute; their
        // start and end minutes.
        assertTrue(w.trackedUsers() <= 12_100, "tracked: " + w.trackedUsers());
        assertTrue(w.bucketCount() <= 2 * 122, "buckets: " + w.bucketCount());
        assertEquals(0, w.count(now + 3600));
        assertEquals(0, w.count(now + 3600 + UniqueUsersWindow.GRACE_SECONDS + 60));
        assertEquals(0, w.trackedUsers());
        assertEquals(0, w.bucketCount());
    }

    /** One accepted event for the brute-force model. */
    private record Event(String user, long t, long acceptedAt) {
        long from() {
            return Math.min(Math.min(t, acceptedAt + UniqueUsersWindow.MAX_AHEAD_SECONDS), acceptedAt);
        }

        long until() {
            return Math.min(t, acceptedAt + UniqueUsersWindow.MAX_AHEAD_SECONDS) + UniqueUsersWindow.WINDOW_SECONDS;
        }
    }

    private static int model(List<Event> events, long now) {
        Set<String> in = new HashSet<>();
        for (Event e : events) {
            if (e.from() <= now && now < e.until()) {
                in.add(e.user());
            }
        }
        return in.size();
    }

    /**
     * Random streams with past, future and far-future timestamps and clock steps forward and back
     * by up to the grace: the count equals the definition computed from every event, at every
     * query, whenever the query's clock is within the grace of the latest clock seen.
     */
    @Test
    void matchesTheDefinitionOnRandomStreamsWithClockSteps() {
        Random rnd = new Random(42);
        for (int trial = 0; trial < 30; trial++) {
            UniqueUsersWindow w = new UniqueUsersWindow();
            List<Event> events = new ArrayList<>();
            long clock = T0;
            long latest = clock;
            int checked = 0;
            for (int step = 0; step < 2000; step++) {
                int r = rnd.nextInt(100);
                if (r < 15) {
                    clock += rnd.nextInt(400);
                } else if (r < 17) {
                    clock -= rnd.nextInt((int) UniqueUsersWindow.GRACE_SECONDS); // NTP steps back
                } else if (r < 18) {
                    clock += rnd.nextInt(3 * (int) HOUR); // a jump ahead
                }
                w.advanceTo(clock);
                latest = Math.max(latest, clock);
                String user = "u" + rnd.nextInt(200);
                long ts;
                int kind = rnd.nextInt(20);
                if (kind == 0) {
                    ts = clock + rnd.nextInt(3 * (int) HOUR); // future
                } else if (kind == 1) {
                    ts = clock + 200_000 + rnd.nextInt(1_000_000); // beyond a day ahead
                } else {
                    ts = clock - rnd.nextInt(6000) + rnd.nextInt(20);
                }
                w.record(user, ts);
                events.add(new Event(user, ts, clock));
                if (step % 25 == 0) {
                    long q = clock - rnd.nextInt(600);
                    if (q >= latest - UniqueUsersWindow.GRACE_SECONDS) {
                        assertEquals(model(events, q), w.count(q), "trial " + trial + " step " + step + " q " + q);
                        checked++;
                    }
                    w.advanceTo(clock); // back to the ingest clock
                }
            }
            assertTrue(checked > 20, "queries checked: " + checked);
        }
    }
}

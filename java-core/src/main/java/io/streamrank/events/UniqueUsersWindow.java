package io.streamrank.events;

import java.util.HashMap;
import java.util.Map;
import java.util.TreeMap;

/**
 * The exact number of distinct users active within the last {@value #WINDOW_SECONDS} seconds,
 * by event timestamp, on the processor's clock.
 *
 * <p><b>Definition.</b> An event of user u stamped {@code t}, accepted when the processor's clock
 * read {@code c}, keeps u in the window over the clock interval
 * {@code [min(t, c), t + 3600)}: an event stamped in the past counts while
 * {@code now - 3600 < t <= now}; an event stamped in the future (a skewed producer clock) counts
 * from the moment it was accepted until an hour after its timestamp, so it neither waits for the
 * clock to reach it nor drops out an hour after it arrived. A timestamp more than
 * {@value #MAX_AHEAD_SECONDS} seconds ahead of the clock counts as stamped that far ahead (it
 * bounds how long one event can pin memory). {@code count(now)} is the number of users whose
 * intervals contain {@code now}: a pure function of the accepted events and the clock value
 * asked about, so it holds when the clock steps forward or back between calls.
 *
 * <p><b>Memory.</b> An interval is forgotten once the clock is more than
 * {@value #GRACE_SECONDS} seconds past its end (whole minutes at a time), so memory is
 * proportional to the users active in the last two hours plus at most one partial minute; an
 * event whose interval is already that old is not stored at all. Consequently the answer is
 * exact for every {@code now} no more than {@value #GRACE_SECONDS} seconds before the latest
 * clock value seen; a clock stepped back further no longer sees activity that had been out of
 * the window that long by the later clock (events accepted after the step always count).
 *
 * <p><b>Representation.</b> Each user's intervals are merged into disjoint spans (nearly always
 * one, extended in place by each new event). Since every user's spans are disjoint, the number
 * of users whose span contains {@code now} is {@code #(span ends > now) - #(span starts > now)}
 * (a span starting after now also ends after it). Span ends and starts are counted per second
 * in minute buckets, so a query sums the buckets after now: about 60 (ends lie within an hour
 * of the newest event) plus any future-stamped ones. Expiry drops whole end buckets with their
 * spans: O(1) amortised per event.
 *
 * <p>Not thread-safe: the event processor guards it with its ingest lock.
 */
public final class UniqueUsersWindow {
    public static final long WINDOW_SECONDS = 3600;
    /** How long past its end an interval is kept, so a clock stepping back this far stays exact. */
    public static final long GRACE_SECONDS = 3600;
    /** Timestamps further ahead of the clock count as stamped this far ahead. */
    public static final long MAX_AHEAD_SECONDS = 86400;

    private static final class UserEntry {
        final String id;
        /** The user's spans, disjoint and not touching, newest (largest start) first via older. */
        Span newest;

        UserEntry(String id) {
            this.id = id;
        }
    }

    /** A clock interval [start, end) during which the user counts. */
    private static final class Span {
        final UserEntry user;
        long start;
        long end;
        /** The user's spans, by start. */
        Span older;
        Span newer;
        /** The end bucket's intrusive list (for expiry). */
        Bucket endBucket;
        Span prevInBucket;
        Span nextInBucket;

        Span(UserEntry user, long start, long end) {
            this.user = user;
            this.start = start;
            this.end = end;
        }
    }

    /** One minute of span ends or starts, counted per second. */
    private static final class Bucket {
        final long minute;
        final int[] perSecond = new int[60];
        int size;
        /** End buckets only: the spans ending in this minute. */
        Span head;

        Bucket(long minute) {
            this.minute = minute;
        }
    }

    private final Map<String, UserEntry> users = new HashMap<>();
    /** Minute -> span ends in it; every span is in the bucket of its end (and in its list). */
    private final TreeMap<Long, Bucket> ends = new TreeMap<>();
    /** Minute -> span starts in it; every span's start is counted in the bucket of its start. */
    private final TreeMap<Long, Bucket> starts = new TreeMap<>();
    /** The last end bucket used (nearly every event ends in the same minute as the last one). */
    private Bucket lastEndBucket;
    /** The clock value passed last (it may go back); meaningful once {@link #started}. */
    private long now;
    private boolean started;

    /** Sets the window's clock to {@code nowSeconds} (forward or back) and forgets what has expired. */
    public void advanceTo(long nowSeconds) {
        boolean forward = !started || nowSeconds > now;
        now = nowSeconds;
        started = true;
        if (forward) {
            expire();
        }
    }

    /** The clock value passed last. */
    public long now() {
        return now;
    }

    /** True once {@link #advanceTo} set the clock. */
    public boolean started() {
        return started;
    }

    /**
     * Records one event of {@code user} stamped {@code timestamp} (epoch seconds), accepted at the
     * clock value passed last to {@link #advanceTo} (which must have been called once).
     */
    public void record(String user, long timestamp) {
        if (!started) {
            throw new IllegalStateException("advanceTo must set the clock before the first record");
        }
        long t = Math.min(timestamp, plus(now, MAX_AHEAD_SECONDS));
        long start = Math.min(t, now);
        long end = plus(t, WINDOW_SECONDS);
        if (end <= minus(now, GRACE_SECONDS)) {
            return; // it would be forgotten at once
        }
        UserEntry e = users.get(user);
        if (e == null) {
            e = new UserEntry(user);
            users.put(user, e);
            insert(e, start, end);
            return;
        }
        Span s = e.newest;
        if (s.start <= start && start <= s.end) { // the usual case: extends the newest span
            if (end > s.end) {
                moveEnd(s, end);
            }
            return;
        }
        // General case: merge with every span it overlaps or touches.
        long a = start;
        long b = end;
        for (Span x = e.newest; x != null; ) {
            Span older = x.older;
            if (x.start > b) {
                x = older;
                continue;
            }
            if (x.end < a) {
                break; // older spans end even earlier
            }
            a = Math.min(a, x.start);
            b = Math.max(b, x.end);
            unlink(x);
            x = older;
        }
        insert(e, a, b);
    }

    /** Distinct users in the window at {@code nowSeconds} (which also becomes the window's clock). */
    public int count(long nowSeconds) {
        advanceTo(nowSeconds);
        return (int) (after(ends, now) - after(starts, now));
    }

    /** Users held in memory (active in the last two hours, plus a partial minute and future-stamped ones). */
    public int trackedUsers() {
        return users.size();
    }

    /** Minute buckets held in memory (span ends and span starts). */
    public int bucketCount() {
        return ends.size() + starts.size();
    }

    // ------------------------------------------------------------------ spans

    private void insert(UserEntry e, long start, long end) {
        Span s = new Span(e, start, end);
        // Position by start: after the newest span that starts before it.
        Span older = e.newest;
        Span newer = null;
        while (older != null && older.start > start) {
            newer = older;
            older = older.older;
        }
        s.older = older;
        s.newer = newer;
        if (older != null) {
            older.newer = s;
        }
        if (newer != null) {
            newer.older = s;
        } else {
            e.newest = s;
        }
        addEnd(s);
        count(starts, start, +1);
    }

    /** Removes a span from its user (keeping the user even with no span left) and from the counts. */
    private void unlink(Span s) {
        UserEntry e = s.user;
        if (s.newer != null) {
            s.newer.older = s.older;
        } else {
            e.newest = s.older;
        }
        if (s.older != null) {
            s.older.newer = s.newer;
        }
        s.older = null;
        s.newer = null;
        removeEnd(s);
        count(starts, s.start, -1);
    }

    private void moveEnd(Span s, long end) {
        Bucket b = s.endBucket;
        if (Math.floorDiv(end, 60L) == b.minute) {
            b.perSecond[second(s.end)]--;
            s.end = end;
            b.perSecond[second(end)]++;
        } else {
            removeEnd(s);
            s.end = end;
            addEnd(s);
        }
    }

    private void addEnd(Span s) {
        long minute = Math.floorDiv(s.end, 60L);
        Bucket b = lastEndBucket;
        if (b == null || b.minute != minute) {
            b = ends.get(minute);
            if (b == null) {
                b = new Bucket(minute);
                ends.put(minute, b);
            }
            lastEndBucket = b;
        }
        s.endBucket = b;
        s.prevInBucket = null;
        s.nextInBucket = b.head;
        if (b.head != null) {
            b.head.prevInBucket = s;
        }
        b.head = s;
        b.size++;
        b.perSecond[second(s.end)]++;
    }

    private void removeEnd(Span s) {
        Bucket b = s.endBucket;
        if (s.prevInBucket != null) {
            s.prevInBucket.nextInBucket = s.nextInBucket;
        } else {
            b.head = s.nextInBucket;
        }
        if (s.nextInBucket != null) {
            s.nextInBucket.prevInBucket = s.prevInBucket;
        }
        s.prevInBucket = null;
        s.nextInBucket = null;
        s.endBucket = null;
        b.size--;
        b.perSecond[second(s.end)]--;
        if (b.size == 0) {
            ends.remove(b.minute);
            if (lastEndBucket == b) {
                lastEndBucket = null;
            }
        }
    }

    /** Adds {@code delta} to the count of second {@code t} in {@code map}, dropping empty buckets. */
    private static void count(TreeMap<Long, Bucket> map, long t, int delta) {
        long minute = Math.floorDiv(t, 60L);
        Bucket b = map.get(minute);
        if (b == null) {
            b = new Bucket(minute);
            map.put(minute, b);
        }
        b.perSecond[second(t)] += delta;
        b.size += delta;
        if (b.size == 0) {
            map.remove(minute);
        }
    }

    /** How many counted seconds in {@code map} lie after {@code t}. */
    private static long after(TreeMap<Long, Bucket> map, long t) {
        long minute = Math.floorDiv(t, 60L);
        long total = 0;
        for (Bucket b : map.tailMap(minute, true).values()) {
            if (b.minute == minute) {
                for (int s = second(t) + 1; s < 60; s++) {
                    total += b.perSecond[s];
                }
            } else {
                total += b.size;
            }
        }
        return total;
    }

    /** Forgets every span that ended in a minute wholly more than GRACE_SECONDS before now. */
    private void expire() {
        long limit = Math.floorDiv(minus(now, GRACE_SECONDS), 60L); // minutes before it go
        Map.Entry<Long, Bucket> first;
        while ((first = ends.firstEntry()) != null && first.getKey() < limit) {
            Bucket b = first.getValue();
            for (Span s = b.head; s != null; ) {
                Span next = s.nextInBucket;
                UserEntry e = s.user;
                unlink(s); // removes b once its last span goes
                if (e.newest == null) {
                    users.remove(e.id);
                }
                s = next;
            }
        }
    }

    private static int second(long t) {
        return (int) Math.floorMod(t, 60L);
    }

    private static long plus(long a, long b) {
        long r = a + b;
        return ((a ^ r) & (b ^ r)) < 0 ? Long.MAX_VALUE : r;
    }

    private static long minus(long a, long b) {
        long r = a - b;
        return ((a ^ b) & (a ^ r)) < 0 ? Long.MIN_VALUE : r;
    }
}

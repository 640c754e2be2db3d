package io.streamrank.events;

import java.util.HashMap;
import java.util.Map;
import java.util.TreeMap;

/**
 * The exact number of distinct users seen within the last {@value #WINDOW_SECONDS} seconds.
 *
 * <p><b>Model.</b> Each tracked user has a last-seen second (the latest event timestamp seen for
 * it, clamped to "now" so that events stamped in the future count as now and cannot pin memory).
 * A user is in the window at time {@code now} when {@code lastSeen > now - 3600}. Users are
 * grouped by the minute of their last-seen second into buckets kept in minute order; a user
 * whose last-seen moves to a later minute moves to that bucket (O(1): an intrusive doubly linked
 * list per bucket). Each bucket also counts its users per second of the minute, so the one
 * bucket the window boundary cuts through is counted exactly without visiting its users.
 *
 * <p><b>Cost.</b> {@link #record} is O(1) amortised (a hash lookup; a bucket lookup that is
 * almost always the cached current minute). {@link #count} is O(60) plus expiry. Expiry removes
 * every bucket that lies entirely before the window, with its users: each user is removed at most
 * once per insertion, so expiry is O(1) amortised per event, and memory is proportional to the
 * users active in the last hour plus at most one partial minute.
 *
 * <p><b>Time.</b> The window's "now" is the latest time passed to {@link #advanceTo} (the clock is
 * taken as non-decreasing: going back in time cannot resurrect users already expired).
 *
 * <p>Not thread-safe: the event processor guards it with its ingest lock.
 */
public final class UniqueUsersWindow {
    public static final long WINDOW_SECONDS = 3600;

    private static final class UserEntry {
        final String id;
        long lastSeen;
        MinuteBucket bucket;
        UserEntry prev;
        UserEntry next;

        UserEntry(String id) {
            this.id = id;
        }
    }

    private static final class MinuteBucket {
        final long minute;
        UserEntry head;
        int size;
        /** perSecond[s]: users of this bucket whose last-seen is second s of the minute. */
        final int[] perSecond = new int[60];

        MinuteBucket(long minute) {
            this.minute = minute;
        }

        void add(UserEntry e) {
            e.bucket = this;
            e.prev = null;
            e.next = head;
            if (head != null) {
                head.prev = e;
            }
            head = e;
            size++;
            perSecond[(int) Math.floorMod(e.lastSeen, 60L)]++;
        }

        void remove(UserEntry e) {
            if (e.prev != null) {
                e.prev.next = e.next;
            } else {
                head = e.next;
            }
            if (e.next != null) {
                e.next.prev = e.prev;
            }
            e.prev = null;
            e.next = null;
            e.bucket = null;
            size--;
            perSecond[(int) Math.floorMod(e.lastSeen, 60L)]--;
        }
    }

    private final Map<String, UserEntry> users = new HashMap<>();
    /** Buckets by minute; every tracked user is in exactly the bucket of its last-seen minute. */
    private final TreeMap<Long, MinuteBucket> buckets = new TreeMap<>();
    /** The bucket used last (nearly every event falls in the current minute). May be stale only
     *  as null: it is cleared whenever its bucket is removed. */
    private MinuteBucket lastBucket;
    /** Latest "now" seen; the window is (now - 3600, now]. */
    private long now = Long.MIN_VALUE + WINDOW_SECONDS;

    /** Moves the window's "now" forward (never back) and releases expired minutes. */
    public void advanceTo(long nowSeconds) {
        if (nowSeconds > now) {
            now = nowSeconds;
            expire();
        }
    }

    /** The window's current "now". */
    public long now() {
        return now;
    }

    /** Records one event of {@code user} stamped {@code timestamp} (epoch seconds). */
    public void record(String user, long timestamp) {
        long t = Math.min(timestamp, now);
        if (t <= now - WINDOW_SECONDS) {
            return; // already outside the window: it can never count
        }
        UserEntry e = users.get(user);
        if (e == null) {
            e = new UserEntry(user);
            users.put(user, e);
            e.lastSeen = t;
            bucketFor(t).add(e);
        } else if (t > e.lastSeen) {
            MinuteBucket b = e.bucket;
            if (Math.floorDiv(t, 60L) == b.minute) {
                b.perSecond[(int) Math.floorMod(e.lastSeen, 60L)]--;
                e.lastSeen = t;
                b.perSecond[(int) Math.floorMod(t, 60L)]++;
            } else {
                b.remove(e);
                if (b.size == 0) {
                    removeBucket(b);
                }
                e.lastSeen = t;
                bucketFor(t).add(e);
            }
        }
    }

    /** Distinct users with an event stamped after {@code nowSeconds - 3600} (after advancing). */
    public int count(long nowSeconds) {
        advanceTo(nowSeconds);
        long cutoff = now - WINDOW_SECONDS;
        int total = users.size();
        MinuteBucket boundary = buckets.get(Math.floorDiv(cutoff, 60L));
        if (boundary != null) {
            int last = (int) Math.floorMod(cutoff, 60L);
            for (int s = 0; s <= last; s++) {
                total -= boundary.perSecond[s];
            }
        }
        return total;
    }

    /** Users held in memory (in the window, plus those in the partially expired minute). */
    public int trackedUsers() {
        return users.size();
    }

    /** Minute buckets held in memory. */
    public int bucketCount() {
        return buckets.size();
    }

    private MinuteBucket bucketFor(long t) {
        long minute = Math.floorDiv(t, 60L);
        MinuteBucket b = lastBucket;
        if (b != null && b.minute == minute) {
            return b;
        }
        b = buckets.get(minute);
        if (b == null) {
            b = new MinuteBucket(minute);
            buckets.put(minute, b);
        }
        lastBucket = b;
        return b;
    }

    private void removeBucket(MinuteBucket b) {
        buckets.remove(b.minute);
        if (lastBucket == b) {
            lastBucket = null;
        }
    }

    /** Drops every bucket entirely at or before the cutoff, with its users. */
    private void expire() {
        long boundaryMinute = Math.floorDiv(now - WINDOW_SECONDS, 60L);
        Map.Entry<Long, MinuteBucket> first;
        while ((first = buckets.firstEntry()) != null && first.getKey() < boundaryMinute) {
            MinuteBucket b = first.getValue();
            for (UserEntry e = b.head; e != null; e = e.next) {
                users.remove(e.id);
            }
            removeBucket(b);
        }
    }
}

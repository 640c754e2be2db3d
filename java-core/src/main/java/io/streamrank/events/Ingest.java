package io.streamrank.events;

import io.streamrank.ring.EventRing;
import java.util.List;
import java.util.concurrent.locks.ReentrantLock;

/**
 * The producer side of the processor: publishes reserved events into the statistics (unique
 * users window, channel counts) and then into the ring, and answers the statistics queries.
 * Both live under one lock, the <em>ingest lock</em>, because they are one job: every accepted
 * event is counted once and queued once, in reservation order.
 *
 * <p><b>Invariant:</b> events are published in reservation order. {@link #offer} holds the
 * ingest lock across its reservation and its publication (lock order: ingest, then reserve);
 * a front end that reserves ahead ({@link Capacity#reserve}) publishes from a FIFO. So sequence
 * numbers follow acceptance, and a flush target taken from the accepted count covers exactly
 * the events accepted before it.
 *
 * <p><b>Invariant:</b> {@code ring.tail() <= capacity.accepted()}: nothing is published that was
 * not reserved ({@link #publishLocked} checks it and throws rather than overrun the bound).
 */
final class Ingest {
    /** Told after each publication, with no lock held, so consumers can be woken. */
    interface Listener {
        /** @param ringSizeAfter the ring's size read right after the publication, under the
         *      ingest lock (exact then; consumers may since have drained, never added) */
        void published(int n, int ringSizeAfter);
    }

    private final EventRing ring;
    private final Capacity capacity;
    private final Clock clock;
    private final Listener listener;

    /** Serialises publishers (the ring is single-producer) and guards the two statistics. */
    private final ReentrantLock lock = new ReentrantLock();
    /** Guarded by lock. */
    private final UniqueUsersWindow uniqueUsers = new UniqueUsersWindow();
    /** Guarded by lock. */
    private final ChannelCounts channelCounts = new ChannelCounts();

    Ingest(EventRing ring, Capacity capacity, Clock clock, Listener listener) {
        this.ring = ring;
        this.capacity = capacity;
        this.clock = clock;
        this.listener = listener;
    }

    /** Reserves what fits of the {@code n} events and publishes it; see
     *  {@link EventProcessor#offer(String[], String[], String[], long[], int, int, long, long)}. */
    int offer(String[] types, String[] users, String[] channels, long[] timestamps,
              int from, int n, long nowSeconds, long ageNanos) {
        checkColumns(types, users, channels, timestamps, from, n);
        int take;
        int sizeAfter = 0;
        lock.lock(); // across reserve and publish: publication follows reservation order
        try {
            take = capacity.reserve(n, false);
            if (take > 0) {
                sizeAfter = publishLocked(types, users, channels, timestamps, from, take, nowSeconds,
                        clock.nanoTime() - Math.max(0L, ageNanos));
            }
        } finally {
            lock.unlock();
        }
        if (take > 0) {
            listener.published(take, sizeAfter);
        }
        return take;
    }

    /** Publishes {@code n} events reserved earlier; see {@link EventProcessor#publishReserved}. */
    void publishReserved(String[] types, String[] users, String[] channels, long[] timestamps,
                         int from, int n, long nowSeconds, long arrivalNanos) {
        checkColumns(types, users, channels, timestamps, from, n);
        if (n == 0) {
            return;
        }
        int sizeAfter;
        lock.lock();
        try {
            sizeAfter = publishLocked(types, users, channels, timestamps, from, n, nowSeconds, arrivalNanos);
        } finally {
            lock.unlock();
        }
        listener.published(n, sizeAfter);
    }

    /** Checks the range before anything is reserved: a failure after the reservation would
     *  leave reserved events that are never published (flush and close could never finish). */
    static void checkColumns(String[] types, String[] users, String[] channels, long[] timestamps,
                             int from, int n) {
        long end = (long) from + n; // in long: from + n may overflow int and pass the check
        if (n < 0 || from < 0 || end > types.length || end > users.length
                || end > channels.length || end > timestamps.length) {
            throw new IllegalArgumentException("offer range [" + from + ", " + from + "+" + n + ") outside the columns");
        }
        for (int i = from; i < from + n; i++) {
            if (types[i] == null || users[i] == null || channels[i] == null) {
                throw new NullPointerException("event " + (i - from) + " has a null field");
            }
        }
    }

    /** Under lock: statistics, then the ring. Returns the ring's size after publishing. */
    private int publishLocked(String[] types, String[] users, String[] channels, long[] timestamps,
                              int from, int n, long nowSeconds, long arrivalNanos) {
        long tail = ring.tail();
        long accepted = capacity.accepted();
        if (tail + n > accepted) {
            throw new IllegalStateException("publishing " + n + " events, only " + (accepted - tail)
                    + " are reserved");
        }
        if (nowSeconds >= 0) {
            uniqueUsers.advanceTo(nowSeconds);
        } else if (!uniqueUsers.started()) {
            // Negative: the front end's clock failed. The window stays where it is, or starts at
            // the system clock when it has none yet.
            uniqueUsers.advanceTo(clock.epochSeconds());
        }
        for (int i = from; i < from + n; i++) {
            uniqueUsers.record(users[i], timestamps[i]);
            channelCounts.record(channels[i]);
        }
        ring.publish(types, users, channels, timestamps, from, n, arrivalNanos);
        return ring.size();
    }

    /** Events published so far (the ring's tail). */
    long published() {
        return ring.tail();
    }

    int uniqueUsersLastHour(long nowSeconds) {
        lock.lock();
        try {
            return uniqueUsers.count(nowSeconds);
        } finally {
            lock.unlock();
        }
    }

    int trackedUsers() {
        lock.lock();
        try {
            return uniqueUsers.trackedUsers();
        } finally {
            lock.unlock();
        }
    }

    List<ChannelCount> topChannels(int k) {
        lock.lock();
        try {
            return channelCounts.top(k);
        } finally {
            lock.unlock();
        }
    }
}

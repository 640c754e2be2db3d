package io.streamrank.events;

import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.locks.ReentrantLock;

/**
 * The processor's capacity accounting: reservations against {@code bufferSize}, the accepted
 * and dropped counts, the release of capacity when events leave for good, and the close of
 * acceptance.
 *
 * <p><b>Invariant:</b> {@code accepted - released <= bufferSize}, where an event is released when
 * its batch completed or it was discarded from the dead-letter list. So the bound counts events
 * queued in the ring, batched, inside a callback, waiting for a retry, and dead-lettered.
 *
 * <p><b>Invariant:</b> nothing is accepted once the lifecycle left OPEN: the state is checked and
 * {@code accepted} grows under the reserve lock, and {@link #closeAcceptance} leaves OPEN under
 * the same lock; so once a thread sees the state DRAINING, {@code accepted} is final.
 */
final class Capacity {
    private final int bufferSize;
    private final Lifecycle lifecycle;

    /** Serialises reservations and the close of acceptance. Held for a few instructions: a
     *  front end reserves on its caller's thread while another thread publishes. */
    private final ReentrantLock reserveLock = new ReentrantLock();

    /** Events accepted so far: capacity is reserved for them and they will be published. Only
     *  grows. Written only under reserveLock; volatile because counters, flush targets and the
     *  consumers' finished check read it without that lock. */
    private volatile long accepted;

    /** Events released (delivered, or discarded from the dead-letter list): their capacity is
     *  free again. Only grows; {@code <= accepted}. Written by the delivery side (under its
     *  lock); read here with an acquire load, so the consumer's work on the released events
     *  happens-before the reservation that reuses their space. */
    private final AtomicLong released = new AtomicLong();

    /** Events refused (no room, or after close), plus drops a front end reports
     *  ({@link #recordDropped}). Any thread, no lock. */
    private final AtomicLong dropped = new AtomicLong();

    Capacity(int bufferSize, Lifecycle lifecycle) {
        this.bufferSize = bufferSize;
        this.lifecycle = lifecycle;
    }

    /**
     * Reserves capacity for {@code n} events: all of them or none ({@code all}), else the
     * longest prefix that fits; the rest count as dropped.
     *
     * @return the number reserved
     * @throws IllegalStateException with {@code all}, when fewer than {@code n} fit or acceptance
     *     is closed (a front end that exceeded its credit: a bug, never a silent drop)
     */
    int reserve(int n, boolean all) {
        if (n < 0) {
            throw new IllegalArgumentException("cannot reserve " + n + " events");
        }
        reserveLock.lock();
        try {
            if (!lifecycle.isOpen()) {
                if (all && n > 0) {
                    throw new IllegalStateException("the event processor is closed: " + n + " events refused");
                }
                dropped.addAndGet(n);
                return 0;
            }
            long free = bufferSize - (accepted - released.getAcquire());
            int take = (int) Math.max(0, Math.min(n, free));
            if (all && take < n) {
                throw new IllegalStateException("event processor has room for " + free + " events, "
                        + n + " were handed over (credit exceeded)");
            }
            accepted += take; // single writer (the lock): a plain read-modify-write is safe
            if (take < n) {
                dropped.addAndGet(n - take);
            }
            return take;
        } finally {
            reserveLock.unlock();
        }
    }

    /** OPEN -> DRAINING under the reserve lock: every reservation either completed before (and
     *  is in the final accepted count) or comes after and is refused. Idempotent; never moves
     *  the state back from STOPPED. */
    void closeAcceptance() {
        reserveLock.lock();
        try {
            lifecycle.advanceTo(Lifecycle.State.DRAINING);
        } finally {
            reserveLock.unlock();
        }
    }

    /** Events that could be reserved right now (a lower bound: it only grows until the next
     *  reservation). */
    long free() {
        return Math.max(0, bufferSize - (accepted - released.getAcquire()));
    }

    /** Gives back the capacity of {@code n} events that left for good (the delivery side calls
     *  this under its lock). */
    void release(long n) {
        released.addAndGet(n);
    }

    void recordDropped(long n) {
        if (n < 0) {
            throw new IllegalArgumentException("dropped count must be >= 0, got " + n);
        }
        dropped.addAndGet(n);
    }

    long accepted() {
        return accepted;
    }

    long released() {
        return released.get();
    }

    long dropped() {
        return dropped.get();
    }

    int bufferSize() {
        return bufferSize;
    }
}

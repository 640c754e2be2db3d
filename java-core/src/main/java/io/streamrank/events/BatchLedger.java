package io.streamrank.events;

import java.util.Comparator;
import java.util.HashMap;
import java.util.Map;
import java.util.PriorityQueue;
import java.util.TreeMap;

/**
 * Where every batch taken out of the ring is until it settles: handed to a consumer
 * (<em>in flight</em>), or waiting for its retry's due time.
 *
 * <p><b>Invariants</b> (each method keeps them):
 * <ul>
 *   <li>A batch taken out and not settled is in exactly one of {@code inFlight} and
 *       {@code retries}; {@code unsettled} holds exactly those batches. A settled batch is in
 *       none of them.</li>
 *   <li>A batch is settled exactly once per time it was opened (taken out of the ring, or
 *       re-opened from the dead letters): {@link #settle} throws if it is not unsettled.</li>
 *   <li>A batch reports back ({@link #takeInFlight}) only while in flight, once per hand-out: a
 *       second report for the same hand-out throws.</li>
 * </ul>
 *
 * <p>Not thread-safe: guarded by the delivery lock of the owning {@link Delivery}, like the
 * mutable fields of {@link Batch}.
 */
final class BatchLedger {
    /** Batches handed to a consumer and not yet reported back, by id. */
    private final Map<Long, Batch> inFlight = new HashMap<>();
    /** Failed (or given back) batches waiting for their due time, earliest first (ties: the
     *  older events first). */
    private final PriorityQueue<Batch> retries = new PriorityQueue<>(
            Comparator.comparingLong((Batch b) -> b.dueNanos).thenComparingLong(Batch::firstSeq));
    /** Every batch in flight or waiting for a retry, by first sequence. With the ring's head
     *  this gives the lowest unsettled sequence, which flush waiters compare with their target. */
    private final TreeMap<Long, Batch> unsettled = new TreeMap<>();
    /** The id the next batch gets; ids are never reused. */
    private long nextBatchId = 1;

    /** A new batch of events just drained from the ring (sequences from {@code firstSeq}),
     *  handed out at once: in flight and unsettled. */
    Batch open(long firstSeq, String[] types, String[] users, String[] channels, long[] timestamps) {
        Batch b = new Batch(nextBatchId++, firstSeq, types, users, channels, timestamps);
        inFlight.put(b.id(), b);
        unsettled.put(b.firstSeq(), b);
        return b;
    }

    /** The earliest retry if it is due at {@code now}, moved to in flight; else null. */
    Batch takeDueRetry(long now) {
        Batch r = retries.peek();
        if (r != null && r.dueNanos - now <= 0) {
            retries.poll();
            inFlight.put(r.id(), r);
            return r;
        }
        return null;
    }

    boolean hasDueRetry(long now) {
        Batch r = retries.peek();
        return r != null && r.dueNanos - now <= 0;
    }

    /** The due time of the earliest retry; only when {@link #hasRetries}. */
    long nextRetryDueNanos() {
        return retries.element().dueNanos;
    }

    boolean hasRetries() {
        return !retries.isEmpty();
    }

    /** Ends a hand-out: the batch is no longer in flight (it is still unsettled; the caller
     *  settles it or schedules a retry). */
    Batch takeInFlight(long batchId) {
        Batch b = inFlight.remove(batchId);
        if (b == null) {
            throw new IllegalArgumentException("batch " + batchId + " is not in flight");
        }
        return b;
    }

    /** Schedules a batch just taken from in flight to be handed out again at {@code dueNanos}. */
    void retryAt(Batch b, long dueNanos) {
        b.dueNanos = dueNanos;
        retries.add(b);
    }

    /** The batch (just taken from in flight) is settled: delivered or dead-lettered. */
    void settle(Batch b) {
        if (!unsettled.remove(b.firstSeq(), b)) {
            throw new IllegalStateException("batch " + b.id() + " is already settled");
        }
    }

    /** A settled (dead-lettered) batch is delivered again, with a fresh retry budget: unsettled
     *  and due at {@code now}. */
    void reopen(Batch b, long now) {
        if (unsettled.putIfAbsent(b.firstSeq(), b) != null) {
            throw new IllegalStateException("batch " + b.id() + " is not settled");
        }
        b.failures = 0;
        retryAt(b, now);
    }

    boolean allSettled() {
        return unsettled.isEmpty();
    }

    /** The lowest sequence not yet settled, given the ring's head (the first event not yet
     *  taken out): the accepted count when everything published is settled. */
    long lowestUnsettled(long ringHead) {
        return unsettled.isEmpty() ? ringHead : Math.min(ringHead, unsettled.firstKey());
    }

    int inFlightCount() {
        return inFlight.size();
    }

    int retryCount() {
        return retries.size();
    }

    int unsettledCount() {
        return unsettled.size();
    }
}

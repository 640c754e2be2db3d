package io.streamrank.events;

import java.util.ArrayList;
import java.util.List;

/**
 * Batches that failed past their retry budget, oldest first, until the application re-drives or
 * discards them. Their events are settled (a flush does not wait for them) but not released:
 * they keep holding buffer capacity, because they hold memory.
 *
 * <p><b>Invariant:</b> {@code events} is the sum of the sizes of {@code batches}.
 *
 * <p>Not thread-safe: guarded by the delivery lock of the owning {@link Delivery}, except
 * {@link #events()}, which any thread may read without it.
 */
final class DeadLetters {
    /** Guarded by the delivery lock. */
    private final List<Batch> batches = new ArrayList<>();
    /** Events in {@code batches}. Written under the delivery lock; volatile so the counters
     *  ({@code dead_letter_events}) read it without the lock. */
    private volatile long events;

    void add(Batch b) {
        batches.add(b);
        events += b.size(); // single writer (the delivery lock)
    }

    long events() {
        return events;
    }

    /** The dead letters as they are now (failures and last error copied: a later re-drive
     *  resets the batch's). */
    List<EventProcessor.FailedBatch> snapshot() {
        List<EventProcessor.FailedBatch> out = new ArrayList<>(batches.size());
        for (Batch b : batches) {
            out.add(new EventProcessor.FailedBatch(b, b.failures, b.lastError));
        }
        return out;
    }

    /** Moves every dead letter back into the ledger, due at {@code now} with a fresh retry
     *  budget. @return the number of events re-queued */
    long redriveInto(BatchLedger ledger, long now) {
        long n = 0;
        for (Batch b : batches) {
            ledger.reopen(b, now);
            n += b.size();
        }
        batches.clear();
        events = 0;
        return n;
    }

    /** Forgets every dead letter. @return the number of events dropped (the caller releases
     *  their capacity) */
    long discard() {
        long n = events;
        batches.clear();
        events = 0;
        return n;
    }
}

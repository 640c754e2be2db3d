package io.streamrank.events;

import io.streamrank.ring.EventRing;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.locks.Condition;
import java.util.concurrent.locks.ReentrantLock;

/**
 * The consumer side of the processor: cuts batches out of the ring when they are ready, hands
 * them to consumers, takes their reports (complete, fail with retry and back-off, give back),
 * keeps the dead letters, and lets flush waiters wait until the events below a target settled.
 *
 * <p><b>Readiness.</b> Due retries go first. Otherwise the ring's oldest events form a batch when
 * {@code batchSize} are waiting, or the oldest has waited {@code flushInterval}, or a flush target
 * covers it, or the lifecycle left OPEN (close: everything goes out at once). Nothing is handed
 * out while delivery is disabled or once STOPPED.
 *
 * <p><b>The delivery lock</b> serialises consumers (the ring is single-consumer) and guards all
 * delivery state: the {@link BatchLedger}, the {@link DeadLetters}, the flush target, the enabled
 * flag, and the mutable fields of every {@link Batch}. It is never held while taking another
 * lock (the capacity and lifecycle calls made under it are lock-free), so a producer may take it
 * to signal without any risk of deadlock.
 */
final class Delivery implements Ingest.Listener {
    private final EventRing ring;
    private final Capacity capacity;
    /** Read under the lock, but not guarded by it: DRAINING is entered under the reserve lock
     *  (volatile read, see {@link Lifecycle}). A consumer may see DRAINING before close signals;
     *  that only lets it send a partial batch a moment earlier, and the signal follows. STOPPED
     *  is entered under this lock ({@link #lifecycleChanged}). */
    private final Lifecycle lifecycle;
    private final Clock clock;
    private final int batchSize;
    private final long flushIntervalNanos;
    /** Read once per failure (no lock needed: a policy is immutable). */
    private volatile RetryPolicy retryPolicy;

    private final ReentrantLock lock = new ReentrantLock();
    /** Consumers wait here for a batch to become ready. */
    private final Condition workReady = lock.newCondition();
    /** Flush waiters wait here for events to settle. */
    private final Condition settledChanged = lock.newCondition();

    /**
     * Consumers currently inside {@link #nextBatch} (incremented before they look at the ring).
     * Written under the lock; read by producers without it. Volatile, and paired with the ring's
     * volatile tail store (a Dekker handshake): a producer stores tail then loads this, a
     * consumer stores this then loads tail, so either the consumer sees the new events or the
     * producer sees the consumer and signals it (it must take the lock to signal, which the
     * consumer holds until it parks) - no lost wake-up.
     */
    private volatile int consumersWaiting;
    /** Events whose callback returned successfully. Only grows. Written under the lock;
     *  volatile so counters read it without the lock. */
    private volatile long delivered;
    /** Guarded by the lock. */
    private final BatchLedger ledger = new BatchLedger();
    /** Guarded by the lock (its event count is also readable without it). */
    private final DeadLetters deadLetters = new DeadLetters();
    /** Guarded by the lock: events below this sequence are delivered without waiting for a full
     *  batch or the interval (a flush asked for them). Only grows. */
    private long flushTarget;
    /** Guarded by the lock: consumers hand out batches only when true (a front end clears it
     *  while no callback is set; events are then kept). */
    private boolean enabled = true;
    /** Guarded by the lock: threads inside awaitSettled (settling signals only when > 0). */
    private int flushWaiters;

    Delivery(EventRing ring, Capacity capacity, Lifecycle lifecycle, Clock clock, int batchSize,
             long flushIntervalNanos, RetryPolicy retryPolicy) {
        this.ring = ring;
        this.capacity = capacity;
        this.lifecycle = lifecycle;
        this.clock = clock;
        this.batchSize = batchSize;
        this.flushIntervalNanos = flushIntervalNanos;
        this.retryPolicy = retryPolicy;
    }

    RetryPolicy retryPolicy() {
        return retryPolicy;
    }

    void setRetryPolicy(RetryPolicy policy) {
        retryPolicy = policy;
    }

    // ---------------------------------------------------------------- wake-ups

    /**
     * After a publication (no lock held). A waiting consumer needs a nudge only when its plan
     * changed: the ring holds nothing but these events (a consumer may have seen it empty and be
     * waiting without a deadline), or a full batch became ready. {@code sizeAfter} was read
     * right after the publish (exact then; consumers may drain concurrently, which only makes it
     * smaller), so "nothing older left" is never missed.
     */
    @Override
    public void published(int n, int sizeAfter) {
        if (consumersWaiting > 0 && (sizeAfter <= n || (sizeAfter >= batchSize && sizeAfter - n < batchSize))) {
            lock.lock();
            try {
                workReady.signal();
            } finally {
                lock.unlock();
            }
        }
    }

    /** Wakes every waiting consumer so it re-reads the clock (after a manual clock moved). */
    void wakeConsumers() {
        lock.lock();
        try {
            workReady.signalAll();
        } finally {
            lock.unlock();
        }
    }

    /** After a lifecycle transition: everyone re-checks. With {@code stop}, makes the
     *  DRAINING -> STOPPED transition first, under the lock, so no consumer plans on a stale
     *  state. */
    void lifecycleChanged(boolean stop) {
        lock.lock();
        try {
            if (stop) {
                lifecycle.advanceTo(Lifecycle.State.STOPPED);
            }
            workReady.signalAll();
            settledChanged.signalAll();
        } finally {
            lock.unlock();
        }
    }

    // ---------------------------------------------------------------- enabling

    void setEnabled(boolean enabled) {
        lock.lock();
        try {
            this.enabled = enabled;
            workReady.signalAll();
            settledChanged.signalAll();
        } finally {
            lock.unlock();
        }
    }

    boolean enabled() {
        lock.lock();
        try {
            return enabled;
        } finally {
            lock.unlock();
        }
    }

    // ---------------------------------------------------------------- handing out

    Batch pollBatch() {
        lock.lock();
        try {
            return takeReadyLocked(clock.nanoTime());
        } finally {
            lock.unlock();
        }
    }

    Batch nextBatch(long timeout, TimeUnit unit) throws InterruptedException {
        long timeoutNanos = unit.toNanos(timeout);
        long start = System.nanoTime();
        lock.lock();
        try {
            consumersWaiting++; // before looking at the ring: see the field comment
            try {
                while (true) {
                    long now = clock.nanoTime();
                    Batch b = takeReadyLocked(now);
                    if (b != null) {
                        if (hasReadyWorkLocked(now)) {
                            workReady.signal(); // pass the baton to another consumer
                        }
                        return b;
                    }
                    if (finishedLocked()) {
                        return null;
                    }
                    long wait = timeoutNanos - (System.nanoTime() - start);
                    if (wait <= 0) {
                        return null;
                    }
                    if (enabled && !lifecycle.isStopped()) {
                        if (ring.available() > 0) {
                            wait = Math.min(wait, ring.oldestArrivalNanos() + flushIntervalNanos - now);
                        }
                        if (ledger.hasRetries()) {
                            wait = Math.min(wait, ledger.nextRetryDueNanos() - now);
                        }
                    }
                    if (wait > 0) {
                        workReady.awaitNanos(wait);
                    }
                }
            } finally {
                consumersWaiting--;
            }
        } finally {
            lock.unlock();
        }
    }

    private Batch takeReadyLocked(long now) {
        if (!enabled || lifecycle.isStopped()) {
            return null;
        }
        Batch r = ledger.takeDueRetry(now);
        if (r != null) {
            return r;
        }
        int avail = ring.available();
        if (!ringBatchReadyLocked(now, avail)) {
            return null;
        }
        long head = ring.head();
        int n = Math.min(avail, batchSize);
        String[] types = new String[n];
        String[] users = new String[n];
        String[] channels = new String[n];
        long[] timestamps = new long[n];
        int got = ring.drainTo(types, users, channels, timestamps, 0, n);
        if (got != n) {
            throw new IllegalStateException("ring drained " + got + " of " + n + " available events");
        }
        return ledger.open(head, types, users, channels, timestamps);
    }

    /** The ring's oldest events form a batch now (see the class comment), {@code avail} being
     *  what the ring holds (read once by the caller: producers may add meanwhile). */
    private boolean ringBatchReadyLocked(long now, int avail) {
        return avail > 0 && (avail >= batchSize
                || !lifecycle.isOpen()
                || ring.head() < flushTarget
                || now - ring.oldestArrivalNanos() >= flushIntervalNanos);
    }

    private boolean hasReadyWorkLocked(long now) {
        if (!enabled || lifecycle.isStopped()) {
            return false;
        }
        return ledger.hasDueRetry(now) || ringBatchReadyLocked(now, ring.available());
    }

    /** Consumers will never get another batch: STOPPED, or DRAINING with every accepted event
     *  published, taken out and settled. ({@code accepted} is final once not OPEN.) */
    private boolean finishedLocked() {
        Lifecycle.State s = lifecycle.state();
        return s == Lifecycle.State.STOPPED
                || (s == Lifecycle.State.DRAINING && ring.tail() == capacity.accepted()
                        && ring.available() == 0 && ledger.allSettled());
    }

    boolean isFinished() {
        lock.lock();
        try {
            return finishedLocked();
        } finally {
            lock.unlock();
        }
    }

    // ---------------------------------------------------------------- reports

    void complete(long batchId) {
        lock.lock();
        try {
            Batch b = ledger.takeInFlight(batchId);
            ledger.settle(b);
            delivered += b.size(); // single writer (the lock)
            capacity.release(b.size());
            onSettledLocked();
        } finally {
            lock.unlock();
        }
    }

    void fail(long batchId, String error) {
        lock.lock();
        try {
            Batch b = ledger.takeInFlight(batchId);
            b.failures++;
            b.lastError = error;
            RetryPolicy policy = retryPolicy;
            if (b.failures > policy.maxRetries()) {
                ledger.settle(b);
                deadLetters.add(b);
                onSettledLocked();
            } else {
                ledger.retryAt(b, clock.nanoTime() + policy.backoffNanos(b.failures));
                workReady.signal(); // some consumer must re-plan its wait around the due time
            }
        } finally {
            lock.unlock();
        }
    }

    void release(long batchId) {
        lock.lock();
        try {
            Batch b = ledger.takeInFlight(batchId);
            ledger.retryAt(b, clock.nanoTime());
            workReady.signal();
        } finally {
            lock.unlock();
        }
    }

    private void onSettledLocked() {
        if (flushWaiters > 0) {
            settledChanged.signalAll();
        }
        if (finishedLocked()) {
            workReady.signalAll(); // finished: let idle consumers leave
        }
    }

    // ---------------------------------------------------------------- settle waiting

    long awaitSettled(long target, long timeout, TimeUnit unit) throws InterruptedException {
        long timeoutNanos = timeout < 0 ? Long.MAX_VALUE : unit.toNanos(timeout);
        long start = System.nanoTime();
        lock.lock();
        try {
            flushWaiters++;
            try {
                if (target > flushTarget) {
                    flushTarget = target;
                    workReady.signalAll();
                }
                while (ledger.lowestUnsettled(ring.head()) < target) {
                    if (lifecycle.isStopped()) {
                        throw new IllegalStateException("the event processor is shut down; "
                                + (target - ledger.lowestUnsettled(ring.head())) + "+ events were not delivered");
                    }
                    if (!enabled) {
                        throw new IllegalStateException("no flush callback is set: "
                                + pendingLocked() + " events are waiting for one");
                    }
                    long left = timeoutNanos - (System.nanoTime() - start);
                    if (left <= 0) {
                        return -1;
                    }
                    settledChanged.awaitNanos(left);
                }
                return deadLetters.events();
            } finally {
                flushWaiters--;
            }
        } finally {
            lock.unlock();
        }
    }

    // ---------------------------------------------------------------- counters

    long delivered() {
        return delivered;
    }

    long deadLetterEvents() {
        return deadLetters.events();
    }

    long pending() {
        lock.lock();
        try {
            return pendingLocked();
        } finally {
            lock.unlock();
        }
    }

    /** Accepted events neither released nor dead-lettered. Under the lock, released and the
     *  dead-letter count are consistent with each other (both change only under it). */
    private long pendingLocked() {
        return capacity.accepted() - capacity.released() - deadLetters.events();
    }

    // ---------------------------------------------------------------- dead letters

    List<EventProcessor.FailedBatch> deadLetters() {
        lock.lock();
        try {
            return deadLetters.snapshot();
        } finally {
            lock.unlock();
        }
    }

    long redriveDeadLetters() {
        lock.lock();
        try {
            long events = deadLetters.redriveInto(ledger, clock.nanoTime());
            workReady.signalAll();
            if (flushWaiters > 0) {
                settledChanged.signalAll();
            }
            return events;
        } finally {
            lock.unlock();
        }
    }

    long discardDeadLetters() {
        lock.lock();
        try {
            long events = deadLetters.discard();
            capacity.release(events);
            if (flushWaiters > 0) {
                settledChanged.signalAll();
            }
            return events;
        } finally {
            lock.unlock();
        }
    }
}

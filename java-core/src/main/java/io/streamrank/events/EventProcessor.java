package io.streamrank.events;

import io.streamrank.ring.EventRing;
import java.util.List;
import java.util.concurrent.TimeUnit;

/**
 * The event pipeline: bounded lossless ingestion, batching by size and by age, delivery to
 * consumers with retry and a dead-letter list, flush-to-sequence waiting, and live statistics.
 *
 * <p><b>Life of an event.</b> {@link #offer} accepts a prefix of the offered events (as many as
 * capacity allows), records them in the statistics and publishes them into the {@link EventRing}.
 * Each accepted event gets a sequence number (its position in acceptance order, from 0). A
 * consumer ({@link #nextBatch} / {@link #pollBatch}) moves up to {@code batchSize} consecutive
 * events out of the ring into a {@link Batch} once {@code batchSize} are waiting, or the oldest
 * has waited {@code flushInterval}, or a flush or close asks for everything. The consumer runs the
 * callback and reports {@link #complete} or {@link #fail}; a failed batch is retried after a
 * back-off ({@link RetryPolicy}) and, after the last retry, goes to the dead-letter list, from
 * which it can be re-driven or discarded. An event is <em>settled</em> once its batch completed or
 * was dead-lettered.
 *
 * <p><b>Capacity.</b> {@code bufferSize} bounds the events accepted and not yet released, where
 * an event is released when its batch completed or was discarded from the dead-letter list. It
 * therefore counts events queued in the ring, taken into a batch, inside a running callback,
 * waiting for a retry, and dead-lettered (they hold memory until the application re-drives or
 * discards them). Invariant: {@code accepted - released <= bufferSize}.
 *
 * <p><b>Acceptance</b> is two steps, so a front end can accept on its caller's thread and do the
 * rest elsewhere: {@link #reserve} takes capacity (the event is accepted from then on), and
 * {@link #publishReserved} records it in the statistics and publishes it into the ring, in
 * reservation order. {@link #offer} does both at once.
 *
 * <p><b>Parts.</b> This class is the facade; each concern is one class with its invariants:
 * {@link Lifecycle} (the one state OPEN -&gt; DRAINING -&gt; STOPPED), {@link Capacity}
 * (reservations, accepted/dropped/released counts, close of acceptance), {@link Ingest}
 * (publication into the statistics and the ring), {@link Delivery} (batches, retries, flush
 * waiting, consumer wake-ups) with its {@link BatchLedger} (batches in flight or waiting for a
 * retry) and {@link DeadLetters}.
 *
 * <p><b>Locks.</b> The <em>reserve lock</em> ({@link Capacity}) guards reservations and the
 * close of acceptance (held for a few instructions); the <em>ingest lock</em> ({@link Ingest})
 * serialises publishers (so the ring sees one producer) and guards the statistics; the
 * <em>delivery lock</em> ({@link Delivery}) serialises consumers (so the ring sees one consumer)
 * and guards all delivery state. The ingest lock is held across a reservation in {@link #offer}
 * (order: ingest, then reserve); the delivery lock is never held with either (nobody waits for
 * it while holding another lock). Producers and consumers meet only through the ring's sequence
 * counters, the lifecycle state and the volatile counters, so a slow callback never blocks an
 * offer.
 *
 * <p><b>Time.</b> All deadlines (batch age, retry back-off) are read from the injected
 * {@link Clock}; blocking waits bound their timeouts with {@link System#nanoTime()} and re-check
 * the clock when they wake ({@link #wakeConsumers()} wakes them after a manual clock moved).
 */
public final class EventProcessor {
    private final int bufferSize;
    private final int batchSize;
    private final long flushIntervalNanos;
    private final Clock clock;
    private final Lifecycle lifecycle = new Lifecycle();
    private final Capacity capacity;
    private final Delivery delivery;
    private final Ingest ingest;

    public EventProcessor(int bufferSize, int batchSize, long flushInterval, TimeUnit unit) {
        this(bufferSize, batchSize, unit.toNanos(flushInterval), RetryPolicy.DEFAULT, Clock.SYSTEM);
    }

    public EventProcessor(int bufferSize, int batchSize, long flushIntervalNanos, RetryPolicy retryPolicy, Clock clock) {
        if (bufferSize <= 0) {
            throw new IllegalArgumentException("buffer_size must be positive, got " + bufferSize);
        }
        if (batchSize <= 0) {
            throw new IllegalArgumentException("batch_size must be positive, got " + batchSize);
        }
        if (flushIntervalNanos <= 0) {
            throw new IllegalArgumentException("flush_interval_ms must be positive, got " + flushIntervalNanos + " ns");
        }
        if (retryPolicy == null || clock == null) {
            throw new NullPointerException("retryPolicy and clock are required");
        }
        if (bufferSize > (1 << 30)) {
            throw new IllegalArgumentException("buffer_size must be at most 2^30 (1073741824), got " + bufferSize);
        }
        this.bufferSize = bufferSize;
        this.batchSize = batchSize;
        this.flushIntervalNanos = flushIntervalNanos;
        this.clock = clock;
        EventRing ring = new EventRing(bufferSize);
        this.capacity = new Capacity(bufferSize, lifecycle);
        this.delivery = new Delivery(ring, capacity, lifecycle, clock, batchSize, flushIntervalNanos, retryPolicy);
        this.ingest = new Ingest(ring, capacity, clock, delivery);
    }

    public int bufferSize() {
        return bufferSize;
    }

    public int batchSize() {
        return batchSize;
    }

    public long flushIntervalNanos() {
        return flushIntervalNanos;
    }

    public Clock clock() {
        return clock;
    }

    public RetryPolicy retryPolicy() {
        return delivery.retryPolicy();
    }

    public void setRetryPolicy(RetryPolicy policy) {
        if (policy == null) {
            throw new NullPointerException("retry policy");
        }
        delivery.setRetryPolicy(policy);
    }

    /** The lifecycle state (OPEN, then DRAINING after {@link #close}, STOPPED after
     *  {@link #shutdown}); a volatile read. */
    public Lifecycle.State lifecycle() {
        return lifecycle.state();
    }

    // ================================================================ ingest

    /** {@link #offer(String[], String[], String[], long[], int, int, long, long)} at the clock's now. */
    public int offer(String[] types, String[] users, String[] channels, long[] timestamps, int from, int n) {
        return offer(types, users, channels, timestamps, from, n, clock.epochSeconds(), 0L);
    }

    /**
     * Accepts the longest prefix of the {@code n} events at {@code from} that capacity allows,
     * and counts the rest as dropped. Accepted events are in the statistics on return.
     *
     * @param nowSeconds the caller's wall clock (epoch seconds) for the unique-users window
     * @param ageNanos how long ago the oldest of these events was pushed (they may have waited
     *     in a front end's staging area); their batching deadline counts from then
     * @return the number accepted
     */
    public int offer(String[] types, String[] users, String[] channels, long[] timestamps,
                     int from, int n, long nowSeconds, long ageNanos) {
        return ingest.offer(types, users, channels, timestamps, from, n, nowSeconds, ageNanos);
    }

    /**
     * Reserves capacity for {@code n} events: all of them or none ({@code all}), else the
     * longest prefix that fits; the rest count as dropped. The caller must then publish exactly
     * the reserved number with {@link #publishReserved}, in reservation order.
     *
     * @return the number reserved
     * @throws IllegalStateException with {@code all}, when fewer than {@code n} fit (a front end
     *     that exceeded the credit it was given: a bug, never a silent drop)
     */
    public int reserve(int n, boolean all) {
        return capacity.reserve(n, all);
    }

    /**
     * Records reserved events in the statistics and publishes them for delivery.
     *
     * @param arrivalNanos when (by the clock) the oldest of them was pushed: their batch is due
     *     {@code flushInterval} after it
     */
    public void publishReserved(String[] types, String[] users, String[] channels, long[] timestamps,
                                int from, int n, long nowSeconds, long arrivalNanos) {
        ingest.publishReserved(types, users, channels, timestamps, from, n, nowSeconds, arrivalNanos);
    }

    /** Events published for delivery so far (the ring's tail); {@code <= acceptedCount()}. */
    public long publishedCount() {
        return ingest.published();
    }

    /** Events that could be accepted right now (a lower bound: it only grows until the next offer). */
    public long freeCapacity() {
        return capacity.free();
    }

    /** Adds drops that happened in a front end (events refused before reaching {@link #offer}). */
    public void recordDropped(long n) {
        capacity.recordDropped(n);
    }

    // ================================================================ statistics

    /** Distinct users with an event stamped after {@code nowSeconds - 3600}. */
    public int uniqueUsersLastHour(long nowSeconds) {
        return ingest.uniqueUsersLastHour(nowSeconds);
    }

    public int uniqueUsersLastHour() {
        return uniqueUsersLastHour(clock.epochSeconds());
    }

    /** Users the window holds in memory (for tests and monitoring). */
    public int trackedUsers() {
        return ingest.trackedUsers();
    }

    /** The k channels with the most accepted events, count descending, ties by channel id. */
    public List<ChannelCount> topChannels(int k) {
        return ingest.topChannels(k);
    }

    public long acceptedCount() {
        return capacity.accepted();
    }

    public long droppedCount() {
        return capacity.dropped();
    }

    /** Events whose callback returned successfully. */
    public long deliveredCount() {
        return delivery.delivered();
    }

    public long deadLetterEventCount() {
        return delivery.deadLetterEvents();
    }

    /** Accepted events neither delivered nor dead-lettered (queued, batched, in a callback, or
     *  waiting for a retry). */
    public long pendingCount() {
        return delivery.pending();
    }

    // ================================================================ delivery

    /** Lets consumers hand out batches (true) or keeps events waiting (false). */
    public void setDeliveryEnabled(boolean enabled) {
        delivery.setEnabled(enabled);
    }

    public boolean deliveryEnabled() {
        return delivery.enabled();
    }

    /** A batch that is ready now by the clock, or null. Never blocks. */
    public Batch pollBatch() {
        return delivery.pollBatch();
    }

    /**
     * Waits up to {@code timeout} for a ready batch.
     *
     * @return the batch, or null on timeout, or null once the processor is finished (shut down,
     *     or closed with every event settled; see {@link #isFinished()})
     */
    public Batch nextBatch(long timeout, TimeUnit unit) throws InterruptedException {
        return delivery.nextBatch(timeout, unit);
    }

    /** Wakes every waiting consumer so it re-reads the clock (after a manual clock moved). */
    public void wakeConsumers() {
        delivery.wakeConsumers();
    }

    /** True once consumers will never get another batch: shut down, or closed and all settled. */
    public boolean isFinished() {
        return delivery.isFinished();
    }

    /** The callback for this batch returned: its events are delivered and their capacity freed. */
    public void complete(long batchId) {
        delivery.complete(batchId);
    }

    /** The callback for this batch failed: retry after a back-off, or dead-letter it. */
    public void fail(long batchId, String error) {
        delivery.fail(batchId, error);
    }

    /** Gives a batch back untried (the consumer could not run it, e.g. no callback was set);
     *  it is handed out again first, and this does not count as a failure. */
    public void release(long batchId) {
        delivery.release(batchId);
    }

    /**
     * Waits until every event with a sequence below {@code target} is settled, asking consumers
     * to send partial batches for them at once.
     *
     * @param timeout negative: no limit
     * @return the number of events in the dead-letter list when done (0: all delivered), or -1
     *     if the timeout expired first
     * @throws IllegalStateException if delivery is disabled (no callback) or the processor was
     *     shut down while events below the target are unsettled: they cannot settle
     */
    public long awaitSettled(long target, long timeout, TimeUnit unit) throws InterruptedException {
        return delivery.awaitSettled(target, timeout, unit);
    }

    /** {@link #awaitSettled} for everything accepted before this call. */
    public long flush(long timeout, TimeUnit unit) throws InterruptedException {
        return awaitSettled(capacity.accepted(), timeout, unit);
    }

    // ================================================================ dead letters

    /** A dead-lettered batch as it was when read. */
    public record FailedBatch(Batch batch, int failures, String lastError) {}

    public List<FailedBatch> deadLetters() {
        return delivery.deadLetters();
    }

    /** Queues every dead-lettered batch for delivery again (with a fresh retry budget).
     *  @return the number of events re-queued */
    public long redriveDeadLetters() {
        return delivery.redriveDeadLetters();
    }

    /** Drops every dead-lettered batch, freeing its capacity. @return events discarded */
    public long discardDeadLetters() {
        return delivery.discardDeadLetters();
    }

    // ================================================================ lifecycle

    /** OPEN -&gt; DRAINING: stops accepting (later offers count as dropped); consumers send
     *  partial batches at once and finish when everything accepted is settled. Idempotent. */
    public void close() {
        capacity.closeAcceptance(); // under the reserve lock: the accepted count is final after it
        delivery.lifecycleChanged(false); // wake consumers and flush waiters to re-plan
    }

    /** No longer OPEN (closed or shut down). */
    public boolean isClosed() {
        return !lifecycle.isOpen();
    }

    /** -&gt; STOPPED (through DRAINING): stops handing out batches now (after {@link #close}, or to
     *  give up waiting): waiting consumers return null; in-flight batches may still report back.
     *  Idempotent. */
    public void shutdown() {
        close();
        delivery.lifecycleChanged(true);
    }
}

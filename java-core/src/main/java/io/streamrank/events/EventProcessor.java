package io.streamrank.events;

import io.streamrank.ring.EventRing;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.PriorityQueue;
import java.util.TreeMap;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.locks.Condition;
import java.util.concurrent.locks.ReentrantLock;

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
 * <p><b>Locks.</b> The <em>reserve lock</em> guards reservations and close (held for a few
 * instructions); the <em>ingest lock</em> serialises publishers (so the ring sees one producer)
 * and guards the statistics; the <em>delivery lock</em> serialises consumers (so the ring sees
 * one consumer) and guards all delivery state. The ingest lock is held across a reservation in
 * {@link #offer} (order: ingest, then reserve); the delivery lock is never held with either
 * (nobody waits for it while holding another lock).
 * Producers and consumers meet only through the ring's sequence counters and the volatile
 * counters below, so a slow callback never blocks an offer.
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
    private final EventRing ring;
    private volatile RetryPolicy retryPolicy;

    // ---------------------------------------------------------------- ingest side
    /**
     * Serialises reservations and close, so no event is accepted after close and reservation
     * order is well defined. Reservations are short (a compare and an add): a front end
     * reserves while another thread publishes under the ingest lock.
     */
    private final ReentrantLock reserveLock = new ReentrantLock();
    /** Events accepted so far: capacity is reserved for them and they will be published.
     *  Written only under reserveLock; volatile so counters are read without a lock. */
    private volatile long accepted;
    /** Events refused (capacity, or after close), plus drops reported by a front end
     *  ({@link #recordDropped}). */
    private final AtomicLong dropped = new AtomicLong();
    /** Guarded by reserveLock: set by {@link #close}; nothing is accepted afterwards. */
    private boolean acceptClosed;

    /**
     * Serialises publishers (so the ring sees one producer) and guards the statistics.
     * Invariant: events are published in reservation order (callers reserve and publish under
     * one ordering: {@link #offer} holds this lock across both, a front end that reserves
     * ahead publishes from a FIFO), so sequence numbers follow acceptance and a flush target
     * taken from {@link #acceptedCount()} covers exactly the events accepted before it.
     */
    private final ReentrantLock ingestLock = new ReentrantLock();
    /** Guarded by ingestLock. */
    private final UniqueUsersWindow uniqueUsers = new UniqueUsersWindow();
    /** Guarded by ingestLock. */
    private final ChannelCounts channelCounts = new ChannelCounts();

    // ---------------------------------------------------------------- delivery side
    private final ReentrantLock deliveryLock = new ReentrantLock();
    /** Consumers wait here for a batch to become ready. */
    private final Condition workReady = deliveryLock.newCondition();
    /** Flush waiters wait here for events to settle. */
    private final Condition settledChanged = deliveryLock.newCondition();
    /**
     * Consumers currently inside {@link #nextBatch} (incremented before they look at the ring).
     * Written under deliveryLock; read by producers without it. Volatile, and paired with the
     * ring's volatile tail store: a producer stores tail then loads this, a consumer stores this
     * then loads tail, so either the consumer sees the new events or the producer sees the
     * consumer and signals it (it must take deliveryLock to signal, which the consumer holds
     * until it parks) - no lost wake-up.
     */
    private volatile int consumersWaiting;
    /** Events released (delivered, or discarded from the dead-letter list): capacity returns.
     *  Written under deliveryLock; read by producers (acquire) when they compute free space. */
    private final AtomicLong released = new AtomicLong();
    /** Events whose callback returned successfully. Written under deliveryLock. */
    private volatile long delivered;
    /** Events currently in the dead-letter list. Written under deliveryLock. */
    private volatile long deadLetterEvents;
    /** Guarded by deliveryLock: batches handed to a consumer and not yet reported back. */
    private final Map<Long, Batch> inFlight = new HashMap<>();
    /** Guarded by deliveryLock: failed (or given back) batches waiting for their due time. */
    private final PriorityQueue<Batch> retries = new PriorityQueue<>(
            Comparator.comparingLong((Batch b) -> b.dueNanos).thenComparingLong(Batch::firstSeq));
    /** Guarded by deliveryLock: every batch taken out of the ring and not yet settled (in flight
     *  or waiting for a retry), by first sequence. With the ring's head this gives the lowest
     *  unsettled sequence, which flush waiters compare with their target. */
    private final TreeMap<Long, Batch> unsettled = new TreeMap<>();
    /** Guarded by deliveryLock: dead-lettered batches, oldest first. */
    private final List<Batch> deadLetters = new ArrayList<>();
    /** Guarded by deliveryLock: events below this sequence are delivered without waiting for a
     *  full batch or the interval (a flush asked for them). */
    private long flushTarget;
    /** Guarded by deliveryLock: consumers hand out batches only when true (a front end clears it
     *  while no callback is set; events are then kept). */
    private boolean deliveryEnabled = true;
    /** Guarded by deliveryLock: set by close(); partial batches go out at once. */
    private boolean closing;
    /** Guarded by deliveryLock: set by shutdown(); consumers stop handing out anything. */
    private boolean stopped;
    /** Guarded by deliveryLock. */
    private long nextBatchId = 1;
    /** Guarded by deliveryLock: threads inside awaitSettled. */
    private int flushWaiters;

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
        this.retryPolicy = retryPolicy;
        this.clock = clock;
        this.ring = new EventRing(bufferSize);
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
        return retryPolicy;
    }

    public void setRetryPolicy(RetryPolicy policy) {
        if (policy == null) {
            throw new NullPointerException("retry policy");
        }
        retryPolicy = policy;
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
        checkColumns(types, users, channels, timestamps, from, n);
        int take;
        int sizeAfter = 0;
        ingestLock.lock(); // across reserve and publish: publication follows reservation order
        try {
            take = reserve(n, false);
            if (take > 0) {
                sizeAfter = publishLocked(types, users, channels, timestamps, from, take, nowSeconds,
                        clock.nanoTime() - Math.max(0L, ageNanos));
            }
        } finally {
            ingestLock.unlock();
        }
        if (take > 0) {
            nudgeConsumers(take, sizeAfter);
        }
        return take;
    }

    private static void checkColumns(String[] types, String[] users, String[] channels, long[] timestamps,
                                     int from, int n) {
        if (n < 0 || from < 0 || from + n > types.length || from + n > users.length
                || from + n > channels.length || from + n > timestamps.length) {
            throw new IllegalArgumentException("offer range [" + from + ", " + from + "+" + n + ") outside the columns");
        }
        for (int i = from; i < from + n; i++) {
            if (types[i] == null || users[i] == null || channels[i] == null) {
                throw new NullPointerException("event " + (i - from) + " has a null field");
            }
        }
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
        if (n < 0) {
            throw new IllegalArgumentException("cannot reserve " + n + " events");
        }
        reserveLock.lock();
        try {
            if (acceptClosed) {
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
            accepted += take;
            if (take < n) {
                dropped.addAndGet(n - take);
            }
            return take;
        } finally {
            reserveLock.unlock();
        }
    }

    /**
     * Records reserved events in the statistics and publishes them for delivery.
     *
     * @param arrivalNanos when (by the clock) the oldest of them was pushed: their batch is due
     *     {@code flushInterval} after it
     */
    public void publishReserved(String[] types, String[] users, String[] channels, long[] timestamps,
                                int from, int n, long nowSeconds, long arrivalNanos) {
        checkColumns(types, users, channels, timestamps, from, n);
        if (n == 0) {
            return;
        }
        int sizeAfter;
        ingestLock.lock();
        try {
            sizeAfter = publishLocked(types, users, channels, timestamps, from, n, nowSeconds, arrivalNanos);
        } finally {
            ingestLock.unlock();
        }
        nudgeConsumers(n, sizeAfter);
    }

    /** Under ingestLock: statistics, then the ring. Returns the ring's size after publishing. */
    private int publishLocked(String[] types, String[] users, String[] channels, long[] timestamps,
                              int from, int n, long nowSeconds, long arrivalNanos) {
        long tail = ring.tail();
        if (tail + n > accepted) {
            throw new IllegalStateException("publishing " + n + " events, only " + (accepted - tail)
                    + " are reserved");
        }
        if (nowSeconds >= 0) { // negative: the front end's clock failed; the window stays put
            uniqueUsers.advanceTo(nowSeconds);
        }
        for (int i = from; i < from + n; i++) {
            uniqueUsers.record(users[i], timestamps[i]);
            channelCounts.record(channels[i]);
        }
        ring.publish(types, users, channels, timestamps, from, n, arrivalNanos);
        return ring.size();
    }

    /**
     * After publishing {@code n} events (no lock held). A waiting consumer needs a nudge only
     * when its plan changed: the ring holds nothing but these events (a consumer may have seen
     * it empty and be waiting without a deadline), or a full batch became ready. sizeAfter was
     * read after the publish (exact then; consumers may drain concurrently, which only makes it
     * smaller), so "nothing older left" is never missed.
     */
    private void nudgeConsumers(int n, int sizeAfter) {
        if (consumersWaiting > 0 && (sizeAfter <= n || (sizeAfter >= batchSize && sizeAfter - n < batchSize))) {
            deliveryLock.lock();
            try {
                workReady.signal();
            } finally {
                deliveryLock.unlock();
            }
        }
    }

    /** Events published for delivery so far (the ring's tail); {@code <= acceptedCount()}. */
    public long publishedCount() {
        return ring.tail();
    }

    /** Events that could be accepted right now (a lower bound: it only grows until the next offer). */
    public long freeCapacity() {
        return Math.max(0, bufferSize - (accepted - released.getAcquire()));
    }

    /** Adds drops that happened in a front end (events refused before reaching {@link #offer}). */
    public void recordDropped(long n) {
        if (n < 0) {
            throw new IllegalArgumentException("dropped count must be >= 0, got " + n);
        }
        dropped.addAndGet(n);
    }

    // ================================================================ statistics

    /** Distinct users with an event stamped after {@code nowSeconds - 3600}. */
    public int uniqueUsersLastHour(long nowSeconds) {
        ingestLock.lock();
        try {
            return uniqueUsers.count(nowSeconds);
        } finally {
            ingestLock.unlock();
        }
    }

    public int uniqueUsersLastHour() {
        return uniqueUsersLastHour(clock.epochSeconds());
    }

    /** Users the window holds in memory (for tests and monitoring). */
    public int trackedUsers() {
        ingestLock.lock();
        try {
            return uniqueUsers.trackedUsers();
        } finally {
            ingestLock.unlock();
        }
    }

    /** The k channels with the most accepted events, count descending, ties by channel id. */
    public List<ChannelCount> topChannels(int k) {
        ingestLock.lock();
        try {
            return channelCounts.top(k);
        } finally {
            ingestLock.unlock();
        }
    }

    public long acceptedCount() {
        return accepted;
    }

    public long droppedCount() {
        return dropped.get();
    }

    /** Events whose callback returned successfully. */
    public long deliveredCount() {
        return delivered;
    }

    public long deadLetterEventCount() {
        return deadLetterEvents;
    }

    /** Accepted events neither delivered nor dead-lettered (queued, batched, in a callback, or
     *  waiting for a retry). */
    public long pendingCount() {
        deliveryLock.lock();
        try {
            return accepted - released.get() - deadLetterEvents;
        } finally {
            deliveryLock.unlock();
        }
    }

    // ================================================================ delivery

    /** Lets consumers hand out batches (true) or keeps events waiting (false). */
    public void setDeliveryEnabled(boolean enabled) {
        deliveryLock.lock();
        try {
            deliveryEnabled = enabled;
            workReady.signalAll();
            settledChanged.signalAll();
        } finally {
            deliveryLock.unlock();
        }
    }

    public boolean deliveryEnabled() {
        deliveryLock.lock();
        try {
            return deliveryEnabled;
        } finally {
            deliveryLock.unlock();
        }
    }

    /** A batch that is ready now by the clock, or null. Never blocks. */
    public Batch pollBatch() {
        deliveryLock.lock();
        try {
            return takeReadyLocked(clock.nanoTime());
        } finally {
            deliveryLock.unlock();
        }
    }

    /**
     * Waits up to {@code timeout} for a ready batch.
     *
     * @return the batch, or null on timeout, or null once the processor is finished (shut down,
     *     or closed with every event settled; see {@link #isFinished()})
     */
    public Batch nextBatch(long timeout, TimeUnit unit) throws InterruptedException {
        long timeoutNanos = unit.toNanos(timeout);
        long start = System.nanoTime();
        deliveryLock.lock();
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
                    if (deliveryEnabled && !stopped) {
                        if (ring.available() > 0) {
                            wait = Math.min(wait, ring.oldestArrivalNanos() + flushIntervalNanos - now);
                        }
                        Batch r = retries.peek();
                        if (r != null) {
                            wait = Math.min(wait, r.dueNanos - now);
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
            deliveryLock.unlock();
        }
    }

    /** Wakes every waiting consumer so it re-reads the clock (after a manual clock moved). */
    public void wakeConsumers() {
        deliveryLock.lock();
        try {
            workReady.signalAll();
        } finally {
            deliveryLock.unlock();
        }
    }

    private Batch takeReadyLocked(long now) {
        if (stopped || !deliveryEnabled) {
            return null;
        }
        Batch r = retries.peek();
        if (r != null && r.dueNanos - now <= 0) {
            retries.poll();
            inFlight.put(r.id(), r);
            return r;
        }
        int avail = ring.available();
        if (avail == 0) {
            return null;
        }
        long head = ring.head();
        boolean ready = avail >= batchSize
                || closing
                || head < flushTarget
                || now - ring.oldestArrivalNanos() >= flushIntervalNanos;
        if (!ready) {
            return null;
        }
        int n = Math.min(avail, batchSize);
        String[] types = new String[n];
        String[] users = new String[n];
        String[] channels = new String[n];
        long[] timestamps = new long[n];
        int got = ring.drainTo(types, users, channels, timestamps, 0, n);
        if (got != n) {
            throw new IllegalStateException("ring drained " + got + " of " + n + " available events");
        }
        Batch b = new Batch(nextBatchId++, head, types, users, channels, timestamps);
        inFlight.put(b.id(), b);
        unsettled.put(b.firstSeq(), b);
        return b;
    }

    private boolean hasReadyWorkLocked(long now) {
        if (stopped || !deliveryEnabled) {
            return false;
        }
        Batch r = retries.peek();
        if (r != null && r.dueNanos - now <= 0) {
            return true;
        }
        int avail = ring.available();
        return avail > 0 && (avail >= batchSize || closing || ring.head() < flushTarget
                || now - ring.oldestArrivalNanos() >= flushIntervalNanos);
    }

    private boolean finishedLocked() {
        return stopped || (closing && ring.tail() == accepted && ring.available() == 0 && unsettled.isEmpty());
    }

    /** True once consumers will never get another batch: shut down, or closed and all settled. */
    public boolean isFinished() {
        deliveryLock.lock();
        try {
            return finishedLocked();
        } finally {
            deliveryLock.unlock();
        }
    }

    private Batch removeInFlight(long batchId) {
        Batch b = inFlight.remove(batchId);
        if (b == null) {
            throw new IllegalArgumentException("batch " + batchId + " is not in flight");
        }
        return b;
    }

    /** The callback for this batch returned: its events are delivered and their capacity freed. */
    public void complete(long batchId) {
        deliveryLock.lock();
        try {
            Batch b = removeInFlight(batchId);
            unsettled.remove(b.firstSeq());
            delivered += b.size();
            released.addAndGet(b.size());
            onSettledLocked();
        } finally {
            deliveryLock.unlock();
        }
    }

    /** The callback for this batch failed: retry after a back-off, or dead-letter it. */
    public void fail(long batchId, String error) {
        deliveryLock.lock();
        try {
            Batch b = removeInFlight(batchId);
            b.failures++;
            b.lastError = error;
            RetryPolicy policy = retryPolicy;
            if (b.failures > policy.maxRetries()) {
                unsettled.remove(b.firstSeq());
                deadLetters.add(b);
                deadLetterEvents += b.size();
                onSettledLocked();
            } else {
                b.dueNanos = clock.nanoTime() + policy.backoffNanos(b.failures);
                retries.add(b);
                workReady.signal(); // some consumer must re-plan its wait around the due time
            }
        } finally {
            deliveryLock.unlock();
        }
    }

    /** Gives a batch back untried (the consumer could not run it, e.g. no callback was set);
     *  it is handed out again first, and this does not count as a failure. */
    public void release(long batchId) {
        deliveryLock.lock();
        try {
            Batch b = removeInFlight(batchId);
            b.dueNanos = clock.nanoTime();
            retries.add(b);
            workReady.signal();
        } finally {
            deliveryLock.unlock();
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

    /** The lowest sequence not yet settled (= accepted count when everything is settled). */
    private long lowestUnsettledLocked() {
        long low = ring.head();
        if (!unsettled.isEmpty()) {
            low = Math.min(low, unsettled.firstKey());
        }
        return low;
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
        long timeoutNanos = timeout < 0 ? Long.MAX_VALUE : unit.toNanos(timeout);
        long start = System.nanoTime();
        deliveryLock.lock();
        try {
            flushWaiters++;
            try {
                if (target > flushTarget) {
                    flushTarget = target;
                    workReady.signalAll();
                }
                while (lowestUnsettledLocked() < target) {
                    if (stopped) {
                        throw new IllegalStateException("the event processor is shut down; "
                                + (target - lowestUnsettledLocked()) + "+ events were not delivered");
                    }
                    if (!deliveryEnabled) {
                        throw new IllegalStateException("no flush callback is set: "
                                + (accepted - released.get() - deadLetterEvents) + " events are waiting for one");
                    }
                    long left = timeoutNanos - (System.nanoTime() - start);
                    if (left <= 0) {
                        return -1;
                    }
                    settledChanged.awaitNanos(left);
                }
                return deadLetterEvents;
            } finally {
                flushWaiters--;
            }
        } finally {
            deliveryLock.unlock();
        }
    }

    /** {@link #awaitSettled} for everything accepted before this call. */
    public long flush(long timeout, TimeUnit unit) throws InterruptedException {
        return awaitSettled(accepted, timeout, unit);
    }

    // ================================================================ dead letters

    /** A dead-lettered batch as it was when read. */
    public record FailedBatch(Batch batch, int failures, String lastError) {}

    public List<FailedBatch> deadLetters() {
        deliveryLock.lock();
        try {
            List<FailedBatch> out = new ArrayList<>(deadLetters.size());
            for (Batch b : deadLetters) {
                out.add(new FailedBatch(b, b.failures, b.lastError));
            }
            return out;
        } finally {
            deliveryLock.unlock();
        }
    }

    /** Queues every dead-lettered batch for delivery again (with a fresh retry budget).
     *  @return the number of events re-queued */
    public long redriveDeadLetters() {
        deliveryLock.lock();
        try {
            long events = 0;
            long now = clock.nanoTime();
            for (Batch b : deadLetters) {
                b.failures = 0;
                b.dueNanos = now;
                retries.add(b);
                unsettled.put(b.firstSeq(), b);
                events += b.size();
            }
            deadLetters.clear();
            deadLetterEvents = 0;
            workReady.signalAll();
            if (flushWaiters > 0) {
                settledChanged.signalAll();
            }
            return events;
        } finally {
            deliveryLock.unlock();
        }
    }

    /** Drops every dead-lettered batch, freeing its capacity. @return events discarded */
    public long discardDeadLetters() {
        deliveryLock.lock();
        try {
            long events = deadLetterEvents;
            deadLetters.clear();
            deadLetterEvents = 0;
            released.addAndGet(events);
            if (flushWaiters > 0) {
                settledChanged.signalAll();
            }
            return events;
        } finally {
            deliveryLock.unlock();
        }
    }

    // ================================================================ lifecycle

    /** Stops accepting (later offers count as dropped); consumers send partial batches at once
     *  and finish when everything accepted is settled. Idempotent. */
    public void close() {
        reserveLock.lock();
        try {
            acceptClosed = true;
        } finally {
            reserveLock.unlock();
        }
        deliveryLock.lock();
        try {
            closing = true;
            workReady.signalAll();
            settledChanged.signalAll();
        } finally {
            deliveryLock.unlock();
        }
    }

    public boolean isClosed() {
        reserveLock.lock();
        try {
            return acceptClosed;
        } finally {
            reserveLock.unlock();
        }
    }

    /** Stops handing out batches now (after {@link #close}, or to give up waiting): waiting
     *  consumers return null; in-flight batches may still report back. Idempotent. */
    public void shutdown() {
        close();
        deliveryLock.lock();
        try {
            stopped = true;
            workReady.signalAll();
            settledChanged.signalAll();
        } finally {
            deliveryLock.unlock();
        }
    }
}

package io.streamrank.events;

import io.streamrank.bridge.PackedReader;
import io.streamrank.bridge.PackedWriter;
import io.streamrank.bridge.StageCursor;
import io.streamrank.bridge.StringCache;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.Arrays;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.locks.LockSupport;
import org.jctools.queues.SpscUnboundedArrayQueue;

/**
 * The {@link EventProcessor} as the Python facade ({@code cpp_event_processor}) sees it: every
 * method is one JPype crossing and moves many values through the packed wire format
 * ({@code streamrank._wire}).
 *
 * <p><b>Stage packets.</b> Python stages pushed events and hands them over in bulk. Methods that
 * take {@code (ByteBuffer stage, int length)} first take the packet in {@code stage} when
 * {@code length > 0}. Packet layout (native byte order):
 * <pre>
 *   int64  credit      written BY JAVA on return: the free capacity after taking the packet
 *   int64  generation  the Python stage the events come from (0, 1, ...; never decreases)
 *   int32  start       position of the packet's first event in its generation
 *   int32  n           positions in the packet
 *   int64  dropped     pushes Python refused since the processor started (a running total)
 *   int64  now         Python's clock, epoch seconds (for the unique-users window); -1 when it
 *                      failed (the window does not move)
 *   int32  flags       {@link #MAY_HOLD_PLACEHOLDERS}
 *   int32  (zero)
 *   strings (3n)       the n types, then the n user ids, then the n channel ids
 *   int64 x n          timestamps; {@link #PLACEHOLDER} marks a position that holds no event
 * </pre>
 *
 * <p><b>Idempotent hand-off.</b> Python's side can be interrupted at any bytecode (a signal
 * handler raising, Ctrl-C) after Java took a packet and before it recorded that. So it never
 * needs to know: a packet names the positions it covers, and this port takes only positions it
 * has not taken yet ({@link StageCursor}). Sending a packet again, or one that overlaps the
 * last, is harmless; the running drop total is applied as the difference from the last total
 * seen.
 * Python stages only within the credit of the previous reply, so every event it accepted is
 * accepted here; a packet beyond the capacity is a bug too, never a silent loss.
 *
 * <p><b>Asynchronous ingestion.</b> Taking a packet is cheap for the calling (Python) thread:
 * it reserves capacity for its events (from then on they are accepted and counted), copies the
 * packet's body and queues it. The port's ingest thread decodes queued packets, in order, and
 * publishes them (statistics, ring). So the pushing thread pays a copy per packet, not the
 * decoding and bookkeeping per event, which run on another core. A small packet (a query's or
 * a straggler's) is ingested on the calling thread instead: cheaper than a thread wake-up. Every method that reads the
 * statistics, and flush and close, first ingests whatever is queued on the calling thread
 * ("helping": the same lock, the same FIFO order), so a query in the same call still sees every
 * event pushed before it (read-your-writes in one crossing).
 *
 * <p><b>Batches</b> ({@link #nextBatch}) are returned as: int64 batch id, int32 failures so far,
 * int32 n, strings (3n: type, user_id, channel_id of event 0, then of event 1, ...), int64 x n
 * timestamps.
 */
public final class PackedEventPort {
    public static final int HEADER_BYTES = 48;
    /** Header flag: some positions may hold {@link #PLACEHOLDER} timestamps (Python fills the
     *  rest of a stage with them when it closes, so a late push into it fails). */
    public static final int MAY_HOLD_PLACEHOLDERS = 1;
    /** The timestamp of a position that holds no event. */
    public static final long PLACEHOLDER = -1L;
    /** Packets this small are ingested on the calling thread: waking the ingest thread (a
     *  futex wake and a context switch) would cost more than decoding them. */
    static final int INLINE_EVENTS = 64;
    /** Empty polls (half a second at the longest poll) before the ingest thread parks until
     *  woken. */
    static final int DEEP_IDLE_POLLS = 100;
    private static final AtomicInteger THREADS = new AtomicInteger();

    private final EventProcessor processor;

    /** A packet whose events are reserved and not yet published. Immutable. */
    /** A packet whose events are reserved and not yet published: positions {@code [skip, n)} of
     *  {@code body} are new (the rest were taken before); placeholders among them are dropped at
     *  publication. Immutable. */
    private record Packet(byte[] body, int n, int skip, boolean placeholders, long nowSeconds, long arrivalNanos) {}

    /** Reserved packets in reservation order. Producers: callers of the stage methods (one at
     *  a time in practice: Python serialises hand-offs; the reservation and the add happen
     *  under {@code enqueueLock} so the queue order is the reservation order). Consumers: the
     *  ingest thread and helping callers, one at a time under {@code ingestMonitor}.
     *  So at any moment there is one producer and one consumer, and the two locks hand each
     *  role between threads with a happens-before edge: exactly the contract of JCTools' SPSC
     *  queue (a release-store of the element, an acquire-load on poll; no CAS on either side).
     *  {@code isEmpty} from the ingest thread outside the monitor is a racy hint, re-checked. */
    private final SpscUnboundedArrayQueue<Packet> pending = new SpscUnboundedArrayQueue<>(64);
    private final Object enqueueLock = new Object();
    /** Guarded by enqueueLock: which stage positions were taken (the idempotent hand-off). */
    private final StageCursor cursor = new StageCursor();
    /** Guarded by enqueueLock: the last running drop total Python reported. */
    private long pythonDropped;
    /** Held while decoding and publishing: keeps publication in queue order. */
    private final Object ingestMonitor = new Object();
    /** Guarded by ingestMonitor: recently decoded event types and channel ids (few distinct
     *  values: they decode without an allocation, their hash codes already computed). */
    private final StringCache strings = new StringCache(8192);
    private final Thread ingester;
    /** How long the active ingest thread sleeps between looks at the queue. */
    private final long pollNanos;
    /** The ingest thread is about to park until woken, or parked. Volatile, paired with the
     *  queue: a producer adds (volatile) then reads this; the ingester writes this then
     *  re-checks the queue, so a packet never waits for a wake-up that nobody sends. */
    private volatile boolean ingesterIdle;
    /** A packet the ingest thread could not decode (a bug); reported by the next call. */
    private volatile RuntimeException ingestFailure;

    public PackedEventPort(int bufferSize, int batchSize, long flushIntervalMillis,
                           int maxRetries, long retryBackoffMillis, long maxRetryBackoffMillis) {
        this(new EventProcessor(bufferSize, batchSize, TimeUnit.MILLISECONDS.toNanos(flushIntervalMillis),
                new RetryPolicy(maxRetries, TimeUnit.MILLISECONDS.toNanos(retryBackoffMillis),
                        TimeUnit.MILLISECONDS.toNanos(maxRetryBackoffMillis)),
                Clock.SYSTEM));
    }

    public PackedEventPort(EventProcessor processor) {
        this.processor = processor;
        this.pollNanos = Math.max(100_000L, Math.min(5_000_000L, processor.flushIntervalNanos() / 8));
        this.ingester = new Thread(this::ingestLoop, "streamrank-ingest-" + THREADS.incrementAndGet());
        this.ingester.setDaemon(true);
        this.ingester.start();
    }

    public EventProcessor processor() {
        return processor;
    }

    // ---------------------------------------------------------------- ingest

    /**
     * Reserves and queues the packet in {@code stage} (the caller's thread pays a copy). A large
     * packet wakes the ingest thread; a small one (at most {@link #INLINE_EVENTS} events) is
     * ingested right here, which is cheaper than waking a thread for it.
     */
    private void take(ByteBuffer stage, int length) {
        if (queue(stage, length)) {
            ingestPending();
        }
    }

    /** Reserves and queues the new positions of the packet; true when the caller should ingest
     *  it itself (a small packet). */
    private boolean queue(ByteBuffer stage, int length) {
        RuntimeException failure = ingestFailure;
        if (failure != null) {
            throw failure;
        }
        if (length <= 0) {
            return false;
        }
        ByteBuffer buf = stage.duplicate().order(ByteOrder.nativeOrder());
        if (length < HEADER_BYTES || length > buf.capacity()) {
            throw new IllegalArgumentException("bad stage packet length " + length);
        }
        long gen = buf.getLong(8);
        int start = buf.getInt(16);
        int n = buf.getInt(20);
        long droppedTotal = buf.getLong(24);
        long now = buf.getLong(32);
        boolean placeholders = (buf.getInt(40) & MAY_HOLD_PLACEHOLDERS) != 0;
        if (droppedTotal < 0) {
            throw new IllegalArgumentException("bad stage packet: dropped=" + droppedTotal);
        }
        boolean inline = false;
        synchronized (enqueueLock) {
            if (droppedTotal > pythonDropped) {
                processor.recordDropped(droppedTotal - pythonDropped);
                pythonDropped = droppedTotal;
            }
            if (n == 0) {
                return false;
            }
            int skip = cursor.skip(gen, start, n);
            if (skip >= n) {
                return false; // sent again after an interrupted hand-off: nothing new
            }
            byte[] body = new byte[length - HEADER_BYTES];
            buf.get(HEADER_BYTES, body);
            int events = placeholders ? countEvents(body, n, skip) : n - skip;
            processor.reserve(events, true); // all or nothing; beyond the credit is a bug
            cursor.advance(gen, start, n);
            if (events == 0) {
                return false;
            }
            pending.add(new Packet(body, n, skip, placeholders, now, processor.clock().nanoTime()));
            inline = events <= INLINE_EVENTS;
        }
        if (!inline && ingesterIdle) {
            LockSupport.unpark(ingester);
        }
        return inline;
    }

    /** Events (positions that are not placeholders) among positions {@code [skip, n)}. */
    private static int countEvents(byte[] body, int n, int skip) {
        PackedReader in = new PackedReader(ByteBuffer.wrap(body), body.length);
        in.readStrings();
        long[] timestamps = in.readLongs(n);
        int events = 0;
        for (int i = skip; i < n; i++) {
            if (timestamps[i] != PLACEHOLDER) {
                events++;
            }
        }
        return events;
    }

    /** Decodes and publishes every queued packet, in order (the ingest thread, or a helper). */
    private void ingestPending() {
        synchronized (ingestMonitor) {
            Packet p;
            while ((p = pending.poll()) != null) {
                try {
                    publish(p);
                } catch (RuntimeException e) {
                    ingestFailure = e;
                    throw e;
                }
            }
        }
        RuntimeException failure = ingestFailure;
        if (failure != null) {
            throw failure;
        }
    }

    /** Under ingestMonitor. */
    private void publish(Packet p) {
        int n = p.n();
        PackedReader in = new PackedReader(ByteBuffer.wrap(p.body()), p.body().length);
        // Types and channel ids repeat: cached. User ids are many: decoded plainly.
        String[] all = in.readStrings(strings, n, 2 * n);
        if (all.length != 3 * n) {
            throw new IllegalArgumentException("stage packet holds " + all.length + " strings for " + n + " events");
        }
        long[] timestamps = in.readLongs(n);
        int from = p.skip();
        int count = n - from;
        String[] types = Arrays.copyOfRange(all, from, n);
        String[] users = Arrays.copyOfRange(all, n + from, 2 * n);
        String[] channels = Arrays.copyOfRange(all, 2 * n + from, 3 * n);
        long[] stamps = Arrays.copyOfRange(timestamps, from, n);
        if (p.placeholders()) {
            int kept = 0;
            for (int i = 0; i < count; i++) {
                if (stamps[i] != PLACEHOLDER) {
                    types[kept] = types[i];
                    users[kept] = users[i];
                    channels[kept] = channels[i];
                    stamps[kept++] = stamps[i];
                }
            }
            count = kept;
        }
        processor.publishReserved(types, users, channels, stamps, 0, count, p.nowSeconds(), p.arrivalNanos());
    }

    /**
     * While packets keep coming the ingest thread polls the queue every {@code pollNanos} (an
     * eighth of the flush interval, between 0.1 and 5 ms: ingestion delays delivery by at most
     * that), so a hand-off never pays for waking it:
     * on a busy machine the woken thread can preempt the waker, which then waits for it. After
     * {@link #DEEP_IDLE_POLLS} empty polls it parks until a hand-off wakes it
     * ({@code ingesterIdle}). Queries, flush and close never wait for it: they ingest what is
     * queued themselves.
     */
    private void ingestLoop() {
        int emptyPolls = 0;
        while (processor.lifecycle() != Lifecycle.State.STOPPED) {
            if (pending.isEmpty()) {
                if (++emptyPolls < DEEP_IDLE_POLLS) {
                    LockSupport.parkNanos(this, pollNanos);
                    continue;
                }
                ingesterIdle = true;
                if (pending.isEmpty() && processor.lifecycle() != Lifecycle.State.STOPPED) {
                    LockSupport.park(this);
                }
                ingesterIdle = false;
                emptyPolls = 0;
                continue;
            }
            emptyPolls = 0;
            try {
                ingestPending();
            } catch (RuntimeException e) {
                return; // recorded in ingestFailure; the callers report it
            }
        }
    }

    /** Takes the packet and ingests everything queued on this thread (read-your-writes); the
     *  ingest thread is not woken for a packet this thread ingests itself. */
    private void ingest(ByteBuffer stage, int length) {
        queue(stage, length);
        ingestPending();
    }

    private void writeCredit(ByteBuffer stage, int length) {
        if (length >= 8) {
            stage.duplicate().order(ByteOrder.nativeOrder()).putLong(0, processor.freeCapacity());
        }
    }

    /** Takes a stage packet (a large one is ingested asynchronously); returns the new credit
     *  (also written into the packet). */
    public long handoff(ByteBuffer stage, int length) {
        take(stage, length);
        writeCredit(stage, length);
        return processor.freeCapacity();
    }

    // ---------------------------------------------------------------- queries (ingest first)

    public long uniqueUsersLastHour(ByteBuffer stage, int length, long nowSeconds) {
        ingest(stage, length);
        writeCredit(stage, length);
        return processor.uniqueUsersLastHour(nowSeconds);
    }

    /** int32 count, strings (channel ids), int64 x count (counts). */
    public byte[] topChannels(ByteBuffer stage, int length, int k) {
        ingest(stage, length);
        writeCredit(stage, length);
        List<ChannelCount> top = processor.topChannels(k);
        String[] ids = new String[top.size()];
        long[] counts = new long[top.size()];
        for (int i = 0; i < ids.length; i++) {
            ids[i] = top.get(i).channelId();
            counts[i] = top.get(i).count();
        }
        return new PackedWriter(64 + 32 * ids.length)
                .putInt(ids.length)
                .putStrings(ids, 0, ids.length)
                .putLongs(counts, 0, counts.length)
                .toByteArray();
    }

    public static final int ACCEPTED = 0;
    public static final int DROPPED = 1;
    public static final int PENDING = 2;
    public static final int DELIVERED = 3;
    public static final int DEAD_LETTER_EVENTS = 4;
    public static final int CREDIT = 5;

    /** One of the counters above, after taking the stage (the counters count accepted events,
     *  so they need no ingestion). */
    public long counter(ByteBuffer stage, int length, int which) {
        take(stage, length);
        writeCredit(stage, length);
        return switch (which) {
            case ACCEPTED -> processor.acceptedCount();
            case DROPPED -> processor.droppedCount();
            case PENDING -> processor.pendingCount();
            case DELIVERED -> processor.deliveredCount();
            case DEAD_LETTER_EVENTS -> processor.deadLetterEventCount();
            case CREDIT -> processor.freeCapacity();
            default -> throw new IllegalArgumentException("unknown counter " + which);
        };
    }

    // ---------------------------------------------------------------- delivery

    public void setDeliveryEnabled(boolean enabled) {
        processor.setDeliveryEnabled(enabled);
    }

    /** The next ready batch, packed; null on timeout or once finished ({@link #isFinished}). */
    public byte[] nextBatch(long timeoutMillis) throws InterruptedException {
        Batch b = processor.nextBatch(timeoutMillis, TimeUnit.MILLISECONDS);
        return b == null ? null : packBatch(b);
    }

    /** A handed-out batch in the layout {@link #nextBatch} returns. */
    public static byte[] packBatch(Batch b) {
        return pack(b, b.failures(), new PackedWriter(64 + 64 * b.size())).toByteArray();
    }

    public boolean isFinished() {
        return processor.isFinished();
    }

    static PackedWriter pack(Batch b, int failures, PackedWriter out) {
        int n = b.size();
        String[] strings = new String[3 * n];
        long[] timestamps = new long[n];
        for (int i = 0, j = 0; i < n; i++, j += 3) {
            strings[j] = b.type(i);
            strings[j + 1] = b.user(i);
            strings[j + 2] = b.channel(i);
            timestamps[i] = b.timestamp(i);
        }
        return out.putLong(b.id()).putInt(failures).putInt(n)
                .putStrings(strings, 0, strings.length)
                .putLongs(timestamps, 0, n);
    }

    public void complete(long batchId) {
        processor.complete(batchId);
    }

    public void fail(long batchId, String error) {
        processor.fail(batchId, error);
    }

    public void release(long batchId) {
        processor.release(batchId);
    }

    /** The accepted count after ingesting the stage: the target a flush waits for. */
    public long flushTarget(ByteBuffer stage, int length) {
        ingest(stage, length);
        writeCredit(stage, length);
        return processor.acceptedCount();
    }

    /** See {@link EventProcessor#awaitSettled}: dead-letter events when settled, -1 on timeout. */
    public long awaitSettled(long target, long timeoutMillis) throws InterruptedException {
        return processor.awaitSettled(target, timeoutMillis, TimeUnit.MILLISECONDS);
    }

    // ---------------------------------------------------------------- dead letters

    /** int32 batches, then per batch: as {@link #nextBatch}, followed by a strings section
     *  holding the last error. */
    public byte[] failedBatches() {
        List<EventProcessor.FailedBatch> failed = processor.deadLetters();
        PackedWriter out = new PackedWriter(256);
        out.putInt(failed.size());
        for (EventProcessor.FailedBatch f : failed) {
            pack(f.batch(), f.failures(), out)
                    .putStrings(new String[] {f.lastError() == null ? "" : f.lastError()}, 0, 1);
        }
        return out.toByteArray();
    }

    public long redriveFailed() {
        return processor.redriveDeadLetters();
    }

    public long discardFailed() {
        return processor.discardDeadLetters();
    }

    // ---------------------------------------------------------------- lifecycle

    /** Ingests the last stage packet, then stops accepting (see {@link EventProcessor#close}). */
    public long close(ByteBuffer stage, int length) {
        ingest(stage, length);
        processor.close();
        return processor.acceptedCount();
    }

    /** Stops delivery and the ingest thread (after ingesting what is queued). Idempotent. */
    public void shutdown() {
        try {
            if (ingestFailure == null) { // else already reported to a caller
                ingestPending();
            }
        } finally {
            processor.shutdown(); // -> STOPPED: also the ingest thread's exit condition
            LockSupport.unpark(ingester); // after the transition: a parked ingester re-checks it
        }
        // Wait (bounded) for it to end: it only re-checks the state, or finishes a decode. So a
        // closed processor has no thread left once close() returns, even on a loaded machine.
        if (Thread.currentThread() != ingester) {
            try {
                ingester.join(SHUTDOWN_JOIN_MILLIS);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        }
    }

    /** The longest {@link #shutdown} waits for the ingest thread to end. */
    static final long SHUTDOWN_JOIN_MILLIS = 1000;
}

package io.streamrank.ring;

import java.lang.invoke.MethodHandles;
import java.lang.invoke.VarHandle;

/**
 * A bounded single-producer / single-consumer ring of events stored column-wise (type, user id,
 * channel id, timestamp, arrival time), filled and drained in bulk.
 *
 * <p><b>Threading contract.</b> At most one thread produces ({@link #publish}) and at most one
 * thread consumes ({@link #drainTo}, {@link #oldestArrivalNanos}) at any instant; callers with
 * several producers or consumers serialise each side with their own lock (the event processor
 * does: producers hold its ingest lock, consumers its delivery lock). The two sides never take a
 * common lock: they meet only through {@link #tail} and {@link #head}.
 *
 * <p><b>Memory.</b> The slot arrays are split into segments of {@value #SEGMENT_SIZE} slots that
 * the producer allocates the first time it writes into them and that are then reused for the
 * life of the ring, so a large capacity costs memory only once it is actually used (peak queue
 * length, rounded up to a segment).
 *
 * <p><b>Memory ordering.</b>
 * <ul>
 *   <li>The producer writes the slots (and, the first time, the segment reference) with plain
 *       stores, then publishes {@code tail} with a volatile store. The consumer reads
 *       {@code tail} with a volatile load before reading any slot below it, so everything the
 *       producer wrote before publishing is visible (release/acquire would suffice for this
 *       edge; the store is volatile, i.e. sequentially consistent, because callers pair it with
 *       a "consumer waiting" flag in a Dekker-style handshake: producer stores tail then loads
 *       the flag, consumer stores the flag then loads tail; with two SC accesses on each side at
 *       least one of them sees the other, so no wake-up is lost).</li>
 *   <li>The consumer reads the slots, clears the reference slots (so drained events can be
 *       collected), then publishes {@code head} with a release store. The producer reads
 *       {@code head} with an acquire load before it reuses a slot, so the consumer's reads and
 *       clears of that slot happen-before the producer's new writes.</li>
 * </ul>
 *
 * <p><b>Invariants.</b> {@code 0 <= tail - head <= capacity}; {@code head} and {@code tail} only
 * grow (they are sequence numbers: the event published n-th has sequence n-1, forever); slot of
 * sequence s is {@code s & mask}.
 */
public final class EventRing {
    /** Slots per lazily allocated segment (a power of two). */
    public static final int SEGMENT_SIZE = 1024;
    private static final int SEGMENT_SHIFT = Integer.numberOfTrailingZeros(SEGMENT_SIZE);

    private static final VarHandle HEAD;
    private static final VarHandle TAIL;

    static {
        try {
            MethodHandles.Lookup lookup = MethodHandles.lookup();
            HEAD = lookup.findVarHandle(EventRing.class, "head", long.class);
            TAIL = lookup.findVarHandle(EventRing.class, "tail", long.class);
        } catch (ReflectiveOperationException e) {
            throw new ExceptionInInitializerError(e);
        }
    }

    /** One block of slots; its arrays are written by the producer and read by the consumer. */
    private static final class Segment {
        final String[] types;
        final String[] users;
        final String[] channels;
        final long[] timestamps;
        final long[] arrivals;

        Segment(int size) {
            types = new String[size];
            users = new String[size];
            channels = new String[size];
            timestamps = new long[size];
            arrivals = new long[size];
        }
    }

    private final int capacity;
    private final int mask;
    private final int segmentSize;
    private final int segmentShift;
    /** Lazily filled by the producer (plain stores, published by the tail store). */
    private final Segment[] segments;

    /** Next sequence the consumer will read. Written by the consumer only (release store);
     *  read by the producer with an acquire load. */
    @SuppressWarnings("unused") // accessed through HEAD
    private volatile long head;

    /** One past the last published sequence. Written by the producer only (volatile store, see
     *  the class comment for why not merely release); read by the consumer (volatile load). */
    @SuppressWarnings("unused") // accessed through TAIL
    private volatile long tail;

    /** Producer-local cache of {@code head}, refreshed only when the ring looks full, so the
     *  producer does not touch the consumer's cache line on every publish. Producer-owned. */
    private long headCache;

    /** @param minCapacity the number of events the ring must hold; rounded up to a power of two */
    public EventRing(int minCapacity) {
        if (minCapacity <= 0) {
            throw new IllegalArgumentException("ring capacity must be positive, got " + minCapacity);
        }
        if (minCapacity > (1 << 30)) {
            throw new IllegalArgumentException("ring capacity must be at most 2^30, got " + minCapacity);
        }
        capacity = minCapacity == 1 ? 1 : Integer.highestOneBit(minCapacity - 1) << 1;
        mask = capacity - 1;
        segmentSize = Math.min(capacity, SEGMENT_SIZE);
        segmentShift = capacity <= SEGMENT_SIZE ? 31 : SEGMENT_SHIFT;
        segments = new Segment[capacity / segmentSize];
    }

    public int capacity() {
        return capacity;
    }

    /** Events published and not yet drained, as seen by any thread (exact for either side). */
    public int size() {
        long h = (long) HEAD.getAcquire(this);
        long t = (long) TAIL.getVolatile(this);
        return (int) (t - h);
    }

    /** Sequence of the next event the consumer will drain (= events drained so far). */
    public long head() {
        return (long) HEAD.getAcquire(this);
    }

    /** One past the last published sequence (= events published so far). */
    public long tail() {
        return (long) TAIL.getVolatile(this);
    }

    // ------------------------------------------------------------------ producer side

    /** Free slots as the producer sees them (never more than the truth). Producer only. */
    public int freeForProducer() {
        long t = (long) TAIL.get(this); // producer owns tail: plain read of its own write
        int free = capacity - (int) (t - headCache);
        if (free <= 0) {
            headCache = (long) HEAD.getAcquire(this);
            free = capacity - (int) (t - headCache);
        }
        return free;
    }

    /**
     * Publishes {@code n} events from the given columns, starting at index {@code from}, all
     * stamped with {@code arrivalNanos}. Producer only.
     *
     * @return the sequence of the first published event
     * @throws IllegalStateException when fewer than {@code n} slots are free (callers bound
     *     their producers so this does not happen)
     */
    public long publish(String[] types, String[] users, String[] channels, long[] timestamps,
                        int from, int n, long arrivalNanos) {
        long t = (long) TAIL.get(this);
        if (n > capacity - (int) (t - headCache)) {
            headCache = (long) HEAD.getAcquire(this);
            if (n > capacity - (int) (t - headCache)) {
                throw new IllegalStateException("ring full: " + n + " events offered, "
                        + (capacity - (t - headCache)) + " slots free");
            }
        }
        int done = 0;
        while (done < n) {
            long seq = t + done;
            int slot = (int) seq & mask;
            int segIndex = slot >>> segmentShift;
            int offset = slot & (segmentSize - 1);
            Segment seg = segments[segIndex];
            if (seg == null) {
                seg = new Segment(segmentSize);
                segments[segIndex] = seg; // plain store: published by the tail store below
            }
            int run = Math.min(n - done, segmentSize - offset);
            int src = from + done;
            System.arraycopy(types, src, seg.types, offset, run);
            System.arraycopy(users, src, seg.users, offset, run);
            System.arraycopy(channels, src, seg.channels, offset, run);
            System.arraycopy(timestamps, src, seg.timestamps, offset, run);
            java.util.Arrays.fill(seg.arrivals, offset, offset + run, arrivalNanos);
            done += run;
        }
        TAIL.setVolatile(this, t + n);
        return t;
    }

    // ------------------------------------------------------------------ consumer side

    /** Events the consumer can drain now. Consumer only (any thread may call {@link #size}). */
    public int available() {
        return (int) ((long) TAIL.getVolatile(this) - (long) HEAD.get(this));
    }

    /** Arrival time of the oldest undrained event. Consumer only; requires {@code available() > 0}. */
    public long oldestArrivalNanos() {
        long h = (long) HEAD.get(this);
        if ((long) TAIL.getVolatile(this) == h) {
            throw new IllegalStateException("ring is empty");
        }
        int slot = (int) h & mask;
        return segments[slot >>> segmentShift].arrivals[slot & (segmentSize - 1)];
    }

    /**
     * Moves up to {@code max} of the oldest events into the given arrays at {@code offset},
     * in publication order, and frees their slots. Consumer only.
     *
     * @return the number of events moved
     */
    public int drainTo(String[] types, String[] users, String[] channels, long[] timestamps,
                       int offset, int max) {
        long h = (long) HEAD.get(this);
        int n = (int) Math.min(max, (long) TAIL.getVolatile(this) - h);
        int done = 0;
        while (done < n) {
            int slot = (int) (h + done) & mask;
            Segment seg = segments[slot >>> segmentShift];
            int off = slot & (segmentSize - 1);
            int run = Math.min(n - done, segmentSize - off);
            int dst = offset + done;
            System.arraycopy(seg.types, off, types, dst, run);
            System.arraycopy(seg.users, off, users, dst, run);
            System.arraycopy(seg.channels, off, channels, dst, run);
            System.arraycopy(seg.timestamps, off, timestamps, dst, run);
            java.util.Arrays.fill(seg.types, off, off + run, null);
            java.util.Arrays.fill(seg.users, off, off + run, null);
            java.util.Arrays.fill(seg.channels, off, off + run, null);
            done += run;
        }
        if (n > 0) {
            HEAD.setRelease(this, h + n);
        }
        return n;
    }
}

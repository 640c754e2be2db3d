package io.streamrank.events;

import io.streamrank.bridge.PackedReader;
import io.streamrank.bridge.PackedWriter;
import io.streamrank.bridge.StringCache;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.List;
import java.util.concurrent.TimeUnit;

/**
 * The {@link EventProcessor} as the Python facade ({@code cpp_event_processor}) sees it: every
 * method is one JPype crossing and moves many values through the packed wire format
 * ({@code streamrank._wire}).
 *
 * <p><b>Stage packets.</b> Python stages pushed events and hands them over in bulk. Methods that
 * take {@code (ByteBuffer stage, int length)} first ingest the packet in {@code stage} when
 * {@code length > 0}, then do their own work, so a query in the same call sees every event pushed
 * before it (read-your-writes in one crossing). Packet layout (native byte order):
 * <pre>
 *   int64  credit      written BY JAVA on return: events Python may stage before the next packet
 *   int32  n           events in the packet
 *   int32  dropped     events Python refused since its last packet (added to the drop count)
 *   int64  now         Python's clock, epoch seconds (for the unique-users window)
 *   int64  age         nanoseconds since the oldest event of the packet was pushed
 *   strings (3n)       type, user_id, channel_id of event 0, then of event 1, ...
 *   int64 x n          timestamps
 * </pre>
 * Python computes its credit from the reply: the stage always holds fewer events than the last
 * credit, so every event Python accepted is accepted here (an offer that accepted fewer would
 * be a bug and raises {@link IllegalStateException} rather than losing events silently).
 *
 * <p><b>Batches</b> ({@link #nextBatch}) are returned as: int64 batch id, int32 failures so far,
 * int32 n, strings (3n, event by event as above), int64 x n timestamps.
 */
public final class PackedEventPort {
    public static final int HEADER_BYTES = 32;

    private final EventProcessor processor;
    /** Recently decoded strings (types, channels, active users repeat). Guarded by
     *  {@code this} (ingest is synchronized: Python serialises hand-offs anyway). */
    private final StringCache strings = new StringCache(8192);

    public PackedEventPort(int bufferSize, int batchSize, long flushIntervalMillis,
                           int maxRetries, long retryBackoffMillis, long maxRetryBackoffMillis) {
        this(new EventProcessor(bufferSize, batchSize, TimeUnit.MILLISECONDS.toNanos(flushIntervalMillis),
                new RetryPolicy(maxRetries, TimeUnit.MILLISECONDS.toNanos(retryBackoffMillis),
                        TimeUnit.MILLISECONDS.toNanos(maxRetryBackoffMillis)),
                Clock.SYSTEM));
    }

    public PackedEventPort(EventProcessor processor) {
        this.processor = processor;
    }

    public EventProcessor processor() {
        return processor;
    }

    // ---------------------------------------------------------------- ingest

    private synchronized void ingest(ByteBuffer stage, int length) {
        if (length <= 0) {
            return;
        }
        PackedReader in = new PackedReader(stage, length);
        in.readLong(); // credit slot, written on the way out
        int n = in.readInt();
        int droppedDelta = in.readInt();
        long now = in.readLong();
        long age = in.readLong();
        if (n < 0 || droppedDelta < 0) {
            throw new IllegalArgumentException("bad stage packet: n=" + n + " dropped=" + droppedDelta);
        }
        if (n > 0) {
            String[] strings = in.readStrings(this.strings);
            if (strings.length != 3 * n) {
                throw new IllegalArgumentException("stage packet holds " + strings.length + " strings for " + n + " events");
            }
            long[] timestamps = in.readLongs(n);
            String[] types = new String[n];
            String[] users = new String[n];
            String[] channels = new String[n];
            for (int i = 0, j = 0; i < n; i++, j += 3) {
                types[i] = strings[j];
                users[i] = strings[j + 1];
                channels[i] = strings[j + 2];
            }
            int took = processor.offer(types, users, channels, timestamps, 0, n, now, age);
            if (took != n) {
                throw new IllegalStateException("event processor accepted " + took + " of " + n
                        + " staged events (credit exceeded: " + (n - took) + " events were refused after"
                        + " push_event returned True)");
            }
        }
        processor.recordDropped(droppedDelta);
    }

    private void writeCredit(ByteBuffer stage, int length) {
        if (length >= 8) {
            stage.duplicate().order(ByteOrder.nativeOrder()).putLong(0, processor.freeCapacity());
        }
    }

    /** Ingests a stage packet; returns the new credit (also written into the packet). */
    public long handoff(ByteBuffer stage, int length) {
        ingest(stage, length);
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

    /** One of the counters above, after ingesting the stage. */
    public long counter(ByteBuffer stage, int length, int which) {
        ingest(stage, length);
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

    public void shutdown() {
        processor.shutdown();
    }
}

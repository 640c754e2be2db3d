package io.streamrank.bench.events;

import io.streamrank.bridge.PackedReader;
import io.streamrank.events.Batch;
import io.streamrank.events.EventProcessor;
import io.streamrank.events.PackedEventPort;
import io.streamrank.events.RetryPolicy;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.util.concurrent.TimeUnit;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Level;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OperationsPerInvocation;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.TearDown;

/**
 * The Java side of push_event, per event: a 512-event stage packet as Python packs it
 * (joined Latin-1 strings: Discord-style snowflake ids), decoded, counted in the statistics and
 * published into the ring ({@code offerPacked}); the same without the decoding
 * ({@code offerColumns}); and the reply side, packing a 500-event batch for Python
 * ({@code packBatch}). Each offer is followed by draining and completing the batches it
 * filled, so capacity is recycled (that consumer work is included in the figure).
 */
@State(Scope.Thread)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.NANOSECONDS)
public class EventOfferBench {
    static final int N = 512;
    static final long T0 = 1_700_000_000L;

    PackedEventPort port;
    EventProcessor processor;
    ByteBuffer packet;
    int packetLength;
    String[] types = new String[N];
    String[] users = new String[N];
    String[] channels = new String[N];
    long[] timestamps = new long[N];
    int round;

    @Setup
    public void setup() {
        processor = new EventProcessor(1 << 16, 500, TimeUnit.SECONDS.toNanos(1), RetryPolicy.DEFAULT,
                io.streamrank.events.Clock.SYSTEM);
        port = new PackedEventPort(processor);
        for (int i = 0; i < N; i++) {
            types[i] = i % 5 == 0 ? "reaction" : "message";
            users[i] = Long.toString(300_000_000_000_000_000L + (i * 7919L) % 5000); // 5000 active users
            channels[i] = Long.toString(900_000_000_000_000_000L + i % 40);
            timestamps[i] = T0;
        }
        String sep = "\u001f";
        String text = String.join(sep, types) + sep + String.join(sep, users) + sep + String.join(sep, channels);
        byte[] data = text.getBytes(StandardCharsets.ISO_8859_1);
        packet = ByteBuffer.allocateDirect(1 << 16).order(ByteOrder.nativeOrder());
        packet.putLong(0).putInt(N).putInt(0).putLong(T0).putLong(0);
        packet.putInt(3 * N).putInt(PackedReader.LATIN1_JOINED).putInt(0x1f).putInt(data.length).put(data);
        for (long ts : timestamps) {
            packet.putLong(ts);
        }
        packetLength = packet.position();
    }

    private void drain() {
        Batch b;
        while ((b = processor.pollBatch()) != null) {
            processor.complete(b.id());
        }
    }

    /** The whole Java side of a hand-off: reserve and copy (on the pushing thread), then decode,
     *  statistics and ring (the ingest thread's work, done inline here by a helping call). */
    @Benchmark
    @OperationsPerInvocation(N)
    public long offerPacked() {
        long accepted = port.flushTarget(packet, packetLength);
        drain();
        return accepted;
    }

    /** Only what the pushing thread pays per hand-off: reserve capacity, copy the packet, queue
     *  it (the ingest thread does the rest on another core). */
    @Benchmark
    @OperationsPerInvocation(N)
    public long handoffOnly(HandoffState s) {
        return s.port.handoff(packet, packetLength);
    }

    /** A port whose queued packets are ingested and delivered after each measured call. */
    @State(Scope.Thread)
    public static class HandoffState {
        PackedEventPort port;

        @Setup(Level.Trial)
        public void setup() {
            port = new PackedEventPort(1 << 16, 500, 1000, 3, 100, 5000);
        }

        @TearDown(Level.Invocation)
        public void drain() throws InterruptedException {
            long target = port.flushTarget(null, 0); // ingest what is queued
            EventProcessor p = port.processor();
            p.awaitSettled(target, 0, TimeUnit.NANOSECONDS); // makes partial batches ready at once
            Batch b;
            while ((b = p.pollBatch()) != null) {
                p.complete(b.id());
            }
        }

        @TearDown(Level.Trial)
        public void stop() {
            port.shutdown();
        }
    }

    /** offerPacked without the string cache: every string decoded afresh (the baseline). */
    @Benchmark
    @OperationsPerInvocation(N)
    public int offerPackedNoCache() {
        PackedReader in = new PackedReader(packet, packetLength);
        in.readLong();
        int n = in.readInt();
        in.readInt();
        long now = in.readLong();
        long age = in.readLong();
        String[] strings = in.readStrings();
        long[] ts = in.readLongs(n);
        String[] t = java.util.Arrays.copyOfRange(strings, 0, n);
        String[] u = java.util.Arrays.copyOfRange(strings, n, 2 * n);
        String[] c = java.util.Arrays.copyOfRange(strings, 2 * n, 3 * n);
        int took = processor.offer(t, u, c, ts, 0, n, now, age);
        drain();
        return took;
    }

    @Benchmark
    @OperationsPerInvocation(N)
    public int offerColumns() {
        int took = processor.offer(types, users, channels, timestamps, 0, N, T0, 0);
        drain();
        return took;
    }

    /** Per event of a 500-event batch: the bytes Python's worker receives. */
    @State(Scope.Thread)
    public static class BatchState {
        PackedEventPort port;
        Batch batch;

        @Setup
        public void setup() throws InterruptedException {
            EventProcessor p = new EventProcessor(1 << 16, 500, TimeUnit.SECONDS.toNanos(1), RetryPolicy.DEFAULT,
                    io.streamrank.events.Clock.SYSTEM);
            port = new PackedEventPort(p);
            String[] t = new String[500];
            String[] u = new String[500];
            String[] c = new String[500];
            long[] ts = new long[500];
            for (int i = 0; i < 500; i++) {
                t[i] = "message";
                u[i] = Long.toString(300_000_000_000_000_000L + i);
                c[i] = Long.toString(900_000_000_000_000_000L + i % 40);
                ts[i] = T0;
            }
            p.offer(t, u, c, ts, 0, 500, T0, 0);
            batch = p.pollBatch();
        }
    }

    @Benchmark
    @OperationsPerInvocation(500)
    public byte[] packBatch(BatchState s) {
        return PackedEventPort.packBatch(s.batch);
    }
}

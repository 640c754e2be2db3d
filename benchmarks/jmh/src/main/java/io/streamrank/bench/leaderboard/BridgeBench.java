package io.streamrank.bench.leaderboard;

import io.streamrank.leaderboard.LeaderboardBridge;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.util.SplittableRandom;
import java.util.concurrent.TimeUnit;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Level;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Param;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.Warmup;

/**
 * The Java half of the Python crossing, without JPype: decoding and applying one staged batch
 * of 512 updates (as {@code update_user} hands them over), and a top-10 written into the io
 * buffer as {@code get_top_users(10)} receives it.
 */
@State(Scope.Benchmark)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.MICROSECONDS)
@Warmup(iterations = 3, time = 1)
@Measurement(iterations = 5, time = 1)
public class BridgeBench {
    static final long NOW = LeaderboardBench.NOW;
    static final int BATCH = 512;

    @Param({"100000"})
    public int users;

    LeaderboardBridge bridge;
    String[] ids;
    ByteBuffer stage;
    int stageLength;
    long generation;
    final SplittableRandom rnd = new SplittableRandom(5);

    @Setup(Level.Trial)
    public void build() {
        SplittableRandom r = new SplittableRandom(7);
        bridge = new LeaderboardBridge(0.95, 0);
        ids = new String[users];
        for (int i = 0; i < users; i++) {
            ids[i] = Long.toString(100_000_000_000_000_000L + r.nextLong(900_000_000_000_000_000L));
            bridge.leaderboard().update(ids[i], 1 + r.nextInt(1000), NOW - r.nextInt(30 * 86_400));
        }
        stage = ByteBuffer.allocateDirect(1 << 16).order(ByteOrder.nativeOrder());
        bridge.setStage(stage);
        bridge.setIo(ByteBuffer.allocateDirect(1 << 16));
    }

    /** A fresh batch of random users for each call, packed as cpp_leaderboard packs it. */
    @Setup(Level.Invocation)
    public void pack() {
        stage.clear();
        stage.putLong(++generation).putInt(0).putInt(BATCH); // a stage generation per batch
        stage.putInt(BATCH).putInt(0).putInt(0x1f);
        StringBuilder text = new StringBuilder();
        for (int i = 0; i < BATCH; i++) {
            if (i > 0) {
                text.append('\u001f');
            }
            text.append(ids[rnd.nextInt(users)]);
        }
        byte[] bytes = text.toString().getBytes(StandardCharsets.ISO_8859_1);
        stage.putInt(bytes.length).put(bytes);
        for (int i = 0; i < BATCH; i++) {
            stage.putDouble(1 + rnd.nextInt(5));
        }
        for (int i = 0; i < BATCH; i++) {
            stage.putLong(NOW);
        }
        stageLength = stage.position();
    }

    @Benchmark
    public int applyBatchOf512() {
        return bridge.apply(stageLength);
    }

    @Benchmark
    public int top10IntoIoBuffer() {
        return bridge.top(0, 10, NOW);
    }
}

package io.streamrank.bench.leaderboard;

import io.streamrank.leaderboard.DecayedLeaderboard;
import io.streamrank.leaderboard.RankedUser;
import java.util.List;
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
 * The Java core's own costs (no JPype): the decayed leaderboard at 10K, 100K and 1M users.
 * Users have 18-digit ids (Discord snowflakes), 1..1000 points spread over 30 days; updates add
 * 1..5 points at "now" to a random existing user (uniform: every user equally likely, the
 * cache-hostile case) or to one of the first 1% (hot).
 */
@State(Scope.Benchmark)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.NANOSECONDS)
@Warmup(iterations = 3, time = 1)
@Measurement(iterations = 5, time = 1)
public class LeaderboardBench {
    static final long NOW = 1_700_000_000L;

    @Param({"10000", "100000", "1000000"})
    public int users;

    DecayedLeaderboard board;
    String[] ids;

    @Setup(Level.Trial)
    public void build() {
        SplittableRandom rnd = new SplittableRandom(7);
        board = new DecayedLeaderboard(0.95, 0);
        ids = new String[users];
        for (int i = 0; i < users; i++) {
            ids[i] = Long.toString(100_000_000_000_000_000L + rnd.nextLong(900_000_000_000_000_000L));
            board.update(ids[i], 1 + rnd.nextInt(1000), NOW - rnd.nextInt(30 * 86_400));
        }
    }

    /** Per-thread random picks, so the benchmark's own state is not shared. */
    @State(Scope.Thread)
    public static class Picks {
        final SplittableRandom rnd = new SplittableRandom(11);

        int next(int bound) {
            return rnd.nextInt(bound);
        }
    }

    @Benchmark
    public List<RankedUser> top10() {
        return board.top(10, NOW);
    }

    @Benchmark
    public RankedUser rank(Picks p) {
        return board.rank(ids[p.next(users)], NOW);
    }

    @Benchmark
    public List<RankedUser> page20(Picks p) {
        long start = p.next(users);
        return board.range(start, start + 19, NOW);
    }

    @Benchmark
    public List<RankedUser> around5(Picks p) {
        return board.around(ids[p.next(users)], 5, NOW);
    }

    @Benchmark
    public void updateUniform(Picks p) {
        board.update(ids[p.next(users)], 1 + p.next(5), NOW);
    }

    @Benchmark
    public void updateHot(Picks p) {
        board.update(ids[p.next(Math.max(1, users / 100))], 1 + p.next(5), NOW);
    }
}

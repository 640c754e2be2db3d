package io.streamrank.leaderboard;

import io.streamrank.skiplist.Node;
import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;

/**
 * A time-decayed leaderboard: scores decay by {@code decayFactor} per day from each
 * contribution's own timestamp; users are ranked by current score, highest first, ties by id.
 * All operations are O(log n) (a top-k or a page is O(log n + k)); see {@link Board} for how
 * decay avoids touching every user.
 *
 * <p>Time is always an argument ({@code now}, epoch seconds): the caller owns the clock, so
 * tests control it exactly.
 *
 * <h2>Locking</h2>
 * One monitor, {@link #lock}, guards {@link #board}, {@link #pending} and everything reachable
 * from them; every public method holds it for its whole duration, so each call is atomic and
 * the calls are linearizable (their order is the order they acquired the lock). Two operations
 * shorten the hold for big boards: {@link #save} copies the entries under the lock and formats
 * and writes the file outside it; {@link #load} parses and validates into a new {@link Board}
 * outside the lock and only swaps the reference under it, so a bad file changes nothing.
 *
 * <h2>Background batches</h2>
 * {@link #submit} queues a checked {@link UpdateBatch} and returns; a shared daemon thread
 * applies queued batches one at a time under the lock. Every other method first applies
 * whatever is still queued ({@link #drainLocked}), under the same lock hold, so it observes every
 * batch submitted before it: submission order is application order, and nothing is observable
 * before it is applied. At most {@link #MAX_PENDING} batches wait; a submitter finding the queue
 * full applies the oldest itself (backpressure, bounded memory). The point: on two cores the
 * Python thread stages the next updates while Java applies the previous ones, so a stream of
 * updates costs max(staging, applying) per update instead of their sum.
 */
public final class DecayedLeaderboard {
    /** Guards {@link #board}. Package-private for {@link LeaderboardBridge}, which batches under it. */
    final Object lock = new Object();
    /** The current board; replaced whole by {@link #load}. Guarded by {@link #lock}. */
    Board board;
    /** Submitted batches not applied yet, oldest first. Guarded by {@link #lock}. */
    private final ArrayDeque<UpdateBatch> pending = new ArrayDeque<>();

    /** Queued batches before a submitter applies the oldest itself (~4K updates at 512 each). */
    static final int MAX_PENDING = 8;

    /** One daemon thread for all boards; a task applies one queued batch of one board. */
    private static final ExecutorService APPLIER = Executors.newSingleThreadExecutor(task -> {
        Thread t = new Thread(task, "streamrank-leaderboard-applier");
        t.setDaemon(true);
        return t;
    });

    public DecayedLeaderboard(double decayFactor, long maxUsers) {
        board = new Board(decayFactor, maxUsers);
    }

    private static void checkPoints(double points) {
        if (Double.isNaN(points) || Double.isInfinite(points)) {
            throw new IllegalArgumentException("points must be finite, not " + points);
        }
    }

    /** Adds {@code points} contributed at {@code timestamp} (epoch seconds) to a user's score. */
    public void update(String userId, double points, long timestamp) {
        if (userId == null) {
            throw new NullPointerException("user_id must not be null");
        }
        checkPoints(points);
        synchronized (lock) {
            drainLocked();
            board.add(userId, points, timestamp);
        }
    }

    /**
     * Queues a batch to be applied in the background; returns at once (see the class comment).
     * Every later call on this leaderboard, from any thread, observes the batch.
     */
    public void submit(UpdateBatch batch) {
        synchronized (lock) {
            while (pending.size() >= MAX_PENDING) {
                pending.pollFirst().applyTo(board);
            }
            pending.addLast(batch);
        }
        APPLIER.execute(this::applyOnePending);
    }

    /** Applies every submitted batch synchronously. */
    public void apply(UpdateBatch batch) {
        synchronized (lock) {
            drainLocked();
            batch.applyTo(board);
        }
    }

    private void applyOnePending() {
        synchronized (lock) {
            UpdateBatch batch = pending.pollFirst();
            if (batch != null) {
                batch.applyTo(board);
            }
        }
    }

    /** Applies every queued batch, oldest first. The caller holds {@link #lock}. */
    void drainLocked() {
        UpdateBatch batch;
        while ((batch = pending.pollFirst()) != null) {
            batch.applyTo(board);
        }
    }

    /** Batches submitted and not yet applied (diagnostics, tests). */
    public int pendingBatches() {
        synchronized (lock) {
            return pending.size();
        }
    }

    public boolean remove(String userId) {
        synchronized (lock) {
            drainLocked();
            return board.remove(userId);
        }
    }

    public int size() {
        synchronized (lock) {
            drainLocked();
            return board.size();
        }
    }

    public double decayFactor() {
        synchronized (lock) {
            return board.decay.factor;
        }
    }

    public long maxUsers() {
        synchronized (lock) {
            return board.maxUsers;
        }
    }

    /** The k best users at {@code now}; empty for k <= 0. */
    public List<RankedUser> top(int k, long now) {
        synchronized (lock) {
            drainLocked();
            return window(board, Ranges.top(k, board.size()), now);
        }
    }

    /** Redis ZREVRANGE: 0-based inclusive positions, negative from the end. */
    public List<RankedUser> range(long start, long stop, long now) {
        synchronized (lock) {
            drainLocked();
            return window(board, Ranges.rankWindow(start, stop, board.size()), now);
        }
    }

    /** The user and up to {@code radius} users on each side; empty when the user is unknown. */
    public List<RankedUser> around(String userId, int radius, long now) {
        if (radius < 0) {
            throw new IllegalArgumentException("radius must be >= 0, not " + radius);
        }
        synchronized (lock) {
            drainLocked();
            Node node = board.get(userId);
            if (node == null) {
                return List.of();
            }
            return window(board, Ranges.around(board.list.rankOf(node), radius, board.size()), now);
        }
    }

    /** The user's entry at {@code now}, or null when unknown. */
    public RankedUser rank(String userId, long now) {
        synchronized (lock) {
            drainLocked();
            Node node = board.get(userId);
            if (node == null) {
                return null;
            }
            return new RankedUser(board.list.rankOf(node), node.id, board.scalerAt(now).apply(node.score()), node.stamp);
        }
    }

    private static List<RankedUser> window(Board board, long window, long now) {
        int first = Ranges.firstRank(window);
        int count = Ranges.count(window);
        List<RankedUser> out = new ArrayList<>(count);
        if (count == 0) {
            return out;
        }
        String[] ids = new String[count];
        double[] scores = new double[count];
        long[] stamps = new long[count];
        int n = board.copyRange(first, count, now, ids, scores, stamps);
        for (int i = 0; i < n; i++) {
            out.add(new RankedUser(first + i, ids[i], scores[i], stamps[i]));
        }
        return out;
    }

    /** Atomically writes a snapshot (temp file, fsync, rename). */
    public void save(Path path) throws IOException {
        Snapshot.Contents contents;
        synchronized (lock) {
            drainLocked();
            contents = Snapshot.copy(board);
        }
        Snapshot.write(path, contents);
    }

    /**
     * Replaces the whole board (entries, decay factor, max users) with a snapshot's. On any error
     * the board is left exactly as it was.
     */
    public void load(Path path) throws IOException {
        load(path, Math.floorDiv(System.currentTimeMillis(), 1000L));
    }

    /** {@link #load(Path)} with the caller's clock ({@code now}, epoch seconds) for the timestamp rule. */
    public void load(Path path, long now) throws IOException {
        install(prepare(path, now));
    }

    /**
     * A snapshot read and validated into a board of its own, ready to {@link #install}: the
     * file is read without any lock held, so a slow file blocks only its own caller.
     */
    public static final class Prepared {
        final Board board;

        private Prepared(Board board) {
            this.board = board;
        }
    }

    /** Reads and validates a snapshot (no lock held); {@code now} is the board's clock. */
    public static Prepared prepare(Path path, long now) throws IOException {
        return new Prepared(Snapshot.read(path, now));
    }

    /** Replaces the whole board with a prepared snapshot (each Prepared is installed at most once). */
    public void install(Prepared prepared) {
        synchronized (lock) {
            drainLocked();
            board = prepared.board;
        }
    }

    /** Seconds a contribution may lie ahead of "now" under the current decay factor ({@link Timestamps}). */
    public long futureHorizon() {
        synchronized (lock) {
            return Timestamps.futureHorizon(board.decay);
        }
    }

    /** How many times the reference time moved (diagnostics, tests). */
    public long renormalisations() {
        synchronized (lock) {
            drainLocked();
            return board.renormalisations();
        }
    }
}

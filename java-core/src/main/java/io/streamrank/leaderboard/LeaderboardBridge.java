package io.streamrank.leaderboard;

import io.streamrank.bridge.PackedReader;
import io.streamrank.bridge.PackedWriter;
import io.streamrank.bridge.StageCursor;
import io.streamrank.skiplist.Node;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;

/**
 * The Java side of {@code cpp_leaderboard.Leaderboard}: one method per Python method, each one
 * JPype call (~1.6 us, which dominates everything else a query does).
 *
 * <h2>Buffers</h2>
 * Two Python-owned {@code bytearray}s, seen here as direct {@link ByteBuffer}s, are handed over
 * once with {@link #setStage} and {@link #setIo} (again only when Python reallocates one), so
 * the per-call arguments are primitives: a {@code ByteBuffer} argument costs JPype ~0.25 us to
 * convert, a primitive much less.
 *
 * <h2>Staged updates</h2>
 * Python stages {@code update_user} calls in memory and packs them into the stage buffer in the
 * layout {@link UpdateBatch#read} decodes; the packet names the stage positions it covers and a
 * {@link StageCursor} keeps only the ones not taken yet, so a packet Python sends again after an
 * interrupted call is harmless. A full stage goes to {@link #submit}, which decodes and checks it and queues it
 * for the leaderboard's background applier, then returns. Every other method takes the packed
 * length of what is still staged first (0: nothing), and under the board's lock applies the
 * queued batches, then that one, before doing its own work: one crossing per call, and the call
 * sees every update staged before it. A batch is checked whole before any of it is applied.
 *
 * <h2>Arguments and replies</h2>
 * A user id argument arrives in the io buffer (a second Python-owned direct buffer) as raw
 * Latin-1 or UTF-16LE bytes, which costs Python ~0.3 us against ~1.8 us for JPype to convert a
 * {@code str} to a {@code String}. Replies go back through the same io buffer: list replies in the
 * {@link PackedWriter} layout (int32 first rank, strings, float64 scores, int64 last updates), the
 * method returning the reply's length; that costs ~0.5 us against ~2.7 us for returning a
 * {@code byte[]}. A reply larger than the io buffer is kept aside, the method returns -1 and
 * Python fetches it with {@link #takeReply}.
 *
 * <p>Not thread-safe on its own: the Python facade serialises its calls with its lock, which
 * also makes the io buffer and {@link #oversized} single-user. The leaderboard it drives is
 * thread-safe for any other Java caller.
 */
public final class LeaderboardBridge {
    public static final int LATIN1 = PackedReader.LATIN1;
    public static final int UTF16 = PackedReader.UTF16;

    private final DecayedLeaderboard leaderboard;
    /** The staged-updates buffer (Python's Packer), or null before the first batch. */
    private ByteBuffer stage;
    /** Arguments in, replies out. */
    private ByteBuffer io;
    /** A reply that did not fit the io buffer, until {@link #takeReply}. */
    private byte[] oversized;
    /** Which staged positions were taken (the idempotent hand-off), and which update_users
     *  chunks (a chunk's id is its generation, its updates positions 0..n-1). */
    private final StageCursor cursor = new StageCursor();
    private final StageCursor bulkCursor = new StageCursor();

    public LeaderboardBridge(double decayFactor, long maxUsers) {
        leaderboard = new DecayedLeaderboard(decayFactor, maxUsers);
    }

    public DecayedLeaderboard leaderboard() {
        return leaderboard;
    }

    public void setStage(ByteBuffer stage) {
        this.stage = stage;
    }

    public void setIo(ByteBuffer io) {
        this.io = io.order(ByteOrder.nativeOrder());
    }

    /** The staged batch Python packed, decoded and checked (outside any lock), or null. */
    private UpdateBatch staged(int length) {
        return staged(length, cursor);
    }

    private UpdateBatch staged(int length, StageCursor positions) {
        if (length == 0) {
            return null;
        }
        if (stage == null) {
            throw new IllegalStateException("a staged batch but no stage buffer (setStage)");
        }
        UpdateBatch batch = UpdateBatch.read(stage, length, positions);
        return batch.size() == 0 ? null : batch;
    }

    /**
     * Under the lock: applies batches queued by {@link #submit}, then this call's staged batch,
     * and returns the board the call then works on.
     */
    private Board catchUpLocked(UpdateBatch batch) {
        leaderboard.drainLocked();
        Board board = leaderboard.board;
        if (batch != null) {
            batch.applyTo(board);
        }
        return board;
    }

    static String readId(ByteBuffer io, int nbytes, int encoding) {
        if (nbytes < 0 || nbytes > io.capacity()) {
            throw new IllegalArgumentException("user id length " + nbytes + " outside the io buffer");
        }
        byte[] raw = new byte[nbytes];
        io.get(0, raw);
        if (encoding == LATIN1) {
            return new String(raw, StandardCharsets.ISO_8859_1);
        }
        if (encoding != UTF16 || (nbytes & 1) != 0) {
            throw new IllegalArgumentException("bad user id encoding " + encoding + " for " + nbytes + " bytes");
        }
        // By hand: a decoder would replace lone surrogates, and ids must round-trip unchanged.
        char[] chars = new char[nbytes >>> 1];
        for (int i = 0; i < chars.length; i++) {
            chars[i] = (char) ((raw[2 * i] & 0xff) | ((raw[2 * i + 1] & 0xff) << 8));
        }
        return new String(chars);
    }

    /** Copies a reply into io, or keeps it for {@link #takeReply}; returns its length or -1. */
    private int reply(PackedWriter w) {
        if (w.size() <= io.capacity()) {
            io.put(0, w.toByteArray());
            return w.size();
        }
        oversized = w.toByteArray();
        return -1;
    }

    /** The reply the last call returned -1 for (once). */
    public byte[] takeReply() {
        byte[] r = oversized;
        oversized = null;
        if (r == null) {
            throw new IllegalStateException("no pending reply");
        }
        return r;
    }

    private int window(Board board, long window, long now) {
        int first = Ranges.firstRank(window);
        int count = Ranges.count(window);
        String[] ids = new String[count];
        double[] scores = new double[count];
        long[] stamps = new long[count];
        int n = count == 0 ? 0 : board.copyRange(first, count, now, ids, scores, stamps);
        PackedWriter w = new PackedWriter(64 + n * 48);
        w.putInt(first);
        w.putStrings(ids, 0, n);
        w.putDoubles(scores, 0, n);
        w.putLongs(stamps, 0, n);
        return reply(w);
    }

    /**
     * Hands a full stage to the background applier ({@link DecayedLeaderboard#submit}) and
     * returns once it is decoded: Python can stage the next updates while Java applies these.
     */
    public void submit(int stageLength) {
        UpdateBatch batch = staged(stageLength);
        if (batch != null) {
            leaderboard.submit(batch);
        }
    }

    /** {@link #submit} for an update_users chunk (its own sequence of ids). */
    public void submitBulk(int stageLength) {
        UpdateBatch batch = staged(stageLength, bulkCursor);
        if (batch != null) {
            leaderboard.submit(batch);
        }
    }

    /** Applies the staged batch (and everything queued) now; returns the size. */
    public int apply(int stageLength) {
        UpdateBatch batch = staged(stageLength);
        synchronized (leaderboard.lock) {
            return catchUpLocked(batch).size();
        }
    }

    public int size(int stageLength) {
        return apply(stageLength);
    }

    public int top(int stageLength, int k, long now) {
        UpdateBatch batch = staged(stageLength);
        synchronized (leaderboard.lock) {
            Board board = catchUpLocked(batch);
            return window(board, Ranges.top(k, board.size()), now);
        }
    }

    public int range(int stageLength, long start, long stop, long now) {
        UpdateBatch batch = staged(stageLength);
        synchronized (leaderboard.lock) {
            Board board = catchUpLocked(batch);
            return window(board, Ranges.rankWindow(start, stop, board.size()), now);
        }
    }

    /** Returns -2 when the user is unknown, else as {@link #top}. */
    public int around(int stageLength, int idBytes, int idEncoding, int radius, long now) {
        if (radius < 0) {
            throw new IllegalArgumentException("radius must be >= 0, not " + radius);
        }
        String id = readId(io, idBytes, idEncoding);
        UpdateBatch batch = staged(stageLength);
        synchronized (leaderboard.lock) {
            Board board = catchUpLocked(batch);
            Node node = board.get(id);
            if (node == null) {
                return -2;
            }
            return window(board, Ranges.around(board.list.rankOf(node), radius, board.size()), now);
        }
    }

    /**
     * The user's 1-based rank, with its score at {@code now} and last update written to io as
     * float64 and int64 at offsets 0 and 8; 0 when the user is unknown.
     */
    public int rank(int stageLength, int idBytes, int idEncoding, long now) {
        String id = readId(io, idBytes, idEncoding);
        UpdateBatch batch = staged(stageLength);
        synchronized (leaderboard.lock) {
            Board board = catchUpLocked(batch);
            Node node = board.get(id);
            if (node == null) {
                return 0;
            }
            io.putDouble(0, board.scalerAt(now).apply(node.score()));
            io.putLong(8, node.stamp);
            return board.list.rankOf(node);
        }
    }

    public boolean remove(int stageLength, int idBytes, int idEncoding) {
        String id = readId(io, idBytes, idEncoding);
        UpdateBatch batch = staged(stageLength);
        synchronized (leaderboard.lock) {
            Board board = catchUpLocked(batch);
            return board.remove(id);
        }
    }

    public void save(int stageLength, String path) throws IOException {
        apply(stageLength);
        leaderboard.save(Path.of(path));
    }

    public void load(int stageLength, String path, long now) throws IOException {
        apply(stageLength);
        leaderboard.load(Path.of(path), now);
    }

    /**
     * Reads and validates a snapshot without touching the board (thread-safe: the Python facade
     * calls it without its lock, so a slow file does not block other calls on the board).
     */
    public static DecayedLeaderboard.Prepared parse(String path, long now) throws IOException {
        return DecayedLeaderboard.prepare(Path.of(path), now);
    }

    /** Applies what is staged, then replaces the board with {@code prepared}. */
    public void install(int stageLength, DecayedLeaderboard.Prepared prepared) {
        apply(stageLength);
        leaderboard.install(prepared);
    }

    /**
     * Why {@code t} is refused at {@code now} under the current decay factor, or null when it is
     * accepted ({@link Timestamps}): the facade asks only on its error path, so the wording lives
     * in one place.
     */
    public String timestampProblem(long t, long now) {
        synchronized (leaderboard.lock) {
            return Timestamps.problem(t, now, leaderboard.board.decay);
        }
    }

    /** Seconds a timestamp may lie ahead of now (Long.MAX_VALUE: no limit); see Timestamps. */
    public long futureHorizon() {
        return leaderboard.futureHorizon();
    }

    public double decayFactor() {
        return leaderboard.decayFactor();
    }

    public long maxUsers() {
        return leaderboard.maxUsers();
    }
}

package io.streamrank.leaderboard;

import io.streamrank.skiplist.Node;
import io.streamrank.skiplist.RankedSkipList;
import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.DataInputStream;
import java.io.DataOutputStream;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.util.Arrays;

/**
 * A board's exact internal state as bytes: the reference time R and every user's normalised
 * score and stamp, bit for bit. Restoring it gives a board that behaves identically to the
 * original under any further updates (same sums, same re-normalisations, same evictions), which
 * the JSON snapshot cannot promise: it stores scores rescaled to each user's last update and
 * picks a new R on load, so a board restored from it differs in the last bits. Shared mode's
 * replicas start from this state so that a late joiner is bit-identical to the replicas that
 * applied the whole log.
 *
 * <p>Layout (big-endian, {@link DataOutputStream}): int magic "SRX1", double decay factor, long
 * max users, long R, int n, then n times: int id length, id UTF-8 bytes, double normalised
 * score, long stamp; in ranking order.
 */
public final class ExactState {
    private static final int MAGIC = 0x53525831; // "SRX1"

    private ExactState() {}

    /** The state of {@code lb} now (pending background batches applied first). */
    public static byte[] capture(DecayedLeaderboard lb) {
        Snapshot.Contents c;
        synchronized (lb.lock) {
            lb.drainLocked();
            c = Snapshot.copy(lb.board);
        }
        try {
            ByteArrayOutputStream bytes = new ByteArrayOutputStream(64 + c.size() * 40);
            DataOutputStream out = new DataOutputStream(bytes);
            out.writeInt(MAGIC);
            out.writeDouble(c.decayFactor());
            out.writeLong(c.maxUsers());
            out.writeLong(c.reference());
            out.writeInt(c.size());
            for (int i = 0; i < c.size(); i++) {
                byte[] id = c.ids()[i].getBytes(StandardCharsets.UTF_8);
                out.writeInt(id.length);
                out.write(id);
                out.writeDouble(c.normalised()[i]);
                out.writeLong(c.stamps()[i]);
            }
            out.flush();
            return bytes.toByteArray();
        } catch (IOException e) {
            throw new UncheckedIOException(e); // in-memory stream
        }
    }

    /**
     * Replaces the whole board of {@code lb} (entries, decay factor, max users, R) with the
     * state in {@code data}; on malformed data throws IllegalArgumentException and changes nothing.
     */
    public static void restore(DecayedLeaderboard lb, byte[] data) {
        Board board = read(data);
        synchronized (lb.lock) {
            lb.drainLocked();
            lb.board = board;
        }
    }

    static Board read(byte[] data) {
        try {
            DataInputStream in = new DataInputStream(new ByteArrayInputStream(data));
            if (in.readInt() != MAGIC) {
                throw new IllegalArgumentException("not an exact board state (bad magic)");
            }
            Decay decay = new Decay(in.readDouble());
            long maxUsers = in.readLong();
            long reference = in.readLong();
            int n = in.readInt();
            if (n < 0 || (maxUsers > 0 && n > maxUsers)) {
                throw new IllegalArgumentException("exact board state: bad size " + n);
            }
            RankedSkipList list = new RankedSkipList();
            UserIndex index = new UserIndex(n);
            Board board = new Board(decay, maxUsers, list, index, reference);
            Node[] nodes = new Node[n];
            for (int i = 0; i < n; i++) {
                int len = in.readInt();
                if (len < 0 || len > data.length) {
                    throw new IllegalArgumentException("exact board state: bad id length " + len);
                }
                byte[] id = new byte[len];
                in.readFully(id);
                String userId = new String(id, StandardCharsets.UTF_8);
                double score = in.readDouble();
                long stamp = in.readLong();
                if (!Double.isFinite(score) || index.get(userId) != null) {
                    throw new IllegalArgumentException("exact board state: bad entry " + i);
                }
                nodes[i] = list.newNode(userId, score, stamp);
                index.add(nodes[i]);
            }
            if (in.available() != 0) {
                throw new IllegalArgumentException("exact board state: " + in.available() + " bytes left over");
            }
            Arrays.sort(nodes, RankedSkipList.ORDER); // already in order; rebuild checks it
            list.rebuild(nodes);
            return board;
        } catch (IOException e) {
            throw new IllegalArgumentException("exact board state truncated", e);
        }
    }
}

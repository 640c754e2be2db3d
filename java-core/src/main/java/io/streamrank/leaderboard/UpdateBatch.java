package io.streamrank.leaderboard;

import io.streamrank.bridge.PackedReader;
import io.streamrank.bridge.StageCursor;
import java.nio.ByteBuffer;
import java.util.Arrays;

/**
 * A checked batch of updates (user id, points, timestamp), in the order they were made. Built
 * whole before anything is applied, so a bad batch changes nothing; once built it cannot fail to
 * apply (short of running out of memory), which is what lets a background thread apply it.
 */
public final class UpdateBatch {
    final String[] ids;
    final double[] points;
    final long[] stamps;

    public UpdateBatch(String[] ids, double[] points, long[] stamps) {
        if (ids.length != points.length || ids.length != stamps.length) {
            throw new IllegalArgumentException("batch arrays differ in length: " + ids.length + ", "
                    + points.length + ", " + stamps.length);
        }
        for (int i = 0; i < ids.length; i++) {
            if (ids[i] == null) {
                throw new NullPointerException("user_id must not be null (update " + i + ")");
            }
            if (Double.isNaN(points[i]) || Double.isInfinite(points[i])) {
                throw new IllegalArgumentException("points must be finite, not " + points[i] + " (user_id "
                        + Snapshot.quote(ids[i]) + ")");
            }
        }
        this.ids = ids;
        this.points = points;
        this.stamps = stamps;
    }

    /**
     * Decodes the staged-updates layout Python's facade packs: int64 generation, int32 start,
     * int32 n (the stage positions the packet covers, see {@link StageCursor}), n ids
     * ({@link PackedReader#readStrings}), n float64 points, n int64 timestamps, and keeps the
     * positions {@code cursor} has not taken yet. The whole packet is checked before the cursor
     * moves, so a bad packet changes nothing. Copies everything out of {@code buffer}, which
     * Python reuses once the call returns.
     */
    public static UpdateBatch read(ByteBuffer buffer, int length, StageCursor cursor) {
        PackedReader in = new PackedReader(buffer, length);
        long generation = in.readLong();
        int start = in.readInt();
        int n = in.readInt();
        int skip = cursor.skip(generation, start, n);
        String[] ids = in.readStrings();
        if (ids.length != n) {
            throw new IllegalArgumentException("staged batch: " + n + " updates but " + ids.length + " user ids");
        }
        double[] points = in.readDoubles(n);
        long[] stamps = in.readLongs(n);
        if (in.hasRemaining()) {
            throw new IllegalArgumentException("staged batch: " + (length - in.position()) + " bytes left over");
        }
        UpdateBatch batch = skip == 0 ? new UpdateBatch(ids, points, stamps)
                : new UpdateBatch(Arrays.copyOfRange(ids, skip, n), Arrays.copyOfRange(points, skip, n),
                        Arrays.copyOfRange(stamps, skip, n));
        cursor.advance(generation, start, n);
        return batch;
    }

    public int size() {
        return ids.length;
    }

    void applyTo(Board board) {
        for (int i = 0; i < ids.length; i++) {
            board.add(ids[i], points[i], stamps[i]);
        }
    }
}

package io.streamrank.leaderboard;

/** Index arithmetic shared by the Java API and the Python bridge. */
final class Ranges {
    private Ranges() {}

    /**
     * Redis ZREVRANGE semantics: {@code start} and {@code stop} are 0-based positions in the
     * ranking, both inclusive; negative values count from the end (-1 is the last user). Out of
     * range values are clamped; an empty range comes out as count 0.
     *
     * @return {@code (firstRank << 32) | count}, firstRank 1-based
     */
    static long rankWindow(long start, long stop, int size) {
        if (start < 0) {
            start = Math.max(0, size + start);
        }
        if (stop < 0) {
            stop = size + stop;
        }
        if (stop >= size) {
            stop = size - 1L;
        }
        if (start > stop || start >= size) {
            return 0;
        }
        return ((start + 1) << 32) | (stop - start + 1);
    }

    /** The best {@code k} (none for k <= 0), packed as in {@link #rankWindow}. */
    static long top(int k, int size) {
        int count = Math.min(k, size);
        return count <= 0 ? 0 : (1L << 32) | count;
    }

    /** The window of ranks within {@code radius} of {@code rank}, packed as in {@link #rankWindow}. */
    static long around(int rank, int radius, int size) {
        long from = Math.max(1L, (long) rank - radius);
        long to = Math.min(size, (long) rank + radius);
        return (from << 32) | (to - from + 1);
    }

    static int firstRank(long window) {
        return (int) (window >>> 32);
    }

    static int count(long window) {
        return (int) window;
    }
}

package io.streamrank.skiplist;

/**
 * One element of a {@link RankedSkipList}: a user id, the score it is ordered by, and a
 * {@code long} the owner may use freely (the leaderboard keeps the last-update time there).
 *
 * <p>Layout chosen for few cache misses per search and a small heap: levels 0 and 1 are inline
 * (level 0's span is implicitly 1), so a search touches only node objects below level 2, where
 * almost all of its uncached steps are; levels 2.. (1 node in 16) live in two arrays allocated
 * once with the node. 56 bytes per node with compressed oops, plus ~3 bytes on average for the
 * arrays.
 *
 * <p>{@link #score} must only be changed through the list ({@link RankedSkipList#updateScore},
 * {@link RankedSkipList#scaleScores}) while the node is linked, since it decides the node's place.
 */
public final class Node {
    /** The user id; never null. Ties in score are ordered by it ({@link IdOrder}). */
    public final String id;
    /** The ordering score (the leaderboard's normalised score). Finite. */
    double score;
    /** Free for the owner; the list never reads it. */
    public long stamp;

    /** Previous node at level 0, or null for the first node. */
    Node backward;
    /** Next node at level 0, or null for the last node. */
    Node next0;
    /** Level-1 forward link (unused when level is 1). */
    Node next1;
    /**
     * Spans: how many level-0 steps a link jumps. A null link's span is the distance to the end
     * of the list (Redis's convention), which keeps insert and delete arithmetic free of special
     * cases. {@code span1} is level 1's.
     */
    int span1;
    /** Forward links for levels 2..level-1 ({@code upNext[i - 2]} is level i), or null below level 3. */
    final Node[] upNext;
    /** Spans of {@link #upNext}. */
    final int[] upSpan;
    /** 1..MAX_LEVEL. */
    private final byte level;

    public Node(String id, double score, long stamp, int level) {
        if (id == null) {
            throw new NullPointerException("id");
        }
        if (level < 1 || level > RankedSkipList.MAX_LEVEL) {
            throw new IllegalArgumentException("level " + level + " outside 1.." + RankedSkipList.MAX_LEVEL);
        }
        this.id = id;
        this.score = score;
        this.stamp = stamp;
        this.level = (byte) level;
        if (level > 2) {
            upNext = new Node[level - 2];
            upSpan = new int[level - 2];
        } else {
            upNext = null;
            upSpan = null;
        }
    }

    public double score() {
        return score;
    }

    /** How many levels the node is linked at, 1..MAX_LEVEL. */
    public int level() {
        return level;
    }

    /** The next node in ranking order, or null. */
    public Node next() {
        return next0;
    }

    /** The previous node in ranking order, or null. */
    public Node previous() {
        return backward;
    }

    Node next(int level) {
        switch (level) {
            case 0: return next0;
            case 1: return next1;
            default: return upNext[level - 2];
        }
    }

    void setNext(int level, Node node) {
        switch (level) {
            case 0: next0 = node; break;
            case 1: next1 = node; break;
            default: upNext[level - 2] = node;
        }
    }

    int span(int level) {
        switch (level) {
            case 0: return 1;
            case 1: return span1;
            default: return upSpan[level - 2];
        }
    }

    /** Sets the span of level {@code level} >= 1. */
    void setSpan(int level, int span) {
        if (level == 1) {
            span1 = span;
        } else {
            upSpan[level - 2] = span;
        }
    }

    @Override
    public String toString() {
        return "Node[" + id + ", " + score + ", " + stamp + ", level " + level() + "]";
    }
}

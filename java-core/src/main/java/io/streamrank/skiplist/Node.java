package io.streamrank.skiplist;

/**
 * One element of a {@link RankedSkipList}: a user id, the score it is ordered by, and a
 * {@code long} the owner may use freely (the leaderboard keeps the last-update time there).
 *
 * <p>Layout chosen for a small heap footprint (48 bytes with compressed oops, plus the upper
 * level arrays for the quarter of nodes that have any): level 0 is inline ({@link #next0},
 * span implicitly 1), levels 1.. live in two arrays allocated once with the node's level.
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
    /** Forward links for levels 1..level-1 ({@code upNext[i - 1]} is level i), or null at level 1. */
    final Node[] upNext;
    /**
     * Spans of {@link #upNext}: how many level-0 steps the link jumps. A null link's span is
     * the distance to the end of the list (Redis's convention), which keeps insert and delete
     * arithmetic free of special cases.
     */
    final int[] upSpan;

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
        if (level > 1) {
            upNext = new Node[level - 1];
            upSpan = new int[level - 1];
        } else {
            upNext = null;
            upSpan = null;
        }
    }

    public double score() {
        return score;
    }

    /** 1 + the number of upper levels. */
    public int level() {
        return upNext == null ? 1 : upNext.length + 1;
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
        return level == 0 ? next0 : upNext[level - 1];
    }

    void setNext(int level, Node node) {
        if (level == 0) {
            next0 = node;
        } else {
            upNext[level - 1] = node;
        }
    }

    int span(int level) {
        return level == 0 ? 1 : upSpan[level - 1];
    }

    @Override
    public String toString() {
        return "Node[" + id + ", " + score + ", " + stamp + ", level " + level() + "]";
    }
}

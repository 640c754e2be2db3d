package io.streamrank.skiplist;

import java.util.Arrays;
import java.util.Comparator;

/**
 * An indexable skip list ordered by score descending, then id ascending ({@link IdOrder}).
 *
 * <p>Every forward link carries a span (how many nodes it jumps), as in Redis's
 * {@code zskiplist}, so insert, delete, rank-of-node and node-at-rank are O(log n) expected;
 * walking from a node to its neighbours is O(1) per step. Levels are drawn with p = 1/4 up to
 * {@link #MAX_LEVEL}, enough for 4^32 nodes.
 *
 * <p>Ranks are 1-based. The list does not look ids up: the owner keeps its own index from id to
 * {@link Node} and passes nodes in. A node is in at most one list at a time.
 *
 * <p>Not thread-safe: one owner serialises all access. The scratch arrays used by searches are
 * fields for that reason (no allocation per operation).
 */
public final class RankedSkipList {
    public static final int MAX_LEVEL = 32;

    /** Ranking order of two nodes: negative when {@code a} ranks higher (comes first). */
    public static final Comparator<Node> ORDER = (a, b) -> {
        if (a.score != b.score) {
            return a.score > b.score ? -1 : 1;
        }
        return IdOrder.compare(a.id, b.id);
    };

    /** Sentinel before the first node, with all levels; its score and id are never read. */
    private final Node header = new Node("", 0.0, 0L, MAX_LEVEL);
    private Node tail;
    private int size;
    /** Levels in use: 1 + the highest upper level any node has (at least 1). */
    private int level = 1;
    /** xorshift64 state for level draws; never zero. */
    private long random;

    /** Search scratch: the last node before the target at each level, and its rank. */
    private final Node[] update = new Node[MAX_LEVEL];
    private final int[] rankAt = new int[MAX_LEVEL];

    public RankedSkipList() {
        this(0x9E3779B97F4A7C15L);
    }

    /** A list whose level draws are reproducible from {@code seed}. */
    public RankedSkipList(long seed) {
        random = seed == 0 ? 0x9E3779B97F4A7C15L : seed;
    }

    public int size() {
        return size;
    }

    /** The highest-ranked node, or null when empty. */
    public Node first() {
        return header.next0;
    }

    /** The lowest-ranked node, or null when empty. */
    public Node last() {
        return tail;
    }

    /** A level for a new node: 1 + the number of pairs of zero bits at the bottom of a random word. */
    public int randomLevel() {
        long x = random;
        x ^= x << 13;
        x ^= x >>> 7;
        x ^= x << 17;
        random = x;
        return Math.min(MAX_LEVEL, 1 + (Long.numberOfTrailingZeros(x) >>> 1));
    }

    /** A new unlinked node with a random level. */
    public Node newNode(String id, double score, long stamp) {
        return new Node(id, score, stamp, randomLevel());
    }

    /** True when (scoreA, idA) ranks strictly before (scoreB, idB). */
    static boolean before(double scoreA, String idA, double scoreB, String idB) {
        return scoreA > scoreB || (scoreA == scoreB && IdOrder.compare(idA, idB) < 0);
    }

    /**
     * Fills {@link #update} and {@link #rankAt} with, at each level, the last node that ranks
     * strictly before (score, id) and that node's rank (header = 0).
     */
    private void findPredecessors(double score, String id) {
        Node x = header;
        int rank = 0;
        for (int i = level - 1; i >= 0; i--) {
            Node next;
            while ((next = x.next(i)) != null && before(next.score, next.id, score, id)) {
                rank += x.span(i);
                x = next;
            }
            update[i] = x;
            rankAt[i] = rank;
        }
    }

    /** Links an unlinked node at its score's place. Its (score, id) must not already be present. */
    public void insert(Node node) {
        if (Double.isNaN(node.score)) {
            throw new IllegalArgumentException("NaN score for " + node.id);
        }
        findPredecessors(node.score, node.id);
        link(node);
    }

    /** Links {@code node} after the predecessors found by the last search. */
    private void link(Node node) {
        int nodeLevel = node.level();
        if (nodeLevel > level) {
            for (int i = level; i < nodeLevel; i++) {
                update[i] = header;
                rankAt[i] = 0;
                header.setSpan(i, size); // a null link spans to the end
            }
            level = nodeLevel;
        }
        int rank0 = rankAt[0];
        for (int i = 0; i < nodeLevel; i++) {
            Node prev = update[i];
            node.setNext(i, prev.next(i));
            prev.setNext(i, node);
            if (i > 0) {
                node.setSpan(i, prev.span(i) - (rank0 - rankAt[i]));
                prev.setSpan(i, rank0 - rankAt[i] + 1);
            }
        }
        for (int i = nodeLevel; i < level; i++) {
            update[i].setSpan(i, update[i].span(i) + 1);
        }
        Node prev0 = update[0];
        node.backward = prev0 == header ? null : prev0;
        if (node.next0 != null) {
            node.next0.backward = node;
        } else {
            tail = node;
        }
        size++;
    }

    /**
     * As {@link #findPredecessors} without the ranks: deleting needs only relative span changes,
     * and not reading spans saves a cache miss per step above level 1.
     */
    private void findPredecessorsForDelete(double score, String id) {
        Node x = header;
        for (int i = level - 1; i >= 0; i--) {
            Node next;
            while ((next = x.next(i)) != null && before(next.score, next.id, score, id)) {
                x = next;
            }
            update[i] = x;
        }
    }

    /** Unlinks a node that is in this list. */
    public void delete(Node node) {
        findPredecessorsForDelete(node.score, node.id);
        if (update[0].next0 != node) {
            throw new IllegalStateException("node " + node.id + " is not in this list at score " + node.score);
        }
        unlink(node);
    }

    private void unlink(Node node) {
        for (int i = 0; i < level; i++) {
            Node prev = update[i];
            if (prev.next(i) == node) {
                if (i > 0) {
                    prev.setSpan(i, prev.span(i) + node.span(i) - 1);
                }
                prev.setNext(i, node.next(i));
            } else {
                prev.setSpan(i, prev.span(i) - 1); // i > 0: level 0 always links straight to node
            }
        }
        if (node.next0 != null) {
            node.next0.backward = node.backward;
        } else {
            tail = node.backward;
        }
        while (level > 1 && header.next(level - 1) == null) {
            level--;
        }
        node.backward = null;
        node.next0 = null;
        size--;
    }

    /**
     * Changes a linked node's score. When the node keeps its place between its neighbours (the
     * common case for small changes) this is O(1) and touches no other node; otherwise the node
     * is moved, keeping its level, in O(log n).
     */
    public void updateScore(Node node, double score) {
        if (Double.isNaN(score)) {
            throw new IllegalArgumentException("NaN score for " + node.id);
        }
        Node prev = node.backward;
        Node next = node.next0;
        if ((prev == null || before(prev.score, prev.id, score, node.id))
                && (next == null || before(score, node.id, next.score, next.id))) {
            node.score = score;
            return;
        }
        delete(node);
        node.score = score;
        insert(node);
    }

    /** The 1-based rank of a node in this list. */
    public int rankOf(Node node) {
        Node x = header;
        int rank = 0;
        double score = node.score;
        String id = node.id;
        for (int i = level - 1; i >= 0; i--) {
            Node next;
            while ((next = x.next(i)) != null && (next == node || before(next.score, next.id, score, id))) {
                rank += x.span(i);
                x = next;
            }
            if (x == node) {
                return rank;
            }
        }
        throw new IllegalStateException("node " + node.id + " is not in this list");
    }

    /** The node at a 1-based rank, or null when the rank is outside 1..size. */
    public Node byRank(int rank) {
        if (rank < 1 || rank > size) {
            return null;
        }
        Node x = header;
        int traversed = 0;
        for (int i = level - 1; i >= 0; i--) {
            Node next;
            while ((next = x.next(i)) != null && traversed + x.span(i) <= rank) {
                traversed += x.span(i);
                x = next;
            }
            if (traversed == rank) {
                return x;
            }
        }
        throw new IllegalStateException("rank " + rank + " not reached; spans are corrupt");
    }

    /** Unlinks every node (the nodes themselves are left as they are). */
    public void clear() {
        Arrays.fill(header.upNext, null);
        Arrays.fill(header.upSpan, 0);
        header.next0 = null;
        header.next1 = null;
        header.span1 = 0;
        tail = null;
        size = 0;
        level = 1;
    }

    /**
     * Multiplies every score by {@code factor} (finite, > 0). See {@link #remapScores}.
     */
    public boolean scaleScores(double factor) {
        if (!(factor > 0) || Double.isInfinite(factor)) {
            throw new IllegalArgumentException("scale factor must be finite and > 0, not " + factor);
        }
        return remapScores(score -> score * factor);
    }

    /**
     * Replaces every score s by {@code f(s)}, where f is non-decreasing and returns finite values:
     * how the leaderboard moves its reference time. A non-decreasing f never swaps two scores, but
     * it can round distinct scores to the same value (underflow), after which the id decides their
     * order and may disagree with the current one; only then is the list re-sorted and rebuilt,
     * in O(n log n). Returns true when it had to rebuild.
     */
    public boolean remapScores(java.util.function.DoubleUnaryOperator f) {
        boolean inOrder = true;
        Node prev = null;
        for (Node x = header.next0; x != null; x = x.next0) {
            double s = f.applyAsDouble(x.score) + 0.0; // + 0.0: an underflow to -0.0 becomes 0.0
            if (Double.isNaN(s) || Double.isInfinite(s)) {
                throw new IllegalArgumentException("score remapped to " + s + " for " + x.id);
            }
            x.score = s;
            if (prev != null && inOrder && !before(prev.score, prev.id, x.score, x.id)) {
                inOrder = false;
            }
            prev = x;
        }
        if (inOrder) {
            return false;
        }
        Node[] nodes = toArray();
        Arrays.sort(nodes, ORDER);
        rebuild(nodes);
        return true;
    }

    /** The nodes in ranking order. */
    public Node[] toArray() {
        Node[] nodes = new Node[size];
        int i = 0;
        for (Node x = header.next0; x != null; x = x.next0) {
            nodes[i++] = x;
        }
        return nodes;
    }

    /**
     * Replaces the contents with {@code sorted}, which must be in strict ranking order and
     * contain distinct unlinked (or previously this list's) nodes. Links in O(n), keeping each
     * node's level: how snapshots are loaded and how {@link #scaleScores} re-sorts.
     */
    public void rebuild(Node[] sorted) {
        clear();
        int top = 1;
        for (Node node : sorted) {
            top = Math.max(top, node.level());
        }
        level = top;
        // last[i]: the last node linked at level i so far (header at first), lastRank[i] its rank.
        Node[] last = new Node[top];
        int[] lastRank = new int[top];
        Arrays.fill(last, header);
        Node prev = null;
        int rank = 0;
        for (Node node : sorted) {
            if (prev != null && !before(prev.score, prev.id, node.score, node.id)) {
                throw new IllegalArgumentException("nodes not in strict ranking order at " + prev.id + ", " + node.id);
            }
            rank++;
            int nodeLevel = node.level();
            for (int i = 0; i < nodeLevel; i++) {
                last[i].setNext(i, node);
                if (i > 0) {
                    last[i].setSpan(i, rank - lastRank[i]);
                }
                last[i] = node;
                lastRank[i] = rank;
            }
            node.setNext(0, null);
            node.backward = prev;
            prev = node;
        }
        size = rank;
        tail = prev;
        // Close every level: a null link spans to the end.
        for (int i = 0; i < top; i++) {
            last[i].setNext(i, null);
            if (i > 0) {
                last[i].setSpan(i, size - lastRank[i]);
            }
        }
        for (int i = top; i < MAX_LEVEL; i++) {
            header.setSpan(i, size);
        }
    }

    /**
     * Checks every structural invariant (order, back links, tail, size, spans, levels) and throws
     * {@link IllegalStateException} naming the first broken one. O(n * levels): for tests.
     */
    public void checkInvariants() {
        Node[] nodes = toArray();
        if (nodes.length != size) {
            throw new IllegalStateException("size " + size + " but " + nodes.length + " nodes at level 0");
        }
        Node prev = null;
        for (Node x : nodes) {
            if (x.backward != prev) {
                throw new IllegalStateException("backward link of " + x.id + " is wrong");
            }
            if (prev != null && !before(prev.score, prev.id, x.score, x.id)) {
                throw new IllegalStateException("order broken at " + prev.id + " -> " + x.id);
            }
            prev = x;
        }
        if (tail != prev) {
            throw new IllegalStateException("tail is wrong");
        }
        java.util.IdentityHashMap<Node, Integer> rankOfNode = new java.util.IdentityHashMap<>();
        rankOfNode.put(header, 0);
        int maxLevel = 1;
        for (int r = 0; r < nodes.length; r++) {
            rankOfNode.put(nodes[r], r + 1);
            maxLevel = Math.max(maxLevel, nodes[r].level());
        }
        if (maxLevel != level) {
            throw new IllegalStateException("level " + level + " but highest node level " + maxLevel);
        }
        for (int i = 1; i < level; i++) {
            Node x = header;
            int expectedRank = 0;
            for (Node candidate : nodes) {
                if (candidate.level() > i) {
                    int rank = rankOfNode.get(candidate);
                    if (x.next(i) != candidate) {
                        throw new IllegalStateException("level " + i + " skips " + candidate.id);
                    }
                    if (x.span(i) != rank - expectedRank) {
                        throw new IllegalStateException("span at level " + i + " before " + candidate.id + " is "
                                + x.span(i) + ", expected " + (rank - expectedRank));
                    }
                    x = candidate;
                    expectedRank = rank;
                }
            }
            if (x.next(i) != null) {
                throw new IllegalStateException("level " + i + " does not end in null");
            }
            if (x.span(i) != size - expectedRank) {
                throw new IllegalStateException("end span at level " + i + " is " + x.span(i) + ", expected " + (size - expectedRank));
            }
        }
    }
}

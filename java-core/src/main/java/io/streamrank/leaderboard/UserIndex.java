package io.streamrank.leaderboard;

import io.streamrank.skiplist.Node;

/**
 * Hash index from user id to skip-list {@link Node}: open addressing with linear probing over two
 * parallel arrays (nodes and their mixed hashes), so a probe compares ints in one contiguous array
 * and dereferences a node only on a hash match. About 11-21 bytes per user at load 0.375-0.75,
 * against ~37 for a {@code HashMap} entry. Deletion shifts later entries back (no tombstones), so
 * lookups stay short however many users come and go.
 *
 * <p>Not thread-safe; the board's lock guards it.
 */
final class UserIndex {
    private static final int MIN_CAPACITY = 16;

    /** Slot -> node, or null for an empty slot. Length is a power of two. */
    private Node[] nodes;
    /** Slot -> {@link #mix} of the node's id hash; meaningful only where {@link #nodes} is non-null. */
    private int[] hashes;
    private int mask;
    private int size;
    /** Grow when size would exceed this (75% of capacity). */
    private int growAt;

    UserIndex() {
        this(MIN_CAPACITY);
    }

    UserIndex(int expectedUsers) {
        int capacity = MIN_CAPACITY;
        while (capacity * 3L / 4 < expectedUsers) {
            capacity <<= 1;
        }
        allocate(capacity);
    }

    private void allocate(int capacity) {
        nodes = new Node[capacity];
        hashes = new int[capacity];
        mask = capacity - 1;
        growAt = (int) (capacity * 3L / 4);
    }

    /** Spreads String.hashCode's low-entropy bits (Fibonacci hashing). */
    private static int mix(int h) {
        h *= 0x9E3779B9;
        return h ^ (h >>> 16);
    }

    int size() {
        return size;
    }

    Node get(String id) {
        int h = mix(id.hashCode());
        Node[] ns = nodes;
        int[] hs = hashes;
        for (int i = h & mask; ; i = (i + 1) & mask) {
            Node n = ns[i];
            if (n == null) {
                return null;
            }
            if (hs[i] == h && n.id.equals(id)) {
                return n;
            }
        }
    }

    /** Adds a node whose id is not in the index (the caller checked with {@link #get}). */
    void add(Node node) {
        if (size >= growAt) {
            grow();
        }
        place(node, mix(node.id.hashCode()));
        size++;
    }

    private void place(Node node, int h) {
        int i = h & mask;
        while (nodes[i] != null) {
            i = (i + 1) & mask;
        }
        nodes[i] = node;
        hashes[i] = h;
    }

    private void grow() {
        Node[] oldNodes = nodes;
        int[] oldHashes = hashes;
        allocate(oldNodes.length << 1);
        for (int i = 0; i < oldNodes.length; i++) {
            if (oldNodes[i] != null) {
                place(oldNodes[i], oldHashes[i]);
            }
        }
    }

    /** Removes and returns the node for {@code id}, or null when absent. */
    Node remove(String id) {
        int h = mix(id.hashCode());
        int i = h & mask;
        while (true) {
            Node n = nodes[i];
            if (n == null) {
                return null;
            }
            if (hashes[i] == h && n.id.equals(id)) {
                break;
            }
            i = (i + 1) & mask;
        }
        Node removed = nodes[i];
        // Backward-shift: move later entries of the probe run into the hole when their home slot
        // is not strictly between the hole and where they sit (cyclically).
        int hole = i;
        for (int j = (hole + 1) & mask; nodes[j] != null; j = (j + 1) & mask) {
            int home = hashes[j] & mask;
            boolean movable = hole <= j ? (home <= hole || home > j) : (home <= hole && home > j);
            if (movable) {
                nodes[hole] = nodes[j];
                hashes[hole] = hashes[j];
                hole = j;
            }
        }
        nodes[hole] = null;
        size--;
        return removed;
    }
}

package io.streamrank.skiplist;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import org.junit.jupiter.api.Test;

class RankedSkipListTest {

    /**
     * The model: a plain list kept sorted by an independently written comparator (+ 0.0 makes
     * -0.0 equal to 0.0, as the list's plain comparison does).
     */
    private static final Comparator<Node> MODEL_ORDER = (a, b) -> {
        int byScore = Double.compare(b.score() + 0.0, a.score() + 0.0);
        if (byScore != 0) {
            return byScore;
        }
        return java.util.Arrays.compare(a.id.codePoints().toArray(), b.id.codePoints().toArray());
    };

    private static void assertSameAsModel(RankedSkipList list, List<Node> model) {
        model.sort(MODEL_ORDER);
        assertEquals(model.size(), list.size());
        Node x = list.first();
        for (int i = 0; i < model.size(); i++) {
            assertSame(model.get(i), x, "position " + i);
            x = x.next();
        }
        assertNull(x);
        assertSame(model.isEmpty() ? null : model.get(model.size() - 1), list.last());
    }

    @Test
    void randomOperationsAgreeWithASortedListModel() {
        Random rnd = new Random(12345);
        for (int round = 0; round < 4; round++) {
            RankedSkipList list = new RankedSkipList(rnd.nextLong());
            List<Node> model = new ArrayList<>();
            Map<String, Node> byId = new HashMap<>();
            for (int step = 0; step < 6000; step++) {
                int op = rnd.nextInt(100);
                // Few distinct scores, so ties (ordered by id) are common.
                double score = rnd.nextInt(8) == 0 ? rnd.nextGaussian() * 1e6 : rnd.nextInt(20) - 5;
                if (op < 40 || byId.isEmpty()) {
                    String id = "u" + rnd.nextInt(3000);
                    if (!byId.containsKey(id)) {
                        Node n = list.newNode(id, score, step);
                        list.insert(n);
                        model.add(n);
                        byId.put(id, n);
                    }
                } else {
                    Node n = model.get(rnd.nextInt(model.size()));
                    if (op < 55) {
                        list.delete(n);
                        model.remove(n);
                        byId.remove(n.id);
                    } else if (op < 80) {
                        list.updateScore(n, op < 65 ? n.score() + (rnd.nextDouble() - 0.5) * 1e-9 : score);
                    } else if (op < 90) {
                        model.sort(MODEL_ORDER);
                        assertEquals(model.indexOf(n) + 1, list.rankOf(n));
                    } else if (op < 99) {
                        model.sort(MODEL_ORDER);
                        int rank = 1 + rnd.nextInt(model.size());
                        assertSame(model.get(rank - 1), list.byRank(rank));
                    } else {
                        list.scaleScores(rnd.nextBoolean() ? 0.5 : 1e-300);
                    }
                }
                if (step % 500 == 0) {
                    list.checkInvariants();
                    assertSameAsModel(list, model);
                }
            }
            list.checkInvariants();
            assertSameAsModel(list, model);
            for (int r = 1; r <= model.size(); r++) {
                assertSame(model.get(r - 1), list.byRank(r));
                assertEquals(r, list.rankOf(model.get(r - 1)));
            }
        }
    }

    @Test
    void emptyListAndOutOfRangeRanks() {
        RankedSkipList list = new RankedSkipList(1);
        assertEquals(0, list.size());
        assertNull(list.first());
        assertNull(list.last());
        assertNull(list.byRank(1));
        assertNull(list.byRank(0));
        list.checkInvariants();
        Node a = list.newNode("a", 1, 0);
        list.insert(a);
        assertNull(list.byRank(2));
        assertNull(list.byRank(-1));
        list.delete(a);
        list.checkInvariants();
        assertEquals(0, list.size());
        assertThrows(IllegalStateException.class, () -> list.delete(a));
        assertThrows(IllegalStateException.class, () -> list.rankOf(a));
    }

    @Test
    void tiesAreOrderedByCodePointNotByUtf16Unit() {
        RankedSkipList list = new RankedSkipList(2);
        String astral = "\uD83D\uDE00"; // U+1F600, two UTF-16 units starting 0xD83D
        String privateUse = "\uE000";    // U+E000: below U+1F600 as a code point, above 0xD83D as a unit
        for (String id : new String[] {astral, privateUse, "b", "a", ""}) {
            list.insert(list.newNode(id, 7.0, 0));
        }
        List<String> order = new ArrayList<>();
        for (Node x = list.first(); x != null; x = x.next()) {
            order.add(x.id);
        }
        assertEquals(List.of("", "a", "b", privateUse, astral), order);
        assertTrue(IdOrder.compare(privateUse, astral) < 0);
        assertTrue(privateUse.compareTo(astral) > 0, "String.compareTo disagrees, which is why IdOrder exists");
    }

    @Test
    void updateInPlaceKeepsNeighboursAndMovesWhenNeeded() {
        RankedSkipList list = new RankedSkipList(3);
        Node a = list.newNode("a", 30, 0);
        Node b = list.newNode("b", 20, 0);
        Node c = list.newNode("c", 10, 0);
        list.insert(a);
        list.insert(b);
        list.insert(c);
        list.updateScore(b, 25);
        assertEquals(2, list.rankOf(b));
        list.updateScore(c, 40);
        assertEquals(1, list.rankOf(c));
        assertSame(b, list.last());
        list.updateScore(a, 25); // ties with b; "a" < "b"
        assertEquals(2, list.rankOf(a));
        assertEquals(3, list.rankOf(b));
        list.checkInvariants();
        assertThrows(IllegalArgumentException.class, () -> list.updateScore(a, Double.NaN));
    }

    @Test
    void scalingThatUnderflowsIntoTiesReordersById() {
        RankedSkipList list = new RankedSkipList(4);
        // Distinct tiny scores whose order is the reverse of their ids' order.
        list.insert(list.newNode("a", 1e-300, 0));
        list.insert(list.newNode("b", 2e-300, 0));
        list.insert(list.newNode("c", 3e-300, 0));
        assertEquals("c", list.first().id);
        boolean rebuilt = list.scaleScores(1e-30); // all underflow to 0.0
        assertTrue(rebuilt);
        list.checkInvariants();
        assertEquals("a", list.first().id);
        assertEquals("c", list.last().id);
        assertEquals(0.0, list.first().score());
        assertEquals(false, list.scaleScores(0.5));
        assertThrows(IllegalArgumentException.class, () -> list.scaleScores(0));
        assertThrows(IllegalArgumentException.class, () -> list.scaleScores(Double.POSITIVE_INFINITY));
    }

    @Test
    void rebuildFromSortedNodesMatchesInsertion() {
        Random rnd = new Random(9);
        RankedSkipList inserted = new RankedSkipList(5);
        List<Node> nodes = new ArrayList<>();
        for (int i = 0; i < 5000; i++) {
            Node n = inserted.newNode("id" + i, rnd.nextInt(100), i);
            inserted.insert(n);
            nodes.add(n);
        }
        Node[] sorted = inserted.toArray();
        RankedSkipList rebuilt = new RankedSkipList(6);
        rebuilt.rebuild(sorted);
        rebuilt.checkInvariants();
        for (int r = 1; r <= sorted.length; r += 37) {
            assertSame(sorted[r - 1], rebuilt.byRank(r));
            assertEquals(r, rebuilt.rankOf(sorted[r - 1]));
        }
        Node[] unsorted = {sorted[1], sorted[0]};
        assertThrows(IllegalArgumentException.class, () -> new RankedSkipList().rebuild(unsorted));
        RankedSkipList empty = new RankedSkipList();
        empty.rebuild(new Node[0]);
        empty.checkInvariants();
        assertEquals(0, empty.size());
    }

    @Test
    void levelsFollowQuarterProbabilityAndStayInBounds() {
        RankedSkipList list = new RankedSkipList(7);
        int[] counts = new int[RankedSkipList.MAX_LEVEL + 1];
        int draws = 400_000;
        for (int i = 0; i < draws; i++) {
            int level = list.randomLevel();
            assertTrue(level >= 1 && level <= RankedSkipList.MAX_LEVEL);
            counts[level]++;
        }
        // Expected share at level 1 is 3/4; allow a wide band (this is a sanity check, not a test of the RNG).
        double share1 = counts[1] / (double) draws;
        assertTrue(share1 > 0.70 && share1 < 0.80, "level-1 share " + share1);
        assertThrows(IllegalArgumentException.class, () -> new Node("x", 0, 0, 0));
        assertThrows(NullPointerException.class, () -> new Node(null, 0, 0, 1));
    }
}

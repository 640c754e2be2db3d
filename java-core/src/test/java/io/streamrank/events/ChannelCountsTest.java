package io.streamrank.events;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import org.junit.jupiter.api.Test;

class ChannelCountsTest {

    @Test
    void topIsCountDescendingThenChannelAscending() {
        ChannelCounts c = new ChannelCounts();
        for (String ch : new String[] {"b", "a", "c", "b", "a", "d", "b"}) {
            c.record(ch);
        }
        assertEquals(List.of(new ChannelCount("b", 3), new ChannelCount("a", 2), new ChannelCount("c", 1)), c.top(3));
        assertEquals(List.of(new ChannelCount("b", 3)), c.top(1));
        assertEquals(4, c.top(100).size());
        assertTrue(c.top(0).isEmpty());
        assertTrue(c.top(-5).isEmpty());
        assertEquals(3, c.countOf("b"));
        assertEquals(0, c.countOf("zzz"));
    }

    @Test
    void matchesAFullSortOnRandomCounts() {
        Random rnd = new Random(7);
        ChannelCounts c = new ChannelCounts();
        for (int i = 0; i < 20000; i++) {
            c.record("ch" + rnd.nextInt(200));
        }
        List<ChannelCount> all = c.top(Integer.MAX_VALUE);
        assertEquals(200, all.size());
        List<ChannelCount> sorted = new ArrayList<>(all);
        sorted.sort(ChannelCounts.BEST_FIRST);
        assertEquals(sorted, all);
        for (int k : new int[] {1, 5, 17, 199, 200}) {
            assertEquals(sorted.subList(0, k), c.top(k));
        }
    }

    /** Issue 11 item 15: ties went by UTF-16 code units (String.compareTo), unlike the leaderboard. */
    @Test
    void tiesBreakInCodePointOrder() {
        ChannelCounts c = new ChannelCounts();
        String astral = "\uD83D\uDE00"; // U+1F600: after U+FF01 by code point, before it in UTF-16
        for (String ch : new String[] {astral, "\uFF01", "a", astral, "\uFF01"}) {
            c.record(ch);
        }
        assertEquals(List.of(new ChannelCount("\uFF01", 2), new ChannelCount(astral, 2), new ChannelCount("a", 1)),
                c.top(3));
        assertEquals(List.of(new ChannelCount("\uFF01", 2)), c.top(1)); // the bounded heap agrees
    }
}

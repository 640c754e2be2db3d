package io.streamrank.events;

import io.streamrank.skiplist.IdOrder;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.PriorityQueue;

/**
 * Events per channel since start, and the top k of them.
 *
 * <p>{@link #record} is one hash lookup. {@link #top} is O(C log k) for C channels (a bounded
 * heap), which is cheap for the hundreds-to-thousands of channels a community has and keeps the
 * per-event path free of any ordering work. Order: count descending, ties by channel id
 * ascending in code point order ({@link IdOrder}, as Python compares {@code str} and as the
 * leaderboard breaks its ties; {@link String#compareTo} compares UTF-16 code units, which puts
 * characters above U+FFFF before U+E000..U+FFFF).
 *
 * <p>Not thread-safe: the event processor guards it with its ingest lock.
 */
public final class ChannelCounts {
    /** A mutable count, so an increment does not re-insert into the map. */
    private static final class Counter {
        long value;
    }

    /** Best first: higher count, then smaller channel id. */
    static final Comparator<ChannelCount> BEST_FIRST =
            Comparator.comparingLong(ChannelCount::count).reversed()
                    .thenComparing(ChannelCount::channelId, IdOrder::compare);

    private final Map<String, Counter> counts = new HashMap<>();

    public void record(String channelId) {
        Counter c = counts.get(channelId);
        if (c == null) {
            c = new Counter();
            counts.put(channelId, c);
        }
        c.value++;
    }

    public int channels() {
        return counts.size();
    }

    public long countOf(String channelId) {
        Counter c = counts.get(channelId);
        return c == null ? 0 : c.value;
    }

    /** The k best channels, best first; empty when {@code k <= 0}. */
    public List<ChannelCount> top(int k) {
        if (k <= 0 || counts.isEmpty()) {
            return new ArrayList<>();
        }
        // Min-heap of the best k seen so far: its head is the worst of them.
        PriorityQueue<ChannelCount> heap = new PriorityQueue<>(Math.min(k, counts.size()) + 1, BEST_FIRST.reversed());
        for (Map.Entry<String, Counter> e : counts.entrySet()) {
            long v = e.getValue().value;
            if (heap.size() < k) {
                heap.add(new ChannelCount(e.getKey(), v));
            } else {
                ChannelCount worst = heap.peek();
                if (v > worst.count() || (v == worst.count() && IdOrder.compare(e.getKey(), worst.channelId()) < 0)) {
                    heap.poll();
                    heap.add(new ChannelCount(e.getKey(), v));
                }
            }
        }
        List<ChannelCount> out = new ArrayList<>(heap);
        out.sort(BEST_FIRST);
        return out;
    }
}

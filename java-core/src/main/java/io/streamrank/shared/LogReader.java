package io.streamrank.shared;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import redis.clients.jedis.resps.StreamEntry;

/**
 * Reads a leaderboard log as it stands in Redis, decoded: for tools and for tests that check the
 * replicas against the log itself (every acknowledged write present, once, in order).
 */
public final class LogReader {
    private LogReader() {}

    /** One log entry. {@code ids}/{@code points}/{@code stamps} are a batch (kind "u"), or ids = {user} (kind "r"). */
    public record Entry(String id, String origin, String kind, String[] ids, double[] points, long[] stamps) {}

    /** Every entry of {@code <ns>:lb:<name>:log} after {@code after} ("0-0" for all), oldest first. */
    public static List<Entry> read(RedisEndpoint redis, String namespace, String name, String after) {
        String key = new Keys(namespace, "lb", name).key("log");
        List<Entry> out = new ArrayList<>();
        String from = "(" + after;
        while (true) {
            String start = from;
            List<StreamEntry> page = redis.call("read log", j -> j.xrange(key, start, "+", 1000));
            for (StreamEntry e : page) {
                Map<String, String> f = e.getFields();
                String kind = f.get("k");
                if ("u".equals(kind)) {
                    LogCodec.Updates u = LogCodec.decode(f.get("d"));
                    out.add(new Entry(e.getID().toString(), f.get("o"), kind, u.ids(), u.points(), u.stamps()));
                } else {
                    out.add(new Entry(e.getID().toString(), f.get("o"), kind, new String[] {f.get("d")}, null, null));
                }
            }
            if (page.size() < 1000) {
                return out;
            }
            from = "(" + page.get(page.size() - 1).getID();
        }
    }
}

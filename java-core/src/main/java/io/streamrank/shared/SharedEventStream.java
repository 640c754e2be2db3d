package io.streamrank.shared;

import io.streamrank.events.ChannelCount;
import java.util.ArrayList;
import java.util.List;
import redis.clients.jedis.Pipeline;
import redis.clients.jedis.Response;
import redis.clients.jedis.params.ZRangeParams;
import redis.clients.jedis.resps.Tuple;

/**
 * The write side of a shared event stream and its global statistics.
 *
 * <h2>Keys</h2>
 * {@code <ns>:ev:<name>:stream} (the events, fields t/u/c/ts), {@code :users} (sorted set user
 * -> last-seen second), {@code :channels} (sorted set channel -> minus its event count, so that
 * ascending order is count descending, ties by channel id ascending as in embedded mode),
 * {@code :stats} (hash: accepted, dropped), {@code :dead} (dead letters, see
 * {@link SharedEventConsumer}).
 *
 * <h2>Counting exactly what is stored</h2>
 * {@link #publish} runs one Lua script per chunk of events that XADDs each event and updates the
 * statistics of the same events. A script runs atomically and reaches the append-only file as
 * one unit, so no crash (of the process or of Redis) can leave an event stored but not counted
 * or counted but not stored. Chunks of one call go out in one pipelined round trip.
 *
 * <h2>Unique users in the last hour</h2>
 * Exact, with embedded mode's model: a user's last-seen is the latest event timestamp, clamped
 * to the publisher's clock (ZADD GT keeps the maximum); a user counts at {@code now} when
 * last-seen &gt; now - 3600. Users older than the window are pruned by the publish script.
 */
public final class SharedEventStream {
    static final String PUBLISH_SCRIPT = String.join("\n",
            "local now = tonumber(ARGV[1])",
            "local n = tonumber(ARGV[2])",
            "local ids = {}",
            "for i = 0, n - 1 do",
            "  local b = 3 + i * 4",
            "  ids[i + 1] = redis.call('XADD', KEYS[1], '*', 't', ARGV[b], 'u', ARGV[b + 1], 'c', ARGV[b + 2], 'ts', ARGV[b + 3])",
            "  local seen = tonumber(ARGV[b + 3])",
            "  if seen > now then seen = now end",
            "  redis.call('ZADD', KEYS[2], 'GT', seen, ARGV[b + 1])",
            "  redis.call('ZINCRBY', KEYS[3], -1, ARGV[b + 2])",
            "end",
            "redis.call('HINCRBY', KEYS[4], 'accepted', n)",
            "redis.call('ZREMRANGEBYSCORE', KEYS[2], '-inf', now - " + 3600 + ")",
            "return ids");

    /** Events per script call: bounds the time Redis spends in one script (~0.1-1 ms). */
    static final int CHUNK = 256;

    private final RedisEndpoint redis;
    private final Keys keys;

    public SharedEventStream(RedisEndpoint redis, String namespace, String name) {
        this.redis = redis;
        this.keys = new Keys(namespace, "ev", name);
    }

    public Keys keys() {
        return keys;
    }

    /**
     * Stores events {@code [from, from+n)} and counts them, in one pipelined round trip. Returns
     * their stream ids, in order.
     *
     * @param nowSeconds the caller's clock, for the unique-users window (as in embedded mode)
     * @throws SharedUnavailableException when Redis does not answer in time: then a prefix of
     *         whole chunks may have been stored (and counted), nothing else
     */
    public List<String> publish(String[] types, String[] users, String[] channels, long[] timestamps, int from, int n,
                                long nowSeconds) {
        if (from < 0 || n < 0 || from + n > users.length || types.length < from + n || channels.length < from + n
                || timestamps.length < from + n) {
            throw new IllegalArgumentException("events [" + from + ", " + (from + n) + ") out of range");
        }
        for (int i = from; i < from + n; i++) {
            check("event_type", types[i]);
            check("user_id", users[i]);
            check("channel_id", channels[i]);
        }
        if (n == 0) {
            return List.of();
        }
        List<String> k = List.of(keys.key("stream"), keys.key("users"), keys.key("channels"), keys.key("stats"));
        return redis.call("publish to " + keys.key("stream"), j -> {
            Pipeline p = j.pipelined();
            List<Response<Object>> replies = new ArrayList<>();
            for (int c = from; c < from + n; c += CHUNK) {
                int m = Math.min(CHUNK, from + n - c);
                List<String> a = new ArrayList<>(2 + 4 * m);
                a.add(Long.toString(nowSeconds));
                a.add(Integer.toString(m));
                for (int i = c; i < c + m; i++) {
                    a.add(types[i]);
                    a.add(users[i]);
                    a.add(channels[i]);
                    a.add(Long.toString(timestamps[i]));
                }
                replies.add(p.eval(PUBLISH_SCRIPT, k, a));
            }
            p.sync();
            List<String> ids = new ArrayList<>(n);
            for (Response<Object> r : replies) {
                for (Object id : (List<?>) r.get()) {
                    ids.add(id instanceof byte[] b ? new String(b, java.nio.charset.StandardCharsets.UTF_8) : id.toString());
                }
            }
            return ids;
        });
    }

    private static void check(String what, String s) {
        if (s == null) {
            throw new NullPointerException(what + " must not be null");
        }
        LogCodec.checkEncodable(what, s);
    }

    /** Counts events refused locally (buffer full), so every process reads the same total. */
    public void recordDropped(long n) {
        if (n < 0) {
            throw new IllegalArgumentException("dropped count must be >= 0, got " + n);
        }
        if (n > 0) {
            redis.call("count drops", j -> j.hincrBy(keys.key("stats"), "dropped", n));
        }
    }

    public long acceptedCount() {
        return counter("accepted");
    }

    public long droppedCount() {
        return counter("dropped");
    }

    private long counter(String field) {
        String v = redis.call("read " + field, j -> j.hget(keys.key("stats"), field));
        return v == null ? 0 : Long.parseLong(v);
    }

    /** Distinct users whose last event is within the hour before {@code nowSeconds}. */
    public long uniqueUsersLastHour(long nowSeconds) {
        return redis.call("count unique users",
                j -> j.zcount(keys.key("users"), "(" + (nowSeconds - 3600), "+inf"));
    }

    /** The k busiest channels, count descending, ties by channel id ascending. */
    public List<ChannelCount> topChannels(int k) {
        if (k <= 0) {
            return List.of();
        }
        List<Tuple> top = redis.call("read top channels",
                j -> j.zrangeWithScores(keys.key("channels"), ZRangeParams.zrangeParams(0, k - 1)));
        List<ChannelCount> out = new ArrayList<>(top.size());
        for (Tuple t : top) {
            out.add(new ChannelCount(t.getElement(), (long) -t.getScore()));
        }
        return out;
    }

    /** Events in the stream (delivered or not; acknowledged entries are trimmed by consumers). */
    public long streamLength() {
        return redis.call("XLEN", j -> j.xlen(keys.key("stream")));
    }

    /** Events delivered to some consumer and not acknowledged yet (the group's pending list). */
    public long pendingCount() {
        return redis.call("XPENDING", j -> {
            if (!j.exists(keys.key("stream"))) {
                return 0L;
            }
            try {
                return j.xpending(keys.key("stream"), SharedEventConsumer.GROUP).getTotal();
            } catch (redis.clients.jedis.exceptions.JedisDataException noGroup) {
                return 0L; // NOGROUP: no consumer ever joined
            }
        });
    }

    /** Events in the dead-letter stream. */
    public long deadLetterCount() {
        return redis.call("XLEN", j -> j.xlen(keys.key("dead")));
    }
}

package io.streamrank.shared;

import io.streamrank.leaderboard.DecayedLeaderboard;
import io.streamrank.leaderboard.ExactState;
import io.streamrank.leaderboard.UpdateBatch;
import java.io.IOException;
import java.lang.management.ManagementFactory;
import java.net.InetAddress;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicLong;
import redis.clients.jedis.Jedis;
import redis.clients.jedis.Pipeline;
import redis.clients.jedis.Response;
import redis.clients.jedis.StreamEntryID;
import redis.clients.jedis.params.XAddParams;
import redis.clients.jedis.params.XReadParams;
import redis.clients.jedis.resps.StreamEntry;

/**
 * One process's replica of a leaderboard shared through Redis.
 *
 * <h2>The log</h2>
 * Every change is an entry of the Redis stream {@code <ns>:lb:<name>:log}: {@code k=u} with a
 * batch of updates ({@link LogCodec}) or {@code k=r} with a user id to remove, and {@code o}, the
 * writing process. Redis assigns the entries their order (stream ids); that order is the truth.
 *
 * <h2>The replica</h2>
 * {@link #board()} is a plain {@link DecayedLeaderboard} (queries answered locally, as in
 * embedded mode) changed only through {@link #applyEntries}: the tailer thread reads the log
 * (XREAD BLOCK) from {@link #applied} on and applies each entry, in log order, exactly once:
 * {@code applied} only moves forward, and only after the entry's effect is on the board. Writers do not touch the
 * board out of turn: {@link #append} XADDs and, in the same round trip, reads the log from the
 * replica's position up to its own entry, and applies that range in log order (see
 * {@link #appendEntries}). That gives read-your-writes without ever applying out of log order (a
 * writer applying its own batch at once would put it before other processes' earlier entries,
 * and replicas would then differ in floating-point sums, evictions at max_users and removals),
 * at the cost of one round trip (measured in docs/shared_mode.md).
 *
 * <h2>Snapshots</h2>
 * The hash {@code <ns>:lb:<name>:snap} holds one snapshot: {@code data} (the board's exact
 * state, {@link ExactState}, so a replica started from it is bit-identical to one that applied
 * the whole log) and {@code id}, the log position it covers. A new replica loads it and
 * reads the log after {@code id}. {@link #snapshotNow} writes one under the lease
 * {@code <ns>:lb:<name>:lease} with a script that checks, atomically, that the lease token is
 * still ours and that the new position is after the stored one: a process that lost its lease,
 * or whose board is behind, can never replace the snapshot. The same script trims the log
 * behind the previous snapshot (XTRIM MINID; one snapshot interval of log is kept for lagging
 * replicas) and records that bound in {@code <ns>:lb:<name>:floor}. A replica that finds the
 * floor past its position has missed trimmed entries and reloads the snapshot instead.
 *
 * <h2>Faults</h2>
 * Writes raise {@link SharedUnavailableException} when Redis does not take them within the
 * endpoint's timeout (nothing was appended then). Queries never touch Redis: while Redis is
 * away the replica answers from what it has, and the tailer reconnects (back-off up to 1 s) and
 * resumes from its position, so it catches up without gaps or repeats.
 */
public final class ReplicatedLeaderboard implements AutoCloseable {
    /** Outcome of {@link #snapshotNow}. */
    public enum SnapshotResult { WRITTEN, LEASE_BUSY, NOT_NEWER, LEASE_LOST }

    static final String SNAPSHOT_SCRIPT = String.join("\n",
            "if redis.call('GET', KEYS[2]) ~= ARGV[1] then return -1 end",
            "local cur = redis.call('HGET', KEYS[1], 'id')",
            "if cur then",
            "  local dash = string.find(cur, '-', 1, true)",
            "  local ms = tonumber(string.sub(cur, 1, dash - 1))",
            "  local seq = tonumber(string.sub(cur, dash + 1))",
            "  local nms, nseq = tonumber(ARGV[2]), tonumber(ARGV[3])",
            "  if ms > nms or (ms == nms and seq >= nseq) then return 0 end",
            "end",
            "redis.call('HSET', KEYS[1], 'id', ARGV[4], 'data', ARGV[5])",
            "if cur then",
            "  redis.call('SET', KEYS[3], cur)",
            "  redis.call('XTRIM', KEYS[4], 'MINID', cur)",
            "end",
            "return 1");

    private static final int READ_COUNT = 256;
    private static final long MAX_BACKOFF_MILLIS = 1000;

    private final RedisEndpoint redis;
    private final Keys keys;
    private final String logKey;
    private final String origin;
    private final int blockMillis;
    private final long leaseTtlMillis;

    private final DecayedLeaderboard board;
    /**
     * Guards {@link #applied} and orders every change of {@link #board} against snapshot
     * capture: the board holds exactly the log up to {@code applied} whenever this lock is free.
     * Waiters on it are woken (notifyAll) each time {@code applied} moves.
     */
    private final Object applyLock = new Object();
    private StreamId applied = StreamId.ZERO;

    /** Results of this process's own removals, by entry id, for the writer waiting on them. */
    private final Map<StreamId, Boolean> removeResults = new ConcurrentHashMap<>();

    private final Thread tailer;
    private volatile boolean closed;
    /** The tailer's connection, so close() can break a blocked read. */
    private volatile Jedis tailConnection;
    private volatile boolean connected;
    private volatile String lastError;
    private final AtomicLong appliedEntries = new AtomicLong();
    private final AtomicLong skippedEntries = new AtomicLong();
    private final AtomicLong reloads = new AtomicLong();
    /** Tests only: when set, the tailer waits on it before each read (a replica left behind). */
    volatile java.util.concurrent.CountDownLatch holdTailer;

    private ReplicatedLeaderboard(RedisEndpoint redis, String namespace, String name, double decayFactor,
                                  long maxUsers, int blockMillis, long leaseTtlMillis) {
        this.redis = redis;
        this.keys = new Keys(namespace, "lb", name);
        this.logKey = keys.key("log");
        this.origin = processId();
        this.blockMillis = blockMillis;
        this.leaseTtlMillis = leaseTtlMillis;
        this.board = new DecayedLeaderboard(decayFactor, maxUsers);
        this.tailer = new Thread(this::tail, "streamrank-shared-tailer-" + name);
        this.tailer.setDaemon(true);
    }

    /**
     * Loads the latest snapshot, starts the tailer and waits (up to the endpoint's timeout)
     * until the replica has applied the log as it stood at the call.
     *
     * @throws SharedUnavailableException when Redis cannot be reached (nothing started)
     */
    public static ReplicatedLeaderboard open(RedisEndpoint redis, String namespace, String name,
                                             double decayFactor, long maxUsers) {
        return open(redis, namespace, name, decayFactor, maxUsers, 1000, 30_000);
    }

    public static ReplicatedLeaderboard open(RedisEndpoint redis, String namespace, String name,
                                             double decayFactor, long maxUsers, int blockMillis,
                                             long leaseTtlMillis) {
        ReplicatedLeaderboard r = new ReplicatedLeaderboard(redis, namespace, name, decayFactor, maxUsers,
                blockMillis, leaseTtlMillis);
        r.loadSnapshot();
        r.tailer.start();
        try {
            r.catchUp(redis.timeoutMillis());
        } catch (RuntimeException e) {
            r.close();
            throw e;
        }
        return r;
    }

    /** host:pid:random, unique per process and per replica. */
    static String processId() {
        String host;
        try {
            host = InetAddress.getLocalHost().getHostName();
        } catch (IOException e) {
            host = "unknown";
        }
        return host + ":" + ProcessHandle.current().pid() + ":" + Lease.newToken().substring(0, 8);
    }

    /** The replica. Query it freely; never change it (only log entries do, see applyEntries). */
    public DecayedLeaderboard board() {
        return board;
    }

    public String origin() {
        return origin;
    }

    public Keys keys() {
        return keys;
    }

    // ---------------------------------------------------------------- writes

    /**
     * Appends the updates to the log, {@code perEntry} updates per entry, all entries in one
     * pipelined round trip, then waits (up to the endpoint's timeout) until this replica shows
     * them. Returns the id of the last entry.
     *
     * <p>If the call raises {@link SharedUnavailableException}, Redis may have stored a prefix
     * of the entries (whole entries, never part of one) before the connection broke.
     * If Redis took every entry but the tailer cannot read them back in time, the call returns
     * all the same (they are in the log and every replica, this one included, will apply them):
     * {@link #awaitApplied} tells whether they are visible yet.
     */
    public StreamId append(String[] ids, double[] points, long[] stamps, int perEntry) {
        new UpdateBatch(ids, points, stamps); // validates lengths, nulls, finite points
        for (String id : ids) {
            LogCodec.checkEncodable("user_id", id);
        }
        if (perEntry <= 0) {
            throw new IllegalArgumentException("perEntry must be > 0, got " + perEntry);
        }
        if (ids.length == 0) {
            return appliedId();
        }
        List<Map<String, String>> entries = new ArrayList<>();
        for (int from = 0; from < ids.length; from += perEntry) {
            int to = Math.min(ids.length, from + perEntry);
            entries.add(Map.of("o", origin, "k", "u", "d", LogCodec.encode(ids, points, stamps, from, to)));
        }
        return appendEntries(entries);
    }

    /** The most entries a writer reads back and applies itself (else it waits for the tailer). */
    static final int CATCH_UP_COUNT = 1024;

    /**
     * XADDs the entries and, in the same pipelined round trip, reads the log from this replica's
     * position on (XRANGE) and the trim floor; then applies what it read, in log order, under
     * the same lock and the same exactly-once rule as the tailer (an entry is applied only if it
     * is after {@link #applied}; whoever of the writer and the tailer gets there first applies
     * it, the other skips it). So the writer sees its own entries after one round trip, without
     * ever applying out of log order. When the replica is too far behind (more than
     * {@link #CATCH_UP_COUNT} entries) or the log was trimmed past it, it waits for the tailer.
     */
    private StreamId appendEntries(List<Map<String, String>> entries) {
        StreamId from = appliedId();
        Object[] got = redis.call("append to " + logKey, j -> {
            Pipeline p = j.pipelined();
            List<Response<StreamEntryID>> replies = new ArrayList<>(entries.size());
            for (Map<String, String> fields : entries) {
                replies.add(p.xadd(logKey, XAddParams.xAddParams(), fields));
            }
            Response<List<StreamEntry>> read = p.xrange(logKey, "(" + from, "+", CATCH_UP_COUNT);
            Response<String> floor = p.get(keys.key("floor"));
            p.sync();
            StreamEntryID id = replies.get(replies.size() - 1).get();
            return new Object[] {new StreamId(id.getTime(), id.getSequence()), read.get(), floor.get()};
        });
        StreamId last = (StreamId) got[0];
        @SuppressWarnings("unchecked")
        List<StreamEntry> read = (List<StreamEntry>) got[1];
        String floor = (String) got[2];
        if (floor == null || !StreamId.parse(floor).after(from)) {
            applyEntries(read);
        }
        awaitApplied(last, redis.timeoutMillis());
        return last;
    }

    public StreamId append(String[] ids, double[] points, long[] stamps) {
        return append(ids, points, stamps, 512);
    }

    /**
     * Removes a user through the log. Returns whether the user was on this replica's board when
     * the removal was applied (false also when the tailer could not apply it within the timeout).
     */
    public boolean remove(String userId) {
        if (userId == null) {
            throw new NullPointerException("user_id must not be null");
        }
        LogCodec.checkEncodable("user_id", userId);
        StreamId id = appendEntries(List.of(Map.of("o", origin, "k", "r", "d", userId)));
        Boolean removed = removeResults.remove(id);
        return removed != null && removed;
    }

    // ---------------------------------------------------------------- positions

    /** The last log entry applied to the replica (ZERO before any). */
    public StreamId appliedId() {
        synchronized (applyLock) {
            return applied;
        }
    }

    /** Waits until the replica has applied {@code id}; false when the timeout passed first. */
    public boolean awaitApplied(StreamId id, long timeoutMillis) {
        long deadline = System.nanoTime() + timeoutMillis * 1_000_000L;
        synchronized (applyLock) {
            while (id.after(applied)) {
                long left = (deadline - System.nanoTime()) / 1_000_000L;
                if (left <= 0 || closed) {
                    return false;
                }
                try {
                    applyLock.wait(left);
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                    return false;
                }
            }
            return true;
        }
    }

    /**
     * Waits until the replica has applied some entry after {@code after}; returns its position
     * then ({@code after} itself on timeout). For watchers and the visibility benchmark.
     */
    public StreamId awaitAfter(StreamId after, long timeoutMillis) {
        long deadline = System.nanoTime() + timeoutMillis * 1_000_000L;
        synchronized (applyLock) {
            while (!applied.after(after)) {
                long left = (deadline - System.nanoTime()) / 1_000_000L;
                if (left <= 0 || closed) {
                    return after;
                }
                try {
                    applyLock.wait(left);
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                    return after;
                }
            }
            return applied;
        }
    }

    /** The id of the log's last entry (ZERO when empty). */
    public StreamId logTail() {
        return redis.call("read tail of " + logKey, j -> {
            List<StreamEntry> last = j.xrevrange(logKey, "+", "-", 1);
            if (last.isEmpty()) {
                return StreamId.ZERO;
            }
            StreamEntryID e = last.get(0).getID();
            return new StreamId(e.getTime(), e.getSequence());
        });
    }

    /** Waits until the replica has applied the log as it stands now; false on timeout. */
    public boolean catchUp(long timeoutMillis) {
        return awaitApplied(logTail(), timeoutMillis);
    }

    public boolean connected() {
        return connected;
    }

    public String lastError() {
        return lastError;
    }

    public long appliedEntries() {
        return appliedEntries.get();
    }

    public long skippedEntries() {
        return skippedEntries.get();
    }

    /** How many times the replica reloaded the snapshot because the log was trimmed past it. */
    public long reloads() {
        return reloads.get();
    }

    // ---------------------------------------------------------------- snapshots

    /** The position of the stored snapshot (null when there is none). */
    public StreamId snapshotId() {
        String id = redis.call("read snapshot id", j -> j.hget(keys.key("snap"), "id"));
        return id == null ? null : StreamId.parse(id);
    }

    /**
     * Writes this replica's board as the shared snapshot, if this process gets the lease and its
     * position is after the stored snapshot's.
     */
    public SnapshotResult snapshotNow() {
        Lease lease = Lease.tryAcquire(redis, keys.key("lease"), leaseTtlMillis);
        if (lease == null) {
            return SnapshotResult.LEASE_BUSY;
        }
        try {
            StreamId at;
            byte[] data;
            synchronized (applyLock) {
                at = applied;
                data = ExactState.capture(board);
            }
            // Serialising a big board takes a while: extend the lease before the write, which
            // checks the token again anyway.
            if (!lease.renew()) {
                return SnapshotResult.LEASE_LOST;
            }
            List<byte[]> k = List.of(bytes(keys.key("snap")), bytes(keys.key("lease")), bytes(keys.key("floor")),
                    bytes(logKey));
            List<byte[]> a = List.of(bytes(lease.token()), bytes(Long.toUnsignedString(at.millis())),
                    bytes(Long.toUnsignedString(at.seq())), bytes(at.toString()), data);
            Object r = redis.call("write snapshot", j -> j.eval(bytes(SNAPSHOT_SCRIPT), k, a));
            long code = (Long) r;
            return code == 1 ? SnapshotResult.WRITTEN : code == 0 ? SnapshotResult.NOT_NEWER : SnapshotResult.LEASE_LOST;
        } finally {
            try {
                lease.release();
            } catch (SharedUnavailableException ignored) {
                // the lease expires by itself
            }
        }
    }

    private static byte[] bytes(String s) {
        return s.getBytes(StandardCharsets.UTF_8);
    }

    /** Replaces the replica with the stored snapshot, if there is one. */
    private void loadSnapshot() {
        List<byte[]> idData = redis.call("read snapshot",
                j -> j.hmget(bytes(keys.key("snap")), bytes("id"), bytes("data")));
        if (idData.get(0) == null || idData.get(1) == null) {
            return;
        }
        StreamId id = StreamId.parse(new String(idData.get(0), StandardCharsets.UTF_8));
        synchronized (applyLock) {
            if (!id.after(applied)) {
                return; // never move back
            }
            ExactState.restore(board, idData.get(1));
            applied = id;
            applyLock.notifyAll();
        }
    }

    // ---------------------------------------------------------------- the tailer

    private void tail() {
        long backoff = 50;
        while (!closed) {
            try {
                Jedis conn = tailConnection;
                if (conn == null) {
                    conn = redis.dedicated(blockMillis);
                    tailConnection = conn;
                    if (closed) {
                        break;
                    }
                }
                connected = true;
                java.util.concurrent.CountDownLatch hold = holdTailer;
                if (hold != null) {
                    hold.await();
                    holdTailer = null;
                }
                StreamId from = appliedId();
                Pipeline p = conn.pipelined();
                Response<List<Map.Entry<String, List<StreamEntry>>>> read = p.xread(
                        XReadParams.xReadParams().count(READ_COUNT).block(blockMillis),
                        Map.of(logKey, new StreamEntryID(from.millis(), from.seq())));
                Response<String> floor = p.get(keys.key("floor"));
                p.sync();
                backoff = 50;
                String f = floor.get();
                if (f != null && StreamId.parse(f).after(from)) {
                    // Entries between our position and the floor may be gone: start again from
                    // the snapshot, which covers at least up to the floor.
                    reloads.incrementAndGet();
                    loadSnapshot();
                    continue;
                }
                List<Map.Entry<String, List<StreamEntry>>> got = read.get();
                if (got != null) {
                    for (Map.Entry<String, List<StreamEntry>> stream : got) {
                        applyEntries(stream.getValue());
                    }
                }
            } catch (InterruptedException e) {
                break;
            } catch (RuntimeException e) {
                connected = false;
                if (closed) {
                    break;
                }
                lastError = e.toString();
                Jedis conn = tailConnection;
                tailConnection = null;
                if (conn != null) {
                    try {
                        conn.close();
                    } catch (RuntimeException ignored) {
                        // broken already
                    }
                }
                try {
                    Thread.sleep(backoff);
                } catch (InterruptedException ie) {
                    break;
                }
                backoff = Math.min(MAX_BACKOFF_MILLIS, backoff * 2);
            }
        }
        connected = false;
        Jedis conn = tailConnection; // one opened while close() ran
        tailConnection = null;
        if (conn != null) {
            try {
                conn.close();
            } catch (RuntimeException ignored) {
                // closing anyway
            }
        }
    }

    private void applyEntries(List<StreamEntry> entries) {
        synchronized (applyLock) {
            for (StreamEntry e : entries) {
                StreamId id = new StreamId(e.getID().getTime(), e.getID().getSequence());
                if (!id.after(applied)) {
                    continue; // a reload moved past it meanwhile
                }
                Map<String, String> f = e.getFields();
                String kind = f.get("k");
                String data = f.get("d");
                try {
                    if ("u".equals(kind) && data != null) {
                        board.apply(LogCodec.decode(data).toBatch());
                    } else if ("r".equals(kind) && data != null) {
                        boolean removed = board.remove(data);
                        if (origin.equals(f.get("o"))) {
                            removeResults.put(id, removed);
                        }
                    } else {
                        skippedEntries.incrementAndGet();
                    }
                } catch (RuntimeException bad) {
                    // A malformed entry (written by something else) must not stall every replica.
                    skippedEntries.incrementAndGet();
                    lastError = "skipped log entry " + id + ": " + bad;
                }
                applied = id;
                appliedEntries.incrementAndGet();
            }
            applyLock.notifyAll();
        }
    }

    /** Stops the tailer (the board stays readable). */
    @Override
    public void close() {
        closed = true;
        Jedis conn = tailConnection;
        if (conn != null) {
            try {
                conn.disconnect();
            } catch (RuntimeException ignored) {
                // closing anyway
            }
        }
        tailer.interrupt();
        try {
            tailer.join(redis.timeoutMillis() + blockMillis);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
        synchronized (applyLock) {
            applyLock.notifyAll();
        }
    }

    /** JVM diagnostics for docs: the number of live threads. */
    static int threadCount() {
        return ManagementFactory.getThreadMXBean().getThreadCount();
    }
}

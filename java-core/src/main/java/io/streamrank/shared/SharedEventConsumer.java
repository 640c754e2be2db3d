package io.streamrank.shared;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.atomic.AtomicLong;
import redis.clients.jedis.Jedis;
import redis.clients.jedis.StreamEntryID;
import redis.clients.jedis.Transaction;
import redis.clients.jedis.exceptions.JedisDataException;
import redis.clients.jedis.params.XAddParams;
import redis.clients.jedis.params.XAutoClaimParams;
import redis.clients.jedis.params.XClaimParams;
import redis.clients.jedis.params.XPendingParams;
import redis.clients.jedis.params.XReadGroupParams;
import redis.clients.jedis.params.XTrimParams;
import redis.clients.jedis.resps.StreamEntry;
import redis.clients.jedis.resps.StreamGroupInfo;
import redis.clients.jedis.resps.StreamPendingEntry;
import redis.clients.jedis.resps.StreamPendingSummary;

/**
 * One process's member of the consumer group {@code streamrank} on a shared event stream: it
 * reads batches, hands them to a {@link DeliveryCallback} and acknowledges (XACK) a batch only
 * after the callback returned true.
 *
 * <h2>At-least-once</h2>
 * A batch read by a consumer stays in the group's pending list (PEL) until acknowledged. A
 * consumer that dies (kill -9, lost machine) leaves its batch there; any other consumer claims
 * entries idle for longer than {@code claimIdleMillis} (XAUTOCLAIM, checked before each read)
 * and delivers them. So every stored event reaches a callback that returns true, and can reach
 * one more than once: when a process dies after its callback stored a batch but before the
 * XACK, or when a callback runs longer than {@code claimIdleMillis} (another consumer then
 * claims the batch too). Callbacks make that harmless by being idempotent on
 * {@link DeliveredEvent#streamId}.
 *
 * <h2>Retries and dead letters, across processes</h2>
 * The attempt number of a batch is Redis' delivery count (highest of its entries), which
 * XREADGROUP, XCLAIM and XAUTOCLAIM increment wherever they run: attempts made by a consumer
 * that died count for the one that claims the batch. After a failure the consumer waits
 * {@code backoffMillis * 2^(attempt-1)} (capped at half the claim idle time, so nobody else
 * claims it meanwhile), re-claims its own entries (XCLAIM, the count goes up) and tries again.
 * A batch whose attempts reach {@code maxAttempts} goes to {@code <ns>:ev:<name>:dead} with the
 * source id, attempt count and last error, in one MULTI with its XACK.
 *
 * <h2>Stream length</h2>
 * Every 64 polls the consumer trims entries every consumer has acknowledged (below the oldest
 * pending entry and not after the group's last-delivered id).
 */
public final class SharedEventConsumer implements AutoCloseable {
    public static final String GROUP = "streamrank";

    public record Options(int batchSize, int blockMillis, long claimIdleMillis, int maxAttempts, long backoffMillis) {
        public Options {
            if (batchSize <= 0 || blockMillis <= 0 || claimIdleMillis <= 0 || maxAttempts <= 0 || backoffMillis < 0) {
                throw new IllegalArgumentException("consumer options must be positive: " + batchSize + ", "
                        + blockMillis + ", " + claimIdleMillis + ", " + maxAttempts + ", " + backoffMillis);
            }
        }

        public static Options defaults() {
            return new Options(500, 1000, 30_000, 3, 100);
        }
    }

    private final RedisEndpoint redis;
    private final Keys keys;
    private final String streamKey;
    private final String consumerName;
    private final DeliveryCallback callback;
    private final Options options;

    private Thread thread;
    private volatile boolean closed;
    /** The polling connection, so close() can break a blocked read. */
    private volatile Jedis connection;
    private volatile String lastError;
    private long polls;
    private final AtomicLong delivered = new AtomicLong();
    private final AtomicLong failures = new AtomicLong();
    private final AtomicLong deadLettered = new AtomicLong();
    private final AtomicLong claimed = new AtomicLong();

    public SharedEventConsumer(RedisEndpoint redis, String namespace, String name, DeliveryCallback callback,
                               Options options) {
        this.redis = redis;
        this.keys = new Keys(namespace, "ev", name);
        this.streamKey = keys.key("stream");
        this.consumerName = ReplicatedLeaderboard.processId();
        this.callback = callback;
        this.options = options;
        ensureGroup(redis, streamKey);
    }

    /** Creates the group at the stream's start (events stored before any consumer are delivered too). */
    static void ensureGroup(RedisEndpoint redis, String streamKey) {
        redis.call("create consumer group", j -> {
            try {
                return j.xgroupCreate(streamKey, GROUP, new StreamEntryID(0, 0), true);
            } catch (JedisDataException e) {
                if (e.getMessage() != null && e.getMessage().startsWith("BUSYGROUP")) {
                    return "exists";
                }
                throw e;
            }
        });
    }

    public String name() {
        return consumerName;
    }

    public synchronized void start() {
        if (thread != null) {
            throw new IllegalStateException("consumer already started");
        }
        thread = new Thread(this::run, "streamrank-shared-consumer");
        thread.setDaemon(true);
        thread.start();
    }

    private void run() {
        long backoff = 50;
        while (!closed) {
            try {
                pollOnce();
                backoff = 50;
            } catch (RuntimeException e) {
                if (closed) {
                    break;
                }
                lastError = e.toString();
                dropConnection();
                try {
                    Thread.sleep(backoff);
                } catch (InterruptedException ie) {
                    break;
                }
                backoff = Math.min(1000, backoff * 2);
            }
        }
    }

    private Jedis conn() {
        Jedis c = connection;
        if (c == null) {
            c = redis.dedicated(options.blockMillis());
            connection = c;
        }
        return c;
    }

    private void dropConnection() {
        Jedis c = connection;
        connection = null;
        if (c != null) {
            try {
                c.close();
            } catch (RuntimeException ignored) {
                // broken already
            }
        }
    }

    /**
     * One step: claim entries idle past the claim time, else read new ones (blocking up to the
     * block time), and handle them as one batch. Returns the number of entries handled.
     */
    public int pollOnce() {
        try {
            Jedis c = conn();
            if (++polls % 64 == 0) {
                trimAcknowledged(c);
            }
            List<StreamEntry> batch = c.xautoclaim(streamKey, GROUP, consumerName, options.claimIdleMillis(),
                    new StreamEntryID(0, 0), XAutoClaimParams.xAutoClaimParams().count(options.batchSize())).getValue();
            batch = withoutNulls(batch);
            long attempt;
            if (!batch.isEmpty()) {
                claimed.addAndGet(batch.size());
                attempt = deliveryCount(c, batch);
            } else {
                List<Map.Entry<String, List<StreamEntry>>> got = c.xreadGroup(GROUP, consumerName,
                        XReadGroupParams.xReadGroupParams().count(options.batchSize()).block(options.blockMillis()),
                        Map.of(streamKey, StreamEntryID.XREADGROUP_UNDELIVERED_ENTRY));
                if (got == null || got.isEmpty()) {
                    return 0;
                }
                batch = withoutNulls(got.get(0).getValue());
                attempt = 1;
            }
            if (batch.isEmpty()) {
                return 0;
            }
            handle(c, batch, attempt);
            return batch.size();
        } catch (RuntimeException e) {
            if (e instanceof SharedUnavailableException) {
                throw e;
            }
            if (RedisEndpoint.isConnectionTrouble(e)) {
                throw redis.unavailable("consume " + streamKey, e);
            }
            throw e;
        }
    }

    private static List<StreamEntry> withoutNulls(List<StreamEntry> entries) {
        List<StreamEntry> out = new ArrayList<>(entries.size());
        for (StreamEntry e : entries) {
            if (e != null && e.getFields() != null) {
                out.add(e);
            }
        }
        return out;
    }

    /** The highest delivery count among the batch's entries, from the PEL. */
    private long deliveryCount(Jedis c, List<StreamEntry> batch) {
        List<StreamPendingEntry> pending = c.xpending(streamKey, GROUP, XPendingParams.xPendingParams(
                batch.get(0).getID(), batch.get(batch.size() - 1).getID(), batch.size() * 2).consumer(consumerName));
        long max = 1;
        for (StreamPendingEntry p : pending) {
            max = Math.max(max, p.getDeliveredTimes());
        }
        return max;
    }

    private void handle(Jedis c, List<StreamEntry> batch, long attempt) {
        while (!closed) {
            if (attempt > options.maxAttempts()) {
                deadLetter(c, batch, attempt - 1, lastError);
                return;
            }
            List<DeliveredEvent> events = new ArrayList<>(batch.size());
            for (StreamEntry e : batch) {
                Map<String, String> f = e.getFields();
                events.add(new DeliveredEvent(e.getID().toString(), f.get("t"), f.get("u"), f.get("c"),
                        parseLong(f.get("ts")), attempt));
            }
            boolean ok;
            String error = null;
            try {
                ok = callback.deliver(events);
                if (!ok) {
                    error = "callback returned false";
                }
            } catch (Exception ex) {
                ok = false;
                error = ex.toString();
            }
            if (ok) {
                c.xack(streamKey, GROUP, ids(batch));
                delivered.addAndGet(batch.size());
                return;
            }
            failures.incrementAndGet();
            lastError = error;
            if (attempt >= options.maxAttempts()) {
                deadLetter(c, batch, attempt, error);
                return;
            }
            long wait = Math.min(options.backoffMillis() << Math.min(20, attempt - 1), options.claimIdleMillis() / 2);
            try {
                Thread.sleep(wait);
            } catch (InterruptedException ie) {
                Thread.currentThread().interrupt();
                return; // left pending: claimed later, here or elsewhere
            }
            // Take the entries again: bumps their delivery count, which is what counts attempts.
            batch = withoutNulls(c.xclaim(streamKey, GROUP, consumerName, 0, XClaimParams.xClaimParams(), ids(batch)));
            if (batch.isEmpty()) {
                return;
            }
            attempt++;
        }
    }

    private static long parseLong(String s) {
        try {
            return s == null ? 0 : Long.parseLong(s);
        } catch (NumberFormatException e) {
            return 0;
        }
    }

    private static StreamEntryID[] ids(List<StreamEntry> batch) {
        StreamEntryID[] ids = new StreamEntryID[batch.size()];
        for (int i = 0; i < ids.length; i++) {
            ids[i] = batch.get(i).getID();
        }
        return ids;
    }

    private void deadLetter(Jedis c, List<StreamEntry> batch, long attempts, String error) {
        Transaction t = c.multi();
        for (StreamEntry e : batch) {
            Map<String, String> f = new HashMap<>(e.getFields());
            f.put("src", e.getID().toString());
            f.put("attempts", Long.toString(attempts));
            f.put("error", error == null ? "" : error);
            t.xadd(keys.key("dead"), XAddParams.xAddParams(), f);
        }
        t.xack(streamKey, GROUP, ids(batch));
        t.exec();
        deadLettered.addAndGet(batch.size());
    }

    /** XTRIM MINID: drops entries below the oldest pending one and not after the last delivered. */
    private void trimAcknowledged(Jedis c) {
        StreamEntryID lastDelivered = null;
        for (StreamGroupInfo g : c.xinfoGroups(streamKey)) {
            if (GROUP.equals(g.getName())) {
                lastDelivered = g.getLastDeliveredId();
            }
        }
        if (lastDelivered == null) {
            return;
        }
        StreamPendingSummary s = c.xpending(streamKey, GROUP);
        StreamEntryID bound = s.getTotal() > 0 ? s.getMinId()
                : new StreamEntryID(lastDelivered.getTime(), lastDelivered.getSequence() + 1);
        c.xtrim(streamKey, XTrimParams.xTrimParams().minId(bound.toString()));
    }

    public long deliveredCount() {
        return delivered.get();
    }

    public long failureCount() {
        return failures.get();
    }

    public long deadLetteredCount() {
        return deadLettered.get();
    }

    /** Entries this consumer took over from others (or from its own earlier, stalled attempts). */
    public long claimedCount() {
        return claimed.get();
    }

    public String lastError() {
        return lastError;
    }

    /**
     * Stops polling: lets a batch being delivered finish and be acknowledged (waiting up to the
     * block time plus the timeout), then breaks the connection. A batch still in its callback
     * after that stays pending, and another consumer claims it.
     */
    @Override
    public void close() {
        closed = true;
        Thread t;
        synchronized (this) {
            t = thread;
        }
        try {
            if (t != null) {
                t.join(redis.timeoutMillis() + options.blockMillis());
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
        Jedis c = connection;
        if (c != null) {
            try {
                c.disconnect();
            } catch (RuntimeException ignored) {
                // closing anyway
            }
        }
        if (t != null) {
            t.interrupt();
        }
    }
}

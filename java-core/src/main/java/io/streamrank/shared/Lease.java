package io.streamrank.shared;

import java.security.SecureRandom;
import java.util.HexFormat;
import java.util.List;
import redis.clients.jedis.params.SetParams;

/**
 * A lease on one key: held by whoever SET it with their random token (SET NX PX), for at most
 * its time to live unless renewed. Renewal and release compare the token first (a Lua script, so
 * compare-and-act is atomic): a holder whose lease expired and was taken by another can neither
 * extend nor delete the new holder's lease. A lease is a hint, not a fence; writers that must
 * not act after losing it check the token inside their own write script (see
 * {@link ReplicatedLeaderboard#snapshotNow}).
 */
public final class Lease {
    private static final SecureRandom RANDOM = new SecureRandom();

    static final String RENEW = "if redis.call('GET', KEYS[1]) == ARGV[1] then "
            + "return redis.call('PEXPIRE', KEYS[1], ARGV[2]) else return 0 end";
    static final String RELEASE = "if redis.call('GET', KEYS[1]) == ARGV[1] then "
            + "return redis.call('DEL', KEYS[1]) else return 0 end";

    private final RedisEndpoint redis;
    private final String key;
    private final String token;
    private final long ttlMillis;

    private Lease(RedisEndpoint redis, String key, String token, long ttlMillis) {
        this.redis = redis;
        this.key = key;
        this.token = token;
        this.ttlMillis = ttlMillis;
    }

    static String newToken() {
        byte[] b = new byte[16];
        RANDOM.nextBytes(b);
        return HexFormat.of().formatHex(b);
    }

    /** The lease if nobody holds it, else null. */
    public static Lease tryAcquire(RedisEndpoint redis, String key, long ttlMillis) {
        if (ttlMillis <= 0) {
            throw new IllegalArgumentException("lease ttl must be > 0 ms, got " + ttlMillis);
        }
        String token = newToken();
        String ok = redis.call("lease " + key, j -> j.set(key, token, SetParams.setParams().nx().px(ttlMillis)));
        return "OK".equals(ok) ? new Lease(redis, key, token, ttlMillis) : null;
    }

    public String key() {
        return key;
    }

    public String token() {
        return token;
    }

    /** Extends the lease by its ttl; false when it was lost (expired, maybe taken by another). */
    public boolean renew() {
        Object r = redis.call("renew lease " + key,
                j -> j.eval(RENEW, List.of(key), List.of(token, Long.toString(ttlMillis))));
        return r instanceof Long n && n == 1L;
    }

    /** Gives the lease up; false when it was no longer ours (nothing deleted then). */
    public boolean release() {
        Object r = redis.call("release lease " + key, j -> j.eval(RELEASE, List.of(key), List.of(token)));
        return r instanceof Long n && n == 1L;
    }
}

package io.streamrank.shared;

import java.net.URI;
import java.net.URISyntaxException;
import java.util.function.Function;
import org.apache.commons.pool2.impl.GenericObjectPoolConfig;
import redis.clients.jedis.DefaultJedisClientConfig;
import redis.clients.jedis.HostAndPort;
import redis.clients.jedis.Jedis;
import redis.clients.jedis.JedisClientConfig;
import redis.clients.jedis.JedisPool;
import redis.clients.jedis.exceptions.JedisConnectionException;
import redis.clients.jedis.exceptions.JedisException;

/**
 * One Redis server ({@code redis://[:password@]host:port/db}) and a small pool of connections to
 * it, with one timeout bounding every step of a call: connecting, waiting for a pooled
 * connection, and waiting for each reply. So no call can hang: it answers or raises
 * {@link SharedUnavailableException} within a few multiples of {@link #timeoutMillis()}
 * (connect + reply; documented in docs/shared_mode.md).
 *
 * <p>Jedis does blocking I/O in the calling thread and starts no threads of its own; blocking
 * reads (XREAD BLOCK, XREADGROUP BLOCK) use {@link #dedicated} connections whose socket timeout
 * covers the block time.
 */
public final class RedisEndpoint implements AutoCloseable {
    public static final int DEFAULT_TIMEOUT_MILLIS = 2000;

    private final String host;
    private final int port;
    private final int database;
    private final String password;
    private final int timeoutMillis;
    private final JedisPool pool;

    private RedisEndpoint(String host, int port, int database, String password, int timeoutMillis) {
        this.host = host;
        this.port = port;
        this.database = database;
        this.password = password;
        this.timeoutMillis = timeoutMillis;
        GenericObjectPoolConfig<Jedis> poolConfig = new GenericObjectPoolConfig<>();
        poolConfig.setMaxTotal(16);
        poolConfig.setMaxIdle(16);
        poolConfig.setMinIdle(0);
        // Waiting for a free connection is bounded too (the default waits forever).
        poolConfig.setMaxWait(java.time.Duration.ofMillis(timeoutMillis));
        poolConfig.setJmxEnabled(false);
        // A connection broken by a server restart is found at borrow time, not at first use.
        poolConfig.setTestOnBorrow(true);
        this.pool = new JedisPool(poolConfig, new HostAndPort(host, port), config(timeoutMillis));
    }

    /** Parses {@code redis://[:password@]host[:port][/db]}; the timeout bounds every step of a call. */
    public static RedisEndpoint open(String uri, int timeoutMillis) {
        if (timeoutMillis <= 0) {
            throw new IllegalArgumentException("timeout must be > 0 ms, got " + timeoutMillis);
        }
        URI u;
        try {
            u = new URI(uri);
        } catch (URISyntaxException e) {
            throw new IllegalArgumentException("not a redis:// URL: " + uri, e);
        }
        if (!"redis".equals(u.getScheme()) || u.getHost() == null) {
            throw new IllegalArgumentException("not a redis://host:port/db URL: " + uri);
        }
        int port = u.getPort() < 0 ? 6379 : u.getPort();
        int db = 0;
        String path = u.getPath();
        if (path != null && path.length() > 1) {
            try {
                db = Integer.parseInt(path.substring(1));
            } catch (NumberFormatException e) {
                throw new IllegalArgumentException("database in a redis:// URL must be a number: " + uri, e);
            }
        }
        String password = null;
        if (u.getUserInfo() != null) {
            String info = u.getUserInfo();
            password = info.substring(info.indexOf(':') + 1);
        }
        return new RedisEndpoint(u.getHost(), port, db, password, timeoutMillis);
    }

    public static RedisEndpoint open(String uri) {
        return open(uri, DEFAULT_TIMEOUT_MILLIS);
    }

    private JedisClientConfig config(int socketTimeoutMillis) {
        DefaultJedisClientConfig.Builder b = DefaultJedisClientConfig.builder()
                .connectionTimeoutMillis(timeoutMillis)
                .socketTimeoutMillis(socketTimeoutMillis)
                .database(database)
                .clientName("streamrank");
        if (password != null) {
            b.password(password);
        }
        return b.build();
    }

    public int timeoutMillis() {
        return timeoutMillis;
    }

    /** {@code redis://host:port/db}, without the password: for messages. */
    public String describe() {
        return "redis://" + host + ":" + port + "/" + database;
    }

    /** Runs {@code f} on a pooled connection; connection trouble becomes {@link SharedUnavailableException}. */
    public <T> T call(String what, Function<Jedis, T> f) {
        try (Jedis jedis = pool.getResource()) {
            return f.apply(jedis);
        } catch (JedisConnectionException e) {
            throw unavailable(what, e);
        } catch (JedisException e) {
            if (isConnectionTrouble(e)) {
                throw unavailable(what, e);
            }
            throw new IllegalStateException(what + " failed at " + describe() + ": " + e.getMessage(), e);
        }
    }

    /** A connection of its own (not pooled) for blocking reads of up to {@code blockMillis}. */
    public Jedis dedicated(int blockMillis) {
        Jedis jedis = new Jedis(new HostAndPort(host, port), config(blockMillis + timeoutMillis));
        try {
            jedis.ping();
        } catch (JedisException e) {
            jedis.close();
            throw unavailable("connect", e);
        }
        return jedis;
    }

    static boolean isConnectionTrouble(Throwable e) {
        for (Throwable t = e; t != null; t = t.getCause()) {
            if (t instanceof JedisConnectionException || t instanceof java.io.IOException
                    || t instanceof java.util.NoSuchElementException) { // pool: no connection in time
                return true;
            }
            String m = t.getMessage();
            if (m != null && (m.startsWith("LOADING") || m.startsWith("MASTERDOWN"))) {
                return true;
            }
        }
        return false;
    }

    SharedUnavailableException unavailable(String what, Throwable cause) {
        return new SharedUnavailableException("Redis at " + describe() + " unavailable (" + what
                + ", timeout " + timeoutMillis + " ms): " + cause.getMessage(), cause);
    }

    @Override
    public void close() {
        pool.close();
    }
}

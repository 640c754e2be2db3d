package io.streamrank.shared;

import static org.junit.jupiter.api.Assertions.fail;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.io.IOException;
import java.net.ServerSocket;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Comparator;
import java.util.HexFormat;
import java.util.concurrent.ThreadLocalRandom;
import java.util.stream.Stream;
import redis.clients.jedis.Jedis;

/**
 * The Redis servers the shared-mode tests run against: the one scripts/ensure_redis.sh started
 * (STREAMRANK_TEST_REDIS), and private ones a fault test may kill and restart. Without a server
 * the tests skip, except under CI=true, where they fail: CI must run them.
 */
final class RedisTestSupport {
    private RedisTestSupport() {}

    private static String required(String var, String why) {
        String v = System.getenv(var);
        if (v == null || v.isEmpty()) {
            if ("true".equals(System.getenv("CI"))) {
                fail(var + " is unset under CI=true: " + why);
            }
            assumeTrue(false, var + " is unset (" + why + "); ./build.sh test sets it");
        }
        return v;
    }

    static String uri() {
        return required("STREAMRANK_TEST_REDIS", "scripts/ensure_redis.sh starts the test redis-server");
    }

    /** A fresh namespace per test, so tests sharing the server never see each other's keys. */
    static String namespace() {
        byte[] b = new byte[6];
        ThreadLocalRandom.current().nextBytes(b);
        return "t" + HexFormat.of().formatHex(b);
    }

    /** A redis-server of the test's own on a free port, AOF fsynced at every write. */
    static final class PrivateServer implements AutoCloseable {
        private final String binary;
        final Path dir;
        final int port;
        private Process process;

        PrivateServer() throws IOException {
            this.binary = required("STREAMRANK_TEST_REDIS_SERVER", "fault tests start their own redis-server");
            this.dir = Files.createTempDirectory("streamrank-redis-test");
            try (ServerSocket s = new ServerSocket(0)) {
                this.port = s.getLocalPort();
            }
            start();
        }

        String uri() {
            return "redis://127.0.0.1:" + port + "/0";
        }

        void start() throws IOException {
            process = new ProcessBuilder(binary, "--bind", "127.0.0.1", "--port", Integer.toString(port),
                    "--dir", dir.toString(), "--appendonly", "yes", "--appendfsync", "always", "--save", "")
                    .redirectErrorStream(true).redirectOutput(dir.resolve("server.log").toFile()).start();
            long deadline = System.nanoTime() + 20_000_000_000L;
            while (true) {
                try (Jedis j = new Jedis("127.0.0.1", port, 500)) {
                    if ("PONG".equals(j.ping())) {
                        return;
                    }
                } catch (RuntimeException notYet) {
                    if (System.nanoTime() > deadline || !process.isAlive()) {
                        throw new IOException("redis-server did not start: " + Files.readString(dir.resolve("server.log")));
                    }
                }
                try {
                    Thread.sleep(20);
                } catch (InterruptedException e) {
                    throw new IOException(e);
                }
            }
        }

        /** SIGSTOP / SIGCONT: a server that accepts connections (kernel backlog) but never answers. */
        void freeze(boolean frozen) throws IOException, InterruptedException {
            Process p = new ProcessBuilder("kill", frozen ? "-STOP" : "-CONT", Long.toString(process.pid()))
                    .inheritIO().start();
            if (p.waitFor() != 0) {
                throw new IOException("kill failed");
            }
        }

        /** SIGKILL: no shutdown save, only what the AOF already holds survives. */
        void kill9() throws InterruptedException {
            process.destroyForcibly();
            process.waitFor();
        }

        @Override
        public void close() throws IOException {
            try {
                kill9();
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
            try (Stream<Path> files = Files.walk(dir)) {
                files.sorted(Comparator.reverseOrder()).forEach(p -> p.toFile().delete());
            }
        }
    }
}

package io.streamrank.shared;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

class LeaseTest {
    private RedisEndpoint redis;
    private String key;

    @BeforeEach
    void setUp() {
        redis = RedisEndpoint.open(RedisTestSupport.uri());
        key = RedisTestSupport.namespace() + ":lease";
    }

    @AfterEach
    void tearDown() {
        if (redis != null) { // null when setUp skipped: no test server configured
            redis.close();
        }
    }

    @Test
    void oneHolderAtATime() {
        Lease a = Lease.tryAcquire(redis, key, 60_000);
        assertNotNull(a);
        assertNull(Lease.tryAcquire(redis, key, 60_000), "a second holder while the first holds it");
        assertTrue(a.renew());
        assertTrue(a.release());
        Lease b = Lease.tryAcquire(redis, key, 60_000);
        assertNotNull(b, "free again after release");
        b.release();
    }

    @Test
    void aHolderWhoseLeaseExpiredCannotRenewOrReleaseTheNextHoldersLease() throws InterruptedException {
        Lease a = Lease.tryAcquire(redis, key, 50);
        assertNotNull(a);
        Lease b = null;
        long deadline = System.nanoTime() + 10_000_000_000L;
        while (b == null && System.nanoTime() < deadline) { // wait for Redis to expire it
            b = Lease.tryAcquire(redis, key, 60_000);
            if (b == null) {
                Thread.sleep(10);
            }
        }
        assertNotNull(b, "the lease expired within 10 s");
        assertFalse(a.renew(), "the old holder must not extend the new holder's lease");
        assertFalse(a.release(), "the old holder must not delete the new holder's lease");
        String stored = redis.call("get", j -> j.get(key));
        assertEquals(b.token(), stored);
        assertTrue(b.release());
    }
}

package io.streamrank.events;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import org.junit.jupiter.api.Test;

class RetryPolicyTest {
    @Test
    void backoffDoublesUpToTheCap() {
        RetryPolicy p = new RetryPolicy(5, 100, 1000);
        assertEquals(100, p.backoffNanos(1));
        assertEquals(200, p.backoffNanos(2));
        assertEquals(400, p.backoffNanos(3));
        assertEquals(800, p.backoffNanos(4));
        assertEquals(1000, p.backoffNanos(5));
        assertEquals(1000, p.backoffNanos(200)); // no overflow
        assertEquals(0, new RetryPolicy(3, 0, 0).backoffNanos(3));
    }

    @Test
    void rejectsNonsense() {
        assertThrows(IllegalArgumentException.class, () -> new RetryPolicy(-1, 1, 1));
        assertThrows(IllegalArgumentException.class, () -> new RetryPolicy(1, -1, 1));
        assertThrows(IllegalArgumentException.class, () -> new RetryPolicy(1, 10, 5));
    }
}

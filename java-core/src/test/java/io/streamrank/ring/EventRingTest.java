package io.streamrank.ring;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.concurrent.atomic.AtomicReference;
import org.junit.jupiter.api.Test;

class EventRingTest {

    private static String[] strings(String prefix, int from, int n) {
        String[] out = new String[n];
        for (int i = 0; i < n; i++) {
            out[i] = prefix + (from + i);
        }
        return out;
    }

    private static long[] longs(int from, int n) {
        long[] out = new long[n];
        for (int i = 0; i < n; i++) {
            out[i] = from + i;
        }
        return out;
    }

    private static void publishRange(EventRing ring, int from, int n, long arrival) {
        ring.publish(strings("t", from, n), strings("u", from, n), strings("c", from, n), longs(from, n), 0, n, arrival);
    }

    @Test
    void capacityIsRoundedUpToAPowerOfTwo() {
        assertEquals(1, new EventRing(1).capacity());
        assertEquals(128, new EventRing(128).capacity());
        assertEquals(256, new EventRing(129).capacity());
        assertEquals(16384, new EventRing(10000).capacity());
        assertThrows(IllegalArgumentException.class, () -> new EventRing(0));
        assertThrows(IllegalArgumentException.class, () -> new EventRing((1 << 30) + 1));
    }

    @Test
    void drainsInPublicationOrderAcrossWrapAroundAndSegments() {
        EventRing ring = new EventRing(3000); // 4096 slots in 4 segments
        int next = 0;
        int expected = 0;
        for (int round = 0; round < 20; round++) {
            int n = 1000 + round * 37;
            publishRange(ring, next, n, 100 + round);
            next += n;
            String[] t = new String[n];
            String[] u = new String[n];
            String[] c = new String[n];
            long[] ts = new long[n];
            int got = 0;
            while (got < n) {
                got += ring.drainTo(t, u, c, ts, got, Math.min(333, n - got));
            }
            for (int i = 0; i < n; i++, expected++) {
                assertEquals("t" + expected, t[i]);
                assertEquals("u" + expected, u[i]);
                assertEquals("c" + expected, c[i]);
                assertEquals(expected, ts[i]);
            }
            assertEquals(0, ring.available());
        }
        assertEquals(next, ring.tail());
        assertEquals(next, ring.head());
    }

    @Test
    void refusesToOverfillAndReportsOldestArrival() {
        EventRing ring = new EventRing(8);
        publishRange(ring, 0, 5, 7);
        publishRange(ring, 5, 3, 9);
        assertEquals(8, ring.size());
        assertEquals(0, ring.freeForProducer());
        assertThrows(IllegalStateException.class, () -> publishRange(ring, 8, 1, 10));
        assertEquals(7, ring.oldestArrivalNanos());
        String[] t = new String[5];
        assertEquals(5, ring.drainTo(t, new String[5], new String[5], new long[5], 0, 5));
        assertEquals(9, ring.oldestArrivalNanos());
        assertEquals(5, ring.freeForProducer());
        publishRange(ring, 8, 5, 11);
        assertEquals(8, ring.size());
    }

    @Test
    void emptyRingHasNoOldestEventAndDrainsNothing() {
        EventRing ring = new EventRing(4);
        assertThrows(IllegalStateException.class, ring::oldestArrivalNanos);
        assertEquals(0, ring.drainTo(new String[1], new String[1], new String[1], new long[1], 0, 1));
        assertEquals(0, ring.head());
    }

    @Test
    void drainedSlotsReleaseTheirStrings() throws Exception {
        EventRing ring = new EventRing(4);
        publishRange(ring, 0, 4, 0);
        ring.drainTo(new String[4], new String[4], new String[4], new long[4], 0, 4);
        // The slots are reused: a fresh publish overwrites them and reads back the new values only.
        publishRange(ring, 100, 2, 0);
        String[] t = new String[4];
        assertEquals(2, ring.drainTo(t, new String[4], new String[4], new long[4], 0, 4));
        assertEquals("t100", t[0]);
        assertEquals("t101", t[1]);
        assertNull(t[2]);
    }

    @Test
    void oneProducerAndOneConsumerThreadSeeEveryEventOnceInOrder() throws Exception {
        EventRing ring = new EventRing(1024);
        int total = 500_000;
        AtomicReference<Throwable> failure = new AtomicReference<>();
        Thread producer = new Thread(() -> {
            int next = 0;
            while (next < total) {
                int n = Math.min(Math.min(97, total - next), ring.freeForProducer());
                if (n == 0) {
                    Thread.onSpinWait();
                    continue;
                }
                publishRange(ring, next, n, next);
                next += n;
            }
        });
        Thread consumer = new Thread(() -> {
            try {
                String[] t = new String[256];
                String[] u = new String[256];
                String[] c = new String[256];
                long[] ts = new long[256];
                int expected = 0;
                while (expected < total) {
                    int n = ring.drainTo(t, u, c, ts, 0, 256);
                    for (int i = 0; i < n; i++, expected++) {
                        if (ts[i] != expected || !t[i].equals("t" + expected) || !u[i].equals("u" + expected)) {
                            throw new AssertionError("event " + expected + " read as " + t[i] + "/" + ts[i]);
                        }
                    }
                    if (n == 0) {
                        Thread.onSpinWait();
                    }
                }
            } catch (Throwable e) {
                failure.set(e);
            }
        });
        producer.start();
        consumer.start();
        producer.join();
        consumer.join();
        if (failure.get() != null) {
            throw new AssertionError(failure.get());
        }
        assertEquals(total, ring.head());
        assertTrue(ring.available() == 0);
    }
}

package io.streamrank.events;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.streamrank.ring.EventRing;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CyclicBarrier;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicReference;
import org.junit.jupiter.api.Test;

class IngestTest {
    private static final long T0 = 1_700_000_000L;

    /** Concurrent offers publish in reservation order: the ring holds each producer's events in
     *  its own order and exactly the accepted ones, and every listener call reports a ring size
     *  at least the events it published. */
    @Test
    void concurrentOffersPublishEveryAcceptedEventOnceInOrder() throws Exception {
        int threads = 3;
        int perThread = 3_000;
        EventRing ring = new EventRing(threads * perThread);
        Capacity capacity = new Capacity(threads * perThread, new Lifecycle());
        AtomicReference<Throwable> failure = new AtomicReference<>();
        Ingest ingest = new Ingest(ring, capacity, new ManualClock(T0), (n, sizeAfter) -> {
            if (sizeAfter < n) { // nobody drains here: the ring holds at least these events
                failure.set(new AssertionError("ring size " + sizeAfter + " < " + n + " just published"));
            }
        });
        CyclicBarrier start = new CyclicBarrier(threads);
        List<Thread> all = new ArrayList<>();
        for (int id = 0; id < threads; id++) {
            int me = id;
            all.add(new Thread(() -> {
                try {
                    start.await();
                    for (int i = 0; i < perThread; i += 3) {
                        String[] t = {me + ":" + i, me + ":" + (i + 1), me + ":" + (i + 2)};
                        String[] u = {"u" + me, "u" + me, "u" + me};
                        String[] c = {"c" + me, "c" + me, "c" + me};
                        if (ingest.offer(t, u, c, new long[] {T0, T0, T0}, 0, 3, T0, 0) != 3) {
                            throw new AssertionError("refused with room left");
                        }
                    }
                } catch (Throwable e) {
                    failure.set(e);
                }
            }));
        }
        all.forEach(Thread::start);
        for (Thread t : all) {
            t.join();
        }
        if (failure.get() != null) {
            throw new AssertionError(failure.get());
        }
        int total = threads * perThread;
        assertEquals(total, capacity.accepted());
        assertEquals(total, ingest.published());
        String[] types = new String[total];
        assertEquals(total, ring.drainTo(types, new String[total], new String[total], new long[total], 0, total));
        int[] next = new int[threads];
        for (String type : types) {
            String[] parts = type.split(":");
            int producer = Integer.parseInt(parts[0]);
            assertEquals(next[producer]++, Integer.parseInt(parts[1]), "out of order within a producer");
        }
        assertEquals(threads, ingest.uniqueUsersLastHour(T0));
        assertEquals(perThread, ingest.topChannels(1).get(0).count());
    }

    @Test
    void publishingMoreThanWasReservedIsRefused() {
        EventRing ring = new EventRing(8);
        Capacity capacity = new Capacity(8, new Lifecycle());
        Ingest ingest = new Ingest(ring, capacity, new ManualClock(T0), (n, s) -> { });
        String[] t = {"a", "b"};
        assertEquals(1, capacity.reserve(1, true));
        assertThrows(IllegalStateException.class, () -> ingest.publishReserved(t, t, t, new long[2], 0, 2, T0, 0));
        assertEquals(0, ingest.published());
        assertTrue(ingest.topChannels(5).isEmpty(), "a refused publication records no statistics");
    }

    /**
     * A range whose end overflows int ({@code from + n > Integer.MAX_VALUE}) must be refused
     * before anything is reserved. It used to pass the range check (the sum wrapped negative),
     * reserve capacity, and then fail inside the ring's copy: the reservation was never
     * published, so the processor could never finish or flush.
     */
    @Test
    void aRangeThatOverflowsIsRefusedBeforeAnythingIsReserved() throws Exception {
        EventProcessor p = new EventProcessor(10, 5, TimeUnit.SECONDS.toNanos(1), RetryPolicy.DEFAULT,
                new ManualClock(T0));
        String[] t = {"a"};
        assertThrows(IllegalArgumentException.class,
                () -> p.offer(t, t, t, new long[1], Integer.MAX_VALUE, 1, T0, 0));
        assertThrows(IllegalArgumentException.class,
                () -> p.publishReserved(t, t, t, new long[1], Integer.MAX_VALUE, 1, T0, 0));
        assertEquals(0, p.acceptedCount(), "nothing reserved for a refused offer");
        assertEquals(10, p.freeCapacity());
        p.close();
        assertTrue(p.isFinished(), "nothing accepted: a closed processor is finished");
        assertEquals(0, p.flush(0, TimeUnit.MILLISECONDS));
    }
}

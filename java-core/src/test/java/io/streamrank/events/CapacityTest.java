package io.streamrank.events;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.CyclicBarrier;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.AtomicReference;
import org.junit.jupiter.api.Test;

class CapacityTest {
    @Test
    void reservesAPrefixOrAllOrNothing() {
        Capacity c = new Capacity(10, new Lifecycle());
        assertEquals(6, c.reserve(6, true));
        assertThrows(IllegalStateException.class, () -> c.reserve(5, true));
        assertEquals(6, c.accepted(), "a refused all-or-nothing reservation takes nothing");
        assertEquals(0, c.dropped(), "and drops nothing: it is the caller's bug");
        assertEquals(4, c.reserve(9, false));
        assertEquals(5, c.dropped());
        assertEquals(0, c.free());
        c.release(3);
        assertEquals(3, c.free());
        assertThrows(IllegalArgumentException.class, () -> c.reserve(-1, false));
        assertThrows(IllegalArgumentException.class, () -> c.recordDropped(-1));
    }

    /**
     * Reservers race each other and a releaser: the events reserved and not yet released never
     * exceed bufferSize. Each thread counts what it holds (after its reserve returned, until just
     * before it releases: an undercount of the truth), so a sum above bufferSize proves an
     * overrun. At the end every reservation is accounted: accepted + dropped = requested.
     */
    @Test
    void concurrentReserversNeverExceedTheBuffer() throws Exception {
        int bufferSize = 64;
        int threads = 4;
        int rounds = 20_000;
        Capacity c = new Capacity(bufferSize, new Lifecycle());
        AtomicLong held = new AtomicLong();
        AtomicLong requested = new AtomicLong();
        AtomicLong maxHeld = new AtomicLong();
        AtomicReference<Throwable> failure = new AtomicReference<>();
        CyclicBarrier start = new CyclicBarrier(threads);
        List<Thread> all = new ArrayList<>();
        for (int i = 0; i < threads; i++) {
            all.add(new Thread(() -> {
                try {
                    start.await();
                    ThreadLocalRandom rnd = ThreadLocalRandom.current();
                    for (int r = 0; r < rounds; r++) {
                        int want = 1 + rnd.nextInt(40);
                        requested.addAndGet(want);
                        int got = c.reserve(want, false);
                        long now = held.addAndGet(got);
                        maxHeld.accumulateAndGet(now, Math::max);
                        if (now > bufferSize) {
                            throw new AssertionError(now + " events held in a buffer of " + bufferSize);
                        }
                        held.addAndGet(-got);
                        c.release(got);
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
        assertEquals(requested.get(), c.accepted() + c.dropped());
        assertEquals(c.accepted(), c.released());
        assertEquals(bufferSize, c.free());
    }

    /** The zero-refusal oracle: when the buffer can hold every event, concurrent reservers are
     *  never refused (an implementation that refuses everything fails this). */
    @Test
    void noRefusalWhileTheBufferCanHoldEverything() throws Exception {
        int threads = 4;
        int perThread = 10_000;
        Capacity c = new Capacity(threads * perThread, new Lifecycle());
        CyclicBarrier start = new CyclicBarrier(threads);
        AtomicReference<Throwable> failure = new AtomicReference<>();
        List<Thread> all = new ArrayList<>();
        for (int i = 0; i < threads; i++) {
            all.add(new Thread(() -> {
                try {
                    start.await();
                    for (int r = 0; r < perThread; r++) {
                        if (c.reserve(1, false) != 1) {
                            throw new AssertionError("refused with room left: free=" + c.free());
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
        assertEquals(threads * perThread, c.accepted());
        assertEquals(0, c.dropped());
    }

    /** Once closeAcceptance returned, the accepted count is final even with reservers racing it;
     *  every later reservation counts as dropped (or throws, all-or-nothing). */
    @Test
    void nothingIsAcceptedAfterTheCloseReturns() throws Exception {
        Lifecycle lifecycle = new Lifecycle();
        Capacity c = new Capacity(1 << 20, lifecycle);
        int threads = 3;
        CountDownLatch running = new CountDownLatch(threads);
        CountDownLatch closed = new CountDownLatch(1);
        AtomicLong requested = new AtomicLong();
        AtomicLong afterClose = new AtomicLong();
        AtomicReference<Throwable> failure = new AtomicReference<>();
        List<Thread> all = new ArrayList<>();
        for (int i = 0; i < threads; i++) {
            all.add(new Thread(() -> {
                try {
                    running.countDown();
                    // Keep reserving until the close is over, then a few more times.
                    for (int extra = 0; extra < 100; ) {
                        boolean wasClosed = closed.getCount() == 0;
                        requested.addAndGet(2);
                        int got = c.reserve(2, false);
                        if (wasClosed) {
                            afterClose.addAndGet(got);
                            extra++;
                        }
                    }
                } catch (Throwable e) {
                    failure.set(e);
                }
            }));
        }
        all.forEach(Thread::start);
        running.await();
        c.closeAcceptance();
        long finalAccepted = c.accepted();
        closed.countDown();
        for (Thread t : all) {
            t.join();
        }
        if (failure.get() != null) {
            throw new AssertionError(failure.get());
        }
        assertEquals(Lifecycle.State.DRAINING, lifecycle.state());
        assertEquals(0, afterClose.get(), "a reservation after the close was accepted");
        assertEquals(finalAccepted, c.accepted(), "accepted moved after closeAcceptance returned");
        assertEquals(requested.get(), c.accepted() + c.dropped());
        assertThrows(IllegalStateException.class, () -> c.reserve(1, true));
        assertEquals(0, c.reserve(0, true), "an empty all-or-nothing reservation is fine after close");
    }
}

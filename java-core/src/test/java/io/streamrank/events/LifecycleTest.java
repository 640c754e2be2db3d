package io.streamrank.events;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.streamrank.events.Lifecycle.State;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CyclicBarrier;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicReference;
import org.junit.jupiter.api.Test;

class LifecycleTest {
    @Test
    void transitionsOnlyMoveForward() {
        Lifecycle l = new Lifecycle();
        assertEquals(State.OPEN, l.state());
        assertTrue(l.isOpen());
        assertFalse(l.advanceTo(State.OPEN), "no transition to the current state");
        assertTrue(l.advanceTo(State.DRAINING));
        assertFalse(l.isOpen());
        assertFalse(l.isStopped());
        assertFalse(l.advanceTo(State.DRAINING), "idempotent");
        assertFalse(l.advanceTo(State.OPEN), "never back to OPEN");
        assertEquals(State.DRAINING, l.state());
        assertTrue(l.advanceTo(State.STOPPED));
        assertFalse(l.advanceTo(State.DRAINING), "a late close never undoes a shutdown");
        assertEquals(State.STOPPED, l.state());
        assertTrue(l.isStopped());
    }

    @Test
    void shutdownFromOpenSkipsNothingObservable() {
        Lifecycle l = new Lifecycle();
        assertTrue(l.advanceTo(State.STOPPED));
        assertFalse(l.advanceTo(State.DRAINING));
        assertEquals(State.STOPPED, l.state());
    }

    /**
     * Threads race close-like and shutdown-like transitions while an observer reads the state:
     * each transition is made by exactly one thread, the observer never sees the state move
     * back, and the end state is STOPPED whatever the interleaving.
     */
    @Test
    void racingTransitionsAreOneWayAndEachHappensOnce() throws Exception {
        for (int round = 0; round < 200; round++) {
            Lifecycle l = new Lifecycle();
            int threads = 6;
            CyclicBarrier start = new CyclicBarrier(threads + 1);
            AtomicInteger toDraining = new AtomicInteger();
            AtomicInteger toStopped = new AtomicInteger();
            AtomicBoolean done = new AtomicBoolean();
            AtomicReference<Throwable> failure = new AtomicReference<>();
            List<Thread> all = new ArrayList<>();
            for (int i = 0; i < threads; i++) {
                boolean stopper = i % 2 == 0;
                all.add(new Thread(() -> {
                    try {
                        start.await();
                        if (stopper) {
                            if (l.advanceTo(State.STOPPED)) {
                                toStopped.incrementAndGet();
                            }
                        } else if (l.advanceTo(State.DRAINING)) {
                            toDraining.incrementAndGet();
                        }
                    } catch (Throwable e) {
                        failure.set(e);
                    }
                }));
            }
            Thread observer = new Thread(() -> {
                try {
                    start.await();
                    State last = State.OPEN;
                    while (!done.get()) {
                        State now = l.state();
                        if (now.compareTo(last) < 0) {
                            throw new AssertionError("state moved back: " + last + " -> " + now);
                        }
                        last = now;
                    }
                } catch (Throwable e) {
                    failure.set(e);
                }
            });
            observer.start();
            all.forEach(Thread::start);
            for (Thread t : all) {
                t.join();
            }
            done.set(true);
            observer.join();
            if (failure.get() != null) {
                throw new AssertionError(failure.get());
            }
            assertEquals(State.STOPPED, l.state());
            assertEquals(1, toStopped.get(), "exactly one thread stops it");
            assertTrue(toDraining.get() <= 1, "at most one thread drains it (a stop may come first)");
        }
    }

    @Test
    void theProcessorExposesOneStateThroughCloseAndShutdown() throws Exception {
        EventProcessor p = new EventProcessor(10, 5, 1_000_000_000L, RetryPolicy.DEFAULT, new ManualClock(0));
        assertEquals(State.OPEN, p.lifecycle());
        assertFalse(p.isClosed());
        p.close();
        assertEquals(State.DRAINING, p.lifecycle());
        assertTrue(p.isClosed());
        assertTrue(p.isFinished(), "closed with nothing accepted: finished");
        p.shutdown();
        assertEquals(State.STOPPED, p.lifecycle());
        p.close();
        assertEquals(State.STOPPED, p.lifecycle(), "close after shutdown does not reopen delivery");
        assertTrue(p.isClosed());
        assertTrue(p.isFinished());
    }

    /** A consumer parked without a deadline wakes when shutdown moves the state (the transition
     *  and the signal happen under the delivery lock: no lost wake-up). */
    @Test
    void shutdownWakesAParkedConsumer() throws Exception {
        EventProcessor p = new EventProcessor(10, 5, 1_000_000_000L, RetryPolicy.DEFAULT, new ManualClock(0));
        AtomicReference<Object> got = new AtomicReference<>("unset");
        Thread consumer = new Thread(() -> {
            try {
                got.set(p.nextBatch(1, TimeUnit.HOURS));
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        });
        consumer.start();
        // Wait until it is parked inside nextBatch (no sleep: poll the thread state).
        while (consumer.getState() != Thread.State.TIMED_WAITING) {
            Thread.onSpinWait();
        }
        p.shutdown();
        consumer.join(TimeUnit.MINUTES.toMillis(1));
        assertFalse(consumer.isAlive(), "shutdown must wake the consumer");
        assertEquals(null, got.get());
    }
}

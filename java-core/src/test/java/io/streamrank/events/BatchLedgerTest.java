package io.streamrank.events;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CyclicBarrier;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.Test;

class BatchLedgerTest {
    private static Batch open(BatchLedger l, long firstSeq, int n) {
        String[] s = new String[n];
        java.util.Arrays.fill(s, "x");
        return l.open(firstSeq, s, s, s, new long[n]);
    }

    @Test
    void aBatchIsSettledExactlyOnce() {
        BatchLedger l = new BatchLedger();
        Batch b = open(l, 0, 3);
        assertEquals(1, l.inFlightCount());
        assertFalse(l.allSettled());
        assertSame(b, l.takeInFlight(b.id()));
        assertThrows(IllegalArgumentException.class, () -> l.takeInFlight(b.id()), "one report per hand-out");
        l.settle(b);
        assertThrows(IllegalStateException.class, () -> l.settle(b), "settled twice");
        assertTrue(l.allSettled());
        assertEquals(0, l.inFlightCount() + l.retryCount() + l.unsettledCount());
    }

    @Test
    void everyUnsettledBatchIsInFlightOrWaitingForARetry() {
        BatchLedger l = new BatchLedger();
        Batch a = open(l, 0, 2);
        Batch b = open(l, 2, 2);
        Batch c = open(l, 4, 2);
        l.retryAt(l.takeInFlight(a.id()), 50);
        l.retryAt(l.takeInFlight(b.id()), 10);
        assertEquals(3, l.unsettledCount());
        assertEquals(l.unsettledCount(), l.inFlightCount() + l.retryCount());
        assertEquals(0, l.lowestUnsettled(6), "a retrying batch holds the low sequence");
        assertNull(l.takeDueRetry(9));
        assertEquals(10, l.nextRetryDueNanos());
        assertSame(b, l.takeDueRetry(10), "earliest due first");
        assertFalse(l.hasDueRetry(49));
        assertSame(a, l.takeDueRetry(60));
        l.settle(l.takeInFlight(a.id()));
        assertEquals(2, l.lowestUnsettled(6));
        l.settle(l.takeInFlight(b.id()));
        l.settle(l.takeInFlight(c.id()));
        assertEquals(6, l.lowestUnsettled(6), "all settled: the ring's head");
    }

    @Test
    void retriesDueAtTheSameTimeGoOldestEventsFirst() {
        BatchLedger l = new BatchLedger();
        Batch a = open(l, 0, 1);
        Batch b = open(l, 1, 1);
        l.retryAt(l.takeInFlight(b.id()), 5);
        l.retryAt(l.takeInFlight(a.id()), 5);
        assertSame(a, l.takeDueRetry(5));
        assertSame(b, l.takeDueRetry(5));
    }

    @Test
    void onlyASettledBatchCanBeReopened() {
        BatchLedger l = new BatchLedger();
        Batch b = open(l, 0, 1);
        Batch taken = l.takeInFlight(b.id());
        taken.failures = 3;
        l.retryAt(taken, 0);
        assertThrows(IllegalStateException.class, () -> l.reopen(taken, 0), "still unsettled");
        assertSame(b, l.takeDueRetry(0));
        l.settle(l.takeInFlight(b.id()));
        l.reopen(b, 7);
        assertEquals(0, b.failures, "a fresh retry budget");
        assertFalse(l.allSettled());
        assertSame(b, l.takeDueRetry(7));
    }

    /**
     * Through the processor: consumers race to report the same batch (complete, fail) from
     * several threads at once; exactly one report is taken, the rest are refused, and the
     * batch's events count once.
     */
    @Test
    void racingReportsOfOneBatchCountOnce() throws Exception {
        for (int round = 0; round < 100; round++) {
            EventProcessor p = new EventProcessor(100, 4, TimeUnit.SECONDS.toNanos(1),
                    new RetryPolicy(0, 0, 0), new ManualClock(0));
            String[] t = {"a", "b", "c", "d"};
            assertEquals(4, p.offer(t, t, t, new long[4], 0, 4, 0, 0));
            Batch b = p.pollBatch();
            int threads = 4;
            CyclicBarrier start = new CyclicBarrier(threads);
            AtomicInteger taken = new AtomicInteger();
            AtomicInteger refused = new AtomicInteger();
            List<Thread> all = new ArrayList<>();
            for (int i = 0; i < threads; i++) {
                boolean completes = i % 2 == 0;
                all.add(new Thread(() -> {
                    try {
                        start.await();
                        if (completes) {
                            p.complete(b.id());
                        } else {
                            p.fail(b.id(), "boom");
                        }
                        taken.incrementAndGet();
                    } catch (IllegalArgumentException e) {
                        refused.incrementAndGet();
                    } catch (Exception e) {
                        throw new AssertionError(e);
                    }
                }));
            }
            all.forEach(Thread::start);
            for (Thread th : all) {
                th.join();
            }
            assertEquals(1, taken.get());
            assertEquals(threads - 1, refused.get());
            assertEquals(4, p.deliveredCount() + p.deadLetterEventCount(), "settled once: delivered or dead");
            assertEquals(0, p.pendingCount());
            assertEquals(p.deadLetterEventCount(), p.awaitSettled(4, 0, TimeUnit.MILLISECONDS),
                    "settled: a flush returns at once with the dead-letter count");
        }
    }
}

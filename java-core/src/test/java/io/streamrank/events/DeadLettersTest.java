package io.streamrank.events;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.List;
import org.junit.jupiter.api.Test;

class DeadLettersTest {
    private static Batch settledBatch(BatchLedger l, long firstSeq, int n, int failures, String error) {
        String[] s = new String[n];
        java.util.Arrays.fill(s, "x");
        Batch b = l.takeInFlight(l.open(firstSeq, s, s, s, new long[n]).id());
        b.failures = failures;
        b.lastError = error;
        l.settle(b);
        return b;
    }

    @Test
    void theEventCountIsTheSumOfTheBatchSizes() {
        BatchLedger ledger = new BatchLedger();
        DeadLetters d = new DeadLetters();
        d.add(settledBatch(ledger, 0, 3, 2, "a"));
        d.add(settledBatch(ledger, 3, 5, 1, "b"));
        assertEquals(8, d.events());
        List<EventProcessor.FailedBatch> snap = d.snapshot();
        assertEquals(2, snap.size());
        assertEquals(0, snap.get(0).batch().firstSeq(), "oldest first");
        assertEquals(2, snap.get(0).failures());
        assertEquals("b", snap.get(1).lastError());
        assertEquals(8, d.discard());
        assertEquals(0, d.events());
        assertTrue(d.snapshot().isEmpty());
    }

    @Test
    void aRedriveMovesEveryBatchBackWithAFreshBudgetAndTheSnapshotKeepsTheOldOne() {
        BatchLedger ledger = new BatchLedger();
        DeadLetters d = new DeadLetters();
        d.add(settledBatch(ledger, 0, 2, 4, "boom"));
        d.add(settledBatch(ledger, 2, 1, 4, "boom"));
        List<EventProcessor.FailedBatch> before = d.snapshot();
        assertTrue(ledger.allSettled());
        assertEquals(3, d.redriveInto(ledger, 100));
        assertEquals(0, d.events());
        assertEquals(2, ledger.unsettledCount());
        assertEquals(0, ledger.lowestUnsettled(3));
        Batch first = ledger.takeDueRetry(100);
        assertEquals(0, first.failures());
        assertEquals(4, before.get(0).failures(), "a snapshot is a copy, not a view");
        assertEquals(0, d.discard(), "nothing left to discard");
    }
}

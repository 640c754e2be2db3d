package io.streamrank.events;

import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;

/** A clock that moves only when told to (tests). Thread-safe. */
public final class ManualClock implements Clock {
    private final AtomicLong nanos;
    private final AtomicLong seconds;

    public ManualClock(long epochSeconds) {
        this.nanos = new AtomicLong(0);
        this.seconds = new AtomicLong(epochSeconds);
    }

    @Override
    public long nanoTime() {
        return nanos.get();
    }

    @Override
    public long epochSeconds() {
        return seconds.get();
    }

    /** Moves both clocks forward. */
    public void advance(long amount, TimeUnit unit) {
        long ns = unit.toNanos(amount);
        long before = nanos.getAndAdd(ns);
        // Wall seconds follow the monotonic clock: whole seconds crossed since the start.
        long crossed = Math.floorDiv(before + ns, 1_000_000_000L) - Math.floorDiv(before, 1_000_000_000L);
        seconds.addAndGet(crossed);
    }

    public void setEpochSeconds(long epochSeconds) {
        seconds.set(epochSeconds);
    }
}

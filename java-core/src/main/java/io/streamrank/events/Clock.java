package io.streamrank.events;

/**
 * The processor's notion of time, injectable so tests are deterministic.
 *
 * <p>{@link #nanoTime()} is monotonic and drives batching deadlines and retry back-off;
 * {@link #epochSeconds()} is wall-clock time and drives the unique-users window. Blocking waits
 * bound their own timeouts with {@link System#nanoTime()} (a manual clock cannot wake a parked
 * thread), and re-check deadlines against this clock when they wake.
 */
public interface Clock {
    long nanoTime();

    long epochSeconds();

    /** The machine's clocks. */
    Clock SYSTEM = new Clock() {
        @Override
        public long nanoTime() {
            return System.nanoTime();
        }

        @Override
        public long epochSeconds() {
            return Math.floorDiv(System.currentTimeMillis(), 1000L);
        }
    };
}

package io.streamrank.events;

import java.lang.invoke.MethodHandles;
import java.lang.invoke.VarHandle;

/**
 * The one lifecycle state of an {@link EventProcessor}, shared by every part of it.
 *
 * <pre>
 *   OPEN ──close()──► DRAINING ──shutdown()──► STOPPED
 *     └────────────shutdown() (through DRAINING)───┘
 * </pre>
 *
 * <ul>
 *   <li><b>OPEN</b>: reservations are accepted; consumers batch by size, age and flush target.</li>
 *   <li><b>DRAINING</b> (entered by {@code close}): nothing more is accepted (a reservation is
 *       refused and counted as dropped), so the accepted count is final; consumers send partial
 *       batches at once and are finished when every accepted event is settled.</li>
 *   <li><b>STOPPED</b> (entered by {@code shutdown}): consumers hand out nothing more and are
 *       finished at once; batches already in flight may still report back; flush waiters with
 *       unsettled events fail.</li>
 * </ul>
 *
 * <p><b>Invariant: transitions are one-way.</b> {@link #advanceTo} only ever moves to a later
 * state (a compare-and-set loop), so two threads racing (a {@code close} against a
 * {@code shutdown}) can never move the state back. Which lock a transition is made under is the
 * owner's business: the processor leaves OPEN under its reserve lock (so a reservation that saw
 * OPEN completes before {@code close} returns, and the accepted count is final once the state is
 * DRAINING) and enters STOPPED under its delivery lock (then signals, so no consumer parks on a
 * stale state).
 *
 * <p><b>Memory ordering.</b> The state is a volatile field, written by compare-and-set. It is
 * written under two different locks (see above), so no one lock guards it: every reader
 * ({@code isClosed}, reservers, consumers, the finished check) relies on the volatile read alone.
 * A read that sees a state also sees everything written before the transition to it (e.g. the
 * last reservation's accepted count, written under the reserve lock before DRAINING was).
 */
public final class Lifecycle {
    /** In order: a later constant is a later state. */
    public enum State { OPEN, DRAINING, STOPPED }

    private static final VarHandle STATE;

    static {
        try {
            STATE = MethodHandles.lookup().findVarHandle(Lifecycle.class, "state", State.class);
        } catch (ReflectiveOperationException e) {
            throw new ExceptionInInitializerError(e);
        }
    }

    /** Only moves forward (see the class comment); accessed plainly for reads (volatile). */
    private volatile State state = State.OPEN;

    public State state() {
        return state;
    }

    /** Still accepting events: nobody called close or shutdown yet. */
    public boolean isOpen() {
        return state == State.OPEN;
    }

    /** Shut down: consumers hand out nothing more. */
    public boolean isStopped() {
        return state == State.STOPPED;
    }

    /**
     * Moves to {@code target} if it is later than the current state; otherwise does nothing.
     *
     * @return true if this call made the transition
     */
    boolean advanceTo(State target) {
        while (true) {
            State now = state;
            if (now.compareTo(target) >= 0) {
                return false;
            }
            if (STATE.compareAndSet(this, now, target)) {
                return true;
            }
        }
    }

    @Override
    public String toString() {
        return state.name();
    }
}

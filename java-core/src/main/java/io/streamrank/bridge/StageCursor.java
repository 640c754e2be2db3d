package io.streamrank.bridge;

/**
 * The receiving end of an idempotent hand-off from a Python stage.
 *
 * <p>Python stages values in append-only <em>generations</em> (a bounded {@code deque} each, see
 * {@code streamrank._stage}) and sends a generation's positions {@code [start, start + n)} in a
 * packet. Python can be interrupted at any bytecode after Java took a packet and before it noted
 * that, so it may send positions again, or a packet overlapping the last one. This cursor says
 * which positions of a packet are new: the rest were taken before and must be skipped.
 *
 * <p>Invariants: {@code generation} never decreases; {@code taken} is the number of positions
 * of {@code generation} taken so far. A new generation starts at position 0; Python starts one
 * only after sending the previous one whole, so an older generation, or a start beyond
 * {@code taken}, is a bug in the sender and raises {@link IllegalStateException} before any state
 * changes. Not thread-safe: the owner serialises packets (its caller holds Python's lock).
 */
public final class StageCursor {
    private long generation;
    private int taken;

    /**
     * How many leading positions of the packet were taken before (0 to {@code n}); the caller
     * takes the rest and then calls {@link #advance}. Changes nothing.
     */
    public int skip(long gen, int start, int n) {
        if (gen < 0 || start < 0 || n < 0) {
            throw new IllegalArgumentException("bad stage packet: generation=" + gen + " start=" + start + " n=" + n);
        }
        if (gen == generation) {
            int skip = taken - start;
            if (skip < 0) {
                throw new IllegalStateException("stage packet leaves a gap: positions " + taken + ".." + start
                        + " of generation " + gen + " were never sent");
            }
            return Math.min(skip, n);
        }
        if (gen < generation) {
            throw new IllegalStateException("stage packet of generation " + gen + " after generation " + generation);
        }
        if (start != 0) {
            throw new IllegalStateException("generation " + gen + " starts at position " + start);
        }
        return 0;
    }

    /** Records that positions up to {@code start + n} of {@code gen} are taken (after {@link #skip}). */
    public void advance(long gen, int start, int n) {
        if (gen != generation) {
            generation = gen;
            taken = 0;
        }
        taken = Math.max(taken, start + n);
    }

    public long generation() {
        return generation;
    }

    public int taken() {
        return taken;
    }
}

package io.streamrank.leaderboard;

/**
 * Which contribution timestamps a board accepts, relative to "now" (its clock at the call).
 *
 * <p>Why a limit at all: scores are normalised to one reference time R shared by every user
 * ({@link Board}). A contribution far after R would get an unbounded weight, so R moves to it and
 * every other score is multiplied by the decay between the two times. For a timestamp far ahead
 * of the present that factor underflows: every other user becomes 0.0 for good (ranked by id,
 * later present-time updates too small to register). The exact maths does not do that (at the
 * present the far-future user is simply huge and everybody else keeps their score), so such
 * timestamps are refused instead of silently wiping the board.
 *
 * <p>The rule: a timestamp {@code t} (epoch seconds) is accepted when {@code 1 <= t <= now + H},
 * where {@code H} is the span over which a contribution's weight grows to
 * {@code e^RENORMALISE_AT} (~1.5e111), the same bound re-normalisation already works with:
 * {@code H = RENORMALISE_AT / -ln(d)} days. Moving R to {@code now + H} multiplies the other
 * scores by at least e^-256, which keeps every score above ~1e-197 exact (and smaller ones are
 * below what any ranking cares about). d = 0.95: ~13.7 years; d = 0.5: ~369 days; d = 1 (no
 * decay): no limit from decay, since nothing decays and nothing can underflow. Past timestamps
 * are never refused (replaying old events is normal; their contributions merely decay).
 *
 * <p>Whatever the decay, no timestamp after {@link #LAST_DATETIME_SECOND} (9999-12-31T23:59:59Z,
 * the last second Python's {@code datetime.fromtimestamp} can represent) is accepted: an
 * application turns {@code last_update} into a datetime (the integration guide does), and no
 * clock in seconds gives such a value, while milliseconds by mistake (1.7e12) do.
 */
public final class Timestamps {
    private Timestamps() {}

    /** 9999-12-31T23:59:59Z in epoch seconds. */
    static final long LAST_DATETIME_SECOND = 253_402_300_799L;

    /** Seconds a timestamp may lie ahead of now; {@link Long#MAX_VALUE} for no limit (d = 1). */
    static long futureHorizon(Decay decay) {
        if (decay.lnFactor == 0.0) {
            return Long.MAX_VALUE;
        }
        double seconds = Board.RENORMALISE_AT / -decay.lnFactor * Decay.SECONDS_PER_DAY;
        return seconds >= 0x1p63 ? Long.MAX_VALUE : (long) seconds;
    }

    /** The latest accepted timestamp at {@code now}, saturating at {@link Long#MAX_VALUE}. */
    static long latestAccepted(long now, long horizon) {
        long sum = now + horizon;
        if (((now ^ sum) & (horizon ^ sum)) < 0) { // overflow
            sum = now < 0 ? Long.MIN_VALUE : Long.MAX_VALUE;
        }
        return Math.min(sum, LAST_DATETIME_SECOND);
    }

    /**
     * Why {@code t} is refused, or null when it is accepted. The wording starts with the value
     * so callers can prefix the argument's name ("entries[3].last_update ...").
     */
    static String problem(long t, long now, Decay decay) {
        if (t < 1) {
            return t + " is not a positive number of epoch seconds";
        }
        long horizon = futureHorizon(decay);
        long latest = latestAccepted(now, horizon);
        if (t <= latest) {
            return null;
        }
        String wrongUnit = wrongUnit(t, now, latest, "board");
        if (wrongUnit != null) {
            return wrongUnit;
        }
        return String.format(java.util.Locale.ROOT,
                "%d is %.1f days ahead of the board's clock (%d); with decay_factor=%s at most %d seconds "
                        + "(%.1f days) ahead are accepted, since a later timestamp would underflow every "
                        + "other user's score to 0",
                t, ((double) t - (double) now) / Decay.SECONDS_PER_DAY, now, decay.factor, horizon,
                horizon / Decay.SECONDS_PER_DAY);
    }

    /**
     * Why an event timestamp {@code t} is refused, or null: no decay limits an event's stamp,
     * only the datetime bound (the event processor's rule, worded like the board's).
     */
    public static String eventProblem(long t, long now) {
        return t <= LAST_DATETIME_SECOND ? null : wrongUnit(t, now, LAST_DATETIME_SECOND, "processor");
    }

    /** The message for a {@code t} past {@code latest} that looks like another unit or lies past
     *  the datetime bound; null when neither. */
    private static String wrongUnit(long t, long now, long latest, String clockOwner) {
        String unit = unitGuess(t, now, latest);
        if (unit != null) {
            return t + " looks like " + unit + " (epoch seconds expected; the " + clockOwner + "'s clock says " + now + ")";
        }
        if (t > LAST_DATETIME_SECOND) {
            return t + " is after 9999-12-31T23:59:59Z (" + LAST_DATETIME_SECOND
                    + "), the last second a datetime can hold";
        }
        return null;
    }

    /** How far back a timestamp read in another unit may lie and still look like that unit. */
    private static final long GUESS_BACK_SECONDS = 30L * 365 * 86400;

    /**
     * "milliseconds" etc. when {@code t} read in that unit is an accepted timestamp within the
     * last 30 years of now (events being replayed), so a value in seconds that is merely too far
     * ahead is not mistaken for one.
     */
    static String unitGuess(long t, long now, long latest) {
        long[] scales = {1_000L, 1_000_000L, 1_000_000_000L};
        String[] names = {"milliseconds", "microseconds", "nanoseconds"};
        long earliest = now < Long.MIN_VALUE + GUESS_BACK_SECONDS ? Long.MIN_VALUE : now - GUESS_BACK_SECONDS;
        for (int i = 0; i < scales.length; i++) {
            long seconds = t / scales[i];
            if (seconds >= earliest && seconds <= latest) {
                return names[i];
            }
        }
        return null;
    }
}

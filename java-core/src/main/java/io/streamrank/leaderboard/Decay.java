package io.streamrank.leaderboard;

/**
 * The decay maths: a contribution of {@code p} points made at time {@code t} is worth
 * {@code p * decayFactor ^ ((T - t) / 86400)} at time {@code T} (seconds).
 *
 * <p>{@link #scale} is the one primitive: {@code v * decayFactor ^ days}, always finite. It uses
 * {@code Math.pow} (exact for whole days, e.g. 0.5^1) and falls back to logarithms when the power
 * alone leaves the normal double range although the product does not, then saturates at
 * +-{@link Double#MAX_VALUE} (a score never becomes infinite or NaN, so it can always be saved as
 * JSON). It is non-decreasing in {@code v}, which keeps rankings stable under rescaling.
 */
final class Decay {
    static final double SECONDS_PER_DAY = 86400.0;

    /** d, in (0, 1]. */
    final double factor;
    /** ln d (<= 0). */
    final double lnFactor;

    Decay(double factor) {
        if (!(factor > 0.0 && factor <= 1.0)) { // NaN fails both
            throw new IllegalArgumentException("decay_factor must be in (0, 1], not " + factor);
        }
        this.factor = factor;
        this.lnFactor = Math.log(factor);
    }

    /** Days from {@code from} to {@code to} (epoch seconds), in double to avoid long overflow. */
    static double days(long from, long to) {
        return ((double) to - (double) from) / SECONDS_PER_DAY;
    }

    /** {@code v * factor ^ days}, finite (saturating), never -0.0. */
    double scale(double v, double days) {
        if (v == 0.0) {
            return 0.0;
        }
        double f = Math.pow(factor, days);
        double r;
        if (f >= Double.MIN_NORMAL && f <= Double.MAX_VALUE) {
            r = v * f;
        } else {
            r = Math.copySign(Math.exp(Math.log(Math.abs(v)) + days * lnFactor), v);
        }
        return saturate(r);
    }

    /** x clamped to +-MAX_VALUE, and -0.0 turned into 0.0. x must not be NaN. */
    static double saturate(double x) {
        if (x > Double.MAX_VALUE) {
            return Double.MAX_VALUE;
        }
        if (x < -Double.MAX_VALUE) {
            return -Double.MAX_VALUE;
        }
        return x + 0.0;
    }

    /**
     * Decays many scores to the same time: one {@code pow} per query instead of one per entry,
     * with {@link #scale}'s fallback when the common factor is not a normal double.
     */
    final class Scaler {
        private final double days;
        private final double f;
        private final boolean direct;

        Scaler(double days) {
            this.days = days;
            this.f = Math.pow(factor, days);
            this.direct = f >= Double.MIN_NORMAL && f <= Double.MAX_VALUE;
        }

        double apply(double v) {
            return direct ? saturate(v * f) : scale(v, days);
        }
    }
}

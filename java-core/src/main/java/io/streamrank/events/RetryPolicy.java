package io.streamrank.events;

/**
 * How a batch whose callback failed is retried: up to {@code maxRetries} more attempts, the
 * n-th after {@code min(maxBackoffNanos, baseBackoffNanos * 2^(n-1))}; after that the batch goes
 * to the dead-letter list.
 */
public record RetryPolicy(int maxRetries, long baseBackoffNanos, long maxBackoffNanos) {
    public static final RetryPolicy DEFAULT = new RetryPolicy(3, 100_000_000L, 5_000_000_000L);

    public RetryPolicy {
        if (maxRetries < 0) {
            throw new IllegalArgumentException("max_retries must be >= 0, got " + maxRetries);
        }
        if (baseBackoffNanos < 0) {
            throw new IllegalArgumentException("retry backoff must be >= 0, got " + baseBackoffNanos + " ns");
        }
        if (maxBackoffNanos < baseBackoffNanos) {
            throw new IllegalArgumentException("max retry backoff (" + maxBackoffNanos
                    + " ns) must be >= the base backoff (" + baseBackoffNanos + " ns)");
        }
    }

    /** Delay before retry number {@code retry} (1-based). */
    public long backoffNanos(int retry) {
        if (retry <= 1) {
            return baseBackoffNanos;
        }
        int shift = Math.min(retry - 1, 62);
        long d = baseBackoffNanos << shift;
        if (d >>> shift != baseBackoffNanos || d < 0) {
            return maxBackoffNanos; // overflowed
        }
        return Math.min(d, maxBackoffNanos);
    }
}

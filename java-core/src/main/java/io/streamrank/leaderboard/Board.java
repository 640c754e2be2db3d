package io.streamrank.leaderboard;

import io.streamrank.skiplist.Node;
import io.streamrank.skiplist.RankedSkipList;

/**
 * The state of one leaderboard: users in a {@link RankedSkipList} plus a {@link UserIndex}.
 * Not thread-safe: {@link DecayedLeaderboard} guards it with one lock.
 *
 * <h2>Normalised scores</h2>
 * A node's score is the user's score normalised to the reference time R:
 * {@code N = sum_i p_i * d^((R - t_i)/86400)}. The score at any time T is
 * {@code N * d^((T - R)/86400)}, a factor common to all users, so the ranking never changes as
 * time passes and no operation has to touch every user; only returned entries are multiplied.
 * The score as of the user's last update (what snapshots store) is {@code N * d^((lu - R)/86400)}.
 *
 * <p>A contribution made long after R weighs {@code d^((R - t)/86400)}, which grows without
 * bound. Before its natural log exceeds {@link #RENORMALISE_AT} (a weight of ~1.5e111, leaving
 * scores up to ~1e197 representable), R moves to that contribution's time and every score is
 * multiplied by the (tiny) factor between the two references: O(n), and rare (with d = 0.95 once
 * per ~13.7 years of timestamps; with d = 0.5, yearly). Multiplying cannot reorder users, but
 * can underflow distinct small scores into ties; the skip list then re-sorts
 * ({@link RankedSkipList#remapScores}).
 *
 * <p>Invariants (under the lock): every node in {@link #list} is in {@link #index} and vice
 * versa; node scores are finite and never -0.0; node stamps are the latest contribution time;
 * {@code maxUsers == 0 || size() <= maxUsers}.
 */
final class Board {
    /** ln of the largest weight a contribution may get before R moves forward. */
    static final double RENORMALISE_AT = 256.0;

    final Decay decay;
    /** 0: unlimited. */
    final long maxUsers;
    final RankedSkipList list;
    final UserIndex index;
    /** R, epoch seconds. Meaningful only while the board is non-empty. */
    private long reference;
    /** The weight of the last contribution time seen (consecutive updates usually share it). */
    private long cachedTime = Long.MIN_VALUE;
    private double cachedWeight;
    /** How many times R moved (for tests and diagnostics). */
    private long renormalisations;

    Board(double decayFactor, long maxUsers) {
        this(new Decay(decayFactor), maxUsers, new RankedSkipList(), new UserIndex(), 0L);
    }

    Board(Decay decay, long maxUsers, RankedSkipList list, UserIndex index, long reference) {
        if (maxUsers < 0) {
            throw new IllegalArgumentException("max_users must be >= 0 (0 means unlimited), not " + maxUsers);
        }
        this.decay = decay;
        this.maxUsers = maxUsers;
        this.list = list;
        this.index = index;
        this.reference = reference;
    }

    int size() {
        return list.size();
    }

    long reference() {
        return reference;
    }

    long renormalisations() {
        return renormalisations;
    }

    /** The normalised weight of a contribution made at {@code t}, moving R first if needed. */
    private double weight(long t) {
        if (t == cachedTime) {
            return cachedWeight;
        }
        double days = Decay.days(t, reference); // (R - t) / 86400
        if (days * decay.lnFactor > RENORMALISE_AT) { // ln(weight) = days * ln d
            moveReference(t);
            days = 0.0;
        }
        double w = decay.scale(1.0, days);
        cachedTime = t;
        cachedWeight = w;
        return w;
    }

    /** Re-normalises every score to a new reference time: the rare O(n) step. */
    private void moveReference(long newReference) {
        final double days = Decay.days(reference, newReference);
        final Decay.Scaler scaler = decay.new Scaler(days);
        list.remapScores(scaler::apply);
        reference = newReference;
        cachedTime = Long.MIN_VALUE;
        renormalisations++;
    }

    /**
     * Adds {@code points} (finite) contributed at {@code t} to a user's score. Zero points for an
     * unknown user add nobody. Evicts the lowest-ranked user when the board grows past maxUsers.
     */
    void add(String id, double points, long t) {
        Node node = index.get(id);
        if (node == null) {
            if (points == 0.0) {
                return;
            }
            if (list.size() == 0) {
                reference = t; // an empty board needs no re-normalisation: start from here
                cachedTime = Long.MIN_VALUE;
            }
            double score = Decay.saturate(points * weight(t));
            node = list.newNode(id, score, t);
            list.insert(node);
            index.add(node);
            if (maxUsers > 0 && list.size() > maxUsers) {
                remove(list.last());
            }
            return;
        }
        double w = weight(t); // before reading the score: it may re-normalise
        double score = Decay.saturate(node.score() + points * w);
        if (t > node.stamp) {
            node.stamp = t;
        }
        if (score != node.score()) {
            list.updateScore(node, score);
        }
    }

    Node get(String id) {
        return index.get(id);
    }

    boolean remove(String id) {
        Node node = index.get(id);
        if (node == null) {
            return false;
        }
        remove(node);
        return true;
    }

    private void remove(Node node) {
        list.delete(node);
        index.remove(node.id);
        if (list.size() == 0) {
            cachedTime = Long.MIN_VALUE;
        }
    }

    /** Scores decayed to {@code now}, for the entries a query returns. */
    Decay.Scaler scalerAt(long now) {
        return decay.new Scaler(Decay.days(reference, now));
    }

    /** A node's score as of its own last update (what snapshots hold). */
    double scoreAtOwnStamp(Node node) {
        return decay.scale(node.score(), Decay.days(reference, node.stamp));
    }

    /** The normalised score of a user whose score at {@code lastUpdate} was {@code score}. */
    double normalise(double score, long lastUpdate) {
        return decay.scale(score, Decay.days(lastUpdate, reference));
    }

    /**
     * Copies up to {@code count} entries starting at 1-based {@code fromRank} into the arrays,
     * with scores decayed to {@code now}; returns how many were copied.
     */
    int copyRange(int fromRank, int count, long now, String[] ids, double[] scores, long[] stamps) {
        Node x = fromRank == 1 ? list.first() : list.byRank(fromRank);
        Decay.Scaler scaler = scalerAt(now);
        int n = 0;
        while (x != null && n < count) {
            ids[n] = x.id;
            scores[n] = scaler.apply(x.score());
            stamps[n] = x.stamp;
            n++;
            x = x.next();
        }
        return n;
    }
}

package io.streamrank.leaderboard;

/** One ranking entry as the Java API returns it: 1-based rank, id, score at query time, last update. */
public record RankedUser(int rank, String userId, double score, long lastUpdate) {}

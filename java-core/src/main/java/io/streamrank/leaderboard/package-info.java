/**
 * The time-decayed leaderboard behind {@code cpp_leaderboard.Leaderboard}.
 *
 * <ul>
 *   <li>{@link io.streamrank.leaderboard.DecayedLeaderboard}: the thread-safe Java API (one lock,
 *       documented there).</li>
 *   <li>{@code Board}: one board's state (skip list, user index, reference time) and the
 *       normalised-score scheme that makes decay free of full scans.</li>
 *   <li>{@code Decay}: the score maths, finite and saturating.</li>
 *   <li>{@code UserIndex}: compact open-addressing hash from user id to skip-list node.</li>
 *   <li>{@code Snapshot}: JSON save/load (Jackson streaming, atomic replace, validation).</li>
 *   <li>{@link io.streamrank.leaderboard.LeaderboardBridge}: the Python crossing (staged update
 *       batches, replies through Python-owned buffers).</li>
 * </ul>
 */
package io.streamrank.leaderboard;

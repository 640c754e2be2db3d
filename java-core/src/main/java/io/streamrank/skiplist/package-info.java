/**
 * An indexable skip list (Redis {@code zskiplist} style): nodes ordered by score descending,
 * then id ascending by code point, with a span on every forward link so that the rank of a node
 * and the node at a rank are found in O(log n).
 *
 * <p>Not thread-safe: the owner serialises access (the leaderboard holds one lock around it).
 */
package io.streamrank.skiplist;

package io.streamrank.events;

/**
 * A batch of consecutive accepted events (sequences {@code firstSeq .. firstSeq + size - 1}),
 * handed to one consumer at a time until its callback succeeds or it is dead-lettered.
 *
 * <p>The event columns are immutable once built. The mutable delivery state ({@code failures},
 * {@code dueNanos}, {@code lastError}) is guarded by the owning processor's delivery lock.
 */
public final class Batch {
    private final long id;
    private final long firstSeq;
    private final String[] types;
    private final String[] users;
    private final String[] channels;
    private final long[] timestamps;

    // guarded by the processor's delivery lock
    int failures;
    long dueNanos;
    String lastError;

    Batch(long id, long firstSeq, String[] types, String[] users, String[] channels, long[] timestamps) {
        this.id = id;
        this.firstSeq = firstSeq;
        this.types = types;
        this.users = users;
        this.channels = channels;
        this.timestamps = timestamps;
    }

    public long id() {
        return id;
    }

    public long firstSeq() {
        return firstSeq;
    }

    public int size() {
        return types.length;
    }

    public String type(int i) {
        return types[i];
    }

    public String user(int i) {
        return users[i];
    }

    public String channel(int i) {
        return channels[i];
    }

    public long timestamp(int i) {
        return timestamps[i];
    }

    /** Failed attempts so far (0 on first delivery). Read under the processor's lock or after
     *  the batch was handed out (the hand-out publishes it). */
    public int failures() {
        return failures;
    }

    public String lastError() {
        return lastError;
    }

    String[] typesArray() {
        return types;
    }

    String[] usersArray() {
        return users;
    }

    String[] channelsArray() {
        return channels;
    }

    long[] timestampsArray() {
        return timestamps;
    }
}

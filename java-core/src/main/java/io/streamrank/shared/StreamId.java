package io.streamrank.shared;

/**
 * A Redis stream entry id, {@code <milliseconds>-<sequence>}, ordered as Redis orders them.
 * {@link #ZERO} ("0-0") is before every real entry.
 */
public record StreamId(long millis, long seq) implements Comparable<StreamId> {
    public static final StreamId ZERO = new StreamId(0, 0);

    public static StreamId parse(String id) {
        int dash = id.indexOf('-');
        try {
            if (dash < 0) {
                return new StreamId(Long.parseLong(id), 0);
            }
            return new StreamId(Long.parseLong(id.substring(0, dash)), Long.parseLong(id.substring(dash + 1)));
        } catch (NumberFormatException e) {
            throw new IllegalArgumentException("not a stream id: " + id, e);
        }
    }

    @Override
    public int compareTo(StreamId o) {
        int c = Long.compareUnsigned(millis, o.millis);
        return c != 0 ? c : Long.compareUnsigned(seq, o.seq);
    }

    public boolean after(StreamId o) {
        return compareTo(o) > 0;
    }

    @Override
    public String toString() {
        return millis + "-" + seq;
    }
}

package io.streamrank.bridge;

import java.nio.ByteBuffer;

/**
 * Round-trips a packed message, so the Python test suite can prove that both halves of the wire
 * format agree: reads a strings section, then {@code n} longs and {@code n} doubles (n given
 * first), and writes them back in reply order (longs, doubles, strings).
 */
public final class WireCheck {
    private WireCheck() {}

    public static byte[] echo(ByteBuffer buffer, int length) {
        PackedReader in = new PackedReader(buffer, length);
        String[] strings = in.readStrings();
        int n = in.readInt();
        long[] longs = in.readLongs(n);
        double[] doubles = in.readDoubles(n);
        return new PackedWriter()
                .putLongs(longs, 0, n)
                .putDoubles(doubles, 0, n)
                .putStrings(strings, 0, strings.length)
                .toByteArray();
    }

    /** Reads one strings section (any encoding, joined included) and writes it back as a reply. */
    public static byte[] echoStrings(ByteBuffer buffer, int length) {
        PackedReader in = new PackedReader(buffer, length);
        String[] strings = in.readStrings();
        return new PackedWriter().putStrings(strings, 0, strings.length).toByteArray();
    }
}

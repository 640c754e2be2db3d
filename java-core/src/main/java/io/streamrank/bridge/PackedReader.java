package io.streamrank.bridge;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;

/**
 * Reads, section by section, what Python's {@code streamrank._wire.Packer} wrote.
 *
 * <p>The buffer is Python-owned memory: a reader must be used only during the JPype call that
 * handed the buffer over, and must copy out everything it keeps (it does: every value returned
 * is a fresh Java object). Reads use absolute indexes, so the caller's buffer position is not
 * touched and one buffer may be read by one reader at a time without setup.
 */
public final class PackedReader {
    /** Strings section encodings, as in {@code _wire.py}. */
    public static final int LATIN1 = 0;
    public static final int UTF16 = 1;

    private final ByteBuffer buf;
    private final int limit;
    private int pos;

    public PackedReader(ByteBuffer buffer, int length) {
        if (length < 0 || length > buffer.capacity()) {
            throw new IllegalArgumentException("packed length " + length + " outside buffer of " + buffer.capacity());
        }
        this.buf = buffer.duplicate().order(ByteOrder.nativeOrder());
        this.limit = length;
        this.pos = 0;
    }

    public int position() {
        return pos;
    }

    public boolean hasRemaining() {
        return pos < limit;
    }

    private int take(int n) {
        if (n < 0 || pos + (long) n > limit) {
            throw new IllegalArgumentException("packed data truncated: need " + n + " bytes at " + pos + " of " + limit);
        }
        int at = pos;
        pos += n;
        return at;
    }

    public int readInt() {
        return buf.getInt(take(4));
    }

    public long readLong() {
        return buf.getLong(take(8));
    }

    public double readDouble() {
        return buf.getDouble(take(8));
    }

    public long[] readLongs(int n) {
        int at = take(Math.multiplyExact(n, 8));
        long[] out = new long[n];
        for (int i = 0; i < n; i++) {
            out[i] = buf.getLong(at + 8 * i);
        }
        return out;
    }

    public double[] readDoubles(int n) {
        int at = take(Math.multiplyExact(n, 8));
        double[] out = new double[n];
        for (int i = 0; i < n; i++) {
            out[i] = buf.getDouble(at + 8 * i);
        }
        return out;
    }

    /** A strings section: count, encoding, per-string lengths, then the concatenated text. */
    public String[] readStrings() {
        int count = readInt();
        int encoding = readInt();
        if (count < 0) {
            throw new IllegalArgumentException("negative string count " + count);
        }
        int[] lengths = new int[count];
        int at = take(Math.multiplyExact(count, 4));
        long total = 0;
        for (int i = 0; i < count; i++) {
            int len = buf.getInt(at + 4 * i);
            if (len < 0) {
                throw new IllegalArgumentException("negative string length " + len);
            }
            lengths[i] = len;
            total += len;
        }
        String[] out = new String[count];
        if (encoding == LATIN1) {
            byte[] text = new byte[Math.toIntExact(total)];
            buf.get(take(text.length), text);
            int off = 0;
            for (int i = 0; i < count; i++) {
                out[i] = new String(text, off, lengths[i], StandardCharsets.ISO_8859_1);
                off += lengths[i];
            }
        } else if (encoding == UTF16) {
            // Assembled by hand rather than through a UTF-16 decoder, which would replace
            // lone surrogates: user ids may hold any code unit, and must come back unchanged.
            int bytes = Math.toIntExact(Math.multiplyExact(total, 2));
            int base = take(bytes);
            char[] chars = new char[Math.toIntExact(total)];
            for (int i = 0; i < chars.length; i++) {
                int lo = buf.get(base + 2 * i) & 0xff;
                int hi = buf.get(base + 2 * i + 1) & 0xff;
                chars[i] = (char) (lo | (hi << 8));
            }
            int off = 0;
            for (int i = 0; i < count; i++) {
                out[i] = new String(chars, off, lengths[i]);
                off += lengths[i];
            }
        } else {
            throw new IllegalArgumentException("unknown string encoding " + encoding);
        }
        return out;
    }
}

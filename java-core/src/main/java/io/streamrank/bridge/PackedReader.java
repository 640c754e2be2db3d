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

    /**
     * A strings section in the separated layout, the one {@link PackedWriter} replies with and
     * Python's {@code Packer.put_strings_sep} writes: int32 count, int32 encoding, int32 separator
     * code unit (or -1, then count int32 lengths in units of the encoding), int32 byte length,
     * then the text, the strings joined by the separator. Python builds it with one
     * {@code str.join} instead of a per-string length (~90 ns each from a Python loop).
     * A single string is never split, whatever it contains.
     */
    public String[] readSeparatedStrings() {
        int count = readInt();
        int encoding = readInt();
        int sep = readInt();
        if (count < 0) {
            throw new IllegalArgumentException("negative string count " + count);
        }
        int[] lengths = null;
        if (sep < 0) {
            lengths = new int[count];
            int at = take(Math.multiplyExact(count, 4));
            for (int i = 0; i < count; i++) {
                lengths[i] = buf.getInt(at + 4 * i);
                if (lengths[i] < 0) {
                    throw new IllegalArgumentException("negative string length " + lengths[i]);
                }
            }
        } else if (sep > 0xffff || (encoding == LATIN1 && sep > 0xff)) {
            throw new IllegalArgumentException("separator " + sep + " not representable in encoding " + encoding);
        }
        int nbytes = readInt();
        int base = take(nbytes);
        char[] text;
        if (encoding == LATIN1) {
            text = new char[nbytes];
            for (int i = 0; i < nbytes; i++) {
                text[i] = (char) (buf.get(base + i) & 0xff);
            }
        } else if (encoding == UTF16) {
            if ((nbytes & 1) != 0) {
                throw new IllegalArgumentException("odd UTF-16 byte length " + nbytes);
            }
            text = new char[nbytes >>> 1];
            for (int i = 0; i < text.length; i++) {
                text[i] = (char) ((buf.get(base + 2 * i) & 0xff) | ((buf.get(base + 2 * i + 1) & 0xff) << 8));
            }
        } else {
            throw new IllegalArgumentException("unknown string encoding " + encoding);
        }
        String[] out = new String[count];
        if (count == 0) {
            if (text.length != 0) {
                throw new IllegalArgumentException("text without strings");
            }
            return out;
        }
        if (lengths != null) {
            int off = 0;
            for (int i = 0; i < count; i++) {
                if (lengths[i] > text.length - off) {
                    throw new IllegalArgumentException("string lengths exceed the text");
                }
                out[i] = new String(text, off, lengths[i]);
                off += lengths[i];
            }
            return out;
        }
        if (count == 1) {
            out[0] = new String(text);
            return out;
        }
        int start = 0;
        int found = 0;
        for (int i = 0; i <= text.length; i++) {
            if (i == text.length || text[i] == sep) {
                if (found == count) {
                    throw new IllegalArgumentException("more than " + count + " separated strings");
                }
                out[found++] = new String(text, start, i - start);
                start = i + 1;
            }
        }
        if (found != count) {
            throw new IllegalArgumentException("expected " + count + " separated strings, found " + found);
        }
        return out;
    }
}

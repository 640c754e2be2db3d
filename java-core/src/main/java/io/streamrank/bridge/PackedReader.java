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
    /** Joined by a separator code unit instead of carrying lengths ({@code put_joined_strings}). */
    public static final int LATIN1_JOINED = 2;
    public static final int UTF16_JOINED = 3;

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

    /** A strings section: count, encoding, per-string lengths, then the concatenated text
     *  (or, for the joined encodings, separator, byte length, then the joined text). */
    public String[] readStrings() {
        int count = readInt();
        int encoding = readInt();
        if (count < 0) {
            throw new IllegalArgumentException("negative string count " + count);
        }
        if (encoding == LATIN1_JOINED || encoding == UTF16_JOINED) {
            return readJoined(count, encoding == UTF16_JOINED, null, 0, 0);
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
     * {@link #readStrings()}, decoding a joined Latin-1 section through {@code cache} (repeated
     * values come back as the same {@link String}); other encodings are read as usual.
     */
    public String[] readStrings(StringCache cache) {
        return readStrings(cache, 0, 0);
    }

    /**
     * {@link #readStrings(StringCache)}, except the strings at indexes {@code [uncachedFrom,
     * uncachedTo)} bypass the cache (high-cardinality values would only evict useful entries).
     */
    public String[] readStrings(StringCache cache, int uncachedFrom, int uncachedTo) {
        int at = pos;
        int count = readInt();
        int encoding = readInt();
        if (encoding != LATIN1_JOINED || count < 0) {
            pos = at;
            return readStrings();
        }
        return readJoined(count, false, cache, uncachedFrom, uncachedTo);
    }

    /** A joined section after its count and encoding; {@code cache} (may be null) serves the
     *  Latin-1 pieces outside {@code [uncachedFrom, uncachedTo)}. */
    private String[] readJoined(int count, boolean utf16, StringCache cache, int uncachedFrom, int uncachedTo) {
        int sep = readInt();
        int nbytes = readInt();
        if (sep < 0 || sep > 0xffff || (!utf16 && sep > 0xff)) {
            throw new IllegalArgumentException("bad string separator " + sep);
        }
        if (utf16 && (nbytes & 1) != 0) {
            throw new IllegalArgumentException("odd UTF-16 byte length " + nbytes);
        }
        int base = take(nbytes);
        String[] out = new String[count];
        if (count == 0) {
            if (nbytes != 0) {
                throw new IllegalArgumentException("text given for zero strings");
            }
            return out;
        }
        if (!utf16) {
            return splitLatin1(base, nbytes, (char) sep, out, cache, uncachedFrom, uncachedTo);
        }
        // By hand, not through a decoder: lone surrogates must survive (see readStrings).
        char[] chars = new char[nbytes >>> 1];
        for (int i = 0; i < chars.length; i++) {
            chars[i] = (char) ((buf.get(base + 2 * i) & 0xff) | ((buf.get(base + 2 * i + 1) & 0xff) << 8));
        }
        char s = (char) sep;
        int found = 0;
        int start = 0;
        for (int i = 0; i < chars.length; i++) {
            if (chars[i] == s) {
                if (found == count - 1) {
                    throw new IllegalArgumentException("more than " + count + " joined strings");
                }
                out[found++] = new String(chars, start, i - start);
                start = i + 1;
            }
        }
        out[found++] = new String(chars, start, chars.length - start);
        if (found != count) {
            throw new IllegalArgumentException("joined text holds " + found + " strings, expected " + count);
        }
        return out;
    }

    /** Splits {@code out.length} Latin-1 strings joined by {@code sep} at {@code base}. */
    private String[] splitLatin1(int base, int nbytes, char sep, String[] out, StringCache cache,
                                 int uncachedFrom, int uncachedTo) {
        int count = out.length;
        byte[] text = new byte[nbytes];
        buf.get(base, text);
        // One String over the whole text lets String.indexOf (a vectorised intrinsic) find the
        // separators; the pieces are copied out, or come from the cache.
        String whole = new String(text, StandardCharsets.ISO_8859_1);
        int start = 0;
        for (int i = 0; i < count - 1; i++) {
            int end = whole.indexOf(sep, start);
            if (end < 0) {
                throw new IllegalArgumentException("joined text holds " + (i + 1) + " strings, expected " + count);
            }
            out[i] = piece(text, start, end, i, cache, uncachedFrom, uncachedTo);
            start = end + 1;
        }
        if (whole.indexOf(sep, start) >= 0) {
            throw new IllegalArgumentException("more than " + count + " joined strings");
        }
        out[count - 1] = piece(text, start, nbytes, count - 1, cache, uncachedFrom, uncachedTo);
        return out;
    }

    private static String piece(byte[] text, int from, int to, int index, StringCache cache,
                                int uncachedFrom, int uncachedTo) {
        boolean cached = cache != null && (index < uncachedFrom || index >= uncachedTo);
        return cached ? cache.latin1(text, from, to) : new String(text, from, to - from, StandardCharsets.ISO_8859_1);
    }
}

package io.streamrank.bridge;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.Arrays;
import java.util.BitSet;
import java.util.List;

/**
 * Builds the one {@code byte[]} a Java method returns to Python, section by section, in the
 * layout Python's {@code streamrank._wire.Unpacker} reads.
 *
 * <p>Strings are joined by a separator code unit that none of them contains, so that Python can
 * split them in C ({@code str.split}) instead of slicing in a Python loop (about 10x faster per
 * string). Only when every BMP code unit outside the surrogate range occurs in the batch (65,000+
 * distinct characters: adversarial input) does it fall back to explicit lengths.
 *
 * <p>Not thread-safe; one writer per reply.
 */
public final class PackedWriter {
    /** Separators tried first: ASCII control characters ids are very unlikely to contain. */
    private static final char[] SEPARATORS = {'\u001f', '\u001e', '\u001d', '\u001c', '\uffff', '\ufffe'};

    private byte[] bytes;
    private ByteBuffer view;
    private int pos;

    public PackedWriter() {
        this(256);
    }

    public PackedWriter(int initialCapacity) {
        bytes = new byte[Math.max(16, initialCapacity)];
        view = ByteBuffer.wrap(bytes).order(ByteOrder.nativeOrder());
    }

    private int reserve(int n) {
        int at = pos;
        long end = (long) at + n;
        if (end > bytes.length) {
            long size = bytes.length;
            while (size < end) {
                size *= 2;
            }
            bytes = Arrays.copyOf(bytes, Math.toIntExact(Math.min(size, Integer.MAX_VALUE - 8)));
            view = ByteBuffer.wrap(bytes).order(ByteOrder.nativeOrder());
        }
        pos = Math.toIntExact(end);
        return at;
    }

    public PackedWriter putInt(int value) {
        view.putInt(reserve(4), value);
        return this;
    }

    public PackedWriter putLong(long value) {
        view.putLong(reserve(8), value);
        return this;
    }

    public PackedWriter putDouble(double value) {
        view.putDouble(reserve(8), value);
        return this;
    }

    public PackedWriter putLongs(long[] values, int from, int count) {
        int at = reserve(Math.multiplyExact(count, 8));
        for (int i = 0; i < count; i++) {
            view.putLong(at + 8 * i, values[from + i]);
        }
        return this;
    }

    public PackedWriter putDoubles(double[] values, int from, int count) {
        int at = reserve(Math.multiplyExact(count, 8));
        for (int i = 0; i < count; i++) {
            view.putDouble(at + 8 * i, values[from + i]);
        }
        return this;
    }

    public PackedWriter putStrings(List<String> strings) {
        return putStrings(strings.toArray(new String[0]), 0, strings.size());
    }

    /**
     * A strings section: count, encoding, separator (or -1 and lengths), byte length, text.
     *
     * <p>Bulk work, no per-character method calls: every string is copied with
     * {@link String#getChars} (an intrinsic) into one {@code char[]} with a one-unit gap between
     * strings; one tight pass ORs the code units together (Latin-1 iff the result is below
     * 0x100); the separator is found with {@link String#indexOf}; then the gaps get the
     * separator and the text is narrowed to bytes, or copied as UTF-16LE.
     */
    public PackedWriter putStrings(String[] strings, int from, int count) {
        long chars = 0;
        for (int i = from; i < from + count; i++) {
            chars += strings[i].length();
        }
        int gaps = count > 1 ? count - 1 : 0;
        char[] text = new char[Math.toIntExact(chars + gaps)];
        int at = 0;
        for (int i = from; i < from + count; i++) {
            String s = strings[i];
            int len = s.length();
            s.getChars(0, len, text, at);
            at += len + 1; // leave the gap for the separator
        }
        int or = 0;
        for (char c : text) {
            or |= c; // the gaps are still NUL: harmless
        }
        // String.indexOf is a vectorised intrinsic: one call per string and candidate.
        int sep = count <= 1 ? SEPARATORS[0] : chooseSeparator(strings, from, count);
        boolean latin1 = (or | Math.max(sep, 0)) <= 0xff;
        putInt(count);
        putInt(latin1 ? PackedReader.LATIN1 : PackedReader.UTF16);
        putInt(sep);
        int units;
        if (sep < 0) {
            for (int i = from; i < from + count; i++) {
                putInt(strings[i].length());
            }
            // Close the gaps: the text is the plain concatenation.
            int w = 0;
            int r = 0;
            for (int i = from; i < from + count; i++) {
                int len = strings[i].length();
                System.arraycopy(text, r, text, w, len);
                r += len + 1;
                w += len;
            }
            units = w;
        } else {
            int g = 0;
            for (int i = from; i < from + count - 1; i++) {
                g += strings[i].length();
                text[g++] = (char) sep;
            }
            units = text.length;
        }
        int nbytes = latin1 ? units : Math.multiplyExact(units, 2);
        putInt(nbytes);
        int base = reserve(nbytes);
        byte[] out = bytes;
        if (latin1) {
            for (int i = 0; i < units; i++) {
                out[base + i] = (byte) text[i];
            }
        } else {
            ByteBuffer.wrap(out, base, nbytes).order(ByteOrder.LITTLE_ENDIAN).asCharBuffer().put(text, 0, units);
        }
        return this;
    }

    /** A code unit that occurs in none of the strings, or -1 when there is none. */
    static int chooseSeparator(String[] strings, int from, int count) {
        for (char candidate : SEPARATORS) {
            boolean absent = true;
            for (int i = from; i < from + count && absent; i++) {
                absent = strings[i].indexOf(candidate) < 0;
            }
            if (absent) {
                return candidate;
            }
        }
        BitSet used = new BitSet(0x10000);
        for (int i = from; i < from + count; i++) {
            String s = strings[i];
            for (int j = 0; j < s.length(); j++) {
                used.set(s.charAt(j));
            }
        }
        for (int c = 1; c < 0x10000; c++) {
            boolean surrogate = c >= 0xd800 && c <= 0xdfff;
            if (!surrogate && !used.get(c)) {
                return c;
            }
        }
        return -1;
    }

    public int size() {
        return pos;
    }

    public byte[] toByteArray() {
        return Arrays.copyOf(bytes, pos);
    }
}

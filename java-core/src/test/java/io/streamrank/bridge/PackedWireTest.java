package io.streamrank.bridge;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

class PackedWireTest {

    /** Builds a Python-side strings section by hand, as _wire.Packer.put_strings does. */
    private static ByteBuffer pythonStrings(int encoding, String... strings) {
        ByteBuffer b = ByteBuffer.allocateDirect(1 << 16).order(ByteOrder.nativeOrder());
        b.putInt(strings.length).putInt(encoding);
        for (String s : strings) {
            b.putInt(s.length());
        }
        for (String s : strings) {
            if (encoding == PackedReader.LATIN1) {
                b.put(s.getBytes(StandardCharsets.ISO_8859_1));
            } else {
                for (char c : s.toCharArray()) {
                    b.put((byte) c).put((byte) (c >>> 8));
                }
            }
        }
        return b;
    }

    /** Decodes a PackedWriter strings section the way _wire.Unpacker.read_strings does. */
    private static List<String> readReplyStrings(ByteBuffer b) {
        int count = b.getInt();
        int encoding = b.getInt();
        int sep = b.getInt();
        int[] lengths = null;
        if (sep < 0) {
            lengths = new int[count];
            for (int i = 0; i < count; i++) {
                lengths[i] = b.getInt();
            }
        }
        int nbytes = b.getInt();
        StringBuilder text = new StringBuilder();
        for (int i = 0; i < (encoding == 0 ? nbytes : nbytes / 2); i++) {
            text.append(encoding == 0 ? (char) (b.get() & 0xff) : (char) ((b.get() & 0xff) | ((b.get() & 0xff) << 8)));
        }
        List<String> out = new ArrayList<>();
        if (count == 0) {
            return out;
        }
        if (sep >= 0) {
            int start = 0;
            for (int i = 0; i <= text.length(); i++) {
                if (i == text.length() || text.charAt(i) == sep) {
                    out.add(text.substring(start, i));
                    start = i + 1;
                }
            }
        } else {
            int off = 0;
            for (int len : lengths) {
                out.add(text.substring(off, off + len));
                off += len;
            }
        }
        return out;
    }

    @Test
    void readsLatin1AndUtf16StringsIncludingEmptyNulAndLoneSurrogates() {
        String[] latin = {"message", "", "user\u0000x", "caf\u00e9"};
        ByteBuffer b = pythonStrings(PackedReader.LATIN1, latin);
        assertArrayEquals(latin, new PackedReader(b, b.position()).readStrings());

        String[] wide = {"\ud83d\ude00 emoji", "lone \ud800 high", "\udc00", "", "\u4e2d\u6587"};
        b = pythonStrings(PackedReader.UTF16, wide);
        assertArrayEquals(wide, new PackedReader(b, b.position()).readStrings());
    }

    @Test
    void truncatedInputIsAnIllegalArgumentNotAnOverread() {
        ByteBuffer b = pythonStrings(PackedReader.LATIN1, "abcdef");
        PackedReader r = new PackedReader(b, b.position() - 2);
        assertThrows(IllegalArgumentException.class, r::readStrings);
        assertThrows(IllegalArgumentException.class, () -> new PackedReader(b, b.capacity() + 1));
    }

    @Test
    void writerSeparatesWithACodeUnitAbsentFromTheStrings() {
        String[] strings = {"a\u001fb", "c\u001ed", "", "plain"};
        byte[] out = new PackedWriter().putStrings(strings, 0, strings.length).toByteArray();
        ByteBuffer b = ByteBuffer.wrap(out).order(ByteOrder.nativeOrder());
        assertEquals(List.of(strings), readReplyStrings(b));
        int sep = ByteBuffer.wrap(out).order(ByteOrder.nativeOrder()).getInt(8);
        assertEquals('\u001d', sep);
    }

    @Test
    void writerFallsBackToLengthsWhenEveryCodeUnitIsUsed() {
        StringBuilder all = new StringBuilder();
        for (int c = 1; c < 0x10000; c++) {
            all.append((char) c);
        }
        String[] strings = {all.toString(), "x", ""};
        assertEquals(-1, PackedWriter.chooseSeparator(strings, 0, strings.length));
        byte[] out = new PackedWriter().putStrings(strings, 0, strings.length).toByteArray();
        assertEquals(List.of(strings), readReplyStrings(ByteBuffer.wrap(out).order(ByteOrder.nativeOrder())));
    }

    @Test
    void writerKeepsNumbersExactlyAndGrows() {
        long[] longs = {Long.MIN_VALUE, -1, 0, 1, Long.MAX_VALUE};
        double[] doubles = {-0.0, Double.MIN_VALUE, 0.1, 1e308, Double.NEGATIVE_INFINITY};
        PackedWriter w = new PackedWriter(16).putLongs(longs, 0, 5).putDoubles(doubles, 0, 5).putInt(42);
        ByteBuffer b = ByteBuffer.wrap(w.toByteArray()).order(ByteOrder.nativeOrder());
        for (long l : longs) {
            assertEquals(l, b.getLong());
        }
        for (double d : doubles) {
            assertEquals(Double.doubleToRawLongBits(d), Double.doubleToRawLongBits(b.getDouble()));
        }
        assertEquals(42, b.getInt());
        assertEquals(84, w.size());
    }

    @Test
    void writerSwitchesToUtf16WhenTheSeparatorIsNotLatin1() {
        StringBuilder latin = new StringBuilder();
        for (char c : new char[] {'\u001f', '\u001e', '\u001d', '\u001c'}) {
            latin.append(c);
        }
        String[] strings = {latin.toString(), "z"};
        byte[] out = new PackedWriter().putStrings(strings, 0, 2).toByteArray();
        ByteBuffer b = ByteBuffer.wrap(out).order(ByteOrder.nativeOrder());
        assertEquals(PackedReader.UTF16, b.getInt(4));
        assertEquals(List.of(strings), readReplyStrings(b));
    }
}

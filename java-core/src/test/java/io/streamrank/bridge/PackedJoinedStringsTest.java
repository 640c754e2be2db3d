package io.streamrank.bridge;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import org.junit.jupiter.api.Test;

/** The joined strings section (Python's put_joined_strings) and the bulk PackedWriter. */
class PackedJoinedStringsTest {

    private static ByteBuffer joined(int encoding, char sep, String... strings) {
        ByteBuffer b = ByteBuffer.allocateDirect(1 << 16).order(ByteOrder.nativeOrder());
        String text = String.join(String.valueOf(sep), strings);
        byte[] data;
        if (encoding == PackedReader.LATIN1_JOINED) {
            data = text.getBytes(StandardCharsets.ISO_8859_1);
        } else {
            data = new byte[text.length() * 2];
            for (int i = 0; i < text.length(); i++) {
                data[2 * i] = (byte) text.charAt(i);
                data[2 * i + 1] = (byte) (text.charAt(i) >>> 8);
            }
        }
        b.putInt(strings.length).putInt(encoding).putInt(sep).putInt(data.length).put(data);
        return b;
    }

    private static String[] read(ByteBuffer b) {
        return new PackedReader(b, b.position()).readStrings();
    }

    @Test
    void latin1AndUtf16JoinedSectionsReadBack() {
        String[] latin = {"message", "", "12345678901234567", "caf\u00e9", "nul\u0000inside"};
        assertArrayEquals(latin, read(joined(PackedReader.LATIN1_JOINED, '\u001f', latin)));
        String[] wide = {"\u4f60\u597d", "", "\ud83d\ude00", "\ud800", "\udfff lone", "x"};
        assertArrayEquals(wide, read(joined(PackedReader.UTF16_JOINED, '\u001f', wide)));
    }

    @Test
    void zeroAndOneEmptyStringAreDistinct() {
        assertEquals(0, read(joined(PackedReader.LATIN1_JOINED, '\u001f')).length);
        assertArrayEquals(new String[] {""}, read(joined(PackedReader.LATIN1_JOINED, '\u001f', "")));
        assertArrayEquals(new String[] {"", ""}, read(joined(PackedReader.LATIN1_JOINED, '\u001f', "", "")));
    }

    @Test
    void aCountThatDisagreesWithTheTextIsRejected() {
        ByteBuffer b = joined(PackedReader.LATIN1_JOINED, '\u001f', "a", "b", "c");
        b.putInt(0, 2);
        assertThrows(IllegalArgumentException.class, () -> read(b));
        ByteBuffer c = joined(PackedReader.LATIN1_JOINED, '\u001f', "a", "b");
        c.putInt(0, 3);
        assertThrows(IllegalArgumentException.class, () -> read(c));
    }

    /** Decodes a PackedWriter strings section like _wire.Unpacker.read_strings. */
    private static String[] decodeReply(byte[] reply) {
        ByteBuffer b = ByteBuffer.wrap(reply).order(ByteOrder.nativeOrder());
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
        char[] text = new char[encoding == PackedReader.LATIN1 ? nbytes : nbytes / 2];
        for (int i = 0; i < text.length; i++) {
            text[i] = encoding == PackedReader.LATIN1 ? (char) (b.get() & 0xff)
                    : (char) ((b.get() & 0xff) | ((b.get() & 0xff) << 8));
        }
        String all = new String(text);
        String[] out = new String[count];
        if (count == 0) {
            return out;
        }
        if (sep >= 0) {
            return all.split(String.valueOf((char) sep), -1);
        }
        int off = 0;
        for (int i = 0; i < count; i++) {
            out[i] = all.substring(off, off + lengths[i]);
            off += lengths[i];
        }
        return out;
    }

    @Test
    void writerPicksLatin1WhenItCanAndASeparatorNoStringHolds() {
        String[] s = {"a\u001fb", "c\u001e", "\u00ff", ""};
        byte[] reply = new PackedWriter().putStrings(s, 0, s.length).toByteArray();
        ByteBuffer head = ByteBuffer.wrap(reply).order(ByteOrder.nativeOrder());
        assertEquals(4, head.getInt());
        assertEquals(PackedReader.LATIN1, head.getInt());
        assertEquals(0x1d, head.getInt());
        assertArrayEquals(s, decodeReply(reply));
    }

    @Test
    void writerFallsBackToUtf16AndToLengths() {
        String[] wide = {"\u4f60", "\ud800", "b"};
        assertArrayEquals(wide, decodeReply(new PackedWriter().putStrings(wide, 0, wide.length).toByteArray()));
        // Every control-character candidate occurs: the writer looks further (0xffff is free).
        String[] controls = {"\u001f\u001e", "\u001d\u001c", "x"};
        byte[] reply = new PackedWriter().putStrings(controls, 0, controls.length).toByteArray();
        assertEquals(0xffff, ByteBuffer.wrap(reply).order(ByteOrder.nativeOrder()).getInt(8));
        assertArrayEquals(controls, decodeReply(reply));
        // Every usable code unit occurs: explicit lengths.
        StringBuilder all = new StringBuilder();
        for (int c = 1; c < 0x10000; c++) {
            if (c < 0xd800 || c > 0xdfff) {
                all.append((char) c);
            }
        }
        String[] dense = {all.toString(), "", "tail"};
        byte[] lengths = new PackedWriter().putStrings(dense, 0, dense.length).toByteArray();
        assertEquals(-1, ByteBuffer.wrap(lengths).order(ByteOrder.nativeOrder()).getInt(8));
        assertArrayEquals(dense, decodeReply(lengths));
    }

    @Test
    void writerHandlesSubrangesAndEmptySections() {
        String[] s = {"skip", "a", "bb", "skip"};
        assertArrayEquals(new String[] {"a", "bb"}, decodeReply(new PackedWriter().putStrings(s, 1, 2).toByteArray()));
        assertEquals(0, decodeReply(new PackedWriter().putStrings(s, 0, 0).toByteArray()).length);
        assertArrayEquals(new String[] {""}, decodeReply(new PackedWriter().putStrings(new String[] {""}, 0, 1).toByteArray()));
    }
}

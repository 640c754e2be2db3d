package io.streamrank.bridge;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import org.junit.jupiter.api.Test;

class SeparatedStringsTest {

    /** A separated strings section as Python's Packer.put_strings_sep writes it. */
    static ByteBuffer section(int encoding, int sep, String... strings) {
        ByteBuffer b = ByteBuffer.allocateDirect(1 << 12).order(ByteOrder.nativeOrder());
        b.putInt(strings.length).putInt(encoding).putInt(sep);
        StringBuilder text = new StringBuilder();
        for (int i = 0; i < strings.length; i++) {
            if (sep < 0) {
                b.putInt(strings[i].length());
            } else if (i > 0) {
                text.append((char) sep);
            }
            text.append(strings[i]);
        }
        b.putInt(encoding == PackedReader.LATIN1 ? text.length() : 2 * text.length());
        for (int i = 0; i < text.length(); i++) {
            char c = text.charAt(i);
            b.put((byte) c);
            if (encoding == PackedReader.UTF16) {
                b.put((byte) (c >>> 8));
            }
        }
        return b;
    }

    private static String[] read(ByteBuffer b) {
        return new PackedReader(b, b.position()).readSeparatedStrings();
    }

    @Test
    void readsEachLayout() {
        String[] latin = {"123456789012345678", "", "caf\u00e9", "x"};
        assertArrayEquals(latin, read(section(PackedReader.LATIN1, 0x1f, latin)));
        String[] wide = {"\u4e2d\u6587", "\uD83D\uDE00", "\uD800lone", ""};
        assertArrayEquals(wide, read(section(PackedReader.UTF16, 0x1f, wide)));
        String[] withSeparators = {"a\u001fb", "\u001e"};
        assertArrayEquals(withSeparators, read(section(PackedReader.UTF16, -1, withSeparators)));
        assertArrayEquals(withSeparators, read(section(PackedReader.LATIN1, -1, withSeparators)));
        assertArrayEquals(new String[] {"only\u001fone"}, read(section(PackedReader.LATIN1, 0x1f, "only\u001fone")));
        assertArrayEquals(new String[0], read(section(PackedReader.LATIN1, 0x1f)));
    }

    @Test
    void rejectsInconsistentSections() {
        ByteBuffer tooFew = section(PackedReader.LATIN1, 0x1f, "a", "b");
        tooFew.putInt(0, 3);
        assertThrows(IllegalArgumentException.class, () -> read(tooFew));
        ByteBuffer tooMany = section(PackedReader.LATIN1, 0x1f, "a", "b", "c");
        tooMany.putInt(0, 2);
        assertThrows(IllegalArgumentException.class, () -> read(tooMany));
        ByteBuffer badEncoding = section(PackedReader.LATIN1, 0x1f, "a", "b");
        badEncoding.putInt(4, 7);
        assertThrows(IllegalArgumentException.class, () -> read(badEncoding));
        ByteBuffer wideSeparator = section(PackedReader.LATIN1, 0x1f, "a", "b");
        wideSeparator.putInt(8, 0x4e2d);
        assertThrows(IllegalArgumentException.class, () -> read(wideSeparator));
        ByteBuffer truncated = section(PackedReader.LATIN1, 0x1f, "abc", "def");
        assertThrows(IllegalArgumentException.class, () -> new PackedReader(truncated, truncated.position() - 1).readSeparatedStrings());
    }
}

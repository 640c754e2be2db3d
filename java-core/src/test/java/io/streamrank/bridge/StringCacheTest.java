package io.streamrank.bridge;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.util.Random;
import org.junit.jupiter.api.Test;

class StringCacheTest {
    private static byte[] b(String s) {
        return s.getBytes(StandardCharsets.ISO_8859_1);
    }

    @Test
    void repeatedValuesComeBackAsTheSameString() {
        StringCache cache = new StringCache(64);
        byte[] text = b("xx123456789012345678yy");
        String first = cache.latin1(text, 2, 20);
        String again = cache.latin1(b("123456789012345678"), 0, 18);
        assertEquals("123456789012345678", first);
        assertSame(first, again);
        assertEquals(1, cache.hits());
        assertEquals(1, cache.misses());
        assertSame("", cache.latin1(text, 5, 5));
        assertSame(cache.latin1(b("ab"), 0, 2), cache.latin1(b("ab"), 0, 2));
    }

    @Test
    void collisionsNeverReturnTheWrongString() {
        StringCache cache = new StringCache(1); // every value collides
        Random rnd = new Random(1);
        for (int i = 0; i < 10_000; i++) {
            String s = Long.toString(rnd.nextInt(50)) + (rnd.nextBoolean() ? "" : "\u00e9\u0000" + rnd.nextInt(3));
            byte[] bytes = b("<" + s + ">");
            assertEquals(s, cache.latin1(bytes, 1, bytes.length - 1));
        }
        assertThrows(IllegalArgumentException.class, () -> new StringCache(0));
    }

    @Test
    void readerDecodesJoinedLatin1ThroughTheCache() {
        String[] strings = {"message", "123456789012345678", "", "message", "caf\u00e9", "123456789012345678"};
        ByteBuffer buf = ByteBuffer.allocateDirect(1024).order(ByteOrder.nativeOrder());
        byte[] data = b(String.join("\u001f", strings));
        buf.putInt(strings.length).putInt(PackedReader.LATIN1_JOINED).putInt(0x1f).putInt(data.length).put(data);
        buf.putInt(7);
        StringCache cache = new StringCache(256);
        PackedReader in = new PackedReader(buf, buf.position());
        String[] out = in.readStrings(cache);
        assertArrayEquals(strings, out);
        assertSame(out[0], out[3]);
        assertSame(out[1], out[5]);
        assertEquals(7, in.readInt(), "the reader continues after the section");
        // Too few or too many separators for the count are rejected.
        ByteBuffer bad = ByteBuffer.allocateDirect(64).order(ByteOrder.nativeOrder());
        bad.putInt(3).putInt(PackedReader.LATIN1_JOINED).putInt(0x1f).putInt(3).put(b("a\u001fb"));
        assertThrows(IllegalArgumentException.class, () -> new PackedReader(bad, bad.position()).readStrings(cache));
        bad.putInt(0, 1);
        assertThrows(IllegalArgumentException.class, () -> new PackedReader(bad, bad.position()).readStrings(cache));
    }

    @Test
    void aRangeCanBypassTheCache() {
        String[] strings = {"m", "u1", "u1", "c"};
        ByteBuffer buf = ByteBuffer.allocateDirect(256).order(ByteOrder.nativeOrder());
        byte[] data = b(String.join("\u001f", strings));
        buf.putInt(strings.length).putInt(PackedReader.LATIN1_JOINED).putInt(0x1f).putInt(data.length).put(data);
        StringCache cache = new StringCache(16);
        String[] out = new PackedReader(buf, buf.position()).readStrings(cache, 1, 3);
        assertArrayEquals(strings, out);
        assertEquals(2, cache.misses(), "only the first and the last went through the cache");
        assertEquals(0, cache.hits());
    }

    @Test
    void otherEncodingsIgnoreTheCache() {
        ByteBuffer buf = ByteBuffer.allocateDirect(64).order(ByteOrder.nativeOrder());
        buf.putInt(2).putInt(PackedReader.LATIN1).putInt(1).putInt(2).put(b("abc"));
        assertArrayEquals(new String[] {"a", "bc"}, new PackedReader(buf, buf.position()).readStrings(new StringCache(8)));
    }
}

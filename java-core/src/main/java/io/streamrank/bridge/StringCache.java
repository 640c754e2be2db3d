package io.streamrank.bridge;

import java.lang.invoke.MethodHandles;
import java.lang.invoke.VarHandle;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.util.Arrays;

/**
 * A small direct-mapped cache of recently decoded Latin-1 strings, so a stream of events whose
 * types, channel ids and active user ids repeat decodes each distinct value once: a hit costs a
 * vectorised byte compare instead of an allocation, and the returned {@link String} already
 * has its hash code cached (the statistics hash every user and channel id).
 *
 * <p>Entries are replaced on collision; equality is always checked on the full bytes, so a
 * collision only costs a miss. Memory is bounded by {@code slots} strings.
 *
 * <p>Not thread-safe: one cache per reader thread (the event port uses it under its ingest
 * lock).
 */
public final class StringCache {
    private static final VarHandle LONGS = MethodHandles.byteArrayViewVarHandle(long[].class, ByteOrder.LITTLE_ENDIAN);

    private final int mask;
    private final String[] strings;
    private final byte[][] keys;
    private long hits;
    private long misses;

    /** @param slots rounded up to a power of two */
    public StringCache(int slots) {
        if (slots <= 0 || slots > (1 << 24)) {
            throw new IllegalArgumentException("cache slots must be in 1..2^24, got " + slots);
        }
        int size = slots == 1 ? 1 : Integer.highestOneBit(slots - 1) << 1;
        mask = size - 1;
        strings = new String[size];
        keys = new byte[size][];
    }

    /** The string of Latin-1 bytes {@code text[from, to)}. */
    public String latin1(byte[] text, int from, int to) {
        int len = to - from;
        if (len == 0) {
            return "";
        }
        long h;
        if (len >= 8) {
            // Both ends: ids that share a prefix (snowflakes) differ at the end, and vice versa.
            h = (long) LONGS.get(text, from) * 0x9E3779B97F4A7C15L
                    ^ (long) LONGS.get(text, to - 8) * 0xC2B2AE3D27D4EB4FL;
        } else {
            h = 0;
            for (int i = from; i < to; i++) {
                h = (h << 8) | (text[i] & 0xff);
            }
            h *= 0x9E3779B97F4A7C15L;
        }
        h ^= len;
        int slot = (int) (h ^ (h >>> 29) ^ (h >>> 43)) & mask;
        byte[] key = keys[slot];
        if (key != null && key.length == len && Arrays.equals(key, 0, len, text, from, to)) {
            hits++;
            return strings[slot];
        }
        misses++;
        String s = new String(text, from, len, StandardCharsets.ISO_8859_1);
        keys[slot] = Arrays.copyOfRange(text, from, to);
        strings[slot] = s;
        return s;
    }

    public long hits() {
        return hits;
    }

    public long misses() {
        return misses;
    }
}

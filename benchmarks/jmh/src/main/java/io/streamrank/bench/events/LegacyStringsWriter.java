package io.streamrank.bench.events;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.Arrays;

/**
 * The strings section as PackedWriter wrote it before it was reworked for bulk copies (a
 * char-by-char Latin-1 check and write): kept only as the baseline for {@link StringsBench}.
 */
final class LegacyStringsWriter {
    private static final char[] SEPARATORS = {'\u001f', '\u001e', '\u001d', '\u001c', '\uffff', '\ufffe'};

    private LegacyStringsWriter() {}

    static byte[] pack(String[] strings) {
        boolean latin1 = true;
        long chars = 0;
        for (String s : strings) {
            chars += s.length();
            if (latin1) {
                for (int j = 0; j < s.length(); j++) {
                    if (s.charAt(j) > 0xff) {
                        latin1 = false;
                        break;
                    }
                }
            }
        }
        int sep = SEPARATORS[0];
        for (char candidate : SEPARATORS) {
            boolean absent = true;
            for (int i = 0; i < strings.length && absent; i++) {
                absent = strings[i].indexOf(candidate) < 0;
            }
            if (absent) {
                sep = candidate;
                break;
            }
        }
        int units = Math.toIntExact(chars + strings.length - 1);
        int nbytes = latin1 ? units : 2 * units;
        byte[] out = new byte[16 + nbytes];
        ByteBuffer head = ByteBuffer.wrap(out).order(ByteOrder.nativeOrder());
        head.putInt(strings.length).putInt(latin1 ? 0 : 1).putInt(sep).putInt(nbytes);
        int at = 16;
        for (int i = 0; i < strings.length; i++) {
            if (i > 0) {
                at = put(out, at, (char) sep, latin1);
            }
            String s = strings[i];
            for (int j = 0; j < s.length(); j++) {
                at = put(out, at, s.charAt(j), latin1);
            }
        }
        return Arrays.copyOf(out, at);
    }

    private static int put(byte[] out, int at, char c, boolean latin1) {
        out[at] = (byte) c;
        if (latin1) {
            return at + 1;
        }
        out[at + 1] = (byte) (c >>> 8);
        return at + 2;
    }
}

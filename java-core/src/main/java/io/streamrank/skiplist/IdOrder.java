package io.streamrank.skiplist;

/**
 * The tie-break order of user ids: ascending by Unicode code point, which is what Python's
 * {@code str} comparison and the original C++ extension's {@code std::string} (UTF-8 bytes)
 * comparison both give. Java's {@link String#compareTo} compares UTF-16 code units instead, which
 * disagrees for characters above U+FFFF against U+E000..U+FFFF.
 */
public final class IdOrder {
    private IdOrder() {}

    /**
     * The index of the first lone surrogate in {@code s} (a high surrogate not followed by a low
     * one, or a low one not preceded by a high one), or -1 when {@code s} is valid Unicode. Ids
     * must be valid Unicode everywhere (Python refuses a str with lone surrogates, so an id that
     * entered any other way could never be asked about or removed).
     */
    public static int firstLoneSurrogate(String s) {
        int n = s.length();
        for (int i = 0; i < n; i++) {
            char c = s.charAt(i);
            if (Character.isHighSurrogate(c)) {
                if (i + 1 < n && Character.isLowSurrogate(s.charAt(i + 1))) {
                    i++;
                    continue;
                }
                return i;
            }
            if (Character.isLowSurrogate(c)) {
                return i;
            }
        }
        return -1;
    }

    public static int compare(String a, String b) {
        int n = Math.min(a.length(), b.length());
        for (int i = 0; i < n; i++) {
            char ca = a.charAt(i);
            char cb = b.charAt(i);
            if (ca != cb) {
                if (ca >= 0xD800 && cb >= 0xD800) {
                    return codePointRank(ca) - codePointRank(cb);
                }
                return ca - cb;
            }
        }
        return a.length() - b.length();
    }

    /**
     * Maps code units at or above U+D800 so that surrogates (which encode U+10000 and up) sort
     * after U+E000..U+FFFF: U+E000..U+FFFF move down to U+D800..U+F7FF, surrogates move up to
     * U+F800..U+FFFF.
     */
    private static int codePointRank(char c) {
        return c >= 0xE000 ? c - 0x800 : c + 0x2000;
    }
}

package io.streamrank.shared;

import io.streamrank.leaderboard.UpdateBatch;

/**
 * The payload of one leaderboard-log entry that carries a batch of updates, as text:
 * {@code <len>:<user_id><points>,<timestamp>;} repeated, where {@code len} is the user id's
 * length in UTF-16 units (ids are length-prefixed, so they may hold any character) and points
 * are {@link Double#toString}, which reads back to the same double. Text rather than bytes
 * because Jedis' string API then does all the framing; the cost is a few bytes per update.
 */
final class LogCodec {
    private LogCodec() {}

    static String encode(String[] ids, double[] points, long[] stamps, int from, int to) {
        StringBuilder sb = new StringBuilder((to - from) * 32);
        for (int i = from; i < to; i++) {
            sb.append(ids[i].length()).append(':').append(ids[i])
                    .append(points[i]).append(',').append(stamps[i]).append(';');
        }
        return sb.toString();
    }

    /** The decoded arrays, not yet checked. */
    record Updates(String[] ids, double[] points, long[] stamps) {
        UpdateBatch toBatch() {
            return new UpdateBatch(ids, points, stamps);
        }
    }

    static Updates decode(String s) {
        int n = 0;
        for (int i = 0, len = s.length(); i < len; ) {
            int colon = s.indexOf(':', i);
            int idLen = Integer.parseInt(s, i, colon, 10);
            int semi = s.indexOf(';', colon + 1 + idLen);
            n++;
            i = semi + 1;
        }
        String[] ids = new String[n];
        double[] points = new double[n];
        long[] stamps = new long[n];
        int k = 0;
        for (int i = 0, len = s.length(); i < len; k++) {
            int colon = s.indexOf(':', i);
            int idLen = Integer.parseInt(s, i, colon, 10);
            int idEnd = colon + 1 + idLen;
            ids[k] = s.substring(colon + 1, idEnd);
            int comma = s.indexOf(',', idEnd);
            int semi = s.indexOf(';', comma);
            points[k] = Double.parseDouble(s.substring(idEnd, comma));
            stamps[k] = Long.parseLong(s, comma + 1, semi, 10);
            i = semi + 1;
        }
        return new Updates(ids, points, stamps);
    }

    /** Redis stores strings as UTF-8: an unpaired surrogate would not come back the same. */
    static void checkEncodable(String what, String s) {
        for (int i = 0; i < s.length(); i++) {
            char c = s.charAt(i);
            if (Character.isHighSurrogate(c)) {
                if (i + 1 < s.length() && Character.isLowSurrogate(s.charAt(i + 1))) {
                    i++;
                    continue;
                }
                throw new IllegalArgumentException(what + " is not valid Unicode (unpaired surrogate at " + i + ")");
            }
            if (Character.isLowSurrogate(c)) {
                throw new IllegalArgumentException(what + " is not valid Unicode (unpaired surrogate at " + i + ")");
            }
        }
    }
}

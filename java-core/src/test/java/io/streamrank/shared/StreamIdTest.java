package io.streamrank.shared;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.junit.jupiter.api.Test;

class StreamIdTest {
    @Test
    void ordersAsRedisDoes() {
        assertTrue(StreamId.parse("10-2").after(StreamId.parse("10-1")));
        assertTrue(StreamId.parse("11-0").after(StreamId.parse("10-99")));
        assertTrue(StreamId.parse("1-0").after(StreamId.ZERO));
        assertEquals("1700000000000-5", StreamId.parse("1700000000000-5").toString());
        assertThrows(IllegalArgumentException.class, () -> StreamId.parse("x-1"));
    }

    @Test
    void codecRoundTripsAnyIdAndExactDoubles() {
        String[] ids = {"a", "", "semi;colon:comma,", "12:34", "emoji \uD83D\uDE00", "new\nline"};
        double[] pts = {1.0, -0.1, 1e-300, Double.MAX_VALUE, 0.1 + 0.2, -0.0};
        long[] ts = {1, 0, -5, Long.MAX_VALUE, 1_700_000_000L, 42};
        LogCodec.Updates back = LogCodec.decode(LogCodec.encode(ids, pts, ts, 0, ids.length));
        org.junit.jupiter.api.Assertions.assertArrayEquals(ids, back.ids());
        org.junit.jupiter.api.Assertions.assertArrayEquals(pts, back.points()); // bit-exact, -0.0 included
        org.junit.jupiter.api.Assertions.assertArrayEquals(ts, back.stamps());
        assertThrows(IllegalArgumentException.class, () -> LogCodec.checkEncodable("user_id", "bad\uD800"));
    }
}

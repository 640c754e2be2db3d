package io.streamrank.leaderboard;

import io.streamrank.bridge.PackedReader;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

/** The bridge driven the way the Python facade drives it: staged batches and io-buffer replies. */
class LeaderboardBridgeTest {
    static final long T0 = DecayedLeaderboardTest.T0;

    private final ByteBuffer stage = ByteBuffer.allocateDirect(1 << 16).order(ByteOrder.nativeOrder());
    private final ByteBuffer io = ByteBuffer.allocateDirect(256).order(ByteOrder.nativeOrder());

    private LeaderboardBridge bridge(LeaderboardBridge b) {
        b.setStage(stage);
        b.setIo(io);
        return b;
    }

    private long generation;

    /** Packs a staged batch as cpp_leaderboard packs a stage; returns its length. */
    private int stage(Object... triples) {
        stage.clear();
        int n = triples.length / 3;
        // Each batch a stage generation of its own (positions 0..n-1), as a full stage is.
        stage.putLong(++generation).putInt(0).putInt(n);
        stage.putInt(n).putInt(PackedReader.LATIN1_JOINED).putInt(0x1f);
        StringBuilder text = new StringBuilder();
        for (int i = 0; i < n; i++) {
            if (i > 0) {
                text.append('\u001f');
            }
            text.append((String) triples[3 * i]);
        }
        byte[] bytes = text.toString().getBytes(StandardCharsets.ISO_8859_1);
        stage.putInt(bytes.length).put(bytes);
        for (int i = 0; i < n; i++) {
            stage.putDouble(((Number) triples[3 * i + 1]).doubleValue());
        }
        for (int i = 0; i < n; i++) {
            stage.putLong(((Number) triples[3 * i + 2]).longValue());
        }
        return stage.position();
    }

    private int id(String id) {
        byte[] b = id.getBytes(StandardCharsets.ISO_8859_1);
        io.put(0, b);
        return b.length;
    }

    /** Decodes a window reply (first rank, strings, scores, stamps) into "rank:id:score:stamp". */
    private static List<String> decode(byte[] reply) {
        ByteBuffer b = ByteBuffer.wrap(reply).order(ByteOrder.nativeOrder());
        int first = b.getInt();
        int count = b.getInt();
        int encoding = b.getInt();
        int sep = b.getInt();
        assertTrue(sep >= 0);
        int nbytes = b.getInt();
        byte[] text = new byte[nbytes];
        b.get(text);
        String joined = encoding == 0 ? new String(text, StandardCharsets.ISO_8859_1) : new String(text, StandardCharsets.UTF_16LE);
        String[] ids = count == 0 ? new String[0] : joined.split(String.valueOf((char) sep), -1);
        List<String> out = new ArrayList<>();
        double[] scores = new double[count];
        for (int i = 0; i < count; i++) {
            scores[i] = b.getDouble();
        }
        for (int i = 0; i < count; i++) {
            out.add((first + i) + ":" + ids[i] + ":" + scores[i] + ":" + b.getLong());
        }
        return out;
    }

    private byte[] ioBytes(int length) {
        byte[] out = new byte[length];
        io.get(0, out);
        return out;
    }

    @Test
    void stagedBatchIsAppliedBeforeTheQueryInTheSameCall() {
        LeaderboardBridge bridge = bridge(new LeaderboardBridge(1.0, 0));
        int len = stage("a", 5, T0, "b", 7, T0, "a", 4, T0 + 10, "ghost", 0, T0);
        int reply = bridge.top(len, 10, T0);
        assertEquals(List.of("1:a:9.0:" + (T0 + 10), "2:b:7.0:" + T0), decode(ioBytes(reply)));
        assertEquals(2, bridge.size(0));

        int rank = bridge.rank(stage("c", 8, T0), id("b"), LeaderboardBridge.LATIN1, T0);
        assertEquals(3, rank);
        assertEquals(7.0, io.getDouble(0));
        assertEquals(T0, io.getLong(8));
        assertEquals(0, bridge.rank(0, id("nobody"), LeaderboardBridge.LATIN1, T0));

        assertEquals(List.of("2:c:8.0:" + T0, "3:b:7.0:" + T0),
                decode(ioBytes(bridge.range(0, -2, -1, T0))));
        assertEquals(List.of("1:a:9.0:" + (T0 + 10), "2:c:8.0:" + T0),
                decode(ioBytes(bridge.around(0, id("a"), LeaderboardBridge.LATIN1, 1, T0))));
        assertEquals(-2, bridge.around(0, id("zz"), LeaderboardBridge.LATIN1, 1, T0));
        assertEquals(true, bridge.remove(0, id("a"), LeaderboardBridge.LATIN1));
        assertEquals(List.of(), decode(ioBytes(bridge.top(0, 0, T0))));
    }

    @Test
    void repliesTooBigForTheIoBufferAreKeptAside() {
        LeaderboardBridge bridge = bridge(new LeaderboardBridge(1.0, 0));
        for (int i = 0; i < 100; i++) {
            bridge.leaderboard().update("user-" + i, i + 1, T0);
        }
        assertEquals(-1, bridge.top(0, 100, T0));
        List<String> all = decode(bridge.takeReply());
        assertEquals(100, all.size());
        assertEquals("1:user-99:100.0:" + T0, all.get(0));
        assertThrows(IllegalStateException.class, bridge::takeReply);
    }

    @Test
    void aBatchWithABadValueIsRejectedWhole() {
        LeaderboardBridge bridge = bridge(new LeaderboardBridge(1.0, 0));
        int len = stage("a", 1, T0, "b", Double.NaN, T0);
        assertThrows(IllegalArgumentException.class, () -> bridge.apply(len));
        assertEquals(0, bridge.size(0));
        int badCount = stage("a", 1, T0);
        stage.putInt(12, 2); // the positions count of the header
        assertThrows(IllegalArgumentException.class, () -> bridge.apply(badCount));
        assertThrows(IllegalArgumentException.class, () -> bridge.rank(0, 999, 0, T0));
        assertThrows(IllegalArgumentException.class, () -> bridge.rank(0, 3, 1, T0));
    }

    @Test
    void utf16IdsRoundTripThroughTheIoBuffer() {
        LeaderboardBridge bridge = bridge(new LeaderboardBridge(1.0, 0));
        String id = "\u4e2d\uD83D\uDE00";
        bridge.leaderboard().update(id, 3, T0);
        for (int i = 0; i < id.length(); i++) {
            io.putChar(2 * i, id.charAt(i));
        }
        if (ByteOrder.nativeOrder() != ByteOrder.LITTLE_ENDIAN) {
            return; // the id bytes are UTF-16LE; this test writes native order
        }
        assertEquals(1, bridge.rank(0, 2 * id.length(), LeaderboardBridge.UTF16, T0));
    }

    @Test
    void aStagedBatchSentAgainIsAppliedOnce() {
        LeaderboardBridge b = bridge(new LeaderboardBridge(1.0, 0));
        int length = stage("a", 5, T0, "b", 3, T0);
        assertEquals(2, b.apply(length));
        b.apply(length); // Python resends after an interrupt: the cursor skips both
        assertEquals(1, b.rank(0, id("a"), LeaderboardBridge.LATIN1, T0));
        assertEquals(5.0, io.getDouble(0));
    }
}

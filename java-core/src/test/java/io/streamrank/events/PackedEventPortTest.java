package io.streamrank.events;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;

import io.streamrank.bridge.PackedReader;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import org.junit.jupiter.api.Test;

/** The packet layout Python's facade writes, and the batch layout it reads. */
class PackedEventPortTest {
    private static final long T0 = 1_700_000_000L;

    /** A stage packet as cpp_event_processor.processor packs it (joined Latin-1 strings, by column). */
    private static ByteBuffer packet(int dropped, String[][] events, long[] timestamps) {
        return packet(nextGeneration++, 0, dropped, 0, events, timestamps);
    }

    private static long nextGeneration = 1;

    /** A packet of positions {@code [start, start + events.length)} of a stage generation. */
    private static ByteBuffer packet(long generation, int start, long droppedTotal, int flags, String[][] events,
                                     long[] timestamps) {
        ByteBuffer b = ByteBuffer.allocateDirect(1 << 16).order(ByteOrder.nativeOrder());
        b.putLong(0).putLong(generation).putInt(start).putInt(events.length).putLong(droppedTotal)
                .putLong(T0).putInt(flags).putInt(0);
        StringBuilder text = new StringBuilder();
        for (int f = 0; f < 3; f++) { // column by column: types, user ids, channel ids
            for (int i = 0; i < events.length; i++) {
                if (f > 0 || i > 0) {
                    text.append('\u001f');
                }
                text.append(events[i][f]);
            }
        }
        if (events.length > 0) {
            byte[] data = text.toString().getBytes(StandardCharsets.ISO_8859_1);
            b.putInt(3 * events.length).putInt(PackedReader.LATIN1_JOINED).putInt(0x1f).putInt(data.length).put(data);
            for (long ts : timestamps) {
                b.putLong(ts);
            }
        }
        return b;
    }

    @Test
    void aHandoffAcceptsTheEventsAndWritesTheCreditBack() throws Exception {
        PackedEventPort port = new PackedEventPort(10, 2, 1000, 3, 100, 5000);
        ByteBuffer b = packet(4, new String[][] {{"message", "u1", "c1"}, {"reaction", "u2", "c1"}, {"message", "u1", "c2"}},
                new long[] {T0, T0 - 5, T0 - 10});
        assertEquals(7, port.handoff(b, b.position()));
        assertEquals(7, b.getLong(0), "credit written into the packet");
        assertEquals(3, port.counter(null, 0, PackedEventPort.ACCEPTED));
        assertEquals(4, port.counter(null, 0, PackedEventPort.DROPPED));
        assertEquals(2, port.uniqueUsersLastHour(null, 0, T0));

        byte[] batch = port.nextBatch(1000);
        ByteBuffer r = ByteBuffer.wrap(batch).order(ByteOrder.nativeOrder());
        long id = r.getLong();
        assertEquals(0, r.getInt());
        assertEquals(2, r.getInt());
        assertEquals(6, r.getInt()); // strings count
        assertEquals(PackedReader.LATIN1, r.getInt());
        char sep = (char) r.getInt();
        byte[] text = new byte[r.getInt()];
        r.get(text);
        assertEquals(String.join(String.valueOf(sep), "message", "u1", "c1", "reaction", "u2", "c1"),
                new String(text, StandardCharsets.ISO_8859_1));
        assertEquals(T0, r.getLong());
        assertEquals(T0 - 5, r.getLong());
        port.complete(id);
        assertEquals(2, port.counter(null, 0, PackedEventPort.DELIVERED));
    }

    @Test
    void aPacketBeyondTheCreditIsABugNotASilentDrop() {
        PackedEventPort port = new PackedEventPort(2, 2, 1000, 3, 100, 5000);
        ByteBuffer b = packet(0, new String[][] {{"a", "b", "c"}, {"a", "b", "c"}, {"a", "b", "c"}}, new long[] {1, 2, 3});
        assertThrows(IllegalStateException.class, () -> port.handoff(b, b.position()));
    }

    @Test
    void topChannelsAndFailedBatchesArePacked() throws Exception {
        PackedEventPort port = new PackedEventPort(10, 5, 1000, 0, 0, 0);
        ByteBuffer b = packet(0, new String[][] {{"m", "u", "b"}, {"m", "u", "a"}, {"m", "u", "b"}}, new long[] {T0, T0, T0});
        byte[] top = port.topChannels(b, b.position(), 5);
        ByteBuffer t = ByteBuffer.wrap(top).order(ByteOrder.nativeOrder());
        assertEquals(2, t.getInt());
        port.processor().setDeliveryEnabled(true);
        assertEquals(-1, port.awaitSettled(3, 0));
        byte[] batch = port.nextBatch(1000);
        long id = ByteBuffer.wrap(batch).order(ByteOrder.nativeOrder()).getLong();
        port.fail(id, "db down");
        byte[] failed = port.failedBatches();
        ByteBuffer f = ByteBuffer.wrap(failed).order(ByteOrder.nativeOrder());
        assertEquals(1, f.getInt());
        assertEquals(id, f.getLong());
        assertEquals(1, f.getInt());
        assertEquals(3, f.getInt());
        assertEquals(3, port.awaitSettled(3, 0));
        assertEquals(3, port.discardFailed());
        assertEquals(0, port.redriveFailed());
        assertEquals(3, port.close(null, 0));
        port.shutdown();
        assertNull(port.nextBatch(10));
    }

    @Test
    void queuedPacketsAreIngestedInOrderAndEveryQuerySeesThem() throws Exception {
        PackedEventPort port = new PackedEventPort(100_000, 7, 60_000, 3, 100, 5000);
        port.setDeliveryEnabled(true);
        int packets = 300;
        for (int k = 0; k < packets; k++) {
            String[][] events = new String[5][];
            long[] ts = new long[5];
            for (int i = 0; i < 5; i++) {
                events[i] = new String[] {"e" + (5 * k + i), "u" + (5 * k + i) % 97, "ch" + k % 3};
                ts[i] = T0;
            }
            ByteBuffer b = packet(0, events, ts);
            port.handoff(b, b.position());
            if (k % 10 == 0) {
                assertEquals(Math.min(97, 5 * (k + 1)), port.uniqueUsersLastHour(null, 0, T0), "after packet " + k);
            }
        }
        assertEquals(5 * packets, port.counter(null, 0, PackedEventPort.ACCEPTED));
        long target = port.flushTarget(null, 0);
        assertEquals(5 * packets, target);
        assertEquals(5 * packets, port.processor().publishedCount(), "flush ingests what is queued");
        int expected = 0;
        while (expected < 5 * packets) {
            if (port.awaitSettled(target, 0) == 0) {
                break;
            }
            byte[] batch = port.nextBatch(10_000);
            ByteBuffer r = ByteBuffer.wrap(batch).order(ByteOrder.nativeOrder());
            long id = r.getLong();
            r.getInt();
            int n = r.getInt();
            r.getInt();
            r.getInt();
            char sep = (char) r.getInt();
            byte[] text = new byte[r.getInt()];
            r.get(text);
            String[] fields = new String(text, StandardCharsets.ISO_8859_1).split(String.valueOf(sep), -1);
            for (int i = 0; i < n; i++, expected++) {
                assertEquals("e" + expected, fields[3 * i], "publication follows hand-off order");
            }
            port.complete(id);
        }
        assertEquals(5 * packets, expected);
        assertEquals(0, port.awaitSettled(target, 10_000));
        port.shutdown();
    }

    @Test
    void aPacketTheIngestThreadCannotDecodeIsReportedByTheNextCall() throws Exception {
        PackedEventPort port = new PackedEventPort(1000, 10, 1000, 3, 100, 5000);
        int n = PackedEventPort.INLINE_EVENTS + 1; // large enough for the ingest thread
        String[][] events = new String[n][];
        for (int i = 0; i < n; i++) {
            events[i] = new String[] {"a", "b", "c"};
        }
        ByteBuffer b = packet(0, events, new long[n]);
        b.putInt(HEADER_STRINGS_COUNT_AT, 3 * n - 1); // the strings section miscounts its strings
        port.handoff(b, b.position());
        assertThrows(IllegalArgumentException.class, () -> port.uniqueUsersLastHour(null, 0, T0));
        assertThrows(IllegalArgumentException.class, () -> port.handoff(null, 0));
        port.shutdown();
    }

    @Test
    void aSmallCorruptPacketFailsTheCallThatHandsItOver() {
        PackedEventPort port = new PackedEventPort(100, 10, 1000, 3, 100, 5000);
        ByteBuffer b = packet(0, new String[][] {{"a", "b", "c"}, {"a", "b", "c"}}, new long[] {1, 2});
        b.putInt(HEADER_STRINGS_COUNT_AT, 5);
        assertThrows(IllegalArgumentException.class, () -> port.handoff(b, b.position()));
        port.shutdown();
    }

    private static final int HEADER_STRINGS_COUNT_AT = PackedEventPort.HEADER_BYTES;

    // ---------------------------------------------------------------- idempotent hand-off

    private static String[][] events(String... users) {
        String[][] out = new String[users.length][];
        for (int i = 0; i < users.length; i++) {
            out[i] = new String[] {"m", users[i], "c"};
        }
        return out;
    }

    private static long[] stamps(int n) {
        long[] out = new long[n];
        java.util.Arrays.fill(out, T0);
        return out;
    }

    private static java.util.List<String> drainUsers(PackedEventPort port) throws Exception {
        java.util.List<String> users = new java.util.ArrayList<>();
        port.setDeliveryEnabled(true);
        // A flush asks for partial batches at once; it times out here (nobody consumes yet).
        port.awaitSettled(port.flushTarget(null, 0), 0);
        byte[] batch;
        while ((batch = port.nextBatch(0)) != null) {
            ByteBuffer r = ByteBuffer.wrap(batch).order(ByteOrder.nativeOrder());
            long id = r.getLong();
            r.getInt();
            int n = r.getInt();
            r.getInt(); // strings count
            assertEquals(PackedReader.LATIN1, r.getInt());
            char sep = (char) r.getInt();
            byte[] text = new byte[r.getInt()];
            r.get(text);
            String[] s = new String(text, StandardCharsets.ISO_8859_1).split(java.util.regex.Pattern.quote(String.valueOf(sep)), -1);
            for (int i = 0; i < n; i++) {
                users.add(s[3 * i + 1]);
            }
            port.complete(id);
        }
        return users;
    }

    @Test
    void aPacketSentAgainIsTakenOnce() throws Exception {
        PackedEventPort port = new PackedEventPort(100, 1000, 600_000, 3, 100, 5000);
        ByteBuffer b = packet(1, 0, 0, 0, events("a", "b"), stamps(2));
        assertEquals(98, port.handoff(b, b.position()));
        assertEquals(98, port.handoff(b, b.position()), "the same positions again: nothing new");
        assertEquals(2, port.counter(null, 0, PackedEventPort.ACCEPTED));
        assertEquals(java.util.List.of("a", "b"), drainUsers(port));
    }

    @Test
    void anOverlappingPacketAddsOnlyItsNewPositions() throws Exception {
        PackedEventPort port = new PackedEventPort(100, 1000, 600_000, 3, 100, 5000);
        ByteBuffer first = packet(1, 0, 0, 0, events("a", "b"), stamps(2));
        port.handoff(first, first.position());
        // Python did not learn that Java took "a" and "b" (interrupted): it resends from 0.
        ByteBuffer again = packet(1, 0, 0, 0, events("a", "b", "c", "d"), stamps(4));
        assertEquals(96, port.handoff(again, again.position()));
        ByteBuffer next = packet(1, 4, 0, 0, events("e"), stamps(1));
        port.handoff(next, next.position());
        assertEquals(5, port.counter(null, 0, PackedEventPort.ACCEPTED));
        assertEquals(java.util.List.of("a", "b", "c", "d", "e"), drainUsers(port));
    }

    @Test
    void aGapOrAnOlderGenerationIsABug() {
        PackedEventPort port = new PackedEventPort(100, 1000, 600_000, 3, 100, 5000);
        ByteBuffer first = packet(2, 0, 0, 0, events("a"), stamps(1));
        port.handoff(first, first.position());
        ByteBuffer gap = packet(2, 3, 0, 0, events("x"), stamps(1));
        assertThrows(IllegalStateException.class, () -> port.handoff(gap, gap.position()));
        ByteBuffer older = packet(1, 0, 0, 0, events("x"), stamps(1));
        assertThrows(IllegalStateException.class, () -> port.handoff(older, older.position()));
        ByteBuffer lateStart = packet(3, 1, 0, 0, events("x"), stamps(1));
        assertThrows(IllegalStateException.class, () -> port.handoff(lateStart, lateStart.position()));
        assertEquals(1, port.counter(null, 0, PackedEventPort.ACCEPTED), "refused packets took nothing");
    }

    @Test
    void placeholdersHoldPositionsButAreNoEvents() throws Exception {
        PackedEventPort port = new PackedEventPort(100, 1000, 600_000, 3, 100, 5000);
        String[][] ev = events("a", "", "b", "");
        long[] ts = {T0, PackedEventPort.PLACEHOLDER, T0, PackedEventPort.PLACEHOLDER};
        ByteBuffer b = packet(1, 0, 0, PackedEventPort.MAY_HOLD_PLACEHOLDERS, ev, ts);
        assertEquals(98, port.handoff(b, b.position()));
        assertEquals(98, port.handoff(b, b.position()));
        assertEquals(2, port.counter(null, 0, PackedEventPort.ACCEPTED));
        assertEquals(java.util.List.of("a", "b"), drainUsers(port));
    }

    @Test
    void theDropTotalIsAppliedOnceWhateverTheResends() {
        PackedEventPort port = new PackedEventPort(100, 1000, 600_000, 3, 100, 5000);
        ByteBuffer b = packet(1, 0, 5, 0, events(), stamps(0));
        port.handoff(b, b.position());
        port.handoff(b, b.position());
        assertEquals(5, port.counter(null, 0, PackedEventPort.DROPPED));
        ByteBuffer later = packet(1, 0, 7, 0, events(), stamps(0));
        port.handoff(later, later.position());
        assertEquals(7, port.counter(null, 0, PackedEventPort.DROPPED));
    }
}

package io.streamrank.leaderboard;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.List;
import java.util.stream.Collectors;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class SnapshotTest {
    static final long T0 = DecayedLeaderboardTest.T0;
    static final long DAY = DecayedLeaderboardTest.DAY;

    @TempDir
    Path dir;

    private static DecayedLeaderboard sample() {
        DecayedLeaderboard lb = new DecayedLeaderboard(0.9, 50);
        lb.update("alice", 120.5, T0 - 3 * DAY);
        lb.update("alice", 10, T0);
        lb.update("bob", 99, T0 - DAY);
        lb.update("carol \"quoted\" \u00e9\u4e2d\uD83D\uDE00", 42, T0 - 7 * DAY);
        lb.update("dave", -5, T0 - 100);
        return lb;
    }

    private static void assertSameBoard(DecayedLeaderboard expected, DecayedLeaderboard actual, long now) {
        List<RankedUser> a = expected.top(1000, now);
        List<RankedUser> b = actual.top(1000, now);
        assertEquals(a.size(), b.size());
        for (int i = 0; i < a.size(); i++) {
            assertEquals(a.get(i).userId(), b.get(i).userId());
            assertEquals(a.get(i).rank(), b.get(i).rank());
            assertEquals(a.get(i).lastUpdate(), b.get(i).lastUpdate());
            assertEquals(a.get(i).score(), b.get(i).score(), 1e-12 * Math.abs(a.get(i).score()));
        }
        assertEquals(expected.decayFactor(), actual.decayFactor());
        assertEquals(expected.maxUsers(), actual.maxUsers());
    }

    private String message(Path file, String content) throws IOException {
        Files.write(file, content.getBytes(StandardCharsets.UTF_8));
        return message(file);
    }

    private String message(Path file) {
        DecayedLeaderboard lb = sample();
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> lb.load(file));
        assertSameBoard(sample(), lb, T0); // a failed load changes nothing
        assertTrue(e.getMessage().contains(file.toString()), e.getMessage());
        return e.getMessage();
    }

    @Test
    void roundTripKeepsEveryEntryAndTheSettings() throws IOException {
        DecayedLeaderboard lb = sample();
        Path file = dir.resolve("board.json");
        lb.save(file);
        DecayedLeaderboard loaded = new DecayedLeaderboard(0.5, 3);
        loaded.load(file);
        assertSameBoard(lb, loaded, T0);
        assertSameBoard(lb, loaded, T0 + 30 * DAY);
        String text = Files.readString(file);
        assertTrue(text.startsWith("{\n  \"decay_factor\": 0.9,\n  \"max_users\": 50,\n  \"entries\": [\n"), text);
        // One entry per line, score as of the user's own last_update.
        assertTrue(text.contains("{\"user_id\": \"bob\", \"score\": 99.0, \"last_update\": " + (T0 - DAY) + "}"), text);
        try (Stream<Path> files = Files.list(dir)) {
            assertEquals(List.of(file), files.collect(Collectors.toList()), "no temporary file left behind");
        }
    }

    @Test
    void emptyBoardRoundTrips() throws IOException {
        DecayedLeaderboard lb = new DecayedLeaderboard(0.95, 0);
        Path file = dir.resolve("empty.json");
        lb.save(file);
        DecayedLeaderboard loaded = sample();
        loaded.load(file);
        assertEquals(0, loaded.size());
        assertEquals(0.95, loaded.decayFactor());
        assertEquals(0, loaded.maxUsers());
        loaded.update("x", 1, T0);
        assertEquals(1.0, loaded.rank("x", T0).score());
    }

    @Test
    void loadsTheOriginalExtensionsLayout() throws IOException {
        // As nlohmann::json's dump(4) writes it: keys sorted, 4-space indent; plus integer
        // scores, exponents, CRLF, tabs, extra whitespace and a field we do not know.
        String original = "{\r\n    \"decay_factor\": 0.95,\r\n    \"entries\": [\r\n"
                + "        {\r\n            \"last_update\": 1700000000,\r\n            \"score\": 150,\r\n"
                + "            \"user_id\": \"123456789012345678\"\r\n        },\r\n"
                + "        {\t\"last_update\" :1699913600 , \"score\":1.5e+02,\"user_id\":\"222\" , \"badge\": {\"x\": [1, 2]} },\r\n"
                + "        {\"user_id\": \"333\", \"score\": -2.5E-1, \"last_update\": 1.7e9}\r\n"
                + "    ],\r\n    \"max_users\": 100000,\r\n    \"version\": \"1.0\"\r\n}\r\n";
        Path file = dir.resolve("original.json");
        Files.write(file, original.getBytes(StandardCharsets.UTF_8));
        DecayedLeaderboard lb = new DecayedLeaderboard(0.5, 1);
        lb.load(file);
        assertEquals(0.95, lb.decayFactor());
        assertEquals(100000, lb.maxUsers());
        assertEquals(3, lb.size());
        assertEquals(150.0, lb.rank("123456789012345678", 1_700_000_000L).score());
        assertEquals(150.0 * 0.95, lb.rank("123456789012345678", 1_700_000_000L + DAY).score(), 1e-12);
        assertEquals(150.0, lb.rank("222", 1_699_913_600L).score(), 1e-12);
        assertEquals(1_699_913_600L, lb.rank("222", 0).lastUpdate());
        assertEquals(-0.25, lb.rank("333", 1_700_000_000L).score());
        assertEquals(List.of("123456789012345678", "222", "333"),
                lb.top(5, 1_700_000_000L).stream().map(RankedUser::userId).collect(Collectors.toList()));
    }

    @Test
    void truncatedFilesAreRejectedAtEveryLength() throws IOException {
        Path good = dir.resolve("good.json");
        sample().save(good);
        byte[] bytes = Files.readAllBytes(good);
        int lastBrace = new String(bytes, StandardCharsets.ISO_8859_1).lastIndexOf('}');
        Path cut = dir.resolve("cut.json");
        for (int length = 0; length <= lastBrace; length++) {
            Files.write(cut, Arrays.copyOf(bytes, length));
            String msg = message(cut);
            assertTrue(msg.startsWith("invalid leaderboard snapshot "), msg);
        }
        Files.write(cut, Arrays.copyOf(bytes, bytes.length / 2));
        assertTrue(message(cut).contains("truncated"), message(cut));
        Files.write(cut, new byte[0]);
        assertTrue(message(cut).contains("empty"), message(cut));
    }

    @Test
    void corruptFilesAreRejectedWithWhatIsWrong() throws IOException {
        Path f = dir.resolve("bad.json");
        String ok = "{\"decay_factor\": 0.9, \"max_users\": 10, \"entries\": [%s]}";
        String entry = "{\"user_id\": \"a\", \"score\": 1.0, \"last_update\": 5}";
        assertTrue(message(f, "not json at all").contains("line 1"));
        assertTrue(message(f, "[]").contains("expected a JSON object"));
        assertTrue(message(f, "null").contains("expected a JSON object"));
        assertTrue(message(f, String.format(ok, entry) + " {}").contains("after the top-level object"));
        assertTrue(message(f, String.format(ok, entry) + " garbage").contains("line 1"));
        assertTrue(message(f, "{\"decay_factor\": 0.9, \"decay_factor\": 0.8, \"max_users\": 1, \"entries\": []}").contains("Duplicate field"));
        assertTrue(message(f, String.format(ok, entry + "," + entry)).contains("'a' appears more than once"));
        assertTrue(message(f, String.format(ok, "{\"user_id\": \"a\", \"score\": NaN, \"last_update\": 5}")).contains("line 1"));
        assertTrue(message(f, String.format(ok, "{\"user_id\": \"a\", \"score\": 1e400, \"last_update\": 5}")).contains("entries[0].score is out of the double range"));
        assertTrue(message(f, String.format(ok, "{\"user_id\": \"a\", \"score\": 1, \"last_update\": 99999999999999999999}")).contains("entries[0].last_update is out of the 64-bit"));
        assertTrue(message(f, "{\"max_users\": 10, \"entries\": []}").contains("missing \"decay_factor\""));
        assertTrue(message(f, "{\"decay_factor\": 0.9, \"entries\": []}").contains("missing \"max_users\""));
        assertTrue(message(f, "{\"decay_factor\": 0.9, \"max_users\": 10}").contains("missing \"entries\""));
        assertTrue(message(f, String.format(ok, "{\"score\": 1, \"last_update\": 5}")).contains("entries[0] has no \"user_id\""));
        assertTrue(message(f, String.format(ok, "{\"user_id\": \"a\", \"last_update\": 5}")).contains("entries[0] has no \"score\""));
        assertTrue(message(f, String.format(ok, "{\"user_id\": \"a\", \"score\": 5}")).contains("entries[0] has no \"last_update\""));
        Files.write(f, new byte[] {'{', '"', (byte) 0xff, (byte) 0xfe, '"', ':', '1', '}'});
        assertTrue(message(f).startsWith("invalid leaderboard snapshot"));
    }

    @Test
    void wrongTypesAreNamed() throws IOException {
        Path f = dir.resolve("types.json");
        String ok = "{\"decay_factor\": %s, \"max_users\": %s, \"entries\": [%s]}";
        String entry = "{\"user_id\": \"a\", \"score\": 1.0, \"last_update\": 5}";
        assertTrue(message(f, String.format(ok, "\"0.95\"", "10", entry)).contains("decay_factor must be a number, found a string"));
        assertTrue(message(f, String.format(ok, "2.0", "10", entry)).contains("decay_factor must be in (0, 1]"));
        assertTrue(message(f, String.format(ok, "0", "10", entry)).contains("decay_factor must be in (0, 1]"));
        assertTrue(message(f, String.format(ok, "0.9", "-1", entry)).contains("max_users must be >= 0"));
        assertTrue(message(f, String.format(ok, "0.9", "1.5", entry)).contains("max_users must be an integer"));
        assertTrue(message(f, String.format(ok, "0.9", "true", entry)).contains("max_users must be an integer, found a boolean"));
        assertTrue(message(f, "{\"decay_factor\": 0.9, \"max_users\": 1, \"entries\": {}}").contains("\"entries\" must be an array"));
        assertTrue(message(f, String.format(ok, "0.9", "10", "[1]")).contains("entries[0] must be an object, found an array"));
        assertTrue(message(f, String.format(ok, "0.9", "10", "{\"user_id\": 7, \"score\": 1, \"last_update\": 5}")).contains("entries[0].user_id must be a string, found an integer"));
        assertTrue(message(f, String.format(ok, "0.9", "10", entry + ",{\"user_id\": \"b\", \"score\": \"12\", \"last_update\": 5}")).contains("entries[1].score must be a number, found a string"));
        assertTrue(message(f, String.format(ok, "0.9", "10", "{\"user_id\": \"b\", \"score\": null, \"last_update\": 5}")).contains("entries[0].score must be a number, found null"));
        assertTrue(message(f, String.format(ok, "0.9", "10", "{\"user_id\": \"b\", \"score\": 1, \"last_update\": 5.5}")).contains("entries[0].last_update must be an integer, found 5.5"));
    }

    @Test
    void moreEntriesThanMaxUsersKeepsTheBest() throws IOException {
        Path f = dir.resolve("over.json");
        Files.writeString(f, "{\"decay_factor\": 1, \"max_users\": 2, \"entries\": ["
                + "{\"user_id\": \"low\", \"score\": 1, \"last_update\": 5},"
                + "{\"user_id\": \"high\", \"score\": 3, \"last_update\": 5},"
                + "{\"user_id\": \"mid\", \"score\": 2, \"last_update\": 5}]}");
        DecayedLeaderboard lb = new DecayedLeaderboard(0.9, 0);
        lb.load(f);
        assertEquals(2, lb.size());
        assertEquals(null, lb.rank("low", 5));
        lb.update("low", 1, 5); // evicted again straight away: the limit holds
        assertEquals(2, lb.size());
    }

    @Test
    void missingFilesAndFoldersAreNotFound() throws IOException {
        DecayedLeaderboard lb = sample();
        NoSuchFileException e = assertThrows(NoSuchFileException.class, () -> lb.load(dir.resolve("nope.json")));
        assertTrue(e.getMessage().contains("nope.json"));
        assertThrows(NoSuchFileException.class, () -> lb.save(dir.resolve("no/such/folder/x.json")));
        assertThrows(IOException.class, () -> lb.save(dir));
        assertThrows(IOException.class, () -> lb.load(dir));
    }

    @Test
    void aCrashBeforeTheRenameLeavesThePreviousSnapshotWhole() throws IOException {
        Path file = dir.resolve("board.json");
        DecayedLeaderboard first = sample();
        first.save(file);
        byte[] before = Files.readAllBytes(file);
        DecayedLeaderboard second = new DecayedLeaderboard(0.5, 0);
        for (int i = 0; i < 1000; i++) {
            second.update("user" + i, i, T0);
        }
        Snapshot.beforeRename = () -> {
            try (Stream<Path> files = Files.list(dir)) {
                List<Path> all = files.collect(Collectors.toList());
                assertEquals(2, all.size(), "the complete temporary file sits next to the target: " + all);
            } catch (IOException e) {
                throw new RuntimeException(e);
            }
            throw new IllegalStateException("simulated crash");
        };
        try {
            assertThrows(IllegalStateException.class, () -> second.save(file));
        } finally {
            Snapshot.beforeRename = null;
        }
        assertTrue(Arrays.equals(before, Files.readAllBytes(file)), "previous snapshot untouched");
        try (Stream<Path> files = Files.list(dir)) {
            assertEquals(List.of(file), files.collect(Collectors.toList()), "temporary file removed");
        }
        second.save(file);
        DecayedLeaderboard loaded = new DecayedLeaderboard(0.9, 0);
        loaded.load(file);
        assertSameBoard(second, loaded, T0);
    }
}

package io.streamrank.leaderboard;

import com.fasterxml.jackson.core.JsonEncoding;
import com.fasterxml.jackson.core.io.JsonEOFException;
import com.fasterxml.jackson.core.JsonFactory;
import com.fasterxml.jackson.core.JsonGenerator;
import com.fasterxml.jackson.core.JsonLocation;
import com.fasterxml.jackson.core.JsonParser;
import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.core.JsonToken;
import com.fasterxml.jackson.core.StreamReadFeature;
import io.streamrank.skiplist.IdOrder;
import io.streamrank.skiplist.Node;
import io.streamrank.skiplist.RankedSkipList;
import java.io.BufferedOutputStream;
import java.io.CharConversionException;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.nio.channels.Channels;
import java.nio.channels.FileChannel;
import java.nio.file.AtomicMoveNotSupportedException;
import java.nio.file.FileSystemException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.nio.file.attribute.BasicFileAttributes;
import java.util.Arrays;

/**
 * Leaderboard snapshots in the original C++ extension's JSON layout:
 * {@code {"decay_factor": d, "max_users": m, "entries": [{"user_id": s, "score": x, "last_update": t}, ...]}},
 * where each score is the user's score as of its own last_update. Read and written with
 * Jackson's streaming API, so a 1M-user file never exists as a tree in memory.
 *
 * <p>Reading is lenient where the original's files vary (field order, whitespace, integer or
 * exponent scores, unknown extra fields are skipped) and strict where data would be lost or
 * invented (missing fields, wrong types, non-finite numbers, duplicate users or keys, trailing
 * garbage). Every problem is an {@link IllegalArgumentException} naming the file, what is wrong
 * and where; nothing is applied unless the whole file is valid.
 *
 * <p>Writing is atomic: a temporary file in the same folder, fsync, rename over the target,
 * fsync of the folder. A crash at any point leaves either the old snapshot or the new one whole.
 */
final class Snapshot {
    private static final JsonFactory JSON = JsonFactory.builder()
            .enable(StreamReadFeature.STRICT_DUPLICATE_DETECTION)
            .build();

    /**
     * Test seam: runs after the temporary file is complete and synced, just before the rename
     * (a test throws from it to simulate a crash at the worst moment). Null in production.
     */
    static volatile Runnable beforeRename;

    private Snapshot() {}

    /** What a save needs, copied under the lock so the file is written outside it. */
    record Contents(double decayFactor, long maxUsers, long reference, int size, String[] ids,
                    double[] normalised, long[] stamps) {}

    static Contents copy(Board board) {
        Node[] nodes = board.list.toArray();
        String[] ids = new String[nodes.length];
        double[] normalised = new double[nodes.length];
        long[] stamps = new long[nodes.length];
        for (int i = 0; i < nodes.length; i++) {
            ids[i] = nodes[i].id;
            normalised[i] = nodes[i].score();
            stamps[i] = nodes[i].stamp;
        }
        return new Contents(board.decay.factor, board.maxUsers, board.reference(), nodes.length, ids,
                normalised, stamps);
    }

    /** Writes {@code c} to {@code target} atomically; the scores become scores as of each last_update. */
    static void write(Path target, Contents c) throws IOException {
        // Through symbolic links to the file they name (also a dangling link's future target),
        // as writing to a config/data path does: the rename below then replaces the target, and
        // the link stays a link.
        Path file = followLinks(target.toAbsolutePath(), "save leaderboard snapshot to");
        Path dir = file.getParent();
        if (dir == null) {
            throw new IllegalArgumentException("cannot save a leaderboard snapshot to " + file + ": not a file path");
        }
        requireRegularOrAbsent(file, "save leaderboard snapshot to");
        Path tmp = dir.resolve("." + file.getFileName() + ".tmp-" + ProcessHandle.current().pid() + "-"
                + Long.toHexString(System.nanoTime()));
        boolean moved = false;
        try {
            try (FileChannel channel = FileChannel.open(tmp, StandardOpenOption.CREATE_NEW, StandardOpenOption.WRITE)) {
                OutputStream out = new BufferedOutputStream(Channels.newOutputStream(channel), 1 << 16);
                try (JsonGenerator g = JSON.createGenerator(out, JsonEncoding.UTF8)) {
                    g.disable(JsonGenerator.Feature.AUTO_CLOSE_TARGET);
                    g.setPrettyPrinter(new SnapshotFormat());
                    g.writeStartObject();
                    g.writeNumberField("decay_factor", c.decayFactor());
                    g.writeNumberField("max_users", c.maxUsers());
                    g.writeArrayFieldStart("entries");
                    Decay decay = new Decay(c.decayFactor());
                    for (int i = 0; i < c.size(); i++) {
                        g.writeStartObject();
                        g.writeStringField("user_id", c.ids()[i]);
                        g.writeNumberField("score", decay.scale(c.normalised()[i], Decay.days(c.reference(), c.stamps()[i])));
                        g.writeNumberField("last_update", c.stamps()[i]);
                        g.writeEndObject();
                    }
                    g.writeEndArray();
                    g.writeEndObject();
                }
                out.flush();
                channel.force(true);
            }
            Runnable hook = beforeRename;
            if (hook != null) {
                hook.run();
            }
            try {
                Files.move(tmp, file, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
            } catch (AtomicMoveNotSupportedException e) {
                throw new IOException("cannot save leaderboard snapshot to " + file
                        + ": the file system cannot rename atomically in " + dir, e);
            }
            moved = true;
            syncDirectory(dir);
        } catch (NoSuchFileException e) {
            NoSuchFileException named = new NoSuchFileException(file.toString(), null,
                    "cannot save leaderboard snapshot: folder " + dir + " does not exist");
            named.initCause(e);
            throw named;
        } finally {
            if (!moved) {
                Files.deleteIfExists(tmp);
            }
        }
    }

    /** Makes the rename durable. Some file systems cannot open a folder for sync; the rename stands. */
    private static void syncDirectory(Path dir) {
        try (FileChannel d = FileChannel.open(dir, StandardOpenOption.READ)) {
            d.force(true);
        } catch (IOException e) {
            // Best effort: not every platform/file system supports syncing a directory.
        }
    }

    /** Symbolic links hops before giving up, as Linux's ELOOP limit. */
    private static final int MAX_LINK_HOPS = 40;

    /** {@code file} with every symbolic link in its last component followed (the target may not exist). */
    static Path followLinks(Path file, String action) throws IOException {
        Path p = file;
        for (int hops = 0; Files.isSymbolicLink(p); hops++) {
            if (hops == MAX_LINK_HOPS) {
                throw new FileSystemException(file.toString(), null,
                        "cannot " + action + " it: too many levels of symbolic links");
            }
            p = p.resolveSibling(Files.readSymbolicLink(p)); // relative targets: from the link's folder
        }
        return p;
    }

    /** Refuses an existing {@code file} that is not a regular file (following links). */
    static void requireRegularOrAbsent(Path file, String action) throws IOException {
        BasicFileAttributes a;
        try {
            a = Files.readAttributes(file, BasicFileAttributes.class);
        } catch (NoSuchFileException e) {
            return;
        }
        if (a.isRegularFile()) {
            return;
        }
        String what = a.isDirectory() ? "it is a directory"
                : a.isOther() ? "it is not a regular file (a FIFO, socket or device)"
                : "it is not a regular file";
        throw new NotARegularFileException(file, "cannot " + action + " " + file + ": " + what, a.isDirectory());
    }

    /** Reads and validates a snapshot into a new board; the caller swaps it in on success. */
    static Board read(Path path, long now) throws IOException {
        Path file = path.toAbsolutePath();
        // Only regular files: opening a FIFO blocks until some writer appears (forever, if
        // none does), and a device or socket is no snapshot either.
        if (Files.exists(file)) {
            requireRegularOrAbsent(file, "load leaderboard snapshot");
        }
        try (InputStream in = Files.newInputStream(file); JsonParser p = JSON.createParser(in)) {
            return new Reader(file, p, now).read();
        } catch (NoSuchFileException e) {
            throw new NoSuchFileException(file.toString(), null, "leaderboard snapshot not found");
        } catch (JsonEOFException e) {
            throw invalid(file, "the file ends early (truncated?)", e.getLocation());
        } catch (JsonProcessingException e) {
            throw invalid(file, e.getOriginalMessage(), e.getLocation());
        } catch (CharConversionException e) {
            throw invalid(file, "not valid UTF-8/16/32 text: " + e.getMessage(), null);
        }
    }

    static IllegalArgumentException invalid(Path file, String what, JsonLocation at) {
        String where = at == null || at.getLineNr() < 0 ? ""
                : " (line " + at.getLineNr() + ", column " + at.getColumnNr() + ")";
        return new IllegalArgumentException("invalid leaderboard snapshot " + file + ": " + what + where);
    }

    /** One read: parse everything into arrays, then build. Not reused. */
    private static final class Reader {
        private final Path file;
        private final JsonParser p;
        private double decayFactor = Double.NaN;
        private boolean haveDecay;
        private long maxUsers;
        private boolean haveMaxUsers;
        private boolean haveEntries;
        private int n;
        private String[] ids = new String[64];
        private double[] scores = new double[64];
        private long[] stamps = new long[64];
        /** The board's clock: last_update values are checked against it ({@link Timestamps}). */
        private final long now;

        Reader(Path file, JsonParser p, long now) {
            this.file = file;
            this.p = p;
            this.now = now;
        }

        private IllegalArgumentException fail(String what) {
            return invalid(file, what, p.currentTokenLocation());
        }

        private static String describe(JsonToken t) {
            if (t == null) {
                return "the end of the file";
            }
            switch (t) {
                case START_OBJECT: return "an object";
                case START_ARRAY: return "an array";
                case VALUE_STRING: return "a string";
                case VALUE_NUMBER_INT: return "an integer";
                case VALUE_NUMBER_FLOAT: return "a number";
                case VALUE_TRUE: case VALUE_FALSE: return "a boolean";
                case VALUE_NULL: return "null";
                default: return t.toString();
            }
        }

        Board read() throws IOException {
            JsonToken t = p.nextToken();
            if (t == null) {
                throw fail("the file is empty");
            }
            if (t != JsonToken.START_OBJECT) {
                throw fail("expected a JSON object at the top level, found " + describe(t));
            }
            while ((t = p.nextToken()) == JsonToken.FIELD_NAME) {
                String name = p.currentName();
                p.nextToken();
                switch (name) {
                    case "decay_factor":
                        decayFactor = number("decay_factor");
                        haveDecay = true;
                        break;
                    case "max_users":
                        maxUsers = integer("max_users");
                        haveMaxUsers = true;
                        break;
                    case "entries":
                        readEntries();
                        haveEntries = true;
                        break;
                    default:
                        p.skipChildren(); // unknown fields: tolerated, ignored
                }
            }
            if (t != JsonToken.END_OBJECT) {
                throw fail("expected a field name or '}', found " + describe(t));
            }
            if (p.nextToken() != null) {
                throw fail("unexpected content after the top-level object");
            }
            if (!haveDecay) {
                throw invalid(file, "missing \"decay_factor\"", null);
            }
            if (!haveMaxUsers) {
                throw invalid(file, "missing \"max_users\"", null);
            }
            if (!haveEntries) {
                throw invalid(file, "missing \"entries\"", null);
            }
            return build();
        }

        private double number(String what) throws IOException {
            JsonToken t = p.currentToken();
            if (t != JsonToken.VALUE_NUMBER_INT && t != JsonToken.VALUE_NUMBER_FLOAT) {
                throw fail(what + " must be a number, found " + describe(t));
            }
            double v = p.getDoubleValue();
            if (Double.isNaN(v) || Double.isInfinite(v)) {
                throw fail(what + " is out of the double range: " + p.getText());
            }
            return v;
        }

        private long integer(String what) throws IOException {
            JsonToken t = p.currentToken();
            if (t == JsonToken.VALUE_NUMBER_INT) {
                try {
                    return p.getLongValue();
                } catch (JsonProcessingException e) {
                    throw fail(what + " is out of the 64-bit integer range: " + p.getText());
                }
            }
            if (t == JsonToken.VALUE_NUMBER_FLOAT) {
                double v = p.getDoubleValue(); // tolerate 1.7e9 or 1700000000.0 if integral
                if (v == Math.rint(v) && Math.abs(v) < 0x1p63) {
                    return (long) v;
                }
                throw fail(what + " must be an integer, found " + p.getText());
            }
            throw fail(what + " must be an integer, found " + describe(t));
        }

        private void readEntries() throws IOException {
            if (p.currentToken() != JsonToken.START_ARRAY) {
                throw fail("\"entries\" must be an array, found " + describe(p.currentToken()));
            }
            JsonToken t;
            while ((t = p.nextToken()) != JsonToken.END_ARRAY) {
                String at = "entries[" + n + "]";
                if (t != JsonToken.START_OBJECT) {
                    throw fail(at + " must be an object, found " + describe(t));
                }
                String id = null;
                double score = 0;
                long stamp = 0;
                boolean haveScore = false;
                boolean haveStamp = false;
                while ((t = p.nextToken()) == JsonToken.FIELD_NAME) {
                    String name = p.currentName();
                    t = p.nextToken();
                    switch (name) {
                        case "user_id":
                            if (t != JsonToken.VALUE_STRING) {
                                throw fail(at + ".user_id must be a string, found " + describe(t));
                            }
                            id = p.getText();
                            int bad = IdOrder.firstLoneSurrogate(id);
                            if (bad >= 0) {
                                throw fail(at + ".user_id contains a lone surrogate (\\u"
                                        + Integer.toHexString(id.charAt(bad)) + " at index " + bad
                                        + "): ids must be valid Unicode");
                            }
                            break;
                        case "score":
                            score = number(at + ".score");
                            haveScore = true;
                            break;
                        case "last_update":
                            stamp = integer(at + ".last_update");
                            haveStamp = true;
                            break;
                        default:
                            p.skipChildren();
                    }
                }
                if (id == null) {
                    throw fail(at + " has no \"user_id\"");
                }
                if (!haveScore) {
                    throw fail(at + " has no \"score\"");
                }
                if (!haveStamp) {
                    throw fail(at + " has no \"last_update\"");
                }
                append(id, score, stamp);
            }
        }

        private void append(String id, double score, long stamp) {
            if (n == ids.length) {
                int grown = ids.length * 2;
                ids = Arrays.copyOf(ids, grown);
                scores = Arrays.copyOf(scores, grown);
                stamps = Arrays.copyOf(stamps, grown);
            }
            ids[n] = id;
            scores[n] = score;
            stamps[n] = stamp;
            n++;
        }

        private Board build() {
            Decay decay;
            try {
                decay = new Decay(decayFactor);
            } catch (IllegalArgumentException e) {
                throw invalid(file, e.getMessage(), null);
            }
            if (maxUsers < 0) {
                throw invalid(file, "max_users must be >= 0 (0 means unlimited), not " + maxUsers, null);
            }
            // The same timestamp rule as updates: one bad last_update (a millisecond value, a
            // date decades ahead) would otherwise become the reference time and wipe out
            // every other score.
            for (int i = 0; i < n; i++) {
                String problem = Timestamps.problem(stamps[i], now, decay);
                if (problem != null) {
                    throw invalid(file, "entries[" + i + "].last_update " + problem, null);
                }
            }
            long reference = 0;
            for (int i = 0; i < n; i++) {
                reference = i == 0 ? stamps[i] : Math.max(reference, stamps[i]);
            }
            RankedSkipList list = new RankedSkipList();
            UserIndex index = new UserIndex(n);
            Board board = new Board(decay, maxUsers, list, index, reference);
            Node[] nodes = new Node[n];
            for (int i = 0; i < n; i++) {
                if (index.get(ids[i]) != null) {
                    throw invalid(file, "entries[" + i + "]: user_id " + quote(ids[i]) + " appears more than once", null);
                }
                Node node = list.newNode(ids[i], board.normalise(scores[i], stamps[i]), stamps[i]);
                index.add(node);
                nodes[i] = node;
            }
            Arrays.sort(nodes, RankedSkipList.ORDER);
            if (maxUsers > 0 && n > maxUsers) {
                // More users than the file's own limit (not something the original writes):
                // keep the best max_users, as if they had been evicted one by one.
                for (int i = (int) maxUsers; i < n; i++) {
                    index.remove(nodes[i].id);
                }
                nodes = Arrays.copyOf(nodes, (int) maxUsers);
            }
            list.rebuild(nodes);
            return board;
        }
    }

    static String quote(String id) {
        String shown = id.length() > 80 ? id.substring(0, 80) + "..." : id;
        return "'" + shown + "'";
    }
}

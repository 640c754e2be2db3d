package io.streamrank.leaderboard;

import com.fasterxml.jackson.core.JsonGenerator;
import com.fasterxml.jackson.core.PrettyPrinter;
import java.io.IOException;

/**
 * Snapshot layout: the top-level object's fields one per line, and each entry of
 * {@code "entries"} on a line of its own, so a 1M-user file stays compact (~60 bytes per user)
 * yet diffs and greps well.
 */
final class SnapshotFormat implements PrettyPrinter {
    /** Object/array nesting: 1 inside the top-level object, 2 inside the entries array. */
    private int depth;

    @Override
    public void writeRootValueSeparator(JsonGenerator g) throws IOException {
        g.writeRaw('\n');
    }

    @Override
    public void writeStartObject(JsonGenerator g) throws IOException {
        g.writeRaw('{');
        depth++;
    }

    @Override
    public void beforeObjectEntries(JsonGenerator g) throws IOException {
        if (depth == 1) {
            g.writeRaw("\n  ");
        }
    }

    @Override
    public void writeObjectFieldValueSeparator(JsonGenerator g) throws IOException {
        g.writeRaw(": ");
    }

    @Override
    public void writeObjectEntrySeparator(JsonGenerator g) throws IOException {
        g.writeRaw(depth == 1 ? ",\n  " : ", ");
    }

    @Override
    public void writeEndObject(JsonGenerator g, int entries) throws IOException {
        depth--;
        if (depth == 0) {
            g.writeRaw("\n}\n");
        } else {
            g.writeRaw('}');
        }
    }

    @Override
    public void writeStartArray(JsonGenerator g) throws IOException {
        g.writeRaw('[');
        depth++;
    }

    @Override
    public void beforeArrayValues(JsonGenerator g) throws IOException {
        g.writeRaw("\n    ");
    }

    @Override
    public void writeArrayValueSeparator(JsonGenerator g) throws IOException {
        g.writeRaw(",\n    ");
    }

    @Override
    public void writeEndArray(JsonGenerator g, int values) throws IOException {
        depth--;
        g.writeRaw(values == 0 ? "]" : "\n  ]");
    }
}

package io.streamrank.bench.events;

import io.streamrank.bridge.PackedWriter;
import java.util.concurrent.TimeUnit;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OperationsPerInvocation;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;

/** Per string: a 500-event batch's 1500 strings packed for Python, bulk writer vs the old one. */
@State(Scope.Thread)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.NANOSECONDS)
public class StringsBench {
    private String[] strings;

    @Setup
    public void setup() {
        strings = new String[1500];
        for (int i = 0; i < strings.length; i++) {
            strings[i] = (i % 3 == 0) ? "message" : Long.toString(100000000000000000L + i);
        }
    }

    @Benchmark
    @OperationsPerInvocation(1500)
    public byte[] bulkPutStrings() {
        return new PackedWriter(32 << 10).putStrings(strings, 0, strings.length).toByteArray();
    }

    @Benchmark
    @OperationsPerInvocation(1500)
    public byte[] legacyPutStrings() {
        return LegacyStringsWriter.pack(strings);
    }
}

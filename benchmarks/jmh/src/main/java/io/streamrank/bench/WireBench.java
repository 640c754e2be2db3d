package io.streamrank.bench;

import io.streamrank.bridge.PackedWriter;
import java.util.concurrent.TimeUnit;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;

/** Cost of packing a 500-event batch's strings for Python (the reply side of the wire). */
@State(Scope.Thread)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.MICROSECONDS)
public class WireBench {
    private String[] strings;

    @Setup
    public void setup() {
        strings = new String[1500];
        for (int i = 0; i < strings.length; i++) {
            strings[i] = (i % 3 == 0) ? "message" : Long.toString(100000000000000000L + i);
        }
    }

    @Benchmark
    public byte[] packBatchStrings() {
        return new PackedWriter(32 << 10).putStrings(strings, 0, strings.length).toByteArray();
    }
}

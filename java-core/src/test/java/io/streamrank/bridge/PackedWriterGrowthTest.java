package io.streamrank.bridge;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import org.junit.jupiter.api.Test;

/**
 * Regression (issue 7): a scalar put that makes the writer grow must land in the new buffer.
 * {@code view.putInt(reserve(4), v)} evaluated {@code view} before {@code reserve} replaced it,
 * so the value went to the old, too small buffer: IndexOutOfBoundsException (seen as
 * {@code failed_batches()} raising IndexError once dead letters outgrew the initial buffer).
 */
class PackedWriterGrowthTest {

    @Test
    void scalarPutsThatGrowTheBufferKeepTheirValues() {
        PackedWriter w = new PackedWriter(16); // the minimum capacity
        w.putLong(1L).putLong(2L);             // exactly full
        w.putInt(3);                           // grows inside putInt
        for (int i = 0; i < 40; i++) {         // and again inside putLong / putDouble
            w.putLong(100L + i).putDouble(i + 0.5);
        }
        ByteBuffer b = ByteBuffer.wrap(w.toByteArray()).order(ByteOrder.nativeOrder());
        assertEquals(16 + 4 + 40 * 16, w.size());
        assertEquals(1L, b.getLong());
        assertEquals(2L, b.getLong());
        assertEquals(3, b.getInt());
        for (int i = 0; i < 40; i++) {
            assertEquals(100L + i, b.getLong());
            assertEquals(i + 0.5, b.getDouble());
        }
    }
}

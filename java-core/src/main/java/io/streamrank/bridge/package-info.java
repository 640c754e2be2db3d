/**
 * The packed format that carries many values across the Python/Java boundary in one JPype call.
 *
 * <p>Python writes into a {@code bytearray} that Java sees as a direct {@link java.nio.ByteBuffer}
 * ({@link io.streamrank.bridge.PackedReader} reads it); Java answers with one {@code byte[]}
 * ({@link io.streamrank.bridge.PackedWriter} writes it). The Python half is
 * {@code python/streamrank/_wire.py}, whose docstring specifies the layout; the two files change
 * together. Byte order is the platform's (both sides live in one process).
 */
package io.streamrank.bridge;

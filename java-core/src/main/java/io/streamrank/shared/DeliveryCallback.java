package io.streamrank.shared;

import java.util.List;

/**
 * Receives batches from a {@link SharedEventConsumer}. Return true when the batch is stored (it
 * is then acknowledged); return false or throw to have it retried (after a back-off, by this
 * process or, if it dies, by another) and, past the retry limit, moved to the dead-letter stream.
 * At-least-once: a batch can be delivered again after a crash between storing and acknowledging.
 */
@FunctionalInterface
public interface DeliveryCallback {
    boolean deliver(List<DeliveredEvent> batch) throws Exception;
}

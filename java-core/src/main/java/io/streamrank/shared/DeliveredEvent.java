package io.streamrank.shared;

/**
 * One event as a delivery callback sees it. {@code streamId} is stable across redeliveries (it
 * is the event's id in the shared stream), so a callback can be idempotent by storing it under
 * a unique constraint; {@code deliveryCount} is how many times Redis has handed the event out
 * (1 on the first delivery; more after a failure or after a dead consumer's batch was claimed).
 */
public record DeliveredEvent(String streamId, String eventType, String userId, String channelId, long timestamp,
                             long deliveryCount) {}

package io.streamrank.events;

/** A channel and the number of accepted events it received. */
public record ChannelCount(String channelId, long count) {}

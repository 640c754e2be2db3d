/**
 * The bounded ingestion structure of the event processor: {@link io.streamrank.ring.EventRing},
 * a single-producer / single-consumer ring of events stored column-wise and moved in bulk.
 * Its memory-ordering choices are documented on the class and next to its fields.
 */
package io.streamrank.ring;

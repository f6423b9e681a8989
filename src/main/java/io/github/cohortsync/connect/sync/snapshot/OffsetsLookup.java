package io.github.cohortsync.connect.sync.snapshot;

import java.util.Collection;
import java.util.Map;

import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.Uuid;

import io.github.cohortsync.connect.sync.snapshot.SnapshotPlan.PartitionOffsets;

/** Reads, for a snapshot decision, the consumer group's committed offsets and the partitions' log offsets. */
public interface OffsetsLookup extends AutoCloseable {

    /** The offsets of every given partition; fails with a message saying what to check when they cannot be read. */
    Map<TopicPartition, PartitionOffsets> offsets(Collection<TopicPartition> partitions);

    /**
     * The partition count and tombstone settings of each topic that exists; used for warnings only. Lookups that
     * cannot tell return none (the default); a failure throws with a message saying what to check.
     */
    default Map<String, TopicFacts> topicFacts(Collection<String> topics) {
        return Map.of();
    }

    /**
     * The Kafka id of each topic that exists, so that a topic deleted and created again under the same name is told
     * apart; lookups that cannot tell return none (the default). A failure throws with a message saying what to check.
     */
    default Map<String, Uuid> topicIds(Collection<String> topics) {
        return Map.of();
    }

    @Override
    void close();
}

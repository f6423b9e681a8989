package io.github.cohortsync.connect.sync;

import java.util.Collection;
import java.util.HashMap;
import java.util.Map;

import org.apache.kafka.clients.consumer.OffsetAndMetadata;
import org.apache.kafka.common.TopicPartition;

/**
 * Per partition, the offset below which every change was delivered or reported as rejected: the only offsets
 * {@code preCommit} may return.
 */
public final class OffsetTracker {
    private final Map<TopicPartition, Long> safe = new HashMap<>();

    /** Records that a job covering these offsets (one past its last record per partition) is done. */
    public void completed(Map<TopicPartition, Long> jobOffsets) {
        jobOffsets.forEach((partition, offset) -> safe.merge(partition, offset, Math::max));
    }

    public void forget(Collection<TopicPartition> partitions) {
        safe.keySet().removeAll(partitions);
    }

    /** The safe offsets of the given partitions; partitions with nothing delivered yet are left out. */
    public Map<TopicPartition, OffsetAndMetadata> safeOffsets(Collection<TopicPartition> assigned) {
        Map<TopicPartition, OffsetAndMetadata> result = new HashMap<>();
        for (TopicPartition partition : assigned) {
            Long offset = safe.get(partition);
            if (offset != null) {
                result.put(partition, new OffsetAndMetadata(offset));
            }
        }
        return result;
    }
}

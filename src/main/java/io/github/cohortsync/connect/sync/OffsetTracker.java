package io.github.cohortsync.connect.sync;

import java.util.Collection;
import java.util.HashMap;
import java.util.Map;

import org.apache.kafka.clients.consumer.OffsetAndMetadata;
import org.apache.kafka.common.TopicPartition;

/**
 * What this task has read versus what it has delivered, per partition: the one place both live. Read positions
 * come from every record {@code put} takes (they bound a first contact, and the first one of a partition tells the
 * delivery journal where consumption starts); delivered offsets come from finished jobs, whose offsets the buffer
 * and the snapshot computed. {@link #safeOffsets} is the only source of the offsets {@code preCommit} returns, and
 * never exceeds what was delivered or rejected.
 */
public final class OffsetTracker {
    /** Per partition, one past the last offset read since it was assigned. */
    private final Map<TopicPartition, Long> read = new HashMap<>();
    /** Per partition, one past the last offset below which every change was delivered or rejected. */
    private final Map<TopicPartition, Long> safe = new HashMap<>();

    /** Notes a record read; true when it is the first of its partition since the partition was assigned. */
    public boolean read(TopicPartition partition, long offset) {
        Long before = read.put(partition, offset + 1);
        if (before != null && before > offset + 1) {
            // Read again from an earlier offset (a snapshot's rewind): the position stays where reading got to.
            read.put(partition, before);
        }
        return before == null;
    }

    /** Per partition among these, one past the last offset read since it was assigned; unread ones are left out. */
    public Map<TopicPartition, Long> readPositions(Collection<TopicPartition> partitions) {
        return positions(read, partitions);
    }

    /** Records that a job covering these offsets (one past its last record per partition) is done. */
    public void completed(Map<TopicPartition, Long> jobOffsets) {
        jobOffsets.forEach((partition, offset) -> safe.merge(partition, offset, Math::max));
    }

    /** Forgets revoked (or newly assigned) partitions: their next reads and deliveries start afresh. */
    public void forget(Collection<TopicPartition> partitions) {
        read.keySet().removeAll(partitions);
        safe.keySet().removeAll(partitions);
    }

    /** The safe offsets of the given partitions; partitions with nothing delivered yet are left out. */
    public Map<TopicPartition, OffsetAndMetadata> safeOffsets(Collection<TopicPartition> assigned) {
        Map<TopicPartition, OffsetAndMetadata> result = new HashMap<>();
        positions(safe, assigned).forEach((partition, offset) -> result.put(partition, new OffsetAndMetadata(offset)));
        return result;
    }

    private static Map<TopicPartition, Long> positions(Map<TopicPartition, Long> from,
                                                       Collection<TopicPartition> partitions) {
        Map<TopicPartition, Long> result = new HashMap<>();
        for (TopicPartition partition : partitions) {
            Long offset = from.get(partition);
            if (offset != null) {
                result.put(partition, offset);
            }
        }
        return result;
    }
}

package io.github.cohortsync.connect.sync.snapshot;

import java.util.Collections;
import java.util.HashMap;
import java.util.HashSet;
import java.util.Map;
import java.util.Set;

import org.apache.kafka.common.TopicPartition;

/**
 * Decides, per assigned partition, whether it starts with a snapshot: a partition the consumer group never
 * committed is on its first run, and everything below its end offset at assignment time is the snapshot.
 */
public final class SnapshotPlan {

    /**
     * What the cluster says about one partition.
     *
     * @param committed the consumer group's committed offset, or null when it has none
     * @param start     the partition's log start offset (where a first run starts reading)
     * @param end       the partition's end offset now
     */
    public record PartitionOffsets(Long committed, long start, long end) {
    }

    /** A snapshot's records in one partition: offsets from {@code start} up to, not including, {@code end}. */
    public record Range(long start, long end) {
        public boolean isEmpty() {
            return end <= start;
        }
    }

    private final Map<TopicPartition, Range> snapshot;
    private final Set<TopicPartition> alreadyExported;
    private final Map<TopicPartition, Long> rewind;

    private SnapshotPlan(Map<TopicPartition, Range> snapshot, Set<TopicPartition> alreadyExported,
                         Map<TopicPartition, Long> rewind) {
        this.snapshot = Collections.unmodifiableMap(snapshot);
        this.alreadyExported = Collections.unmodifiableSet(alreadyExported);
        this.rewind = Collections.unmodifiableMap(rewind);
    }

    /**
     * A full refresh of dynamic syncs: every partition is snapshotted from its log start to its end offset; those
     * with a committed offset are read again from their log start.
     */
    public static SnapshotPlan refresh(Map<TopicPartition, PartitionOffsets> offsets) {
        Map<TopicPartition, Range> snapshot = new HashMap<>();
        Map<TopicPartition, Long> rewind = new HashMap<>();
        offsets.forEach((partition, o) -> {
            snapshot.put(partition, new Range(o.start(), o.end()));
            if (o.committed() != null) {
                rewind.put(partition, o.start());
            }
        });
        return new SnapshotPlan(snapshot, Set.of(), rewind);
    }

    /**
     * The first contact of some cohorts, mid-stream: every partition is read again from its log start up to where
     * this task has read it ({@code readPositions}, else the committed offset), so that the snapshot holds those
     * cohorts' complete membership. Partitions with neither are left out (nothing of them was read).
     */
    public static SnapshotPlan firstContact(Map<TopicPartition, PartitionOffsets> offsets,
                                            Map<TopicPartition, Long> readPositions) {
        Map<TopicPartition, Range> snapshot = new HashMap<>();
        Map<TopicPartition, Long> rewind = new HashMap<>();
        offsets.forEach((partition, o) -> {
            Long end = readPositions.getOrDefault(partition, o.committed());
            if (end != null && end > o.start()) {
                snapshot.put(partition, new Range(o.start(), end));
                rewind.put(partition, o.start());
            }
        });
        return new SnapshotPlan(snapshot, Set.of(), rewind);
    }

    /**
     * Partitions without a committed offset are snapshotted up to their end offset. With {@code oneTime}, a
     * partition with a committed offset was already exported (only a delivered snapshot is ever committed in that
     * mode) and stays idle; with dynamic syncs it continues with diffs.
     */
    public static SnapshotPlan decide(boolean oneTime, Map<TopicPartition, PartitionOffsets> offsets) {
        Map<TopicPartition, Range> snapshot = new HashMap<>();
        Set<TopicPartition> exported = new HashSet<>();
        offsets.forEach((partition, o) -> {
            if (o.committed() == null) {
                snapshot.put(partition, new Range(o.start(), o.end()));
            } else if (oneTime) {
                exported.add(partition);
            }
        });
        return new SnapshotPlan(snapshot, exported, Map.of());
    }

    /** The partitions on their first run, with the range that forms their snapshot. */
    public Map<TopicPartition, Range> snapshot() {
        return snapshot;
    }

    /** Partitions to read again from this offset (their log start) before the snapshot. */
    public Map<TopicPartition, Long> rewind() {
        return rewind;
    }

    /** With sync.mode=one_time: partitions whose export was delivered and committed by an earlier run. */
    public Set<TopicPartition> alreadyExported() {
        return alreadyExported;
    }
}

package io.github.cohortsync.connect.sync.snapshot;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.Map;

import org.apache.kafka.common.TopicPartition;
import org.junit.jupiter.api.Test;

import io.github.cohortsync.connect.sync.snapshot.SnapshotPlan.PartitionOffsets;
import io.github.cohortsync.connect.sync.snapshot.SnapshotPlan.Range;

class SnapshotPlanTest {
    private static final TopicPartition P0 = new TopicPartition("t", 0);
    private static final TopicPartition P1 = new TopicPartition("t", 1);
    private static final TopicPartition P2 = new TopicPartition("t", 2);

    private static final Map<TopicPartition, PartitionOffsets> OFFSETS = Map.of(
            P0, new PartitionOffsets(null, 0, 120),
            P1, new PartitionOffsets(40L, 0, 90),
            P2, new PartitionOffsets(null, 75, 75));

    @Test
    void dynamicSnapshotsOnlyThePartitionsWithoutACommittedOffset() {
        SnapshotPlan plan = SnapshotPlan.decide(false, OFFSETS);

        assertThat(plan.snapshot()).containsOnly(Map.entry(P0, new Range(0, 120)), Map.entry(P2, new Range(75, 75)));
        assertThat(plan.alreadyExported()).isEmpty();
    }

    @Test
    void oneTimeTreatsACommittedPartitionAsAlreadyExported() {
        SnapshotPlan plan = SnapshotPlan.decide(true, OFFSETS);

        assertThat(plan.snapshot()).containsOnlyKeys(P0, P2);
        assertThat(plan.alreadyExported()).containsExactly(P1);
    }

    @Test
    void aPartitionWithNothingBetweenLogStartAndEndHasAnEmptySnapshot() {
        assertThat(new Range(75, 75).isEmpty()).isTrue();
        assertThat(new Range(0, 0).isEmpty()).isTrue();
        assertThat(new Range(0, 1).isEmpty()).isFalse();
    }

    @Test
    void aCommittedOffsetOfZeroStillCountsAsCommitted() {
        SnapshotPlan plan = SnapshotPlan.decide(false, Map.of(P0, new PartitionOffsets(0L, 0, 10)));

        assertThat(plan.snapshot()).isEmpty();
    }

    @Test
    void aRefreshSnapshotsEveryPartitionFromItsLogStartAndRewindsTheCommittedOnes() {
        SnapshotPlan plan = SnapshotPlan.refresh(OFFSETS);

        assertThat(plan.snapshot()).containsOnly(Map.entry(P0, new Range(0, 120)), Map.entry(P1, new Range(0, 90)),
                Map.entry(P2, new Range(75, 75)));
        assertThat(plan.rewind()).containsOnly(Map.entry(P1, 0L));
    }

    /** A first contact reads again up to where the task has read, else up to the commit; nothing else. */
    @Test
    void aFirstContactReadsAgainUpToWhereTheTaskHasRead() {
        Map<TopicPartition, PartitionOffsets> offsets = Map.of(
                P0, new PartitionOffsets(100L, 10, 120),
                P1, new PartitionOffsets(40L, 0, 90),
                P2, new PartitionOffsets(null, 75, 80));
        SnapshotPlan plan = SnapshotPlan.firstContact(offsets, Map.of(P0, 110L));

        assertThat(plan.snapshot()).containsOnly(Map.entry(P0, new Range(10, 110)), Map.entry(P1, new Range(0, 40)));
        assertThat(plan.rewind()).containsOnly(Map.entry(P0, 10L), Map.entry(P1, 0L));
        assertThat(plan.alreadyExported()).isEmpty();
    }
}

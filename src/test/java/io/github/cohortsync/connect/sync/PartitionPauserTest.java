package io.github.cohortsync.connect.sync;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.List;
import java.util.Set;

import org.apache.kafka.common.TopicPartition;
import org.junit.jupiter.api.Test;

import io.github.cohortsync.connect.FakeSinkTaskContext;

class PartitionPauserTest {
    private static final TopicPartition P0 = new TopicPartition("t", 0);
    private static final TopicPartition P1 = new TopicPartition("t", 1);
    private final FakeSinkTaskContext context = new FakeSinkTaskContext(false, P0, P1);
    private final PartitionPauser pauser = new PartitionPauser(context);

    @Test
    void pausesExactlyTheWantedPartitionsAndResumesTheRest() {
        assertThat(pauser.apply(Set.of(P0, P1), List.of())).isEqualTo(2);
        assertThat(context.paused()).containsExactlyInAnyOrder(P0, P1);
        assertThat(pauser.apply(Set.of(P0, P1), List.of())).as("already paused").isZero();

        pauser.apply(Set.of(P1), List.of());

        assertThat(context.paused()).containsExactly(P1);
        assertThat(pauser.isEmpty()).isFalse();
    }

    @Test
    void newlyAssignedPartitionsAreResumedWhateverWasAskedBefore() {
        pauser.apply(Set.of(P0, P1), List.of());
        pauser.forget(List.of(P0, P1));
        context.revokeAll();
        context.assign(P0);
        // The worker re-pauses a partition the task paused before the rebalance.
        context.pause(P0);

        pauser.apply(Set.of(), List.of(P0));

        assertThat(context.paused()).isEmpty();
        assertThat(pauser.isEmpty()).isTrue();
    }
}

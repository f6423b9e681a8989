package io.github.cohortsync.connect.sync;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.List;
import java.util.Map;

import org.apache.kafka.clients.consumer.OffsetAndMetadata;
import org.apache.kafka.common.TopicPartition;
import org.junit.jupiter.api.Test;

class OffsetTrackerTest {
    private static final TopicPartition P0 = new TopicPartition("t", 0);
    private static final TopicPartition P1 = new TopicPartition("t", 1);
    private final OffsetTracker tracker = new OffsetTracker();

    @Test
    void readingMovesNoCommittedOffset() {
        assertThat(tracker.read(P0, 0)).as("the first record of the partition").isTrue();
        assertThat(tracker.read(P0, 1)).isFalse();

        assertThat(tracker.readPositions(List.of(P0, P1))).containsExactly(Map.entry(P0, 2L));
        assertThat(tracker.safeOffsets(List.of(P0, P1))).as("read is not delivered").isEmpty();
    }

    @Test
    void aRewindKeepsTheReadPositionWhereReadingGotTo() {
        tracker.read(P0, 9);
        assertThat(tracker.read(P0, 3)).isFalse();

        assertThat(tracker.readPositions(List.of(P0))).containsEntry(P0, 10L);
    }

    @Test
    void completedJobsMoveTheSafeOffsetForwardOnly() {
        tracker.completed(Map.of(P0, 5L));
        tracker.completed(Map.of(P0, 3L, P1, 1L));

        assertThat(tracker.safeOffsets(List.of(P0, P1)))
                .containsOnly(Map.entry(P0, new OffsetAndMetadata(5)), Map.entry(P1, new OffsetAndMetadata(1)));
        assertThat(tracker.safeOffsets(List.of(P1))).as("only the partitions asked for").containsOnlyKeys(P1);
    }

    @Test
    void forgottenPartitionsStartAfresh() {
        tracker.read(P0, 4);
        tracker.completed(Map.of(P0, 5L));

        tracker.forget(List.of(P0));

        assertThat(tracker.safeOffsets(List.of(P0))).isEmpty();
        assertThat(tracker.readPositions(List.of(P0))).isEmpty();
        assertThat(tracker.read(P0, 7)).as("first again once assigned again").isTrue();
    }
}

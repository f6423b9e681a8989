package io.github.cohortsync.connect.sync.snapshot;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.List;
import java.util.Map;

import org.apache.kafka.common.TopicPartition;
import org.junit.jupiter.api.Test;

class CohortSpreadTest {
    private static final TopicPartition P0 = new TopicPartition("t", 0);
    private static final TopicPartition P1 = new TopicPartition("t", 1);
    private static final TopicPartition P2 = new TopicPartition("t", 2);
    private final CohortSpread spread = new CohortSpread();

    @Test
    void aTaskThatReadsEveryPartitionSendsWholeCohorts() {
        spread.saw("1", P0);
        spread.saw("1", P1);
        spread.saw("1", P2);

        assertThat(spread.splitCohorts(List.of(P0, P1, P2), Map.of("t", 3))).isEmpty();
    }

    @Test
    void aCohortFromSeveralOfSomePartitionsIsSplit() {
        spread.saw("1", P0);
        spread.saw("1", P1);
        spread.saw("2", P1);
        spread.saw("2", P0);

        assertThat(spread.splitCohorts(List.of(P0, P1), Map.of("t", 3))).containsExactly("1", "2");
    }

    @Test
    void aCohortFromOneOfSeveralPartitionsReadIsTakenAsPartitionedByCohort() {
        spread.saw("1", P0);
        spread.saw("2", P1);

        assertThat(spread.splitCohorts(List.of(P0, P1), Map.of("t", 3))).isEmpty();
    }

    @Test
    void aTaskReadingOnePartitionOfSeveralCannotTellAndWarns() {
        spread.saw("9", P2);

        assertThat(spread.splitCohorts(List.of(P2), Map.of("t", 3))).containsExactly("9");
    }

    @Test
    void aSinglePartitionTopicIsNeverSplit() {
        TopicPartition only = new TopicPartition("one", 0);
        spread.saw("1", only);

        assertThat(spread.splitCohorts(List.of(only), Map.of("one", 1))).isEmpty();
    }

    @Test
    void topicsOfUnknownPartitionCountAreNotJudged() {
        spread.saw("1", P0);
        spread.saw("1", P1);

        assertThat(spread.splitCohorts(List.of(P0, P1), Map.of())).isEmpty();
    }

    @Test
    void eachTopicIsJudgedOnItsOwn() {
        TopicPartition other = new TopicPartition("u", 0);
        spread.saw("1", P0);
        spread.saw("1", P1);
        spread.saw("1", P2);
        spread.saw("2", other);

        assertThat(spread.splitCohorts(List.of(P0, P1, P2, other, new TopicPartition("u", 1)),
                Map.of("t", 3, "u", 4))).isEmpty();
        assertThat(spread.cohorts()).isEqualTo(2);
    }
}

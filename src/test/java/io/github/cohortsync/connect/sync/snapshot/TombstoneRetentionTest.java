package io.github.cohortsync.connect.sync.snapshot;

import static org.assertj.core.api.Assertions.assertThat;

import java.time.Duration;

import org.junit.jupiter.api.Test;

class TombstoneRetentionTest {
    private static final long WEEK = Duration.ofDays(7).toMillis();
    private static final long DAY = Duration.ofDays(1).toMillis();

    @Test
    void warnsWhenACompactedTopicKeepsTombstonesShorterThanTheBudget() {
        TopicFacts facts = new TopicFacts("cohort-membership", 6, "compact", DAY);

        assertThat(TombstoneRetention.warning(facts, WEEK)).hasValueSatisfying(message -> assertThat(message)
                .contains("Topic cohort-membership is compacted")
                .contains("delete.retention.ms=86400000 (1 d)")
                .contains("tombstone.retention.warn.ms=604800000 (7 d)")
                .contains("--add-config delete.retention.ms=604800000"));
    }

    @Test
    void aTopicBothCompactedAndDeletedIsCompacted() {
        assertThat(TombstoneRetention.warning(new TopicFacts("t", 1, "compact,delete", DAY), WEEK)).isPresent();
        assertThat(TombstoneRetention.warning(new TopicFacts("t", 1, "delete, COMPACT", DAY), WEEK)).isPresent();
    }

    @Test
    void noWarningWhenTombstonesAreKeptLongEnough() {
        assertThat(TombstoneRetention.warning(new TopicFacts("t", 1, "compact", WEEK), WEEK)).isEmpty();
        assertThat(TombstoneRetention.warning(new TopicFacts("t", 1, "compact", 30 * DAY), WEEK)).isEmpty();
    }

    @Test
    void noWarningForATopicThatIsNotCompacted() {
        assertThat(TombstoneRetention.warning(new TopicFacts("t", 1, "delete", DAY), WEEK)).isEmpty();
        assertThat(TombstoneRetention.warning(new TopicFacts("t", 1, null, DAY), WEEK)).isEmpty();
    }

    @Test
    void noWarningWhenTheCheckIsOffOrTheSettingUnknown() {
        assertThat(TombstoneRetention.warning(new TopicFacts("t", 1, "compact", DAY), 0)).isEmpty();
        assertThat(TombstoneRetention.warning(new TopicFacts("t", 1, "compact", null), WEEK)).isEmpty();
    }

    @Test
    void oddDurationsAreShownInSeconds() {
        assertThat(TombstoneRetention.warning(new TopicFacts("t", 1, "compact", 90_500L), WEEK))
                .hasValueSatisfying(message -> assertThat(message).contains("(90 s)"));
    }
}

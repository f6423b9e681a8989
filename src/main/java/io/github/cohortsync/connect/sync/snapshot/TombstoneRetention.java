package io.github.cohortsync.connect.sync.snapshot;

import java.time.Duration;
import java.util.Optional;

/**
 * Whether a compacted topic keeps removals long enough: the broker deletes a tombstone {@code delete.retention.ms}
 * after compaction reaches it, so a connector further behind than that, or a new connector's first read, never sees
 * the removal.
 */
public final class TombstoneRetention {

    private TombstoneRetention() {
    }

    /**
     * A warning for the operator when the topic is compacted and keeps tombstones for less than {@code budgetMs};
     * empty otherwise, when {@code budgetMs} is 0 (check off) or the setting could not be read.
     */
    public static Optional<String> warning(TopicFacts facts, long budgetMs) {
        if (budgetMs <= 0 || !facts.compacted() || facts.deleteRetentionMs() == null
                || facts.deleteRetentionMs() >= budgetMs) {
            return Optional.empty();
        }
        return Optional.of("Topic " + facts.topic() + " is compacted and keeps removals (tombstones) for"
                + " delete.retention.ms=" + facts.deleteRetentionMs() + " (" + human(facts.deleteRetentionMs())
                + "), less than tombstone.retention.warn.ms=" + budgetMs + " (" + human(budgetMs) + "): if this"
                + " connector is stopped or behind for longer, removals are deleted before it reads them and their"
                + " users stay members at the destination. Raise the topic's delete.retention.ms to at least your"
                + " lag budget (kafka-configs --alter --entity-type topics --entity-name " + facts.topic()
                + " --add-config delete.retention.ms=" + budgetMs + "), or set tombstone.retention.warn.ms to the"
                + " budget you have");
    }

    private static String human(long ms) {
        Duration d = Duration.ofMillis(ms);
        if (d.toDays() > 0 && d.toHoursPart() == 0 && d.toMinutesPart() == 0) {
            return d.toDays() + " d";
        }
        if (d.toHours() > 0 && d.toMinutesPart() == 0 && d.toSecondsPart() == 0) {
            return d.toHours() + " h";
        }
        return d.toSeconds() + " s";
    }
}

package io.github.cohortsync.connect.sync.snapshot;

import java.util.Locale;

/**
 * What the admin client tells about a source topic: its partition count and the settings that decide how long a
 * removal (tombstone) stays readable. A setting that could not be read is null.
 */
public record TopicFacts(String topic, int partitions, String cleanupPolicy, Long deleteRetentionMs) {

    /** True when the broker compacts the topic ({@code cleanup.policy} is or includes {@code compact}). */
    public boolean compacted() {
        return cleanupPolicy != null && cleanupPolicy.toLowerCase(Locale.ROOT).contains("compact");
    }
}

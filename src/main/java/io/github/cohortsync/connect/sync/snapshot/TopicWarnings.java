package io.github.cohortsync.connect.sync.snapshot;

import java.util.Collection;
import java.util.HashMap;
import java.util.HashSet;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.TreeSet;
import java.util.stream.Collectors;

import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.connect.errors.ConnectException;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import io.github.cohortsync.connect.metrics.SyncStats;

/**
 * The warnings a task derives from its topics, read with the snapshot admin client: a compacted topic that keeps
 * tombstones for less than the lag budget ({@link TombstoneRetention}), and cohorts whose full sync the task sends
 * from only part of the topic's partitions ({@link CohortSpread}). Warnings only: a topic that cannot be described
 * is skipped, never a reason to fail.
 */
public final class TopicWarnings {
    private static final Logger log = LoggerFactory.getLogger(TopicWarnings.class);

    private final OffsetsLookup lookup;
    private final long retentionBudgetMs;
    private final SyncStats stats;
    /** Topics looked up (or that could not be), and the facts found. */
    private final Set<String> checked = new HashSet<>();
    private final Map<String, TopicFacts> facts = new HashMap<>();
    private final Set<String> splitCohortsWarned = new HashSet<>();
    /** The partitions each cohort of the current snapshot came from. */
    private CohortSpread spread = new CohortSpread();

    /**
     * @param lookup            the snapshot admin client's lookup; null when snapshots are off (nothing is checked)
     * @param retentionBudgetMs tombstone.retention.warn.ms; 0 turns the retention check off
     */
    public TopicWarnings(OffsetsLookup lookup, long retentionBudgetMs, SyncStats stats) {
        this.lookup = lookup;
        this.retentionBudgetMs = retentionBudgetMs;
        this.stats = stats;
    }

    /** On assignment: describes the topics not seen before, and warns of a short tombstone retention. */
    public void assigned(Collection<TopicPartition> partitions) {
        if (lookup == null) {
            return;
        }
        Set<String> unchecked = partitions.stream().map(TopicPartition::topic).filter(checked::add)
                .collect(Collectors.toCollection(TreeSet::new));
        if (unchecked.isEmpty()) {
            return;
        }
        try {
            Map<String, TopicFacts> found = lookup.topicFacts(unchecked);
            facts.putAll(found);
            found.values().forEach(f -> TombstoneRetention.warning(f, retentionBudgetMs).ifPresent(log::warn));
        } catch (ConnectException e) {
            log.warn("{}. The checks of tombstone retention and of full syncs split over tasks are skipped for"
                    + " these topics", e.getMessage());
        }
    }

    /** A new snapshot starts: what earlier ones read no longer counts. */
    public void snapshotStarted() {
        spread = new CohortSpread();
    }

    /** A change of the snapshot was read from the partition. */
    public void snapshotRead(String cohortId, TopicPartition partition) {
        spread.saw(cohortId, partition);
    }

    /** The snapshot over {@code read} was delivered: one WARN per cohort it held only part of (once per task). */
    public void snapshotDelivered(Collection<TopicPartition> read) {
        Map<String, Integer> partitionCounts = new HashMap<>();
        facts.forEach((topic, f) -> partitionCounts.put(topic, f.partitions()));
        Set<String> split = spread.splitCohorts(read, partitionCounts);
        if (split.isEmpty()) {
            return;
        }
        String reading = read.stream()
                .collect(Collectors.groupingBy(TopicPartition::topic, TreeMap::new, Collectors.counting()))
                .entrySet().stream()
                .filter(e -> partitionCounts.containsKey(e.getKey()))
                .map(e -> e.getValue() + " of the " + partitionCounts.get(e.getKey()) + " partitions of " + e.getKey())
                .collect(Collectors.joining(", "));
        for (String cohort : split) {
            if (splitCohortsWarned.add(cohort)) {
                stats.splitFullSyncCohorts.incrementAndGet();
                log.warn("The full sync ('members' session) of cohort {} holds only the members in this task's"
                        + " partitions ({}): other tasks send the others as their own sessions, and a destination"
                        + " that replaces the cohort with each full sync keeps only one part. Partition the topic"
                        + " by cohort id or run tasks.max=1 (docs/operations.md, 'Full syncs with several tasks')",
                        cohort, reading);
            }
        }
    }
}

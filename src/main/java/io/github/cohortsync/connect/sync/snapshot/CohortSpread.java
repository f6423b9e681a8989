package io.github.cohortsync.connect.sync.snapshot;

import java.util.Collection;
import java.util.HashMap;
import java.util.HashSet;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;

import org.apache.kafka.common.TopicPartition;

/**
 * The partitions each cohort's snapshot records came from, to notice a full sync split over several tasks: with the
 * topic keyed by cohort and user, a cohort's records spread over every partition, so a task that owns only some of
 * them sends only part of the cohort as its {@code members} session, and a destination that replaces the cohort
 * with each full sync keeps only the last task's part.
 */
public final class CohortSpread {
    private final Map<String, Set<TopicPartition>> partitionsByCohort = new HashMap<>();

    /** Notes that a snapshot record of the cohort was read from the partition. */
    public void saw(String cohortId, TopicPartition partition) {
        partitionsByCohort.computeIfAbsent(cohortId, id -> new HashSet<>(4)).add(partition);
    }

    /**
     * The cohorts, sorted, whose full sync this task sends from only part of a topic: it read fewer than
     * {@code partitionCounts} partitions of a topic the cohort's records came from, and either the cohort came from
     * two or more of them (so the producer does not partition by cohort) or the task read one partition only (so
     * it cannot tell, and the default partitioner spreads every cohort). A cohort found in one of several
     * partitions read is taken as partitioned by cohort. Topics of unknown partition count are not judged.
     *
     * @param read            the partitions the snapshot covers
     * @param partitionCounts each topic's partition count
     */
    public Set<String> splitCohorts(Collection<TopicPartition> read, Map<String, Integer> partitionCounts) {
        Map<String, Integer> readPerTopic = new HashMap<>();
        for (TopicPartition partition : read) {
            readPerTopic.merge(partition.topic(), 1, Integer::sum);
        }
        Set<String> split = new TreeSet<>();
        partitionsByCohort.forEach((cohort, seen) -> {
            Map<String, Integer> seenPerTopic = new HashMap<>();
            seen.forEach(partition -> seenPerTopic.merge(partition.topic(), 1, Integer::sum));
            seenPerTopic.forEach((topic, seenCount) -> {
                Integer total = partitionCounts.get(topic);
                int readCount = readPerTopic.getOrDefault(topic, seenCount);
                if (total != null && readCount < total && (seenCount >= 2 || readCount == 1)) {
                    split.add(cohort);
                }
            });
        });
        return split;
    }

    /** Cohorts seen so far. */
    public int cohorts() {
        return partitionsByCohort.size();
    }
}

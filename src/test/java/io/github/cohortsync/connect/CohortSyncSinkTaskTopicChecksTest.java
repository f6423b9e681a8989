package io.github.cohortsync.connect;

import static io.github.cohortsync.connect.Records.change;
import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import java.io.IOException;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collection;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.connect.errors.ConnectException;
import org.apache.log4j.Logger;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import io.github.cohortsync.connect.sync.snapshot.OffsetsLookup;
import io.github.cohortsync.connect.sync.snapshot.SnapshotPlan.PartitionOffsets;
import io.github.cohortsync.connect.sync.snapshot.TopicFacts;
import mockwebserver3.MockResponse;
import mockwebserver3.MockWebServer;
import okhttp3.Headers;

/**
 * The warnings a task derives from its topics' facts: a compacted topic that keeps tombstones shorter than the lag
 * budget, and a cohort whose full sync this task sends from only part of the topic's partitions.
 */
class CohortSyncSinkTaskTopicChecksTest {
    private static final TopicPartition P0 = new TopicPartition(Records.TOPIC, 0);
    private static final TopicPartition P1 = new TopicPartition(Records.TOPIC, 1);
    private static final long DAY = Duration.ofDays(1).toMillis();

    @TempDir
    Path dir;
    private final MockWebServer server = new MockWebServer();
    private final LogCapture capture = new LogCapture();
    private final Lookup lookup = new Lookup();
    private CohortSyncSinkTask task;

    /** Offsets of a first run, and topic facts as the admin client would give them. */
    private static final class Lookup implements OffsetsLookup {
        final Map<String, TopicFacts> facts = new HashMap<>();
        final List<Collection<String>> asked = new ArrayList<>();
        Map<TopicPartition, Long> ends = Map.of();
        RuntimeException factsFailure;

        @Override
        public Map<TopicPartition, PartitionOffsets> offsets(Collection<TopicPartition> partitions) {
            Map<TopicPartition, PartitionOffsets> result = new HashMap<>();
            partitions.forEach(p -> result.put(p, new PartitionOffsets(null, 0, ends.getOrDefault(p, 0L))));
            return result;
        }

        @Override
        public Map<String, TopicFacts> topicFacts(Collection<String> topics) {
            asked.add(List.copyOf(topics));
            if (factsFailure != null) {
                throw factsFailure;
            }
            Map<String, TopicFacts> result = new HashMap<>();
            topics.forEach(t -> {
                if (facts.containsKey(t)) {
                    result.put(t, facts.get(t));
                }
            });
            return result;
        }

        @Override
        public void close() {
        }
    }

    @BeforeEach
    void setUp() throws IOException {
        Logger.getRootLogger().addAppender(capture);
        server.setDispatcher(new mockwebserver3.Dispatcher() {
            @Override
            public MockResponse dispatch(mockwebserver3.RecordedRequest request) {
                String action = request.getBody().utf8().contains("\"members\"") ? "members" : "add_members";
                return new MockResponse(200, Headers.of("Content-Type", "application/json"),
                        "{\"action\": \"" + action + "\", \"status\": \"success\"}");
            }
        });
        server.start();
    }

    @AfterEach
    void tearDown() {
        if (task != null) {
            task.stop();
        }
        Logger.getRootLogger().removeAppender(capture);
        server.close();
    }

    private void start(List<TopicPartition> assigned, String... overrides) {
        Map<String, String> props = new HashMap<>();
        props.put("name", "topic-checks");
        props.put("destination", "webhook");
        props.put("webhook.url", server.url("/hook").toString());
        props.put("sync.interval.ms", "100");
        props.put("retry.max.attempts", "0");
        props.put("snapshot.bootstrap.servers", "127.0.0.1:9");
        props.put("snapshot.spill.dir", dir.resolve("spill").toString());
        props.put("delivery.journal.dir", dir.resolve("journal").toString());
        for (int i = 0; i < overrides.length; i += 2) {
            props.put(overrides[i], overrides[i + 1]);
        }
        FakeSinkTaskContext context = new FakeSinkTaskContext(false, assigned.toArray(new TopicPartition[0]));
        task = new CohortSyncSinkTask((config, group) -> lookup);
        task.initialize(context);
        task.start(props);
        task.open(assigned);
    }

    private List<String> warnings(String containing) {
        synchronized (capture.lines) {
            return capture.lines.stream().filter(l -> l.contains(containing)).toList();
        }
    }

    @Test
    void warnsOnceWhenTheCompactedTopicKeepsTombstonesShorterThanTheBudget() {
        lookup.facts.put(Records.TOPIC, new TopicFacts(Records.TOPIC, 2, "compact", DAY));
        start(List.of(P0));
        task.close(List.of(P0));
        task.open(List.of(P0, P1));

        assertThat(warnings("keeps removals (tombstones)")).singleElement().asString()
                .contains("delete.retention.ms=86400000 (1 d)")
                .contains("tombstone.retention.warn.ms=604800000 (7 d)");
        assertThat(lookup.asked).as("each topic is described once").containsExactly(List.of(Records.TOPIC));
    }

    @Test
    void theBudgetIsConfigurableAndZeroTurnsTheCheckOff() {
        lookup.facts.put(Records.TOPIC, new TopicFacts(Records.TOPIC, 2, "compact", DAY));
        start(List.of(P0), "tombstone.retention.warn.ms", "0");

        assertThat(warnings("keeps removals (tombstones)")).isEmpty();
    }

    @Test
    void aBudgetWithinTheRetentionDoesNotWarn() {
        lookup.facts.put(Records.TOPIC, new TopicFacts(Records.TOPIC, 2, "compact", DAY));
        start(List.of(P0), "tombstone.retention.warn.ms", Long.toString(DAY));

        assertThat(warnings("keeps removals (tombstones)")).isEmpty();
    }

    @Test
    void aTopicThatCannotBeDescribedIsSkippedWithAWarningAndTheTaskRuns() {
        lookup.factsFailure = new ConnectException("Could not describe topics [cohort-membership]");
        lookup.ends = Map.of(P0, 1L);
        start(List.of(P0));
        task.put(List.of(change("c1", "u1").at(0, 0).build()));

        await().atMost(Duration.ofSeconds(20)).untilAsserted(() -> {
            task.put(List.of());
            assertThat(task.stats().snapshotsCompleted.get()).isEqualTo(1);
        });
        assertThat(warnings("checks of tombstone retention and of full syncs split over tasks are skipped"))
                .hasSize(1);
        assertThat(task.stats().splitFullSyncCohorts.get()).isZero();
    }

    @Test
    void warnsOncePerCohortWhoseFullSyncComesFromPartOfTheTopic() {
        // This task owns 2 of the topic's 4 partitions: cohort c1 comes from both (spread by the default
        // partitioner), c2 from one only (consistent with a partitioner by cohort id).
        lookup.facts.put(Records.TOPIC, new TopicFacts(Records.TOPIC, 4, "compact", 30 * DAY));
        lookup.ends = Map.of(P0, 2L, P1, 2L);
        start(List.of(P0, P1));

        task.put(List.of(change("c1", "u1").at(0, 0).build(), change("c2", "u2").at(0, 1).build(),
                change("c1", "u3").at(1, 0).build(), change("c1", "u4").at(1, 1).build()));
        await().atMost(Duration.ofSeconds(20)).untilAsserted(() -> {
            task.put(List.of());
            assertThat(task.stats().snapshotsCompleted.get()).isEqualTo(1);
        });

        assertThat(task.stats().splitFullSyncCohorts.get()).isEqualTo(1);
        assertThat(warnings("full sync ('members' session) of cohort")).singleElement().asString()
                .contains("cohort c1 ")
                .contains("2 of the 4 partitions of " + Records.TOPIC)
                .doesNotContain("u1").doesNotContain("u3");
        assertThat(warnings("keeps removals (tombstones)")).isEmpty();
    }

    @Test
    void aTaskOwningEveryPartitionSendsWholeCohorts() {
        lookup.facts.put(Records.TOPIC, new TopicFacts(Records.TOPIC, 2, "delete", null));
        lookup.ends = Map.of(P0, 1L, P1, 1L);
        start(List.of(P0, P1));

        task.put(List.of(change("c1", "u1").at(0, 0).build(), change("c1", "u3").at(1, 0).build()));
        await().atMost(Duration.ofSeconds(20)).untilAsserted(() -> {
            task.put(List.of());
            assertThat(task.stats().snapshotsCompleted.get()).isEqualTo(1);
        });

        assertThat(task.stats().splitFullSyncCohorts.get()).isZero();
        assertThat(warnings("full sync ('members' session)")).isEmpty();
    }
}

package io.github.cohortsync.connect.sync;

import static io.github.cohortsync.connect.Records.change;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.awaitility.Awaitility.await;

import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

import org.apache.kafka.clients.consumer.OffsetAndMetadata;
import org.apache.kafka.clients.producer.MockProducer;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.errors.RecordTooLargeException;
import org.apache.kafka.common.serialization.ByteArraySerializer;
import org.apache.kafka.connect.errors.ConnectException;
import org.apache.kafka.connect.sink.SinkRecord;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;

import io.github.cohortsync.connect.FakeSinkTaskContext;
import io.github.cohortsync.connect.Records;
import io.github.cohortsync.connect.destination.DeliveryResult;
import io.github.cohortsync.connect.destination.Destination;
import io.github.cohortsync.connect.destination.Page;
import io.github.cohortsync.connect.destination.Rejection;
import io.github.cohortsync.connect.metrics.CohortMetricsRegistry;
import io.github.cohortsync.connect.metrics.SyncStats;
import io.github.cohortsync.connect.record.MembershipChange;
import io.github.cohortsync.connect.record.RecordParser;
import io.github.cohortsync.connect.report.ReportRecords;
import io.github.cohortsync.connect.report.ReportWriter;
import io.github.cohortsync.connect.sync.SyncEngine.Route;

/**
 * The report through the engine: one outcome per member and sync, and the commit rule: no offset is returned by
 * safeOffsets (so by preCommit) before the broker acknowledged the report records of the changes below it.
 */
class SyncEngineReportTest {
    private static final ObjectMapper JSON = new ObjectMapper();
    private static final TopicPartition P0 = new TopicPartition(Records.TOPIC, 0);
    private static final Duration WAIT = Duration.ofSeconds(20);

    /** Accepts every page, refusing the members named "bad-*" with the code 422. */
    private static final class RefusingBad implements Destination {
        final List<Page> accepted = new ArrayList<>();

        @Override
        public synchronized DeliveryResult send(Page page) {
            accepted.add(page);
            return new DeliveryResult(page.members().stream().filter(m -> m.distinctId().startsWith("bad-"))
                    .map(m -> new Rejection(m, "invalid id", "422")).toList());
        }

        @Override
        public void cancelInFlight() {
        }

        @Override
        public void close() {
        }
    }

    @TempDir
    Path journalDir;
    private final MockProducer<byte[], byte[]> producer = new MockProducer<>(false, null,
            new ByteArraySerializer(), new ByteArraySerializer());
    private final RefusingBad destination = new RefusingBad();
    private final RecordParser parser = new RecordParser();
    private final CohortMetricsRegistry cohortMetrics = new CohortMetricsRegistry("report-test", "0", 10);
    private FakeSinkTaskContext context;
    private SyncEngine engine;

    @AfterEach
    void stop() {
        if (engine != null) {
            engine.stop();
        }
    }

    private void start(String... overrides) {
        context = new FakeSinkTaskContext(false, P0);
        ReportWriter report = new ReportWriter(producer, "cohort-report",
                new ReportRecords("report-test", "0", "webhook", false));
        engine = new SyncEngine(EngineConfigs.webhook("report-test", journalDir, overrides), "report-test", "0", destination, null, null, context,
                new SyncStats(), new DeadLetters(null, false), new SyncEngine.Reporting(report, cohortMetrics));
        engine.open(List.of(P0));
    }

    private void put(List<SinkRecord> records) {
        long now = System.currentTimeMillis();
        for (SinkRecord record : records) {
            TopicPartition partition = new TopicPartition(record.topic(), record.kafkaPartition());
            Route route = engine.read(partition, record.kafkaOffset());
            MembershipChange change = parser.parse(record);
            engine.add(change, partition, route, now);
        }
        engine.polled(now, true);
    }

    private Map<TopicPartition, OffsetAndMetadata> safeOffsets() {
        return engine.safeOffsets(Map.of(P0, new OffsetAndMetadata(0)));
    }

    /** Outcome per distinct id, from what the engine handed the producer. */
    private Map<String, List<String>> outcomes() throws Exception {
        Map<String, List<String>> outcomes = new HashMap<>();
        for (ProducerRecord<byte[], byte[]> record : producer.history()) {
            JsonNode value = JSON.readTree(record.value());
            outcomes.computeIfAbsent(value.path("distinct_id").asText(), id -> new ArrayList<>())
                    .add(value.path("outcome").asText());
        }
        return outcomes;
    }

    private void syncAndSettle(List<SinkRecord> records, int reportRecords) {
        put(records);
        await().atMost(WAIT).until(() -> {
            engine.polled(System.currentTimeMillis(), true);
            return producer.history().size() >= reportRecords;
        });
    }

    @Test
    void noOffsetIsCommittedBeforeItsReportRecordsAreAcknowledged() {
        start();
        syncAndSettle(List.of(change("c1", "u0").at(0, 0).build(), change("c1", "u1").at(0, 1).build()), 2);
        await().atMost(WAIT).until(() -> {
            // The sync's outcome is collected here; its report is not acknowledged yet.
            engine.polled(System.currentTimeMillis(), true);
            return context.commitRequests > 0;
        });

        assertThat(safeOffsets()).isEmpty();
        producer.completeNext();
        assertThat(safeOffsets()).isEmpty();
        producer.completeNext();
        assertThat(safeOffsets()).containsEntry(P0, new OffsetAndMetadata(2));
    }

    @Test
    void everyMemberOfASyncGetsOneOutcome() throws Exception {
        start();
        syncAndSettle(List.of(
                change("c1", "u0").at(0, 0).build(),
                change("c1", "u1").at(0, 1).build(),
                change("c1", "u0").remove().at(0, 2).build(),
                change("c1", "bad-2").at(0, 3).build()), 4);
        while (producer.completeNext()) {
            // Every report record acknowledged.
        }
        await().atMost(WAIT).until(() -> safeOffsets().containsKey(P0));

        assertThat(outcomes()).containsOnly(
                Map.entry("u0", List.of("netted_away", "delivered")),
                Map.entry("u1", List.of("delivered")),
                Map.entry("bad-2", List.of("rejected")));
        assertThat(safeOffsets()).containsEntry(P0, new OffsetAndMetadata(4));
        JsonNode rejected = producer.history().stream().map(r -> {
            try {
                return JSON.readTree(r.value());
            } catch (Exception e) {
                throw new IllegalStateException(e);
            }
        }).filter(v -> v.path("outcome").asText().equals("rejected")).findFirst().orElseThrow();
        assertThat(rejected.path("code").asText()).isEqualTo("422");
        assertThat(rejected.path("reason").asText()).isEqualTo("invalid id");
    }

    @Test
    void theCohortsMetricsShowTheLastSyncsMatchRate() throws Exception {
        start();
        syncAndSettle(List.of(change("c1", "u0").at(0, 0).build(), change("c1", "u1").at(0, 1).build(),
                change("c1", "u2").at(0, 2).build(), change("c1", "bad-3").at(0, 3).build()), 4);
        await().atMost(WAIT).until(() -> {
            engine.polled(System.currentTimeMillis(), true);
            return context.commitRequests > 0;
        });

        Object rate = java.lang.management.ManagementFactory.getPlatformMBeanServer()
                .getAttribute(CohortMetricsRegistry.objectName("report-test", "0", "c1"), "MatchRate");
        assertThat(rate).isEqualTo(0.75);
    }

    @Test
    void aReportTheBrokerRefusesFailsTheSyncNamingTheTopicAndCommitsNothingPastIt() {
        start();
        syncAndSettle(List.of(change("c1", "u0").at(0, 0).build()), 1);
        producer.errorNext(new RecordTooLargeException("too large"));

        assertThatThrownBy(() -> engine.polled(System.currentTimeMillis(), true))
                .isInstanceOf(ConnectException.class)
                .hasMessageContaining("report topic cohort-report cannot be written");
        assertThat(safeOffsets()).isEmpty();
    }

    @Test
    void aDryRunReportsWhatItWouldHaveSent() throws Exception {
        start("dry.run", "true");
        syncAndSettle(List.of(change("c1", "u0").at(0, 0).build()), 1);

        assertThat(outcomes()).containsOnly(Map.entry("u0", List.of("dry_run")));
        assertThat(destination.accepted).isEmpty();
    }
}

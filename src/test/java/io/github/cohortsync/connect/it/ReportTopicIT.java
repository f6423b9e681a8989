package io.github.cohortsync.connect.it;

import static io.github.cohortsync.connect.it.MembershipRecord.add;
import static io.github.cohortsync.connect.it.MembershipRecord.remove;
import static io.github.cohortsync.connect.it.MembershipRecord.tombstone;
import static io.github.cohortsync.connect.it.MembershipRecord.user;
import static org.assertj.core.api.Assertions.assertThat;

import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Set;

import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.connect.runtime.rest.entities.ConnectorStateInfo;
import org.junit.jupiter.api.Test;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;

import io.github.cohortsync.connect.it.standin.WebhookReceiver;
import io.github.cohortsync.connect.it.standin.WebhookReceiver.Reply;

/**
 * {@code report.topic} through the real worker and broker: one outcome per member of each sync, personal data left
 * out by default, journal skips after a restart reported once as such, and a report the broker refuses failing the
 * task with the topic's name.
 */
@ConnectCluster(name = "report-topic-it")
class ReportTopicIT {
    private static final ObjectMapper JSON = new ObjectMapper();
    private static ConnectHarness harness;

    @PerTest
    private WebhookReceiver receiver;
    @ConnectorName
    private String connector;

    private ConnectorConfig reporting(String topic, String reportTopic) {
        return ConnectorConfig.webhook(topic, receiver.url())
                .with("report.topic", reportTopic)
                .with("report.bootstrap.servers", harness.connect().kafka().bootstrapServers());
    }

    /** Every report record's value, in the order of the (single-partition) report topic. */
    private List<JsonNode> report(String reportTopic) throws Exception {
        List<JsonNode> values = new ArrayList<>();
        for (ConsumerRecord<byte[], byte[]> record : harness.connect().kafka().consumeAll(60_000, reportTopic)) {
            JsonNode key = JSON.readTree(record.key());
            JsonNode value = JSON.readTree(record.value());
            assertThat(key.path("cohort_id").asText()).isEqualTo(value.path("cohort_id").asText());
            assertThat(key.path("distinct_id").asText()).isEqualTo(value.path("distinct_id").asText());
            assertThat(new String(record.value(), StandardCharsets.UTF_8)).as("no personal data by default")
                    .doesNotContain("@", "email", "phone", "Tester");
            values.add(value);
        }
        return values;
    }

    /** Per cohort/member, its outcomes in report order. */
    private static Map<String, List<String>> outcomes(List<JsonNode> report) {
        Map<String, List<String>> outcomes = new HashMap<>();
        for (JsonNode value : report) {
            outcomes.computeIfAbsent(value.path("cohort_id").asText() + "/" + value.path("distinct_id").asText(),
                    id -> new ArrayList<>()).add(value.path("outcome").asText());
        }
        return outcomes;
    }

    @Test
    void theReportHoldsOneOutcomePerMemberOfTheSync() throws Exception {
        String topic = harness.createTopic("report-src", 1);
        String reportTopic = harness.createTopic("report", 1);
        List<MembershipRecord> records = new ArrayList<>();
        for (int i = 0; i < 20; i++) {
            records.add(add("5", user("r", i)));
        }
        records.add(add("5", "bad-1"));
        // r-0 is added, then removed in the same sync: its add is netted away.
        records.add(remove("5", user("r", 0)));
        records.add(tombstone("6", user("gone", 0)));
        records.add(tombstone("6", user("gone", 1)));
        receiver.refuseRequestsHolding(Set.of("bad-1"));
        harness.produce(topic, records);

        // One sync, started by the last record: 23 members (r-0 once) fill the buffer.
        harness.startConnector(connector, reporting(topic, reportTopic).syncIntervalMs(3_600_000)
                .with("buffer.max.changes", "23").build(), 1);
        harness.awaitCommittedToEnd(connector, topic);

        List<JsonNode> report = report(reportTopic);
        Map<String, List<String>> outcomes = outcomes(report);
        assertThat(outcomes).hasSize(23);
        assertThat(outcomes.get("5/" + user("r", 0))).containsExactly("netted_away", "delivered");
        for (int i = 1; i < 20; i++) {
            assertThat(outcomes.get("5/" + user("r", i))).as(user("r", i)).containsExactly("delivered");
        }
        assertThat(outcomes.get("5/bad-1")).containsExactly("rejected");
        assertThat(outcomes.get("6/" + user("gone", 0))).containsExactly("delivered");
        assertThat(outcomes.get("6/" + user("gone", 1))).containsExactly("delivered");
        JsonNode rejected = report.stream().filter(v -> v.path("outcome").asText().equals("rejected"))
                .findFirst().orElseThrow();
        assertThat(rejected.path("code").asText()).isEqualTo("400");
        assertThat(rejected.path("reason").asText()).contains("refused by the destination when sent alone");
        JsonNode removal = report.stream().filter(v -> v.path("distinct_id").asText().equals(user("gone", 0)))
                .findFirst().orElseThrow();
        assertThat(removal.path("action").asText()).isEqualTo("remove");
        assertThat(removal.path("page_action").asText()).isEqualTo("remove_members");
        assertThat(removal.path("destination").asText()).isEqualTo("webhook");
        assertThat(removal.path("topic").asText()).isEqualTo(topic);
        assertThat(removal.path("attempts").asInt()).isEqualTo(1);
        assertThat(removal.path("session_id").asText()).isNotEmpty();
        harness.assertAllRunning(connector);
    }

    @Test
    void afterARestartTheJournalsSkipsAreReportedOnceAndNothingIsDeliveredTwice() throws Exception {
        String topic = harness.createTopic("report-restart-src", 1);
        String reportTopic = harness.createTopic("report-restart", 1);
        List<MembershipRecord> records = new ArrayList<>();
        for (int i = 0; i < 10; i++) {
            records.add(add("7", user("k", i)));
        }
        harness.produce(topic, records);
        // Page 1 (k-0..k-4) is accepted; page 2 is refused with a 401, which fails the task at once.
        receiver.enqueue(Reply.success(), Reply.failureEnvelope(401, "Unauthorized"));

        harness.startConnector(connector, reporting(topic, reportTopic).syncIntervalMs(3_600_000)
                .with("buffer.max.changes", "10").with("batch.max.size", "5")
                .with("sync.max.in.flight.requests", "1").build(), 1);
        assertThat(harness.awaitTaskFailed(connector)).contains("HTTP 401");
        harness.connect().restartTask(connector, 0);
        harness.awaitCommittedToEnd(connector, topic);

        Map<String, List<String>> outcomes = outcomes(report(reportTopic));
        assertThat(outcomes).hasSize(10);
        for (int i = 0; i < 5; i++) {
            assertThat(outcomes.get("7/" + user("k", i))).as(user("k", i))
                    .containsExactly("delivered", "skipped_already_delivered");
        }
        for (int i = 5; i < 10; i++) {
            assertThat(outcomes.get("7/" + user("k", i))).as(user("k", i)).containsExactly("delivered");
        }
        assertThat(receiver.accepted().stream().flatMap(d -> d.distinctIds().stream()).count())
                .as("members accepted by the receiver over both runs").isEqualTo(10);
    }

    @Test
    void aDryRunReportsEveryMemberItWouldHaveSentAndSendsNothing() throws Exception {
        String topic = harness.createTopic("report-dry-src", 1);
        String reportTopic = harness.createTopic("report-dry", 1);
        List<MembershipRecord> records = new ArrayList<>();
        for (int i = 0; i < 30; i++) {
            records.add(add("9", user("d", i)));
        }
        records.add(tombstone("9", user("d", 0)));
        harness.produce(topic, records);

        harness.startConnector(connector, reporting(topic, reportTopic).with("dry.run", "true").build(), 1);
        harness.awaitCommittedToEnd(connector, topic);

        Map<String, List<String>> outcomes = outcomes(report(reportTopic));
        assertThat(outcomes).hasSize(30);
        for (int i = 0; i < 30; i++) {
            assertThat(outcomes.get("9/" + user("d", i))).as(user("d", i)).last().isEqualTo("dry_run");
        }
        assertThat(receiver.requestCount()).as("nothing sent").isZero();
    }

    @Test
    void aReportTopicThatCannotBeWrittenFailsTheStartNamingTheTopic() throws Exception {
        String topic = harness.createTopic("report-invalid-src", 1);
        String reportTopic = "not a topic name!";

        harness.connect().configureConnector(connector, reporting(topic, reportTopic)
                .with("report.producer.max.block.ms", "10000").build());

        // The connector's status exists only once its task was scheduled: until then the REST call answers 404.
        String trace = ConnectHarness.await().ignoreExceptions().until(() -> {
            List<ConnectorStateInfo.TaskState> tasks = harness.tasks(connector);
            return tasks.isEmpty() || !"FAILED".equals(tasks.get(0).state()) ? null : tasks.get(0).trace();
        }, Objects::nonNull);
        assertThat(trace).contains("The report topic " + reportTopic + " cannot be written")
                .contains("InvalidTopicException");
    }

    @Test
    void aReportTheBrokerRefusesFailsTheTaskNamingTheTopic() throws Exception {
        String topic = harness.createTopic("report-refused-src", 1);
        String reportTopic = harness.createTopic("report-refused", 1);
        harness.produce(topic, add("8", user("t", 0)), add("8", user("t", 1)));

        // Every report record is larger than this: the producer refuses it (RecordTooLargeException).
        harness.startConnector(connector, reporting(topic, reportTopic)
                .with("report.producer.max.request.size", "100").build(), 1);

        String trace = harness.awaitTaskFailed(connector);
        assertThat(trace).contains("The report topic " + reportTopic + " cannot be written")
                .contains("RecordTooLargeException");
        assertThat(harness.committedTotal(connector, topic)).as("nothing committed past the unreported changes")
                .isZero();
    }
}

package io.github.cohortsync.connect.it;

import static io.github.cohortsync.connect.it.MembershipRecord.add;
import static io.github.cohortsync.connect.it.MembershipRecord.remove;
import static org.assertj.core.api.Assertions.assertThat;

import java.nio.charset.StandardCharsets;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;

import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.ConsumerRecords;
import org.apache.kafka.common.header.Header;
import org.junit.jupiter.api.Test;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;

import io.github.cohortsync.connect.it.standin.IterableReceiver;

/**
 * The dead letter queue round trip an operator runs: a destination rejects a member, the DLQ record is read back,
 * the cause is fixed, the record is produced into the source topic as it is, and the change arrives with its
 * action: an add as an add, a removal as a removal.
 */
@ConnectCluster(name = "dead-letter-replay-it")
class DeadLetterReplayIT {
    private static final ObjectMapper JSON = new ObjectMapper();
    private static ConnectHarness harness;

    @Test
    void rejectedChangesReplayedFromTheDeadLetterQueueArriveWithTheirAction() throws Exception {
        String topic = harness.createTopic("replay-membership", 1);
        String dlq = ConnectHarness.uniqueName("replay-dlq");
        String connector = ConnectHarness.uniqueName("replay");
        String list = "mixpanel_" + MembershipRecord.cohortName("301") + "_301";
        try (IterableReceiver iterable = IterableReceiver.start()) {
            Map<String, String> config = ConnectorConfig.iterable(topic, "iterable-s3cret-key", iterable.url())
                    .deadLetterQueue(dlq)
                    .build();
            harness.startConnector(connector, config, 1);

            // The joiner's add is rejected; the leaver is added, then its removal is rejected.
            iterable.refuse(MembershipRecord.email("joiner"));
            harness.produce(topic, add("301", "stays"), add("301", "joiner"), add("301", "leaver"));
            harness.awaitCommittedToEnd(connector, topic);
            iterable.refuse(MembershipRecord.email("leaver"));
            harness.produce(topic, remove("301", "leaver"));
            harness.awaitCommittedToEnd(connector, topic);
            assertThat(iterable.membership()).isEqualTo(Map.of(list,
                    Set.of("email:stays@example.com", "email:leaver@example.com")));

            // The DLQ is at least once: one record per original offset.
            harness.connect().kafka().consume(2, ConnectHarness.TIMEOUT.toMillis(), dlq);
            Map<String, ConsumerRecord<byte[], byte[]>> dead = new TreeMap<>();
            ConsumerRecords<byte[], byte[]> all = harness.connect().kafka()
                    .consumeAll(ConnectHarness.TIMEOUT.toMillis(), dlq);
            for (ConsumerRecord<byte[], byte[]> record : all) {
                dead.put(header(record, "__connect.errors.offset"), record);
            }
            assertThat(dead).containsOnlyKeys("1", "3");
            for (ConsumerRecord<byte[], byte[]> record : dead.values()) {
                // The context headers name the record that was read, and the reason carries no email.
                assertThat(header(record, "__connect.errors.topic")).isEqualTo(topic);
                assertThat(header(record, "__connect.errors.partition")).isEqualTo("0");
                assertThat(header(record, "__connect.errors.exception.message"))
                        .contains("Iterable reported the email of this member as invalid")
                        .doesNotContain("@");
            }
            JsonNode joinerKey = JSON.readTree(dead.get("1").key());
            assertThat(joinerKey.get("cohort_id").asText()).isEqualTo("301");
            assertThat(joinerKey.get("distinct_id").asText()).isEqualTo("joiner");
            JsonNode joiner = JSON.readTree(dead.get("1").value());
            assertThat(joiner.get("action").asText()).isEqualTo("add");
            assertThat(joiner.get("cohort_name").asText()).isEqualTo(MembershipRecord.cohortName("301"));
            assertThat(joiner.get("email").asText()).isEqualTo("joiner@example.com");
            assertThat(joiner.get("first_name").asText()).isEqualTo(MembershipRecord.firstName("joiner"));
            assertThat(joiner.hasNonNull("timestamp")).isTrue();
            JsonNode leaver = JSON.readTree(dead.get("3").value());
            assertThat(leaver.get("action").asText()).isEqualTo("remove");
            assertThat(leaver.get("distinct_id").asText()).isEqualTo("leaver");
            assertThat(leaver.get("email").asText()).isEqualTo("leaver@example.com");

            // Fix the cause, then replay the DLQ records into the source topic byte for byte.
            iterable.acceptAll();
            for (ConsumerRecord<byte[], byte[]> record : dead.values()) {
                harness.connect().kafka().produce(topic, null, text(record.key()), text(record.value()));
            }
            harness.awaitCommittedToEnd(connector, topic);
            assertThat(iterable.membership()).isEqualTo(Map.of(list,
                    Set.of("email:stays@example.com", "email:joiner@example.com")));
            assertThat(iterable.violations()).isEmpty();
            harness.assertAllRunning(connector);
        } finally {
            harness.deleteConnectorQuietly(connector);
        }
    }

    private static String text(byte[] bytes) {
        return bytes == null ? null : new String(bytes, StandardCharsets.UTF_8);
    }

    private static String header(ConsumerRecord<byte[], byte[]> record, String name) {
        Header header = record.headers().lastHeader(name);
        return header == null ? null : new String(header.value(), StandardCharsets.UTF_8);
    }
}

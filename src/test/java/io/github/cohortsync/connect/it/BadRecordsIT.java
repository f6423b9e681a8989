package io.github.cohortsync.connect.it;

import static io.github.cohortsync.connect.it.MembershipRecord.add;
import static io.github.cohortsync.connect.it.MembershipRecord.raw;
import static io.github.cohortsync.connect.it.MembershipRecord.remove;
import static org.assertj.core.api.Assertions.assertThat;

import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;

import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.ConsumerRecords;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.header.Header;
import org.junit.jupiter.api.Test;

import io.github.cohortsync.connect.record.RecordParser;
import io.github.cohortsync.connect.it.standin.WebhookReceiver;

/**
 * Bad records are never dropped silently: with {@code errors.tolerance=all} they go to the dead letter queue with
 * an error naming the field while the good ones are delivered; without it the task fails naming topic, partition,
 * offset and field.
 */
@ConnectCluster(name = "bad-records-it")
class BadRecordsIT {
    private static ConnectHarness harness;

    @PerTest
    private WebhookReceiver receiver;
    @ConnectorName
    private String connector;

    @Test
    void badRecordsGoToTheDeadLetterQueueAndGoodOnesAreDelivered() throws Exception {
        String topic = harness.createTopic("mixed", 1);
        String dlq = ConnectHarness.uniqueName("dlq");
        // Offset -> the field the error must name (the topic is new: offsets start at 0).
        Map<Long, String> badFields = new LinkedHashMap<>();
        List<MembershipRecord> records = new ArrayList<>();
        records.add(add("101", "good-0"));
        records.add(add("101", "good-1"));
        badFields.put((long) records.size(), "'value'");
        records.add(raw("{\"cohort_id\":\"101\",\"distinct_id\":\"bad-0\"}", "\"hello\""));
        records.add(add("101", "good-2"));
        badFields.put((long) records.size(), "'value'");
        records.add(raw("{\"cohort_id\":\"101\",\"distinct_id\":\"bad-1\"}", "[1,2]"));
        badFields.put((long) records.size(), "'cohort_id'");
        records.add(add("101", "bad-2").without("cohort_id"));
        records.add(add("202", "good-3"));
        badFields.put((long) records.size(), "'action'");
        records.add(add("101", "bad-3").with("action", "maybe"));
        badFields.put((long) records.size(), "'cohort_id'");
        records.add(raw("{\"distinct_id\":\"bad-4\"}", null)); // a tombstone whose key lacks the cohort
        records.add(remove("101", "good-1"));
        badFields.put((long) records.size(), "'cohort_name'");
        records.add(add("202", "bad-5").with("cohort_name", "n".repeat(RecordParser.MAX_TEXT_LENGTH + 1)));
        badFields.put((long) records.size(), "'key.distinct_id'");
        records.add(raw("{\"cohort_id\":\"202\",\"distinct_id\":\"someone-else\"}",
                add("202", "bad-6").valueJson()));
        // Not JSON: the worker's JsonConverter refuses it before the connector sees it; the DLQ takes it too.
        long notJson = records.size();
        records.add(raw("{\"cohort_id\":\"202\",\"distinct_id\":\"bad-7\"}", "{\"cohort_id\": 202, "));
        records.add(add("202", "good-4"));
        harness.produce(topic, records);

        Map<String, String> config = ConnectorConfig.webhook(topic, receiver.url()).deadLetterQueue(dlq).build();
        harness.startConnector(connector, config, 1);

        harness.awaitCommittedToEnd(connector, topic);
        assertThat(receiver.membership()).isEqualTo(Map.of(
                "101", Set.of("good-0", "good-2"),
                "202", Set.of("good-3", "good-4")));
        assertThat(receiver.deliveries().stream().flatMap(d -> d.distinctIds().stream()))
                .noneMatch(id -> id.startsWith("bad-"));

        ConsumerRecords<byte[], byte[]> dead = harness.connect().kafka()
                .consume(badFields.size() + 1, ConnectHarness.TIMEOUT.toMillis(), dlq);
        assertThat(dead.count()).isEqualTo(badFields.size() + 1);
        Map<Long, String> messages = new HashMap<>();
        Map<Long, String> stages = new HashMap<>();
        for (ConsumerRecord<byte[], byte[]> record : dead) {
            assertThat(header(record, "__connect.errors.topic")).isEqualTo(topic);
            assertThat(header(record, "__connect.errors.partition")).isEqualTo("0");
            long offset = Long.parseLong(header(record, "__connect.errors.offset"));
            messages.put(offset, header(record, "__connect.errors.exception.message"));
            stages.put(offset, header(record, "__connect.errors.stage"));
        }
        assertThat(stages.remove(notJson)).as("stage of the record that is not JSON").isEqualTo("VALUE_CONVERTER");
        messages.remove(notJson);
        assertThat(messages).containsOnlyKeys(badFields.keySet());
        assertThat(stages.values()).containsOnly("TASK_PUT");
        badFields.forEach((offset, field) -> assertThat(messages.get(offset)).as("DLQ message of offset %d", offset)
                .contains("field " + field, "topic " + topic, "offset " + offset));
        harness.assertAllRunning(connector);
        assertThat(receiver.violations()).isEmpty();
    }

    @Test
    void badRecordFailsTheTaskByDefaultNamingWhereAndWhat() throws Exception {
        String topic = harness.createTopic("strict", 1);
        harness.startConnector(connector, ConnectorConfig.webhook(topic, receiver.url()).build(), 1);
        List<MembershipRecord> good = List.of(add("101", "good-0"), add("101", "good-1"), add("101", "good-2"));
        harness.produce(topic, good);
        harness.awaitCommittedToEnd(connector, topic);

        harness.produce(topic, add("101", "bad").with("action", "maybe"), add("101", "after-bad"));

        String trace = harness.awaitTaskFailed(connector);
        assertThat(trace).contains("topic " + topic, "partition 0", "offset 3", "field 'action'", "maybe");
        assertThat(harness.committedOffsets(connector, topic))
                .isEqualTo(Map.of(new TopicPartition(topic, 0), 3L));
        assertThat(receiver.membership()).isEqualTo(ExpectedMembership.of(good).asMap());
    }

    private static String header(ConsumerRecord<byte[], byte[]> record, String name) {
        Header header = record.headers().lastHeader(name);
        return header == null ? null : new String(header.value(), StandardCharsets.UTF_8);
    }
}

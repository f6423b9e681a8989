package io.github.cohortsync.connect.record;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.Future;

import org.apache.kafka.connect.data.Schema;
import org.apache.kafka.connect.data.SchemaAndValue;
import org.apache.kafka.connect.errors.DataException;
import org.apache.kafka.connect.json.JsonConverter;
import org.apache.kafka.connect.sink.ErrantRecordReporter;
import org.apache.kafka.connect.sink.SinkRecord;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.ObjectMapper;

class DeadLetterRecordTest {
    private static final String TOPIC = "cohort-membership";
    private final RecordParser parser = new RecordParser();

    private static MembershipChange change(String cohortId, String name, Action action) {
        Map<String, Object> properties = new LinkedHashMap<>();
        properties.put("$iterable_user_id", "it-1");
        properties.put("visits", 12L);
        properties.put("address", Map.of("country", "GB"));
        return new MembershipChange(new CohortRef(cohortId, name, "Bought twice", "7"), "user-1", action,
                "ada@example.com", "Ada", "Lovelace", "+15550100", properties, 1_714_564_800_123L, TOPIC, 2, 99);
    }

    @Test
    void anAddIsTheFullChangeKeyedByCohortAndUserAtTheOriginalCoordinates() {
        SinkRecord record = DeadLetterRecord.of(change("1201", "Power users", Action.ADD));

        assertThat(record.topic()).isEqualTo(TOPIC);
        assertThat(record.kafkaPartition()).isEqualTo(2);
        assertThat(record.kafkaOffset()).isEqualTo(99);
        assertThat(record.timestamp()).isEqualTo(1_714_564_800_123L);
        assertThat(record.keySchema()).isNull();
        assertThat(record.valueSchema()).isNull();
        assertThat(record.key()).isEqualTo(Map.of("cohort_id", 1201L, "distinct_id", "user-1"));
        assertThat(asMap(record.value())).containsExactly(
                Map.entry("cohort_id", 1201L),
                Map.entry("cohort_name", "Power users"),
                Map.entry("cohort_description", "Bought twice"),
                Map.entry("project_id", 7L),
                Map.entry("action", "add"),
                Map.entry("distinct_id", "user-1"),
                Map.entry("email", "ada@example.com"),
                Map.entry("first_name", "Ada"),
                Map.entry("last_name", "Lovelace"),
                Map.entry("phone_number", "+15550100"),
                Map.entry("properties", change("1201", "x", Action.ADD).properties()),
                Map.entry("timestamp", "2024-05-01T12:00:00.123Z"));
    }

    @ParameterizedTest
    @ValueSource(strings = {"add", "remove"})
    void parsesBackAsTheSameChange(String action) {
        MembershipChange change = change("1201", "Power users", Action.valueOf(action.toUpperCase()));

        assertThat(parser.parse(DeadLetterRecord.of(change))).isEqualTo(change);
    }

    @ParameterizedTest
    @ValueSource(booleans = {false, true})
    void parsesBackAsTheSameChangeThroughTheJsonConverter(boolean schemasEnabled) {
        MembershipChange change = change("1201", "Power users", Action.REMOVE);
        SinkRecord reported = DeadLetterRecord.of(change);
        JsonConverter keys = converter(true, schemasEnabled);
        JsonConverter values = converter(false, schemasEnabled);

        // What the worker writes to the dead letter queue, produced again into the source topic and read back.
        SchemaAndValue key = keys.toConnectData(TOPIC, keys.fromConnectData(TOPIC, null, reported.key()));
        SchemaAndValue value = values.toConnectData(TOPIC, values.fromConnectData(TOPIC, null, reported.value()));
        SinkRecord replayed = new SinkRecord(TOPIC, 2, key.schema(), key.value(), value.schema(), value.value(), 99,
                reported.timestamp(), reported.timestampType());

        assertThat(parser.parse(replayed)).isEqualTo(change);
    }

    @Test
    void aRemovalOfACohortWithoutAKnownNameIsATombstoneThatReplaysAsARemoval() {
        MembershipChange change = new MembershipChange(new CohortRef("1201", null, null, null), "user-1",
                Action.REMOVE, null, null, null, null, Map.of(), 1_714_564_800_123L, TOPIC, 0, 5);

        SinkRecord record = DeadLetterRecord.of(change);

        assertThat(record.value()).isNull();
        assertThat(record.key()).isEqualTo(Map.of("cohort_id", 1201L, "distinct_id", "user-1"));
        MembershipChange replayed = parser.parse(record);
        assertThat(replayed.action()).isEqualTo(Action.REMOVE);
        assertThat(replayed.cohort().id()).isEqualTo("1201");
        assertThat(replayed.distinctId()).isEqualTo("user-1");
        assertThat(replayed.timestampMillis()).isEqualTo(1_714_564_800_123L);
    }

    @ParameterizedTest
    @ValueSource(strings = {"c-7", "007", "12345678901234567890", " 1"})
    void idsThatAreNoCanonicalLongStayText(String id) {
        SinkRecord record = DeadLetterRecord.of(change(id, "Name", Action.ADD));

        assertThat(((Map<?, ?>) record.key()).get("cohort_id")).isEqualTo(id);
        assertThat(((Map<?, ?>) record.value()).get("cohort_id")).isEqualTo(id);
    }

    @Test
    void optionalFieldsThatAreUnsetAreLeftOut() {
        MembershipChange change = new MembershipChange(new CohortRef("5", "Five", null, null), "u", Action.ADD,
                null, null, null, null, Map.of(), 0L, TOPIC, 0, 0);

        assertThat(asMap(DeadLetterRecord.of(change).value())).containsOnlyKeys("cohort_id", "cohort_name",
                "action", "distinct_id", "timestamp");
        assertThat(parser.parse(DeadLetterRecord.of(change))).isEqualTo(change);
    }

    @Test
    void reportsTheSchemalessRecordWhenTheConvertersWriteIt() {
        FakeReporter reporter = new FakeReporter(false);
        MembershipChange change = change("1201", "Power users", Action.ADD);
        RuntimeException error = new RuntimeException("rejected");

        DeadLetterRecord.report(reporter, change, error);

        assertThat(reporter.attempts).singleElement().satisfies(r -> {
            assertThat(r.valueSchema()).isNull();
            assertThat(parser.parse(r)).isEqualTo(change);
        });
        assertThat(reporter.errors).containsExactly(error);
    }

    @Test
    void fallsBackToJsonTextWhenTheConvertersCannotWriteASchemalessMap() throws Exception {
        FakeReporter reporter = new FakeReporter(true);
        MembershipChange change = change("1201", "Power users", Action.REMOVE);

        DeadLetterRecord.report(reporter, change, new RuntimeException("rejected"));

        assertThat(reporter.attempts).hasSize(2);
        SinkRecord text = reporter.attempts.get(1);
        assertThat(text.keySchema()).isEqualTo(Schema.OPTIONAL_STRING_SCHEMA);
        assertThat(text.valueSchema()).isEqualTo(Schema.OPTIONAL_STRING_SCHEMA);
        assertThat(text.kafkaPartition()).isEqualTo(2);
        assertThat(text.kafkaOffset()).isEqualTo(99);
        ObjectMapper json = new ObjectMapper().enable(DeserializationFeature.USE_LONG_FOR_INTS);
        SinkRecord asObjects = new SinkRecord(TOPIC, 2, null, json.readValue((String) text.key(), Map.class), null,
                json.readValue((String) text.value(), Map.class), 99, text.timestamp(), text.timestampType());
        assertThat(parser.parse(asObjects)).isEqualTo(change);
    }

    @Test
    void aTombstoneFallsBackToATextKeyAndANullValue() {
        FakeReporter reporter = new FakeReporter(true);
        MembershipChange change = new MembershipChange(new CohortRef("c-9", null, null, null), "u", Action.REMOVE,
                null, null, null, null, Map.of(), 10L, TOPIC, 1, 3);

        DeadLetterRecord.report(reporter, change, new RuntimeException("rejected"));

        SinkRecord text = reporter.attempts.get(1);
        assertThat(text.key()).isEqualTo("{\"cohort_id\":\"c-9\",\"distinct_id\":\"u\"}");
        assertThat(text.value()).isNull();
        // The parser reads a JSON-text key of a tombstone.
        assertThat(parser.parse(text).action()).isEqualTo(Action.REMOVE);
    }

    @Test
    void aConverterThatCannotWriteTextEitherIsTheCallersToHandle() {
        ErrantRecordReporter refusesAll = (record, error) -> {
            throw new DataException("no converter for this");
        };

        assertThatThrownBy(() -> DeadLetterRecord.report(refusesAll, change("1", "One", Action.ADD),
                new RuntimeException("rejected"))).isInstanceOf(DataException.class);
    }

    @SuppressWarnings("unchecked")
    private static Map<String, Object> asMap(Object value) {
        return (Map<String, Object>) value;
    }

    private static JsonConverter converter(boolean isKey, boolean schemasEnabled) {
        JsonConverter converter = new JsonConverter();
        converter.configure(Map.of("schemas.enable", Boolean.toString(schemasEnabled)), isKey);
        return converter;
    }

    /** A reporter whose converters, like Avro's, refuse values without a schema when {@code refuseSchemaless}. */
    private static final class FakeReporter implements ErrantRecordReporter {
        private final boolean refuseSchemaless;
        final List<SinkRecord> attempts = new ArrayList<>();
        final List<Throwable> errors = new ArrayList<>();

        FakeReporter(boolean refuseSchemaless) {
            this.refuseSchemaless = refuseSchemaless;
        }

        @Override
        public Future<Void> report(SinkRecord record, Throwable error) {
            attempts.add(record);
            if (refuseSchemaless && record.keySchema() == null) {
                throw new DataException("schemaless values are not supported");
            }
            errors.add(error);
            return CompletableFuture.completedFuture(null);
        }
    }
}

package io.github.cohortsync.connect.record;

import static io.github.cohortsync.connect.Records.change;
import static io.github.cohortsync.connect.Records.tombstone;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.math.BigInteger;
import java.util.Date;
import java.util.List;
import java.util.Map;

import org.apache.kafka.connect.data.Schema;
import org.apache.kafka.connect.data.SchemaBuilder;
import org.apache.kafka.connect.data.Struct;
import org.apache.kafka.connect.data.Timestamp;
import org.apache.kafka.connect.sink.SinkRecord;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

import io.github.cohortsync.connect.Records;

class RecordParserTest {
    private final RecordParser parser = new RecordParser();

    @Test
    void readsEveryFieldOfASchemalessRecord() {
        SinkRecord record = change(42, "user-1")
                .with("cohort_description", "Bought twice")
                .with("project_id", 7)
                .with("email", "ada@example.com")
                .with("first_name", "Ada")
                .with("last_name", "Lovelace")
                .with("phone_number", "+15550100")
                .with("properties", Map.of("$braze_external_id", "b-1", "plan", "pro"))
                .with("timestamp", "2024-05-01T12:00:00Z")
                .at(2, 99).build();

        MembershipChange change = parser.parse(record);

        assertThat(change.cohort()).isEqualTo(new CohortRef("42", "Cohort 42", "Bought twice", "7"));
        assertThat(change.distinctId()).isEqualTo("user-1");
        assertThat(change.action()).isEqualTo(Action.ADD);
        assertThat(change.email()).isEqualTo("ada@example.com");
        assertThat(change.firstName()).isEqualTo("Ada");
        assertThat(change.lastName()).isEqualTo("Lovelace");
        assertThat(change.phoneNumber()).isEqualTo("+15550100");
        assertThat(change.properties()).containsEntry("plan", "pro");
        assertThat(change.timestampMillis()).isEqualTo(1_714_564_800_000L);
        assertThat(change.topic()).isEqualTo(Records.TOPIC);
        assertThat(change.partition()).isEqualTo(2);
        assertThat(change.offset()).isEqualTo(99);
    }

    @Test
    void defaultsActionToAddAndTimestampToTheRecords() {
        MembershipChange change = parser.parse(change("c1", "u").without("action").build());

        assertThat(change.action()).isEqualTo(Action.ADD);
        assertThat(change.timestampMillis()).isEqualTo(1_700_000_000_000L);
        assertThat(change.cohort().projectId()).as("config defaults are applied when the sync is built").isNull();
    }

    @Test
    void readsRemoveCaseInsensitively() {
        assertThat(parser.parse(change("c1", "u").with("action", "REMOVE").build()).action())
                .isEqualTo(Action.REMOVE);
    }

    @Test
    void readsEpochMillisAndZonelessTimestamps() {
        assertThat(parser.parse(change("c", "u").with("timestamp", 1_000L).build()).timestampMillis())
                .isEqualTo(1_000L);
        assertThat(parser.parse(change("c", "u").with("timestamp", "1970-01-01T00:00:02").build())
                .timestampMillis()).isEqualTo(2_000L);
        assertThat(parser.parse(change("c", "u").with("timestamp", "1970-01-01T01:00:03+01:00").build())
                .timestampMillis()).isEqualTo(3_000L);
    }

    @Test
    void acceptsLargeIntegerIdsExactly() {
        BigInteger big = new BigInteger("123456789012345678901234567890");
        assertThat(parser.parse(change(big, "u").build()).cohort().id()).isEqualTo(big.toString());
    }

    @Test
    void readsAStructValue() {
        Schema properties = SchemaBuilder.map(Schema.STRING_SCHEMA, Schema.STRING_SCHEMA).optional().build();
        Schema schema = SchemaBuilder.struct().name("Membership")
                .field("cohort_id", Schema.INT64_SCHEMA)
                .field("cohort_name", Schema.STRING_SCHEMA)
                .field("distinct_id", Schema.STRING_SCHEMA)
                .field("action", Schema.OPTIONAL_STRING_SCHEMA)
                .field("email", Schema.OPTIONAL_STRING_SCHEMA)
                .field("properties", properties)
                .field("timestamp", Timestamp.builder().optional().build())
                .build();
        Struct value = new Struct(schema)
                .put("cohort_id", 5L)
                .put("cohort_name", "Power users")
                .put("distinct_id", "u-9")
                .put("action", "remove")
                .put("email", "x@example.com")
                .put("properties", Map.of("plan", "free"))
                .put("timestamp", new Date(5_000L));
        SinkRecord record = new SinkRecord("t", 0, null, null, schema, value, 3);

        MembershipChange change = parser.parse(record);

        assertThat(change.cohort().id()).isEqualTo("5");
        assertThat(change.cohort().name()).isEqualTo("Power users");
        assertThat(change.action()).isEqualTo(Action.REMOVE);
        assertThat(change.email()).isEqualTo("x@example.com");
        assertThat(change.properties()).containsEntry("plan", "free");
        assertThat(change.timestampMillis()).isEqualTo(5_000L);
    }

    @Test
    void turnsStructsInsidePropertiesIntoMaps() {
        Schema address = SchemaBuilder.struct().field("city", Schema.STRING_SCHEMA).build();
        Schema properties = SchemaBuilder.struct().field("plan", Schema.STRING_SCHEMA)
                .field("addresses", SchemaBuilder.array(address).build()).build();
        Schema schema = SchemaBuilder.struct()
                .field("cohort_id", Schema.STRING_SCHEMA)
                .field("cohort_name", Schema.STRING_SCHEMA)
                .field("distinct_id", Schema.STRING_SCHEMA)
                .field("properties", properties)
                .build();
        Struct value = new Struct(schema).put("cohort_id", "c").put("cohort_name", "C").put("distinct_id", "u")
                .put("properties", new Struct(properties).put("plan", "pro")
                        .put("addresses", List.of(new Struct(address).put("city", "Oslo"))));

        MembershipChange change = parser.parse(new SinkRecord("t", 0, null, null, schema, value, 1));

        assertThat(change.properties()).isEqualTo(Map.of("plan", "pro", "addresses", List.of(Map.of("city", "Oslo"))));
    }

    @Test
    void readsATombstoneAsARemove() {
        MembershipChange change = parser.parse(tombstone(8, "gone").at(1, 12).build());

        assertThat(change.action()).isEqualTo(Action.REMOVE);
        assertThat(change.cohort().id()).isEqualTo("8");
        assertThat(change.cohort().name()).isNull();
        assertThat(change.distinctId()).isEqualTo("gone");
        assertThat(change.offset()).isEqualTo(12);
    }

    @Test
    void readsATombstoneWithAStructOrJsonStringKey() {
        Schema keySchema = SchemaBuilder.struct().field("cohort_id", Schema.STRING_SCHEMA)
                .field("distinct_id", Schema.STRING_SCHEMA).build();
        Struct key = new Struct(keySchema).put("cohort_id", "c9").put("distinct_id", "u9");
        assertThat(parser.parse(new SinkRecord("t", 0, keySchema, key, null, null, 1)).distinctId())
                .isEqualTo("u9");

        SinkRecord stringKey = new SinkRecord("t", 0, null, "{\"cohort_id\": 3, \"distinct_id\": \"u3\"}",
                null, null, 2);
        assertThat(parser.parse(stringKey).cohort().id()).isEqualTo("3");
    }

    @Test
    void namesTopicPartitionOffsetAndFieldOfAMissingRequiredField() {
        for (String field : List.of("cohort_id", "cohort_name", "distinct_id")) {
            SinkRecord record = change("c", "u").without(field).at(4, 1234).build();
            assertThatThrownBy(() -> parser.parse(record))
                    .isInstanceOf(BadRecordException.class)
                    .hasMessageContaining("topic cohort-membership, partition 4, offset 1234")
                    .hasMessageContaining("field '" + field + "'")
                    .hasMessageContaining("required")
                    .satisfies(e -> assertThat(((BadRecordException) e).field()).isEqualTo(field));
        }
    }

    @Test
    void rejectsEmptyRequiredFields() {
        assertThatThrownBy(() -> parser.parse(change("c", " ").build()))
                .hasMessageContaining("field 'distinct_id' is required but empty");
        assertThatThrownBy(() -> parser.parse(change("", "u").build()))
                .hasMessageContaining("field 'cohort_id' must not be empty");
    }

    @Test
    void rejectsMistypedFields() {
        assertThatThrownBy(() -> parser.parse(change(1.5, "u").build()))
                .hasMessageContaining("field 'cohort_id' must be a string or an integer, but is a number");
        assertThatThrownBy(() -> parser.parse(change("c", "u").with("email", 5L).build()))
                .hasMessageContaining("field 'email' must be a string");
        assertThatThrownBy(() -> parser.parse(change("c", "u").with("properties", List.of(1)).build()))
                .hasMessageContaining("field 'properties' must be an object");
        assertThatThrownBy(() -> parser.parse(change("c", "u").with("action", true).build()))
                .hasMessageContaining("field 'action' must be \"add\" or \"remove\", but is a boolean");
    }

    @Test
    void rejectsAnUnknownAction() {
        assertThatThrownBy(() -> parser.parse(change("c", "u").with("action", "maybe").build()))
                .isInstanceOf(BadRecordException.class)
                .hasMessageContaining("field 'action' must be \"add\" or \"remove\", but is \"maybe\"");
    }

    @ParameterizedTest
    @ValueSource(strings = {"yesterday", "2024-13-01T00:00:00Z", ""})
    void rejectsUnparsableTimestamps(String timestamp) {
        assertThatThrownBy(() -> parser.parse(change("c", "u").with("timestamp", timestamp).build()))
                .hasMessageContaining("field 'timestamp' is not an ISO-8601 date-time");
    }

    @Test
    void rejectsOutOfRangeTimestamps() {
        assertThatThrownBy(() -> parser.parse(change("c", "u").with("timestamp", -5L).build()))
                .hasMessageContaining("field 'timestamp' is out of range");
        assertThatThrownBy(() -> parser.parse(change("c", "u").with("timestamp", Long.MAX_VALUE).build()))
                .hasMessageContaining("field 'timestamp' is out of range");
    }

    @Test
    void rejectsValuesThatAreNotObjects() {
        assertThatThrownBy(() -> parser.parse(new SinkRecord("t", 3, null, null, null, "hello", 77)))
                .hasMessageContaining("topic t, partition 3, offset 77")
                .hasMessageContaining("field 'value' must be a JSON object or a Struct, but is a string");
        assertThatThrownBy(() -> parser.parse(new SinkRecord("t", 3, null, null, null, List.of(1, 2), 78)))
                .hasMessageContaining("but is an array");
    }

    @Test
    void rejectsTombstonesWithoutIds() {
        assertThatThrownBy(() -> parser.parse(new SinkRecord("t", 0, null, null, null, null, 5)))
                .hasMessageContaining("field 'key' is missing");
        assertThatThrownBy(() -> parser.parse(new SinkRecord("t", 0, null, Map.of("cohort_id", "c"), null, null, 6)))
                .hasMessageContaining("field 'distinct_id' is required");
        assertThatThrownBy(() -> parser.parse(new SinkRecord("t", 0, null, "not json", null, null, 7)))
                .hasMessageContaining("field 'key' is a string that is not a JSON object");
    }

    @Test
    void neverQuotesLongInputInErrors() {
        String longAction = "x".repeat(10_000);
        assertThatThrownBy(() -> parser.parse(change("c", "u").with("action", longAction).build()))
                .satisfies(e -> assertThat(e.getMessage()).hasSizeLessThan(300));
    }
}

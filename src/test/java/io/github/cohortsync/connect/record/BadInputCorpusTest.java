package io.github.cohortsync.connect.record;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.nio.charset.StandardCharsets;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.function.Consumer;
import java.util.stream.Stream;

import org.apache.kafka.connect.data.Schema;
import org.apache.kafka.connect.data.SchemaAndValue;
import org.apache.kafka.connect.data.SchemaBuilder;
import org.apache.kafka.connect.data.Struct;
import org.apache.kafka.connect.errors.DataException;
import org.apache.kafka.connect.json.JsonConverter;
import org.apache.kafka.connect.sink.SinkRecord;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.ObjectMapper;

/**
 * The bad- and odd-input corpus (docs/reliability.md): each case goes through the real schemaless JsonConverter
 * (or is a Struct, as a schema'd converter would hand it over) and then the parser, with its expected outcome:
 * the converter refuses it, the parser rejects it naming the field (and so topic, partition and offset), or it is
 * accepted as shown. Rejected records go to the DLQ under errors.tolerance=all and fail the task otherwise
 * (BadRecordsIT shows both through a worker).
 */
class BadInputCorpusTest {
    private static final ObjectMapper JSON = new ObjectMapper();
    private static final JsonConverter KEYS = converter(true);
    private static final JsonConverter VALUES = converter(false);
    private static final String TOPIC = "memberships";

    private final RecordParser parser = new RecordParser();

    static Stream<Arguments> corpus() {
        String everyPlane = "A\u00e9\u4e2d" + new String(Character.toChars(0x1F600)) // BMP, SMP
                + new String(Character.toChars(0x20000)) + new String(Character.toChars(0x30000)) // SIP, TIP
                + new String(Character.toChars(0xE0041)) + new String(Character.toChars(0xF0000)) // SSP, PUA-A
                + new String(Character.toChars(0x100000)); // PUA-B
        String controls = "a\u0000b\u0007c\nd\u001Fe\u007Ff";
        Map<String, Object> tenThousand = new LinkedHashMap<>();
        for (int i = 0; i < 10_000; i++) {
            tenThousand.put("p" + i, i);
        }
        return Stream.of(
                converterRefuses("not JSON", "{\"cohort_id\": 1, "),
                converterRefuses("bytes that are not JSON text", "\u00ff\u00fe{"),
                rejected("value is a JSON string", raw("\"hello\""), "value"),
                rejected("value is a JSON array", raw("[1, 2]"), "value"),
                rejected("value is a JSON number", raw("42"), "value"),
                rejected("value is JSON true", raw("true"), "value"),
                rejected("cohort_id missing", valid().without("cohort_id"), "cohort_id"),
                rejected("cohort_name missing", valid().without("cohort_name"), "cohort_name"),
                rejected("distinct_id missing", valid().without("distinct_id"), "distinct_id"),
                rejected("cohort_id null", valid().with("cohort_id", null), "cohort_id"),
                rejected("cohort_name null", valid().with("cohort_name", null), "cohort_name"),
                rejected("distinct_id null", valid().with("distinct_id", null), "distinct_id"),
                rejected("cohort_id empty", valid().with("cohort_id", ""), "cohort_id"),
                rejected("cohort_name empty", valid().with("cohort_name", ""), "cohort_name"),
                rejected("distinct_id blank", valid().with("distinct_id", "  "), "distinct_id"),
                rejected("cohort_id a boolean", valid().with("cohort_id", true), "cohort_id"),
                rejected("cohort_id a fraction", valid().with("cohort_id", 1.5), "cohort_id"),
                rejected("cohort_id an object", valid().with("cohort_id", Map.of("id", 1)), "cohort_id"),
                rejected("cohort_name a number", valid().with("cohort_name", 7), "cohort_name"),
                rejected("distinct_id a number", valid().with("distinct_id", 12345), "distinct_id"),
                rejected("email an array", valid().with("email", List.of("a@example.com")), "email"),
                rejected("phone_number a number", valid().with("phone_number", 5550100), "phone_number"),
                rejected("properties an array", valid().with("properties", List.of(1)), "properties"),
                rejected("properties a string", valid().with("properties", "plan=pro"), "properties"),
                rejected("unknown action", valid().with("action", "maybe"), "action"),
                rejected("action a number", valid().with("action", 1), "action"),
                rejected("timestamp unparsable", valid().with("timestamp", "yesterday"), "timestamp"),
                rejected("timestamp month 13", valid().with("timestamp", "2024-13-01T00:00:00Z"), "timestamp"),
                rejected("timestamp before 1970", valid().with("timestamp", -1), "timestamp"),
                rejected("timestamp after year 9999", valid().with("timestamp", 253_402_300_800_000L), "timestamp"),
                rejected("timestamp a boolean", valid().with("timestamp", false), "timestamp"),
                rejected("tombstone without a key", tombstone(null), "key"),
                rejected("tombstone key without distinct_id", tombstone("{\"cohort_id\": 7}"), "distinct_id"),
                rejected("tombstone key without cohort_id", tombstone("{\"distinct_id\": \"u\"}"), "cohort_id"),
                rejected("tombstone key a JSON number", tombstone("17"), "key"),
                rejected("key names another cohort", valid().key("{\"cohort_id\": 8, \"distinct_id\": \"u-1\"}"),
                        "key.cohort_id"),
                rejected("key names another user", valid().key("{\"cohort_id\": 7, \"distinct_id\": \"u-2\"}"),
                        "key.distinct_id"),
                rejected("key with a boolean cohort_id", valid().key("{\"cohort_id\": true, \"distinct_id\": \"u-1\"}"),
                        "key.cohort_id"),
                rejected("1 MB cohort_name", valid().with("cohort_name", "n".repeat(1 << 20)), "cohort_name"),
                rejected("cohort_name one over the limit",
                        valid().with("cohort_name", "n".repeat(RecordParser.MAX_TEXT_LENGTH + 1)), "cohort_name"),
                rejected("cohort_id 2^63 (wrapped to -2^63 by JsonConverter)",
                        raw("{\"cohort_id\": 9223372036854775808, \"cohort_name\": \"n\", \"distinct_id\": \"u\"}"),
                        "cohort_id"),
                rejected("negative cohort_id", valid().with("cohort_id", -7), "cohort_id"),
                rejected("Struct with cohort_id of type boolean", struct(SchemaBuilder.bool(), true), "cohort_id"),
                rejected("Struct without distinct_id", structWithout("distinct_id"), "distinct_id"),
                accepted("cohort_name at the limit",
                        valid().with("cohort_name", "n".repeat(RecordParser.MAX_TEXT_LENGTH)),
                        c -> assertThat(c.cohort().name()).hasSize(RecordParser.MAX_TEXT_LENGTH)),
                accepted("control characters in names and email",
                        valid().with("cohort_name", controls).with("first_name", controls)
                                .with("email", "x" + controls + "@example.com"),
                        c -> {
                            assertThat(c.cohort().name()).isEqualTo(controls);
                            assertThat(c.firstName()).isEqualTo(controls);
                            assertThat(c.email()).isEqualTo("x" + controls + "@example.com");
                        }),
                accepted("every Unicode plane in names, ids and email",
                        valid().with("cohort_name", everyPlane).with("last_name", everyPlane)
                                .with("distinct_id", everyPlane).with("email", everyPlane + "@example.com")
                                .key("{\"cohort_id\": 7}"),
                        c -> {
                            assertThat(c.cohort().name()).isEqualTo(everyPlane);
                            assertThat(c.lastName()).isEqualTo(everyPlane);
                            assertThat(c.distinctId()).isEqualTo(everyPlane);
                            assertThat(c.email()).isEqualTo(everyPlane + "@example.com");
                        }),
                accepted("10,000 properties", valid().with("properties", tenThousand),
                        c -> assertThat(c.properties()).hasSize(10_000).containsEntry("p9999", 9999L)),
                accepted("nested properties", valid().with("properties",
                                Map.of("plan", Map.of("tier", "pro", "seats", List.of(1, 2)), "tags", List.of("a"))),
                        c -> assertThat(c.properties()).containsEntry("plan", Map.of("tier", "pro", "seats",
                                List.of(1L, 2L))).containsEntry("tags", List.of("a"))),
                accepted("duplicate JSON keys: the converter keeps the last",
                        raw("{\"cohort_id\": 1, \"cohort_id\": 2, \"cohort_name\": \"n\", \"distinct_id\": \"u\"}"),
                        c -> assertThat(c.cohort().id()).isEqualTo("2")),
                accepted("cohort_id 2^53 + 1 stays exact", valid().with("cohort_id", 9_007_199_254_740_993L)
                                .key("{\"cohort_id\": 9007199254740993, \"distinct_id\": \"u-1\"}"),
                        c -> assertThat(c.cohort().id()).isEqualTo("9007199254740993")),
                accepted("cohort_id 2^63 - 1 stays exact", valid().with("cohort_id", Long.MAX_VALUE).key(null),
                        c -> assertThat(c.cohort().id()).isEqualTo(String.valueOf(Long.MAX_VALUE))),
                accepted("cohort_id beyond 2^64 as a string stays exact",
                        valid().with("cohort_id", "18446744073709551621").key(null),
                        c -> assertThat(c.cohort().id()).isEqualTo("18446744073709551621")),
                accepted("cohort_id 2^64 + 5 as a number: JsonConverter wraps it to 5, undetectably",
                        raw("{\"cohort_id\": 18446744073709551621, \"cohort_name\": \"n\", \"distinct_id\": \"u\"}"),
                        c -> assertThat(c.cohort().id()).isEqualTo("5")),
                accepted("key with the same ids as numbers and strings",
                        valid().key("{\"cohort_id\": \"7\", \"distinct_id\": \"u-1\"}"),
                        c -> assertThat(c.cohort().id()).isEqualTo("7")),
                accepted("tombstone with ids in the key is a remove", tombstone("{\"cohort_id\": 7, \"distinct_id\": "
                                + "\"u-1\"}"),
                        c -> assertThat(c.action()).isEqualTo(Action.REMOVE)),
                accepted("Struct with the expected schema", struct(SchemaBuilder.int64(), 7L),
                        c -> assertThat(c.cohort().id()).isEqualTo("7")));
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("corpus")
    void hasItsExpectedOutcome(String name, Input input, Outcome expected) {
        expected.check(parser, input);
    }

    /** What the worker would hand to the task, or the converter's refusal. */
    record Input(String keyJson, String valueJson, Struct struct) {
        SinkRecord toSinkRecord() {
            Object key = keyJson == null ? null : KEYS.toConnectData(TOPIC, bytes(keyJson)).value();
            Object value = struct;
            if (struct == null && valueJson != null) {
                SchemaAndValue converted = VALUES.toConnectData(TOPIC, bytes(valueJson));
                value = converted.value();
            }
            return new SinkRecord(TOPIC, 2, null, key, null, value, 99);
        }
    }

    /** The expected outcome of one case. */
    interface Outcome {
        void check(RecordParser parser, Input input);
    }

    private static Arguments converterRefuses(String name, String valueJson) {
        Outcome outcome = (parser, input) -> assertThatThrownBy(input::toSinkRecord)
                .isInstanceOf(DataException.class);
        return Arguments.of(name, new Input(null, valueJson, null), outcome);
    }

    private static Arguments rejected(String name, Value value, String field) {
        Outcome outcome = (parser, input) -> {
            SinkRecord record = input.toSinkRecord();
            assertThatThrownBy(() -> parser.parse(record))
                    .isInstanceOf(BadRecordException.class)
                    .hasMessageStartingWith("Bad cohort-membership record at topic " + TOPIC
                            + ", partition 2, offset 99: field '" + field + "' ")
                    .satisfies(e -> assertThat(e.getMessage()).as("error length").hasSizeLessThan(400));
        };
        return Arguments.of(name, value.input(), outcome);
    }

    private static Arguments accepted(String name, Value value, Consumer<MembershipChange> check) {
        Outcome outcome = (parser, input) -> check.accept(parser.parse(input.toSinkRecord()));
        return Arguments.of(name, value.input(), outcome);
    }

    /** A valid value, changed field by field; its key carries the same ids unless replaced. */
    private static final class Value {
        private final Map<String, Object> fields = new LinkedHashMap<>();
        private String rawValue;
        private String keyJson = "{\"cohort_id\": 7, \"distinct_id\": \"u-1\"}";
        private boolean tombstone;
        private Struct struct;

        Value with(String field, Object value) {
            fields.put(field, value);
            return this;
        }

        Value without(String field) {
            fields.remove(field);
            return this;
        }

        Value key(String json) {
            keyJson = json;
            return this;
        }

        Input input() {
            if (tombstone) {
                return new Input(keyJson, null, null);
            }
            if (struct != null) {
                return new Input(null, null, struct);
            }
            try {
                return new Input(keyJson, rawValue != null ? rawValue : JSON.writeValueAsString(fields), null);
            } catch (JsonProcessingException e) {
                throw new IllegalStateException(e);
            }
        }
    }

    private static Value valid() {
        return new Value().with("cohort_id", 7).with("cohort_name", "Power users").with("distinct_id", "u-1")
                .with("action", "add").with("email", "u1@example.com");
    }

    private static Value raw(String json) {
        Value value = new Value().key(null);
        value.rawValue = json;
        return value;
    }

    private static Value tombstone(String keyJson) {
        Value value = new Value().key(keyJson);
        value.tombstone = true;
        return value;
    }

    private static Value struct(Schema cohortIdSchema, Object cohortId) {
        Schema schema = SchemaBuilder.struct().field("cohort_id", cohortIdSchema)
                .field("cohort_name", Schema.STRING_SCHEMA).field("distinct_id", Schema.STRING_SCHEMA).build();
        Value value = new Value();
        value.struct = new Struct(schema).put("cohort_id", cohortId).put("cohort_name", "n").put("distinct_id", "u");
        return value;
    }

    private static Value structWithout(String missing) {
        SchemaBuilder builder = SchemaBuilder.struct();
        for (String field : List.of("cohort_id", "cohort_name", "distinct_id")) {
            if (!field.equals(missing)) {
                builder.field(field, Schema.STRING_SCHEMA);
            }
        }
        Schema schema = builder.build();
        Struct struct = new Struct(schema);
        schema.fields().forEach(f -> struct.put(f, "x"));
        Value value = new Value();
        value.struct = struct;
        return value;
    }

    private static JsonConverter converter(boolean isKey) {
        JsonConverter converter = new JsonConverter();
        converter.configure(Map.of("schemas.enable", "false"), isKey);
        return converter;
    }

    private static byte[] bytes(String text) {
        return text.getBytes(StandardCharsets.UTF_8);
    }
}

package io.github.cohortsync.connect.record;

import java.math.BigDecimal;
import java.math.BigInteger;
import java.time.DateTimeException;
import java.util.Date;
import java.util.LinkedHashMap;
import java.util.Locale;
import java.util.Map;

import org.apache.kafka.connect.data.Field;
import org.apache.kafka.connect.data.Struct;
import org.apache.kafka.connect.sink.SinkRecord;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.core.type.TypeReference;
import com.fasterxml.jackson.databind.ObjectMapper;

/**
 * Turns a {@link SinkRecord} into a {@link MembershipChange}, or throws a {@link BadRecordException} that names the
 * record's topic, partition, offset and the field at fault. Reads schemaless maps and Connect structs alike.
 * Fields a record does not carry stay null; defaults such as {@code project.id} are applied when a sync is built.
 */
public final class RecordParser {

    public static final String COHORT_ID = "cohort_id";
    public static final String COHORT_NAME = "cohort_name";
    public static final String COHORT_DESCRIPTION = "cohort_description";
    public static final String PROJECT_ID = "project_id";
    public static final String ACTION = "action";
    public static final String DISTINCT_ID = "distinct_id";
    public static final String EMAIL = "email";
    public static final String FIRST_NAME = "first_name";
    public static final String LAST_NAME = "last_name";
    public static final String PHONE_NUMBER = "phone_number";
    public static final String PROPERTIES = "properties";
    public static final String TIMESTAMP = "timestamp";

    /** Year 9999, the end of what ISO-8601 timestamps in the wild express. */
    private static final long MAX_TIMESTAMP_MILLIS = 253_402_300_799_999L;
    /**
     * The longest text field accepted (64 Ki characters). Far above any real name, id or email; a longer value is a
     * producer bug that would otherwise be copied into every page of a sync. Shorter values that are still too
     * long for a destination are that destination's per-member rejections.
     */
    public static final int MAX_TEXT_LENGTH = 65_536;
    private static final ObjectMapper JSON = new ObjectMapper();

    public MembershipChange parse(SinkRecord record) {
        Source src = new Source(record);
        if (record.value() == null) {
            return parseTombstone(src, record.key());
        }
        Fields value = src.fields(record.value(), "value");
        String cohortId = src.requiredId(value, COHORT_ID);
        String cohortName = src.requiredString(value, COHORT_NAME);
        String description = src.optionalString(value, COHORT_DESCRIPTION);
        String projectId = src.optionalId(value, PROJECT_ID);
        String distinctId = src.requiredString(value, DISTINCT_ID);
        src.checkKeyAgrees(record.key(), cohortId, distinctId);
        return new MembershipChange(
                new CohortRef(cohortId, cohortName, description, projectId),
                distinctId,
                src.action(value),
                src.optionalString(value, EMAIL),
                src.optionalString(value, FIRST_NAME),
                src.optionalString(value, LAST_NAME),
                src.optionalString(value, PHONE_NUMBER),
                src.properties(value),
                src.timestamp(value),
                record.topic(), record.kafkaPartition(), record.kafkaOffset());
    }

    /** A null value keyed by {@code {cohort_id, distinct_id}}: the user left the cohort. */
    private MembershipChange parseTombstone(Source src, Object key) {
        if (key == null) {
            throw src.bad("key", "is missing: a tombstone (null value) needs a key with cohort_id and distinct_id");
        }
        Fields fields = src.fields(key instanceof String text ? src.json(text) : key, "key");
        String cohortId = src.requiredId(fields, COHORT_ID);
        String distinctId = src.requiredString(fields, DISTINCT_ID);
        String projectId = src.optionalId(fields, PROJECT_ID);
        CohortRef cohort = new CohortRef(cohortId, src.optionalString(fields, COHORT_NAME), null, projectId);
        return new MembershipChange(cohort, distinctId, Action.REMOVE, null, null, null, null, Map.of(),
                src.recordTimestamp(), src.record.topic(), src.record.kafkaPartition(), src.record.kafkaOffset());
    }

    /** Field access over a schemaless map or a struct. */
    private interface Fields {
        /** The field's value, or null when absent or null. */
        Object get(String name);
    }

    /** One record being parsed: knows how to name it in errors. */
    private static final class Source {
        private final SinkRecord record;

        Source(SinkRecord record) {
            this.record = record;
        }

        BadRecordException bad(String field, String problem) {
            return new BadRecordException(record.topic(), record.kafkaPartition(), record.kafkaOffset(), field,
                    problem);
        }

        Fields fields(Object object, String what) {
            if (object instanceof Map<?, ?> map) {
                return map::get;
            }
            if (object instanceof Struct struct) {
                return name -> {
                    Field field = struct.schema().field(name);
                    return field == null ? null : struct.get(field);
                };
            }
            throw bad(what, "must be a JSON object or a Struct, but is " + describeType(object)
                    + " (check the converter: schemaless JSON needs value.converter.schemas.enable=false)");
        }

        Map<String, Object> json(String text) {
            try {
                return JSON.readValue(text, new TypeReference<LinkedHashMap<String, Object>>() { });
            } catch (JsonProcessingException e) {
                throw bad("key", "is a string that is not a JSON object");
            }
        }

        String requiredString(Fields fields, String name) {
            String value = optionalString(fields, name);
            if (value == null) {
                throw bad(name, "is required but missing or null");
            }
            if (value.isBlank()) {
                throw bad(name, "is required but empty");
            }
            return value;
        }

        String optionalString(Fields fields, String name) {
            Object value = fields.get(name);
            if (value == null) {
                return null;
            }
            if (value instanceof String text) {
                return checkLength(name, text);
            }
            throw bad(name, "must be a string, but is " + describeType(value));
        }

        private String checkLength(String name, String text) {
            if (text.length() > MAX_TEXT_LENGTH) {
                throw bad(name, "is " + text.length() + " characters long, more than the " + MAX_TEXT_LENGTH
                        + " accepted");
            }
            return text;
        }

        /**
         * A key that carries the ids (a map or struct, as on the recommended compacted topic) must name the same
         * member as the value: compaction keeps the latest value per key, so a disagreeing key would make a later
         * record silently replace the wrong member's state.
         */
        void checkKeyAgrees(Object key, String cohortId, String distinctId) {
            if (!(key instanceof Map<?, ?>) && !(key instanceof Struct)) {
                return;
            }
            Fields fields = fields(key, "key");
            Object keyCohort = fields.get(COHORT_ID);
            if (keyCohort != null && !idText(keyCohort).equals(cohortId)) {
                throw bad("key." + COHORT_ID, "names cohort " + abbreviate(idText(keyCohort))
                        + " but the value names cohort " + abbreviate(cohortId));
            }
            Object keyUser = fields.get(DISTINCT_ID);
            if (keyUser != null && !String.valueOf(keyUser).equals(distinctId)) {
                // Distinct ids may be emails: not quoted.
                throw bad("key." + DISTINCT_ID, "differs from the value's distinct_id");
            }
        }

        /** An id of the key as text, compared with the value's: {@code 7} and {@code "7"} are the same id. */
        private static String idText(Object id) {
            return id instanceof String text ? text.trim() : String.valueOf(id);
        }

        String requiredId(Fields fields, String name) {
            String id = optionalId(fields, name);
            if (id == null) {
                throw bad(name, "is required but missing or null");
            }
            return id;
        }

        /** Ids may be strings or integers; both become the same string. */
        String optionalId(Fields fields, String name) {
            Object value = fields.get(name);
            if (value == null) {
                return null;
            }
            if (value instanceof String text) {
                if (text.isBlank()) {
                    throw bad(name, "must not be empty");
                }
                return checkLength(name, text).trim();
            }
            if (value instanceof Long || value instanceof Integer || value instanceof Short || value instanceof Byte
                    || value instanceof BigInteger) {
                long sign = value instanceof BigInteger big ? big.signum() : Long.signum(((Number) value).longValue());
                if (sign < 0) {
                    // Also what schemaless JsonConverter makes of integers beyond 2^63: it wraps them around.
                    throw bad(name, "is a negative integer (" + value + "); send ids beyond 2^63 as strings");
                }
                return value.toString();
            }
            if (value instanceof BigDecimal decimal) {
                try {
                    return decimal.toBigIntegerExact().toString();
                } catch (ArithmeticException e) {
                    // fall through to the type error
                }
            }
            throw bad(name, "must be a string or an integer, but is " + describeType(value));
        }

        Action action(Fields fields) {
            Object value = fields.get(ACTION);
            if (value == null) {
                return Action.ADD;
            }
            if (!(value instanceof String text)) {
                throw bad(ACTION, "must be \"add\" or \"remove\", but is " + describeType(value));
            }
            return switch (text.trim().toLowerCase(Locale.ROOT)) {
                case "add" -> Action.ADD;
                case "remove" -> Action.REMOVE;
                default -> throw bad(ACTION, "must be \"add\" or \"remove\", but is \"" + abbreviate(text) + "\"");
            };
        }

        @SuppressWarnings("unchecked")
        Map<String, Object> properties(Fields fields) {
            Object value = fields.get(PROPERTIES);
            if (value == null) {
                return Map.of();
            }
            if (value instanceof Map<?, ?> map) {
                boolean nested = false;
                for (Map.Entry<?, ?> entry : map.entrySet()) {
                    if (!(entry.getKey() instanceof String)) {
                        throw bad(PROPERTIES, "must have string keys, but has a key of type "
                                + describeType(entry.getKey()));
                    }
                    nested |= entry.getValue() instanceof Struct || entry.getValue() instanceof java.util.List;
                }
                return (Map<String, Object>) (nested ? plain(map) : map);
            }
            if (value instanceof Struct struct) {
                return (Map<String, Object>) plain(struct);
            }
            throw bad(PROPERTIES, "must be an object (a map of property names to values), but is "
                    + describeType(value));
        }

        long timestamp(Fields fields) {
            Object value = fields.get(TIMESTAMP);
            if (value == null) {
                return recordTimestamp();
            }
            long millis;
            if (value instanceof Long || value instanceof Integer) {
                millis = ((Number) value).longValue();
            } else if (value instanceof Date date) {
                millis = date.getTime();
            } else if (value instanceof String text) {
                millis = parseIso(text);
            } else {
                throw bad(TIMESTAMP, "must be an ISO-8601 string or epoch milliseconds, but is "
                        + describeType(value));
            }
            if (millis < 0 || millis > MAX_TIMESTAMP_MILLIS) {
                throw bad(TIMESTAMP, "is out of range (" + millis + " ms since the epoch)");
            }
            return millis;
        }

        private long parseIso(String text) {
            try {
                return IsoTimestamps.toEpochMillis(text.trim());
            } catch (DateTimeException | ArithmeticException e) {
                throw bad(TIMESTAMP, "is not an ISO-8601 date-time: \"" + abbreviate(text) + "\"");
            }
        }

        long recordTimestamp() {
            Long ts = record.timestamp();
            return ts != null && ts >= 0 ? ts : System.currentTimeMillis();
        }
    }

    /** Structs (from schema'd converters) become maps, so destinations can write any value as JSON. */
    private static Object plain(Object value) {
        if (value instanceof Struct struct) {
            Map<String, Object> map = new LinkedHashMap<>();
            for (Field field : struct.schema().fields()) {
                map.put(field.name(), plain(struct.get(field)));
            }
            return map;
        }
        if (value instanceof Map<?, ?> map) {
            Map<Object, Object> copy = new LinkedHashMap<>();
            map.forEach((k, v) -> copy.put(k, plain(v)));
            return copy;
        }
        if (value instanceof java.util.List<?> list) {
            return list.stream().map(RecordParser::plain).toList();
        }
        return value;
    }

    private static String describeType(Object value) {
        if (value == null) {
            return "null";
        }
        if (value instanceof String) {
            return "a string";
        }
        if (value instanceof Map) {
            return "an object";
        }
        if (value instanceof java.util.List) {
            return "an array";
        }
        if (value instanceof Boolean) {
            return "a boolean";
        }
        if (value instanceof Number) {
            return "a number (" + value.getClass().getSimpleName() + ")";
        }
        if (value instanceof byte[]) {
            return "bytes";
        }
        return value.getClass().getSimpleName();
    }

    /** Quoted input in errors is kept short: error messages end up in logs and DLQ headers. */
    private static String abbreviate(String text) {
        return text.length() <= 40 ? text : text.substring(0, 40) + "...";
    }
}

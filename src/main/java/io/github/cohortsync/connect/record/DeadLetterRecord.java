package io.github.cohortsync.connect.record;

import java.time.Instant;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.regex.Pattern;

import org.apache.kafka.common.record.TimestampType;
import org.apache.kafka.connect.data.Schema;
import org.apache.kafka.connect.errors.DataException;
import org.apache.kafka.connect.sink.ErrantRecordReporter;
import org.apache.kafka.connect.sink.SinkRecord;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.ObjectMapper;

/**
 * The record reported to the errant record reporter (and so to the dead letter queue) for a member a destination
 * rejected: the change in the input format of SPEC section 2, so that producing it into the source topic applies the
 * same change again. Its key is the compacted topic's {@code {"cohort_id", "distinct_id"}}; its value carries the
 * cohort, the action, the timestamp and the member's fields and properties the destination reads. A removal whose
 * cohort name is unknown (a tombstone the buffer could not name) is reported as a tombstone: a value without
 * {@code cohort_name} would be a bad record.
 *
 * <p>The record keeps the original record's topic, partition, offset and the change's timestamp, so the worker's
 * {@code __connect.errors.topic/partition/offset} headers name the record that was read.
 */
public final class DeadLetterRecord {
    /** Ids written as JSON numbers: the canonical decimal integers that fit a long (Mixpanel's ids are integers). */
    private static final Pattern INTEGER_ID = Pattern.compile("0|[1-9][0-9]{0,17}");
    private static final ObjectMapper JSON = new ObjectMapper();

    private DeadLetterRecord() {
    }

    /**
     * Reports the change with its error: as a schemaless record, or as JSON text when the worker's converters cannot
     * write a schemaless map (e.g. Avro's).
     *
     * @throws DataException when the converters cannot write the JSON text either
     */
    public static void report(ErrantRecordReporter reporter, MembershipChange change, Throwable error) {
        SinkRecord record = of(change);
        try {
            reporter.report(record, error);
        } catch (DataException schemaless) {
            reporter.report(asJsonText(record), error);
        }
    }

    /** The change as a schemaless record: a JSON object key and value with every JSON-capable converter. */
    public static SinkRecord of(MembershipChange change) {
        return new SinkRecord(change.topic(), change.partition(), null, key(change), null, value(change),
                change.offset(), change.timestampMillis(), TimestampType.CREATE_TIME);
    }

    /**
     * The same record with its key and value as JSON text, for converters that cannot write a schemaless map (e.g.
     * Avro): the parser reads a JSON-text key, and the text can be re-produced as a JSON value by hand.
     */
    public static SinkRecord asJsonText(SinkRecord record) {
        return new SinkRecord(record.topic(), record.kafkaPartition(), Schema.OPTIONAL_STRING_SCHEMA,
                json(record.key()), Schema.OPTIONAL_STRING_SCHEMA, json(record.value()), record.kafkaOffset(),
                record.timestamp(), record.timestampType());
    }

    static Map<String, Object> key(MembershipChange change) {
        Map<String, Object> key = new LinkedHashMap<>();
        key.put(RecordParser.COHORT_ID, id(change.cohort().id()));
        key.put(RecordParser.DISTINCT_ID, change.distinctId());
        return key;
    }

    /** The full change, or null (a tombstone) for a removal of a cohort whose name is unknown. */
    static Map<String, Object> value(MembershipChange change) {
        CohortRef cohort = change.cohort();
        if (cohort.name() == null) {
            // Only removals lack a name: the parser requires one in every value.
            return null;
        }
        Map<String, Object> value = new LinkedHashMap<>();
        value.put(RecordParser.COHORT_ID, id(cohort.id()));
        value.put(RecordParser.COHORT_NAME, cohort.name());
        putIfSet(value, RecordParser.COHORT_DESCRIPTION, cohort.description());
        if (cohort.projectId() != null) {
            value.put(RecordParser.PROJECT_ID, id(cohort.projectId()));
        }
        value.put(RecordParser.ACTION, change.action() == Action.REMOVE ? "remove" : "add");
        value.put(RecordParser.DISTINCT_ID, change.distinctId());
        putIfSet(value, RecordParser.EMAIL, change.email());
        putIfSet(value, RecordParser.FIRST_NAME, change.firstName());
        putIfSet(value, RecordParser.LAST_NAME, change.lastName());
        putIfSet(value, RecordParser.PHONE_NUMBER, change.phoneNumber());
        if (!change.properties().isEmpty()) {
            value.put(RecordParser.PROPERTIES, change.properties());
        }
        value.put(RecordParser.TIMESTAMP, Instant.ofEpochMilli(change.timestampMillis()).toString());
        return value;
    }

    private static void putIfSet(Map<String, Object> map, String field, String text) {
        if (text != null) {
            map.put(field, text);
        }
    }

    private static Object id(String id) {
        return INTEGER_ID.matcher(id).matches() ? (Object) Long.parseLong(id) : id;
    }

    private static String json(Object value) {
        if (value == null) {
            return null;
        }
        try {
            return JSON.writeValueAsString(value);
        } catch (JsonProcessingException e) {
            // Only values the parser accepted are here; Jackson writes all of them.
            throw new IllegalStateException("Cannot write a rejected change as JSON", e);
        }
    }
}

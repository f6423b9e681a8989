package io.github.cohortsync.connect;

import java.util.LinkedHashMap;
import java.util.Map;

import org.apache.kafka.connect.sink.SinkRecord;

/** Builds membership records as the JSON converter would hand them to a task (schemaless maps). */
public final class Records {
    public static final String TOPIC = "cohort-membership";

    private final Map<String, Object> value = new LinkedHashMap<>();
    private int partition;
    private long offset;
    private boolean tombstone;

    private Records() {
    }

    /** An "add" of {@code distinctId} to cohort {@code cohortId} named "Cohort {cohortId}". */
    public static Records change(Object cohortId, String distinctId) {
        Records r = new Records();
        r.value.put("cohort_id", cohortId);
        r.value.put("cohort_name", "Cohort " + cohortId);
        r.value.put("distinct_id", distinctId);
        r.value.put("action", "add");
        return r;
    }

    public static Records tombstone(Object cohortId, String distinctId) {
        Records r = change(cohortId, distinctId);
        r.tombstone = true;
        return r;
    }

    public Records remove() {
        return with("action", "remove");
    }

    public Records with(String field, Object fieldValue) {
        value.put(field, fieldValue);
        return this;
    }

    public Records without(String field) {
        value.remove(field);
        return this;
    }

    public Records at(int partition, long offset) {
        this.partition = partition;
        this.offset = offset;
        return this;
    }

    public Map<String, Object> value() {
        return value;
    }

    public SinkRecord build() {
        Map<String, Object> key = new LinkedHashMap<>();
        key.put("cohort_id", value.get("cohort_id"));
        key.put("distinct_id", value.get("distinct_id"));
        return new SinkRecord(TOPIC, partition, null, key, null, tombstone ? null : new LinkedHashMap<>(value),
                offset, 1_700_000_000_000L, org.apache.kafka.common.record.TimestampType.CREATE_TIME);
    }
}

package io.github.cohortsync.connect.record;

import org.apache.kafka.connect.errors.DataException;

/** A record that is not a valid membership change; the message names where it was read and the field at fault. */
public class BadRecordException extends DataException {
    private final String field;

    public BadRecordException(String topic, int partition, long offset, String field, String problem) {
        super("Bad cohort-membership record at topic " + topic + ", partition " + partition + ", offset " + offset
                + ": field '" + field + "' " + problem);
        this.field = field;
    }

    /** The field at fault, e.g. {@code cohort_id}, or {@code value} when the whole value is wrong. */
    public String field() {
        return field;
    }
}

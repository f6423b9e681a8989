package io.github.cohortsync.connect.record;

import java.util.Map;

/**
 * One membership change of one user in one cohort, parsed from one Kafka record.
 * Keeps the record's coordinates so errors and rejections can name it; never the record itself.
 */
public record MembershipChange(
        CohortRef cohort,
        String distinctId,
        Action action,
        String email,
        String firstName,
        String lastName,
        String phoneNumber,
        Map<String, Object> properties,
        long timestampMillis,
        String topic,
        int partition,
        long offset) {

    public MembershipChange {
        properties = properties == null ? Map.of() : properties;
    }

    /** Where the change was read, for logs and errors: never carries user data. */
    public String coordinates() {
        return "topic " + topic + ", partition " + partition + ", offset " + offset;
    }
}

package io.github.cohortsync.connect.record;

import java.util.LinkedHashMap;
import java.util.Map;
import java.util.function.Predicate;

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

    /**
     * This change as a buffer keeps it: with the given (shared) cohort instead of its own copy of the cohort's
     * fields, and only the properties a destination reads. Returns this change when nothing is dropped.
     */
    public MembershipChange retaining(CohortRef sharedCohort, Predicate<String> keptProperty) {
        boolean dropsSome = false;
        for (String key : properties.keySet()) {
            if (!keptProperty.test(key)) {
                dropsSome = true;
                break;
            }
        }
        Map<String, Object> kept = properties;
        if (dropsSome) {
            Map<String, Object> copy = null;
            for (Map.Entry<String, Object> entry : properties.entrySet()) {
                if (keptProperty.test(entry.getKey())) {
                    copy = copy == null ? new LinkedHashMap<>() : copy;
                    copy.put(entry.getKey(), entry.getValue());
                }
            }
            kept = copy == null ? Map.of() : copy;
        }
        if (kept == properties && sharedCohort == cohort) {
            return this;
        }
        return new MembershipChange(sharedCohort, distinctId, action, email, firstName, lastName, phoneNumber, kept,
                timestampMillis, topic, partition, offset);
    }

    /** Where the change was read, for logs and errors: never carries user data. */
    public String coordinates() {
        return "topic " + topic + ", partition " + partition + ", offset " + offset;
    }
}

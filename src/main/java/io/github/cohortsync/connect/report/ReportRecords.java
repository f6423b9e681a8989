package io.github.cohortsync.connect.report;

import java.time.Instant;
import java.util.Locale;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;

import io.github.cohortsync.connect.record.CohortRef;
import io.github.cohortsync.connect.record.MembershipChange;

/**
 * Encodes {@link MemberOutcome}s as report records: the key {@code {"cohort_id","distinct_id"}}, the value the
 * outcome with where the change was read and how it was sent (docs/report-topic.md). The member's email, names,
 * phone number and properties are in the value only when {@code includePii}.
 */
public final class ReportRecords {
    private static final ObjectMapper JSON = new ObjectMapper();

    private final String connector;
    private final String task;
    private final String destination;
    private final boolean includePii;

    public ReportRecords(String connector, String task, String destination, boolean includePii) {
        this.connector = connector;
        this.task = task;
        this.destination = destination;
        this.includePii = includePii;
    }

    /** The key: the member in its cohort, so a compacted report keeps each member's latest outcome. */
    public byte[] key(MemberOutcome outcome) {
        ObjectNode key = JSON.createObjectNode();
        key.put("cohort_id", outcome.change().cohort().id());
        key.put("distinct_id", outcome.change().distinctId());
        return bytes(key);
    }

    public byte[] value(MemberOutcome outcome) {
        return bytes(valueNode(outcome));
    }

    ObjectNode valueNode(MemberOutcome outcome) {
        MembershipChange change = outcome.change();
        CohortRef cohort = outcome.page() != null ? outcome.page().cohort() : change.cohort();
        ObjectNode value = JSON.createObjectNode();
        value.put("cohort_id", cohort.id());
        value.put("cohort_name", cohort.name());
        value.put("distinct_id", change.distinctId());
        value.put("outcome", outcome.outcome().wireName());
        value.put("action", change.action().name().toLowerCase(Locale.ROOT));
        value.put("destination", destination);
        value.put("connector", connector);
        value.put("task", task);
        if (outcome.page() != null) {
            value.put("page_action", outcome.page().action().wireName());
            value.put("session_id", outcome.page().sessionId());
            value.put("page", outcome.page().pageNumber());
            value.put("total_pages", outcome.page().totalPages());
        } else {
            value.putNull("page_action");
            value.putNull("session_id");
            value.putNull("page");
            value.putNull("total_pages");
        }
        value.put("attempts", outcome.attempts());
        value.put("reason", outcome.reason());
        value.put("code", outcome.code());
        value.put("topic", change.topic());
        value.put("partition", change.partition());
        value.put("offset", change.offset());
        value.put("change_time", Instant.ofEpochMilli(change.timestampMillis()).toString());
        value.put("decided_time", Instant.ofEpochMilli(outcome.decidedAtMs()).toString());
        if (includePii) {
            value.put("email", change.email());
            value.put("first_name", change.firstName());
            value.put("last_name", change.lastName());
            value.put("phone_number", change.phoneNumber());
            value.set("properties", JSON.valueToTree(change.properties()));
        }
        return value;
    }

    private static byte[] bytes(ObjectNode node) {
        try {
            return JSON.writeValueAsBytes(node);
        } catch (JsonProcessingException e) {
            // Only strings, numbers and the parsed properties (JSON values already) are written.
            throw new IllegalStateException("Could not encode a report record: " + e.getOriginalMessage(), e);
        }
    }
}

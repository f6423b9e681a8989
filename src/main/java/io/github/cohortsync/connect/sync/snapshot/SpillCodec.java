package io.github.cohortsync.connect.sync.snapshot;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.util.LinkedHashMap;
import java.util.Map;

import com.fasterxml.jackson.core.type.TypeReference;
import com.fasterxml.jackson.databind.ObjectMapper;

import io.github.cohortsync.connect.record.Action;
import io.github.cohortsync.connect.record.CohortRef;
import io.github.cohortsync.connect.record.MembershipChange;

/** One membership change as one line of JSON in a spill file, and back. */
final class SpillCodec {
    private static final ObjectMapper JSON = new ObjectMapper();
    private static final TypeReference<Map<String, Object>> MAP = new TypeReference<>() {
    };

    private SpillCodec() {
    }

    static String encode(MembershipChange change) {
        Map<String, Object> line = new LinkedHashMap<>();
        line.put("c", change.cohort().id());
        line.put("cn", change.cohort().name());
        line.put("cd", change.cohort().description());
        line.put("cp", change.cohort().projectId());
        line.put("u", change.distinctId());
        line.put("a", change.action().name());
        line.put("e", change.email());
        line.put("f", change.firstName());
        line.put("l", change.lastName());
        line.put("ph", change.phoneNumber());
        line.put("pr", change.properties());
        line.put("ts", change.timestampMillis());
        line.put("t", change.topic());
        line.put("p", change.partition());
        line.put("o", change.offset());
        try {
            return JSON.writeValueAsString(line);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    @SuppressWarnings("unchecked")
    static MembershipChange decode(String text) {
        try {
            Map<String, Object> line = JSON.readValue(text, MAP);
            return new MembershipChange(
                    new CohortRef((String) line.get("c"), (String) line.get("cn"), (String) line.get("cd"),
                            (String) line.get("cp")),
                    (String) line.get("u"), Action.valueOf((String) line.get("a")), (String) line.get("e"),
                    (String) line.get("f"), (String) line.get("l"), (String) line.get("ph"),
                    (Map<String, Object>) line.get("pr"), ((Number) line.get("ts")).longValue(),
                    (String) line.get("t"), ((Number) line.get("p")).intValue(), ((Number) line.get("o")).longValue());
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }
}

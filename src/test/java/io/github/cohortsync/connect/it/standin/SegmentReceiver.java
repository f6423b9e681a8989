package io.github.cohortsync.connect.it.standin;


import java.io.IOException;
import java.util.HashSet;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;

import com.fasterxml.jackson.databind.JsonNode;

import mockwebserver3.MockResponse;
import mockwebserver3.RecordedRequest;

import okhttp3.Credentials;

/**
 * Plays Segment's /v1/batch: checks auth, shape and limits, deduplicates on messageId, and keeps the latest
 * value of each trait per user. Rules, each a violation: every message passes {@code @segment/analytics-core}'s
 * assertions (segmentio/analytics-next, packages/core/src/validation/assertions.ts: {@code type} a string,
 * {@code messageId} a string, {@code traits} a plain object for identify, a user identity that is a string) with
 * a non-empty userId (ours: a blank id matches nobody); messageId at most 100 characters (Segment support, per
 * segmentio/segment-docs issue 5924); at most 500 KB per request, 32 KB per message and 2500 messages per
 * request (segment-docs, sources/catalog/libraries/server/http-api: over 2500 the answer is still 200 but the
 * events are dropped, which this stand-in plays too).
 */
public final class SegmentReceiver extends StandIn {
    /** The write key the stand-in accepts. */
    public static final String WRITE_KEY = "segment-wk-s3cret";
    private final Map<String, Map<String, Boolean>> traits = new TreeMap<>();
    private final Set<String> messageIds = new HashSet<>();
    private final Set<String> userIds = new HashSet<>();

    public static SegmentReceiver start() throws IOException {
        return listen(new SegmentReceiver());
    }

    @Override
    public MockResponse dispatch(RecordedRequest request) {
        synchronized (this) {
            if (!"POST".equals(request.getMethod()) || !"/v1/batch".equals(request.getUrl().encodedPath())) {
                violations.add("unexpected " + request.getMethod() + " " + request.getUrl());
                return new MockResponse.Builder().code(404).build();
            }
            if (!Credentials.basic(WRITE_KEY, "").equals(request.getHeaders().get("Authorization"))) {
                violations.add("wrong Authorization");
                return new MockResponse.Builder().code(401).body("{\"error\":\"bad write key\"}").build();
            }
            byte[] body = bodyBytes(request);
            if (body.length > 500_000) {
                violations.add("request of " + body.length + " bytes");
                return new MockResponse.Builder().code(400).build();
            }
            try {
                JsonNode json = JSON.readTree(body);
                if (!json.path("sentAt").isTextual()) {
                    violations.add("no sentAt");
                }
                if (json.path("batch").size() > 2500) {
                    // Segment answers 200 and drops the events.
                    violations.add("request of " + json.path("batch").size() + " messages");
                    return new MockResponse.Builder().code(200).body("{\"success\":true}").build();
                }
                for (JsonNode message : json.path("batch")) {
                    if (!message.path("type").isTextual() || !message.path("messageId").isTextual()
                            || message.path("messageId").asText().length() >= 100
                            || !message.path("traits").isObject()
                            || message.path("userId").asText("").isBlank()) {
                        violations.add("message fails analytics-core's assertions: " + message.path("messageId"));
                    }
                    if (!"identify".equals(message.path("type").asText())
                            || !message.path("userId").isTextual() || !message.path("timestamp").isTextual()
                            || message.path("traits").size() != 1
                            || JSON.writeValueAsBytes(message).length > 32_000) {
                        violations.add("bad message " + message.path("messageId"));
                    }
                    if (!messageIds.add(message.path("messageId").asText())) {
                        continue; // Segment deduplicates on messageId
                    }
                    String userId = message.path("userId").asText();
                    userIds.add(userId);
                    message.path("traits").fields().forEachRemaining(trait ->
                            traits.computeIfAbsent(trait.getKey(), t -> new TreeMap<>())
                                    .put(userId, trait.getValue().asBoolean()));
                }
            } catch (IOException e) {
                violations.add("unparsable body");
                return new MockResponse.Builder().code(400).build();
            }
            return new MockResponse.Builder().code(200).body("{\"success\":true}").build();
        }
    }

    public synchronized Map<String, Map<String, Boolean>> traits() {
        Map<String, Map<String, Boolean>> copy = new TreeMap<>();
        traits.forEach((trait, users) -> copy.put(trait, new TreeMap<>(users)));
        return copy;
    }

    public synchronized Set<String> userIds() {
        return new HashSet<>(userIds);
    }
}

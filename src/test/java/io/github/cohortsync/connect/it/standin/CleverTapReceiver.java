package io.github.cohortsync.connect.it.standin;

import java.io.IOException;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.atomic.AtomicInteger;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;

import mockwebserver3.MockResponse;
import mockwebserver3.RecordedRequest;

import okhttp3.Headers;

/**
 * Plays CleverTap's upload API on 127.0.0.1: checks headers and record shapes (each problem is a violation),
 * keeps the last "Partner Sync" action per (identity, cohort id) and the last profile per identity, and answers
 * {@code {"status": "success", ...}}, or 429 for the first {@code throttleFirst} calls. Records of an identity
 * starting with {@code bad-} are not processed: they come back in {@code unprocessed}, echoed, as CleverTap does,
 * and the answer's status is {@code partial}. Rules of developer.clevertap.com: at most 1000 records per call
 * (docs/upload-events-api); event keys at most 120 characters and property values at most 512 bytes (same page);
 * profile keys at most 120 bytes and values at most 512 bytes (docs/upload-user-profiles-api); ts in epoch
 * seconds (docs/api-errors, code 525 "Timestamp not in UNIX epoch format"); an invalid email is code 515 (same
 * page); at most 15 concurrent upload requests per account, beyond which 429 (docs/upload-events-api).
 */
public final class CleverTapReceiver extends ThrottlingStandIn {
    static final int MAX_RECORDS = 1000;
    static final int MAX_CONCURRENT = 15;
    static final int MAX_KEY = 120;
    static final int MAX_VALUE_BYTES = 512;
    /** Epoch seconds stay below this until the year 5138; epoch milliseconds of today are far above it. */
    static final long MAX_EPOCH_SECONDS = 100_000_000_000L;

    private final String accountId;
    private final String passcode;
    private final AtomicInteger inFlight = new AtomicInteger();
    private final AtomicInteger peakInFlight = new AtomicInteger();
    /** How long each upload takes before it is answered, so that calls overlap as they do over a real network. */
    private volatile long delayMs;
    private final Map<String, String> actions = new TreeMap<>();
    private final Map<String, JsonNode> profiles = new TreeMap<>();
    private final List<Integer> recordsPerCall = new ArrayList<>();
    private int requests;

    private CleverTapReceiver(String accountId, String passcode) {
        this.accountId = accountId;
        this.passcode = passcode;
    }

    public static CleverTapReceiver start(String accountId, String passcode) throws IOException {
        return listen(new CleverTapReceiver(accountId, passcode));
    }

    /** The same as {@link #throttleNext}: the next {@code calls} uploads are answered 429 with Retry-After: 1. */
    public void throttleFirst(int calls) {
        throttleNext(calls);
    }

    /** Each upload is answered only after {@code millis}, holding its place among the concurrent uploads. */
    public void delayEachCall(long millis) {
        this.delayMs = millis;
    }

    /** The most uploads that were in progress at once. */
    public int peakConcurrentUploads() {
        return peakInFlight.get();
    }

    /** "identity|cohort id" to the last Action ("Added" / "Removed") received. */
    public synchronized Map<String, String> actions() {
        return new TreeMap<>(actions);
    }

    public synchronized Map<String, JsonNode> profiles() {
        return new TreeMap<>(profiles);
    }

    public synchronized List<Integer> recordsPerCall() {
        return List.copyOf(recordsPerCall);
    }

    public synchronized int requests() {
        return requests;
    }

    @Override
    public MockResponse dispatch(RecordedRequest request) {
        try {
            int concurrent = inFlight.incrementAndGet();
            peakInFlight.accumulateAndGet(concurrent, Math::max);
            if (concurrent > MAX_CONCURRENT) {
                synchronized (this) {
                    violations.add("more than " + MAX_CONCURRENT + " concurrent uploads");
                }
                return new MockResponse(429, Headers.of(), "");
            }
            long delay = delayMs;
            if (delay > 0) {
                try {
                    Thread.sleep(delay);
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                }
            }
            return handle(request);
        } finally {
            inFlight.decrementAndGet();
        }
    }

    private MockResponse handle(RecordedRequest request) {
        synchronized (this) {
            requests++;
            if (throttling()) {
                return new MockResponse(429, Headers.of("Retry-After", "1"), "");
            }
            check("POST".equals(request.getMethod()), "method " + request.getMethod());
            check("/1/upload".equals(request.getUrl().encodedPath()), "path " + request.getUrl().encodedPath());
            check(accountId.equals(request.getHeaders().get("X-CleverTap-Account-Id")), "account id header");
            check(passcode.equals(request.getHeaders().get("X-CleverTap-Passcode")), "passcode header");
            check("application/json; charset=utf-8".equals(request.getHeaders().get("Content-Type")),
                    "content type " + request.getHeaders().get("Content-Type"));
            JsonNode body = parse(request);
            if (body == null) {
                return new MockResponse(400, Headers.of(), "{\"status\": \"fail\", \"error\": \"bad json\"}");
            }
            JsonNode d = body.path("d");
            recordsPerCall.add(d.size());
            check(d.isArray() && d.size() > 0 && d.size() <= MAX_RECORDS, "records per call " + d.size());
            ArrayNode unprocessed = JSON.createArrayNode();
            for (JsonNode record : d) {
                String identity = record.path("identity").asText("");
                check(!identity.isEmpty(), "record without identity");
                if (identity.startsWith("bad-")) {
                    unprocessed.addObject().put("status", "fail").put("code", 524)
                            .put("error", "Identity not allowed").set("record", record);
                    continue;
                }
                String limit = overLimit(record);
                if (limit != null) {
                    violations.add(limit);
                    unprocessed.addObject().put("status", "fail").put("code", 512)
                            .put("error", "Invalid event structure").set("record", record);
                    continue;
                }
                if (record.has("ts") && (!record.path("ts").isIntegralNumber()
                        || record.path("ts").asLong() >= MAX_EPOCH_SECONDS)) {
                    violations.add("ts not in epoch seconds: " + record.path("ts"));
                    unprocessed.addObject().put("status", "fail").put("code", 525)
                            .put("error", "Timestamp not in UNIX epoch format").set("record", record);
                    continue;
                }
                if ("profile".equals(record.path("type").asText())
                        && record.path("profileData").has("Email")
                        && !record.path("profileData").path("Email").asText().contains("@")) {
                    unprocessed.addObject().put("status", "fail").put("code", 515)
                            .put("error", "Email invalid").set("record", record);
                    continue;
                }
                if ("event".equals(record.path("type").asText())) {
                    JsonNode data = record.path("evtData");
                    check("Partner Sync".equals(record.path("evtName").asText()), "evtName");
                    check(record.path("ts").isIntegralNumber(), "ts");
                    check("Mixpanel".equals(data.path("CT Source").asText())
                            && "Mixpanel".equals(data.path("Partner Name").asText()), "source fields");
                    check(data.path("Partner Segment Name").isTextual(), "segment name");
                    String action = data.path("Action").asText();
                    check("Added".equals(action) || "Removed".equals(action), "action " + action);
                    actions.put(identity + "|" + data.path("Partner Segment ID").asText(), action);
                } else if ("profile".equals(record.path("type").asText())) {
                    profiles.put(identity, record.path("profileData"));
                } else {
                    violations.add("record type " + record.path("type"));
                }
            }
            ObjectNode answer = JSON.createObjectNode();
            answer.put("status", unprocessed.isEmpty() ? "success" : "partial");
            answer.put("processed", d.size() - unprocessed.size());
            answer.set("unprocessed", unprocessed);
            return json(200, answer);
        }
    }

    /** A key or value of the record's evtData or profileData over CleverTap's limits, or null. */
    private String overLimit(JsonNode record) {
        boolean event = "event".equals(record.path("type").asText());
        JsonNode data = record.path(event ? "evtData" : "profileData");
        for (var field : (Iterable<Map.Entry<String, JsonNode>>) data::fields) {
            int keyLength = event ? field.getKey().length()
                    : field.getKey().getBytes(java.nio.charset.StandardCharsets.UTF_8).length;
            if (keyLength > MAX_KEY) {
                return "key over " + MAX_KEY + (event ? " characters" : " bytes");
            }
            if (field.getValue().isTextual() && field.getValue().asText()
                    .getBytes(java.nio.charset.StandardCharsets.UTF_8).length > MAX_VALUE_BYTES) {
                return "value of " + field.getKey() + " over " + MAX_VALUE_BYTES + " bytes";
            }
        }
        return null;
    }
}

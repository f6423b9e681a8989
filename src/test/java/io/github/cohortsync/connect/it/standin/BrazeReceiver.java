package io.github.cohortsync.connect.it.standin;

import java.io.IOException;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.TreeSet;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;

import mockwebserver3.MockResponse;
import mockwebserver3.RecordedRequest;

import okhttp3.Headers;

/**
 * Plays Braze's /users/track on 127.0.0.1: checks the bearer key and the attribute objects (each problem is a
 * violation), keeps the array attribute per external_id, and answers success; an external_id starting with
 * {@code bad-} is refused with an item error at its index, as Braze reports non-fatal errors.
 *
 * <p>Also plays the partner cohort import ({@link #startCohortImport}): {@code /partners/<partner>/cohorts} names a
 * cohort, {@code /partners/<partner>/cohorts/users} adds or removes external ids; both check the partner API key
 * and the client secret in the body (401 otherwise, as Braze documents) and the documented fields.
 */
public final class BrazeReceiver extends StandIn {
    static final int MAX_OBJECTS = 75;
    static final int MAX_COHORT_USER_IDS = 1000;

    private final String apiKey;
    private final String attribute;
    private final Map<String, Set<String>> attributes = new TreeMap<>();
    private final List<Integer> objectsPerRequest = new ArrayList<>();
    private String partner;
    private String partnerApiKey;
    private String clientSecret;
    /** When set, the client secret is valid but the partner is not enabled for it. */
    private boolean partnerNotEnabled;
    /** Objects per /users/track request this account takes: 75, or 50 on some plans. */
    private int accountMaxObjects = MAX_OBJECTS;
    private int tooManyAnswers;
    private final Map<String, String> cohortNames = new TreeMap<>();
    private final List<String> namingCalls = new ArrayList<>();
    private final Map<String, Set<String>> cohortMembers = new TreeMap<>();

    private BrazeReceiver(String apiKey, String attribute) {
        this.apiKey = apiKey;
        this.attribute = attribute;
    }

    /** A stand-in for the partner cohort import of partner {@code partner}. */
    public static BrazeReceiver startCohortImport(String partner, String partnerApiKey, String clientSecret)
            throws IOException {
        BrazeReceiver receiver = new BrazeReceiver(null, null);
        receiver.partner = partner;
        receiver.partnerApiKey = partnerApiKey;
        receiver.clientSecret = clientSecret;
        return listen(receiver);
    }

    /**
     * From now on, answers as Braze does when the partner is not enabled for a valid client secret: a 401 whose text
     * echoes the client secret (braze-docs {@code _docs/_partners/isv_partners/cohort_import.md}, troubleshooting).
     */
    public synchronized BrazeReceiver partnerNotEnabled() {
        partnerNotEnabled = true;
        return this;
    }

    /**
     * Plays an account on Braze's "Monthly Active Users CY 24-25" plan, whose /users/track requests take at most 50
     * objects (braze-docs post_user_track.md); more is answered "400 Max Input Length Exceeded" (braze-docs
     * errors.md).
     */
    public synchronized BrazeReceiver accountMaxObjects(int max) {
        accountMaxObjects = max;
        return this;
    }

    public synchronized int tooManyAnswers() {
        return tooManyAnswers;
    }

    /** Cohort id to the name it was last given. */
    public synchronized Map<String, String> cohortNames() {
        return new TreeMap<>(cohortNames);
    }

    /** The cohort id of every naming call, in order. */
    public synchronized List<String> namingCalls() {
        return List.copyOf(namingCalls);
    }

    /** Cohort id to the external ids in it; empty cohorts are left out. */
    public synchronized Map<String, Set<String>> cohortMembers() {
        return nonEmptyCopy(cohortMembers);
    }

    public static BrazeReceiver start(String apiKey, String attribute) throws IOException {
        return listen(new BrazeReceiver(apiKey, attribute));
    }

    /** The attribute's values per external_id; users whose array is empty are left out. */
    public synchronized Map<String, Set<String>> attributes() {
        return nonEmptyCopy(attributes);
    }

    public synchronized List<Integer> objectsPerRequest() {
        return List.copyOf(objectsPerRequest);
    }

    @Override
    public synchronized MockResponse dispatch(RecordedRequest request) {
        check("POST".equals(request.getMethod()), "method " + request.getMethod());
        if (partner != null) {
            return cohortImport(request);
        }
        check("/users/track".equals(request.getUrl().encodedPath()), "path " + request.getUrl().encodedPath());
        if (!("Bearer " + apiKey).equals(request.getHeaders().get("Authorization"))) {
            return new MockResponse(401, Headers.of(), "{\"message\": \"Invalid API key\"}");
        }
        JsonNode body = parse(request);
        if (body == null) {
            return new MockResponse(400, Headers.of(), "{\"message\": \"Invalid JSON\"}");
        }
        JsonNode objects = body.path("attributes");
        objectsPerRequest.add(objects.size());
        check(objects.isArray() && objects.size() > 0 && objects.size() <= MAX_OBJECTS,
                "objects per request " + objects.size());
        if (objects.size() > accountMaxObjects) {
            tooManyAnswers++;
            return json(400, "{\"message\": \"Max Input Length Exceeded\"}");
        }
        ObjectNode answer = JSON.createObjectNode();
        answer.put("message", "success");
        ArrayNode errors = JSON.createArrayNode();
        int processed = 0;
        for (int i = 0; i < objects.size(); i++) {
            JsonNode object = objects.get(i);
            String id = object.path("external_id").asText("");
            check(!id.isEmpty(), "object without external_id");
            check(object.path("_update_existing_only").isBoolean(), "_update_existing_only");
            if (id.startsWith("bad-")) {
                errors.addObject().put("type", "'external_id' is not valid").put("input_array", "attributes")
                        .put("index", i);
                continue;
            }
            JsonNode change = object.path(attribute);
            Set<String> values = attributes.computeIfAbsent(id, k -> new TreeSet<>());
            change.path("add").forEach(v -> values.add(v.asText()));
            change.path("remove").forEach(v -> values.remove(v.asText()));
            check(change.has("add") != change.has("remove"), "add xor remove");
            processed++;
        }
        answer.put("attributes_processed", processed);
        if (!errors.isEmpty()) {
            answer.set("errors", errors);
        }
        return json(201, answer);
    }

    private MockResponse cohortImport(RecordedRequest request) {
        String path = request.getUrl().encodedPath();
        boolean naming = ("/partners/" + partner + "/cohorts").equals(path);
        boolean users = ("/partners/" + partner + "/cohorts/users").equals(path);
        if (!naming && !users) {
            violations.add("path " + path);
            return new MockResponse(404, Headers.of(), "");
        }
        JsonNode body = parse(request);
        if (body == null) {
            return new MockResponse(400, Headers.of(), "{\"message\": \"Invalid JSON\"}");
        }
        if (!partnerApiKey.equals(body.path("partner_api_key").asText())) {
            return new MockResponse(401, Headers.of(), "{\"message\": \"Invalid Partner API key\"}");
        }
        if (!clientSecret.equals(body.path("client_secret").asText())) {
            return new MockResponse(401, Headers.of(), "{\"message\": \"Invalid client secret\"}");
        }
        if (partnerNotEnabled) {
            return json(401, JSON.createObjectNode()
                    .put("message", "Partner not enabled for client with client secret: " + clientSecret));
        }
        String cohortId = body.path("cohort_id").asText("");
        check(body.path("cohort_id").isTextual() && !cohortId.isEmpty(), "cohort_id must be a valid string");
        if (naming) {
            // braze-docs cohort_import.md: 400 "name must be a non-empty string"; blank is ours to refuse.
            if (!body.path("name").isTextual() || body.path("name").asText().isBlank()) {
                violations.add("name must be a non-empty string");
                return json(400, "{\"message\": \"name must be a non-empty string\"}");
            }
            try {
                java.time.OffsetDateTime.parse(body.path("created_at").asText());
            } catch (java.time.format.DateTimeParseException e) {
                violations.add("created_at " + body.path("created_at"));
            }
            cohortNames.put(cohortId, body.path("name").asText());
            namingCalls.add(cohortId);
        } else {
            JsonNode changes = body.path("cohort_changes");
            check(changes.isArray() && changes.size() > 0, "cohort_changes must be an array of objects");
            int total = 0;
            for (JsonNode change : changes) {
                total += change.path("user_ids").size();
            }
            if (total > MAX_COHORT_USER_IDS) {
                // braze-docs cohort_import.md: at most 1000 ids per request, else 400.
                violations.add("user ids per request " + total);
                return json(400, "{\"message\":"
                        + " \"Only 1,000 user_ids, device_ids, and aliases are allowed per request\"}");
            }
            int ids = 0;
            for (JsonNode change : changes) {
                check(change.path("user_ids").isArray(), "user_ids");
                check(change.path("should_remove").isMissingNode() || change.path("should_remove").isBoolean(),
                        "should_remove");
                Set<String> members = cohortMembers.computeIfAbsent(cohortId, k -> new TreeSet<>());
                for (JsonNode id : change.path("user_ids")) {
                    ids++;
                    if (change.path("should_remove").asBoolean(false)) {
                        members.remove(id.asText());
                    } else {
                        members.add(id.asText());
                    }
                }
            }
            objectsPerRequest.add(ids);
        }
        return json(201, "{\"message\": \"success\"}");
    }
}

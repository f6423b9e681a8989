package io.github.cohortsync.connect.it.standin;

import java.io.IOException;
import java.util.Iterator;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.TreeSet;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;

import mockwebserver3.MockResponse;
import mockwebserver3.RecordedRequest;
import okhttp3.Credentials;
import okhttp3.Headers;

/**
 * Plays Airship's Named User tags endpoint as Airship's API reference and its own clients document it. Rules, each a
 * violation when broken (the answer is what Airship documents for it):
 * <ul>
 * <li>Auth: {@code Authorization: Bearer <token>} or HTTP Basic {@code <app key>:<master secret>} (API reference,
 * "Introduction" security schemes basicAuth / bearerAuth; urbanairship/python-library {@code client.py}
 * BasicAuthClient and BearerTokenClient); else 401 with an error response.</li>
 * <li>{@code Accept: application/vnd.urbanairship+json; version=3} (every official client sends it;
 * urbanairship/agent-tools {@code skills/api/tags/SKILL.md}: "406 Not Acceptable - Missing or invalid API version
 * header"); else 406.</li>
 * <li>{@code POST /api/named_users/tags} (the clients add a trailing slash, also accepted), JSON body with a
 * required {@code audience} of {@code named_user_id}: 1 to 1000 ids per request (agent-tools SKILL.md
 * "Array of named user IDs (1-1000 items)"); an id has no leading or trailing whitespace (API reference, schemas
 * "Named User": "This ID cannot have leading or trailing whitespace"). Else 400.</li>
 * <li>At least one of {@code add}, {@code remove}, {@code set}; {@code set} never with {@code add} or
 * {@code remove}; a tag in both {@code add} and {@code remove} is a 400 (API reference, Tags, "Named User tags";
 * the old v3 reference: "If a tag is present in both the add and remove fields, however, a HTTP 400 response will
 * be returned"; python-library {@code NamedUserTags}).</li>
 * <li>A tag group name is 1-128 characters, its array holds 0-100 tags of 1-128 characters each (API reference,
 * schemas "Tag Group object"); else 400.</li>
 * <li>A tag group that does not exist in the project: the reference does not say what Airship answers (a 400, or a
 * 200 with warnings when other groups were valid); this stand-in answers 400 naming the tag group.</li>
 * <li>{@link #throttleNext}: the next tag calls (after the checks above) are answered 429 with Retry-After: 1,
 * changing nothing.</li>
 * <li>Success is 200 {@code {"ok": true}}, with {@code warnings} when asked to ({@link #warnNext}); errors are
 * {@code {"ok": false, "error", "error_code"}} (API reference, schemas "Responses", "Error response").</li>
 * </ul>
 * Tagging a named user Airship does not know is accepted here (the reference does not say otherwise).
 */
public final class AirshipReceiver extends ThrottlingStandIn {
    /** The credentials and tag group the stand-in accepts. */
    public static final String TOKEN = "MTphaXJzaGlwLXRva2VuLTQ0";
    public static final String APP_KEY = "ISex_TTJRuarzs9-o_Gkhg";
    public static final String MASTER_SECRET = "Xm4sT3r-s3cr3t_airship";
    public static final String TAG_GROUP = "mixpanel";
    static final String ACCEPT = "application/vnd.urbanairship+json; version=3";
    private static final int MAX_NAMED_USERS = 1000;
    private static final int MAX_NAME = 128;
    private static final int MAX_TAGS = 100;

    /** Named users per tag of the tag group. */
    private final Map<String, Set<String>> tagged = new TreeMap<>();
    private int calls;
    private int unavailable;
    private int failedUnavailable;
    private int warn;
    private int largestAudience;

    public static AirshipReceiver start() throws IOException {
        return listen(new AirshipReceiver());
    }

    @Override
    public MockResponse dispatch(RecordedRequest request) {
        synchronized (this) {
            String auth = request.getHeaders().get("Authorization");
            if (!("Bearer " + TOKEN).equals(auth) && !Credentials.basic(APP_KEY, MASTER_SECRET).equals(auth)) {
                return error(401, "Unauthorized", 40101);
            }
            if (!ACCEPT.equals(request.getHeaders().get("Accept"))) {
                violations.add("Accept " + request.getHeaders().get("Accept"));
                return error(406, "Not Acceptable: use " + ACCEPT, 40601);
            }
            String path = request.getUrl().encodedPath();
            if (!"POST".equals(request.getMethod())
                    || !("/api/named_users/tags".equals(path) || "/api/named_users/tags/".equals(path))) {
                violations.add("unexpected " + request.getMethod() + " " + path);
                return error(404, "Not Found", 40401);
            }
            if (throttling()) {
                return new MockResponse(429, Headers.of("Content-Type", ACCEPT, "Retry-After", "1"),
                        "{\"ok\": false, \"error\": \"Too Many Requests\", \"error_code\": 42900}");
            }
            if (unavailable > 0) {
                unavailable--;
                failedUnavailable++;
                return error(503, "Service Unavailable", 50300);
            }
            JsonNode body = parse(request);
            if (body == null) {
                return error(400, "Could not parse request body", 40000);
            }
            calls++;
            return tags(body);
        }
    }

    private MockResponse tags(JsonNode body) {
        JsonNode ids = body.path("audience").path("named_user_id");
        if (!ids.isArray() || ids.isEmpty() || ids.size() > MAX_NAMED_USERS) {
            violations.add("audience of " + ids.size() + " named users: " + body.path("audience"));
            return error(400, "audience.named_user_id must hold 1-1000 named user ids", 40001);
        }
        largestAudience = Math.max(largestAudience, ids.size());
        for (JsonNode id : ids) {
            if (!id.isTextual() || id.asText().isEmpty() || !id.asText().equals(id.asText().strip())) {
                violations.add("named user id '" + id + "'");
                return error(400, "Invalid named user id", 40001);
            }
        }
        JsonNode add = body.path("add");
        JsonNode remove = body.path("remove");
        boolean set = body.has("set");
        if (!add.isObject() && !remove.isObject() && !set || set && (body.has("add") || body.has("remove"))) {
            violations.add("operations " + body.fieldNames());
            return error(400, "A request holds add and/or remove, or set alone", 40002);
        }
        if (set) {
            violations.add("set is a whole-group replace the connector never sends");
        }
        for (JsonNode groups : List.of(add, remove)) {
            for (Iterator<Map.Entry<String, JsonNode>> it = groups.fields(); it.hasNext(); ) {
                Map.Entry<String, JsonNode> group = it.next();
                String problem = groupProblem(group.getKey(), group.getValue());
                if (problem != null) {
                    violations.add(problem);
                    return error(400, problem, 40003);
                }
                if (!TAG_GROUP.equals(group.getKey())) {
                    return error(400, "Tag group '" + group.getKey() + "' does not exist", 40003);
                }
            }
        }
        for (JsonNode tag : add.path(TAG_GROUP)) {
            for (JsonNode other : remove.path(TAG_GROUP)) {
                if (tag.asText().equals(other.asText())) {
                    violations.add("tag " + tag + " both added and removed");
                    return error(400, "Same tag present in both add and remove", 40004);
                }
            }
        }
        for (JsonNode tag : add.path(TAG_GROUP)) {
            Set<String> users = tagged.computeIfAbsent(tag.asText(), t -> new TreeSet<>());
            ids.forEach(id -> users.add(id.asText()));
        }
        for (JsonNode tag : remove.path(TAG_GROUP)) {
            Set<String> users = tagged.get(tag.asText());
            if (users != null) {
                ids.forEach(id -> users.remove(id.asText()));
            }
        }
        ObjectNode answer = JSON.createObjectNode().put("ok", true);
        if (warn > 0) {
            warn--;
            answer.putArray("warnings").add("The following tag groups are inactive: other");
        }
        return new MockResponse(200, Headers.of("Content-Type", ACCEPT), answer.toString());
    }

    private static String groupProblem(String name, JsonNode tags) {
        if (name.isEmpty() || name.length() > MAX_NAME) {
            return "tag group name of " + name.length() + " characters";
        }
        if (!tags.isArray() || tags.size() > MAX_TAGS) {
            return "tag group " + name + " with " + tags.size() + " tags";
        }
        for (JsonNode tag : tags) {
            if (!tag.isTextual() || tag.asText().isEmpty() || tag.asText().length() > MAX_NAME) {
                return "tag of " + tag.asText().length() + " characters";
            }
        }
        return null;
    }

    private static MockResponse error(int status, String message, int code) {
        ObjectNode body = JSON.createObjectNode().put("ok", false).put("error", message).put("error_code", code);
        return new MockResponse(status, Headers.of("Content-Type", ACCEPT), body.toString());
    }

    /** Tags {@code tag} on these named users before the test, as if an earlier sync had. */
    public synchronized void prefill(String tag, Set<String> namedUsers) {
        tagged.computeIfAbsent(tag, t -> new TreeSet<>()).addAll(namedUsers);
    }

    /** Named users per tag of the tag group; tags that nobody holds any more are left out. */
    public synchronized Map<String, Set<String>> tagged() {
        return nonEmptyCopy(tagged);
    }

    /** Answers the next {@code n} tag calls (after any throttled ones) 503, changing nothing. */
    public synchronized void failNext(int n) {
        unavailable = n;
    }

    /** Answers the next {@code n} accepted tag calls with a {@code warnings} array. */
    public synchronized void warnNext(int n) {
        warn = n;
    }

    public synchronized int failedUnavailable() {
        return failedUnavailable;
    }

    /** Tag calls that reached the body checks (not refused for auth, throttled or failed). */
    public synchronized int calls() {
        return calls;
    }

    public synchronized int largestAudience() {
        return largestAudience;
    }
}

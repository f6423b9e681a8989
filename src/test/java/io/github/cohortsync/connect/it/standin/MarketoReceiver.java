package io.github.cohortsync.connect.it.standin;

import java.io.IOException;
import java.net.URLDecoder;
import java.nio.charset.StandardCharsets;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Deque;
import java.util.HashMap;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Objects;
import java.util.Set;
import java.util.TreeMap;
import java.util.TreeSet;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;

import mockwebserver3.MockResponse;
import mockwebserver3.RecordedRequest;
import okhttp3.Headers;

/**
 * Plays one Marketo Engage instance's identity endpoint, leads and static lists, as Marketo's developer documentation
 * describes them (experienceleague.adobe.com/en/docs/marketo-developer/marketo/rest/..., the same pages as
 * help/rest-api/*.md of github.com/AdobeDocs/marketo-developer.en, and its endpoint reference
 * help/rest-api/assets/swagger-mapi.json). Answers are shaped as recorded from a real instance in
 * github.com/grouparoo/grouparoo (plugins/@grouparoo/marketo test recordings). Rules, each a violation when broken
 * unless it is a documented answer the connector must handle:
 * <ul>
 * <li>{@code GET /identity/oauth/token?grant_type=client_credentials&client_id=&client_secret=} answers
 * {@code access_token}, {@code token_type}, {@code expires_in}, {@code scope} ("Authentication"); bad credentials
 * answer HTTP 401 ("Error Codes": the Identity endpoint can return 401).</li>
 * <li>Every REST call sends {@code Authorization: Bearer <token>} ("Authentication": the {@code access_token} query
 * parameter is being removed); an unknown token answers 601, an expired one 602 (success:false, HTTP 200).</li>
 * <li>Limits ("REST API", "Marketo Integration Best Practices", "Error Codes"): more than 100 calls in 20 s answers
 * 606; more than 10 at once 615; more than the daily quota (50,000) 607. Calls answered 6xx for auth are not
 * counted ("Error Codes", starred codes).</li>
 * <li>{@code GET /rest/v1/lists.json?name=}: names comma-separated, {@code batchSize} at most 300 (swagger-mapi.json,
 * getListsUsingGET); answers {@code result[]} of {@code {id, name}}.</li>
 * <li>{@code POST /rest/asset/v1/staticLists.json}: form-encoded {@code name} and {@code folder} (JSON with
 * {@code id} and {@code type}); names are unique ("Static Lists"). Creating a taken name answers 709 here: the code
 * Marketo uses for that is not documented.</li>
 * <li>{@code GET /rest/v1/leads.json} (or {@code POST} with {@code _method=GET} and a form body):
 * {@code filterType=email}, {@code filterValues} at most 300; a GET URI over 8 KB answers HTTP 414 ("Leads",
 * "Error Codes").</li>
 * <li>{@code POST /rest/v1/leads.json} (JSON): {@code action}, {@code lookupField}, {@code input} of at most 300
 * records, results in input order, {@code created} / {@code updated} ("Leads"). An email without an {@code @} is
 * skipped here with 1003 "Invalid data" (the code for it is not documented).</li>
 * <li>{@code POST /rest/v1/lists/{id}/leads.json} (body {@code {"input":[{"id":..}]}}) and {@code DELETE} (repeated
 * {@code id} query parameters), at most 300 ids ("List Membership"): per id {@code added} / {@code removed}, or
 * {@code skipped} with 1004 "Lead not found" (no such lead) or, on removal, 1015 "Lead not in list".</li>
 * </ul>
 */
public final class MarketoReceiver extends StandIn {
    public static final String CLIENT_ID = "mkto-client-1";
    public static final String CLIENT_SECRET = "mkto-s3cret-XYZ";
    public static final int FOLDER_ID = 12;
    private static final Pattern LIST_LEADS = Pattern.compile("/rest/v1/lists/(\\d+)/leads\\.json");
    private static final int WINDOW_MS = 20_000;

    private final AtomicInteger inFlight = new AtomicInteger();
    private final Map<String, Long> leads = new HashMap<>();
    private final Map<Long, String> listNames = new LinkedHashMap<>();
    private final Map<Long, Set<Long>> listMembers = new HashMap<>();
    private final Map<String, Integer> creations = new HashMap<>();
    private final Map<String, Boolean> tokens = new HashMap<>();
    private final Deque<Long> recentCalls = new ArrayDeque<>();
    private long nextLeadId = 5001;
    private long nextListId = 1001;
    private int tokensIssued;
    private int expiredAnswers;
    private int rateLimitNext;
    private int rateLimited;
    private int concurrencyLimited;
    private int listCalls;
    private int callsToday;
    private int dailyQuota = 50_000;
    private int maxInFlight;

    public static MarketoReceiver start() throws IOException {
        return listen(new MarketoReceiver());
    }

    @Override
    public MockResponse dispatch(RecordedRequest request) {
        int now = inFlight.incrementAndGet();
        try {
            synchronized (this) {
                maxInFlight = Math.max(maxInFlight, now);
                if (now > 10) {
                    // "615 Concurrent access limit reached": more than 10 requests at once.
                    concurrencyLimited++;
                    return error("615", "Concurrent access limit reached");
                }
                return answer(request);
            }
        } finally {
            inFlight.decrementAndGet();
        }
    }

    private MockResponse answer(RecordedRequest request) {
        String path = request.getUrl().encodedPath();
        if (path.equals("/identity/oauth/token")) {
            return token(request);
        }
        if (request.getUrl().queryParameter("access_token") != null) {
            violations.add("access_token sent as a query parameter");
        }
        String authorization = request.getHeaders().get("Authorization");
        if (authorization == null || !authorization.startsWith("Bearer ")) {
            violations.add("no Bearer token on " + request.getMethod() + " " + path);
            return error("600", "Access token not specified");
        }
        Boolean valid = tokens.get(authorization.substring("Bearer ".length()));
        if (valid == null) {
            violations.add("unknown token");
            return error("601", "Access token invalid");
        }
        if (!valid) {
            expiredAnswers++;
            return error("602", "Access token expired");
        }
        long nowMs = System.currentTimeMillis();
        while (!recentCalls.isEmpty() && nowMs - recentCalls.peekFirst() > WINDOW_MS) {
            recentCalls.removeFirst();
        }
        if (recentCalls.size() >= 100) {
            rateLimited++;
            return error("606", "Max rate limit '100' exceeded with in '20' secs");
        }
        if (callsToday >= dailyQuota) {
            return error("607", "Daily quota reached");
        }
        recentCalls.addLast(nowMs);
        callsToday++;
        try {
            Matcher listLeads = LIST_LEADS.matcher(path);
            if (listLeads.matches()) {
                if (rateLimitNext > 0) {
                    rateLimitNext--;
                    rateLimited++;
                    return error("606", "Max rate limit '100' exceeded with in '20' secs");
                }
                return membership(request, Long.parseLong(listLeads.group(1)));
            }
            if (path.equals("/rest/v1/lists.json") && "GET".equals(request.getMethod())) {
                return lists(request);
            }
            if (path.equals("/rest/asset/v1/staticLists.json") && "POST".equals(request.getMethod())) {
                return createList(request);
            }
            if (path.equals("/rest/v1/leads.json")) {
                String override = request.getUrl().queryParameter("_method");
                if ("GET".equals(request.getMethod()) || "GET".equals(override)) {
                    return findLeads(request);
                }
                if ("POST".equals(request.getMethod())) {
                    return syncLeads(request);
                }
            }
        } catch (IOException | RuntimeException e) {
            violations.add("unreadable request " + request.getMethod() + " " + path + ": " + e);
            return error("609", "Invalid JSON");
        }
        violations.add("unexpected " + request.getMethod() + " " + path);
        return error("610", "Requested resource not found");
    }

    private MockResponse token(RecordedRequest request) {
        if (!"client_credentials".equals(request.getUrl().queryParameter("grant_type"))) {
            violations.add("grant_type " + request.getUrl().queryParameter("grant_type"));
        }
        if (!CLIENT_ID.equals(request.getUrl().queryParameter("client_id"))
                || !CLIENT_SECRET.equals(request.getUrl().queryParameter("client_secret"))) {
            return json(401, "{\"error\":\"invalid_client\",\"error_description\":\"Bad client credentials\"}");
        }
        String token = "tok-" + (++tokensIssued) + ":ab";
        tokens.put(token, Boolean.TRUE);
        return json(JSON.createObjectNode().put("access_token", token).put("token_type", "bearer")
                .put("expires_in", 3599).put("scope", "api-user@example.com"));
    }

    private MockResponse lists(RecordedRequest request) {
        int batchSize = Integer.parseInt(Objects.requireNonNullElse(request.getUrl().queryParameter("batchSize"), "300"));
        if (batchSize > 300) {
            violations.add("lists batchSize " + batchSize);
        }
        String names = request.getUrl().queryParameter("name");
        Set<String> wanted = names == null ? null : new HashSet<>(Arrays.asList(names.split(",")));
        ArrayNode result = JSON.createArrayNode();
        listNames.forEach((id, name) -> {
            if (wanted == null || wanted.contains(name)) {
                result.addObject().put("id", id).put("name", name).put("workspaceName", "Default")
                        .put("createdAt", "2026-12-01T00:00:00Z").put("updatedAt", "2026-12-01T00:00:00Z");
            }
        });
        return ok(result);
    }

    private MockResponse createList(RecordedRequest request) throws IOException {
        String type = request.getHeaders().get("Content-Type");
        if (type == null || !type.startsWith("application/x-www-form-urlencoded")) {
            violations.add("static list created with Content-Type " + type);
        }
        Map<String, String> form = form(request.getBody() == null ? "" : request.getBody().utf8());
        String name = form.get("name");
        JsonNode folder = JSON.readTree(Objects.requireNonNullElse(form.get("folder"), "{}"));
        if (name == null || name.isBlank()) {
            violations.add("static list without a name");
            return error("701", "name cannot be blank");
        }
        if (folder.path("id").asLong() != FOLDER_ID || !"Folder".equals(folder.path("type").asText())) {
            return error("710", "Parent Folder Not Found");
        }
        if (listNames.containsValue(name)) {
            violations.add("static list '" + name + "' created again");
            return error("709", "Static List with name '" + name + "' already exists");
        }
        creations.merge(name, 1, Integer::sum);
        long id = nextListId++;
        listNames.put(id, name);
        listMembers.put(id, new TreeSet<>());
        ArrayNode result = JSON.createArrayNode();
        result.addObject().put("id", id).put("name", name).set("folder", folder);
        return ok(result);
    }

    private MockResponse findLeads(RecordedRequest request) {
        Map<String, String> params = new HashMap<>();
        if ("GET".equals(request.getMethod())) {
            if (request.getRequestLine().length() > 8 * 1024) {
                // "414 Request-URI Too Long": a GET URI over 8 KB.
                return new MockResponse(414, Headers.of(), "");
            }
            for (String name : request.getUrl().queryParameterNames()) {
                params.put(name, request.getUrl().queryParameter(name));
            }
        } else {
            params.putAll(form(request.getBody() == null ? "" : request.getBody().utf8()));
        }
        if (!"email".equals(params.get("filterType"))) {
            violations.add("leads filtered on " + params.get("filterType"));
        }
        List<String> values = Arrays.asList(Objects.requireNonNullElse(params.get("filterValues"), "").split(","));
        if (values.size() > 300) {
            violations.add(values.size() + " filterValues");
            return error("1003", "Too many filter values");
        }
        ArrayNode result = JSON.createArrayNode();
        for (String value : values) {
            Long id = leads.get(value.toLowerCase(Locale.ROOT));
            if (id != null) {
                result.addObject().put("id", id).put("email", value);
            }
        }
        return ok(result);
    }

    private MockResponse syncLeads(RecordedRequest request) throws IOException {
        JsonNode body = JSON.readTree(request.getBody().toByteArray());
        JsonNode input = body.path("input");
        if (!"createOrUpdate".equals(body.path("action").asText("createOrUpdate"))
                || !"email".equals(body.path("lookupField").asText("email"))) {
            violations.add("lead sync " + body.path("action") + " on " + body.path("lookupField"));
        }
        if (input.size() > 300) {
            violations.add("lead sync of " + input.size() + " records");
            return error("1003", "Too many records");
        }
        ArrayNode result = JSON.createArrayNode();
        for (JsonNode lead : input) {
            String email = lead.path("email").asText("");
            if (!email.contains("@")) {
                result.addObject().put("status", "skipped").putArray("reasons").addObject()
                        .put("code", "1003").put("message", "Invalid data");
                continue;
            }
            String key = email.toLowerCase(Locale.ROOT);
            boolean created = !leads.containsKey(key);
            if (created) {
                leads.put(key, nextLeadId++);
            }
            result.addObject().put("id", leads.get(key)).put("status", created ? "created" : "updated");
        }
        return ok(result);
    }

    private MockResponse membership(RecordedRequest request, long listId) throws IOException {
        Set<Long> members = listMembers.get(listId);
        if (members == null) {
            return error("1013", "Object not found");
        }
        listCalls++;
        boolean add = "POST".equals(request.getMethod());
        List<Long> ids = new ArrayList<>();
        if (add) {
            for (JsonNode item : JSON.readTree(request.getBody().toByteArray()).path("input")) {
                ids.add(item.path("id").asLong());
            }
        } else if ("DELETE".equals(request.getMethod())) {
            request.getUrl().queryParameterValues("id").forEach(id -> ids.add(Long.parseLong(id)));
        } else {
            violations.add(request.getMethod() + " on list leads");
        }
        if (ids.size() > 300) {
            violations.add(ids.size() + " ids in one list call");
            return error("1003", "Too many ids");
        }
        ArrayNode result = JSON.createArrayNode();
        for (long id : ids) {
            ObjectNode entry = result.addObject().put("id", id);
            if (!leads.containsValue(id)) {
                entry.put("status", "skipped").putArray("reasons").addObject().put("code", "1004")
                        .put("message", "Lead not found");
            } else if (add) {
                members.add(id);
                entry.put("status", "added");
            } else if (members.remove(id)) {
                entry.put("status", "removed");
            } else {
                entry.put("status", "skipped").putArray("reasons").addObject().put("code", "1015")
                        .put("message", "Lead not in list");
            }
        }
        return ok(result);
    }

    private static Map<String, String> form(String body) {
        Map<String, String> form = new HashMap<>();
        for (String pair : body.split("&")) {
            int eq = pair.indexOf('=');
            if (eq > 0) {
                form.put(URLDecoder.decode(pair.substring(0, eq), StandardCharsets.UTF_8),
                        URLDecoder.decode(pair.substring(eq + 1), StandardCharsets.UTF_8));
            }
        }
        return form;
    }

    private static MockResponse json(JsonNode body) {
        return new MockResponse(200, Headers.of("Content-Type", "application/json;charset=UTF-8"), body.toString());
    }

    private static MockResponse ok(ArrayNode result) {
        ObjectNode answer = JSON.createObjectNode().put("requestId", "e42b#14272d07d78");
        answer.set("result", result);
        return json(answer.put("success", true));
    }

    /** A response-level error: HTTP 200, success false, errors[] of {code, message} ("Error Codes"). */
    private static MockResponse error(String code, String message) {
        ObjectNode answer = JSON.createObjectNode().put("requestId", "e42b#14272d07d78").put("success", false);
        answer.putArray("errors").addObject().put("code", code).put("message", message);
        return json(answer);
    }

    /** Leads that exist before the sync, one per email. */
    public synchronized void addLeads(List<String> emails) {
        emails.forEach(email -> leads.putIfAbsent(email.toLowerCase(Locale.ROOT), nextLeadId++));
    }

    /** A list made outside the connector, holding leads of these emails (created when missing). */
    public synchronized void seedList(String name, List<String> emails) {
        addLeads(emails);
        long id = nextListId++;
        listNames.put(id, name);
        Set<Long> members = new TreeSet<>();
        emails.forEach(email -> members.add(leads.get(email.toLowerCase(Locale.ROOT))));
        listMembers.put(id, members);
    }

    /** Deletes the lead of this email (its id becomes "Lead not found"). */
    public synchronized void deleteLead(String email) {
        Long id = leads.remove(email.toLowerCase(Locale.ROOT));
        if (id != null) {
            listMembers.values().forEach(members -> members.remove(id));
        }
    }

    /** Expires every token issued so far: their next use answers 602. */
    public synchronized void expireTokens() {
        tokens.replaceAll((token, valid) -> Boolean.FALSE);
    }

    /** Answers the next {@code calls} list membership calls with 606, changing nothing. */
    public synchronized void rateLimitNext(int calls) {
        rateLimitNext = calls;
    }

    /** Sets the daily quota; calls past it answer 607. */
    public synchronized void dailyQuota(int calls) {
        dailyQuota = calls;
    }

    /** Members (lower-case emails) per list name. */
    public synchronized Map<String, Set<String>> members() {
        Map<Long, String> emails = new HashMap<>();
        leads.forEach((email, id) -> emails.put(id, email));
        Map<String, Set<String>> copy = new TreeMap<>();
        listNames.forEach((id, name) -> {
            Set<String> set = new TreeSet<>();
            listMembers.get(id).forEach(lead -> set.add(emails.get(lead)));
            copy.put(name, set);
        });
        return copy;
    }

    /** Whether a lead has this email. */
    public synchronized boolean hasLead(String email) {
        return leads.containsKey(email.toLowerCase(Locale.ROOT));
    }

    /** How often each list name was created. */
    public synchronized Map<String, Integer> creations() {
        return new TreeMap<>(creations);
    }

    public synchronized int tokensIssued() {
        return tokensIssued;
    }

    /** Calls answered 602 (expired token). */
    public synchronized int expiredAnswers() {
        return expiredAnswers;
    }

    /** Calls answered 606 (rate limit). */
    public synchronized int rateLimited() {
        return rateLimited;
    }

    /** Calls answered 615 (more than 10 at once). */
    public synchronized int concurrencyLimited() {
        return concurrencyLimited;
    }

    /** The most requests seen at once. */
    public synchronized int maxInFlight() {
        return maxInFlight;
    }

    /** List membership calls answered (not throttled). */
    public synchronized int listCalls() {
        return listCalls;
    }

    /** REST calls counted against the daily quota. */
    public synchronized int callsToday() {
        return callsToday;
    }
}

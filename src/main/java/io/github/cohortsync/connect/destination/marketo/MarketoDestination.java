package io.github.cohortsync.connect.destination.marketo;

import java.io.IOException;
import java.time.Clock;
import java.time.Duration;
import java.time.ZoneId;
import java.time.ZonedDateTime;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.locks.ReentrantLock;

import com.fasterxml.jackson.core.JsonGenerator;
import com.fasterxml.jackson.databind.JsonNode;

import io.github.cohortsync.connect.config.CohortSyncConfig;
import io.github.cohortsync.connect.delivery.PermanentDeliveryException;
import io.github.cohortsync.connect.delivery.TransientDeliveryException;
import io.github.cohortsync.connect.destination.CohortNameTemplate;
import io.github.cohortsync.connect.destination.DeliveryResult;
import io.github.cohortsync.connect.destination.HttpDestination;
import io.github.cohortsync.connect.destination.KeyLocks;
import io.github.cohortsync.connect.destination.MemberValues;
import io.github.cohortsync.connect.destination.Page;
import io.github.cohortsync.connect.destination.PageAction;
import io.github.cohortsync.connect.destination.Rejection;
import io.github.cohortsync.connect.http.Answer;
import io.github.cohortsync.connect.http.AnswerReader;
import io.github.cohortsync.connect.http.DestinationCalls;
import io.github.cohortsync.connect.http.HttpClients;
import io.github.cohortsync.connect.http.JsonBodies;
import io.github.cohortsync.connect.http.Secrets;
import io.github.cohortsync.connect.record.MembershipChange;
import okhttp3.FormBody;
import okhttp3.HttpUrl;
import okhttp3.MediaType;
import okhttp3.OkHttpClient;
import okhttp3.Request;
import okhttp3.RequestBody;

/**
 * Marketo Engage static lists: each cohort is a static list, found by name or created in a configured folder; its
 * members are leads, found by email (or created, when configured), added to and removed from the list by lead id.
 * Facts, from Marketo's developer documentation (experienceleague.adobe.com/en/docs/marketo-developer, the pages
 * "Authentication", "Error Codes", "Leads", "List Membership (Static Lists)", "Static Lists", "REST API" and the
 * endpoint reference swagger-mapi.json of github.com/AdobeDocs/marketo-developer.en):
 * <ul>
 * <li>Tokens: {@code GET <identity>/oauth/token?grant_type=client_credentials&client_id=&client_secret=} answers
 * {@code access_token} and {@code expires_in} (seconds); every call sends {@code Authorization: Bearer}; 601
 * (invalid) and 602 (expired) mean "get a new token".</li>
 * <li>Errors come as HTTP 200 with {@code success: false} and {@code errors[]} of {@code {code, message}}; per
 * record, {@code result[]} entries with {@code status: skipped} and {@code reasons[]} of {@code {code, message}}.</li>
 * <li>Lists by name: {@code GET /rest/v1/lists.json?name=} (a comma-separated list of names, {@code batchSize} at
 * most 300, {@code nextPageToken}); create: {@code POST /rest/asset/v1/staticLists.json}, form-encoded
 * {@code name} and {@code folder} ({@code {"id":..,"type":"Folder"|"Program"}}).</li>
 * <li>Leads by email: {@code filterType=email}, {@code filterValues} (at most 300, comma-separated); a GET over 8 KB
 * answers 414, so the query goes as a form body of {@code POST ...?_method=GET}. Create or update: {@code POST
 * /rest/v1/leads.json} with {@code action}, {@code lookupField} and {@code input} (at most 300 records; results in
 * input order).</li>
 * <li>List membership: {@code POST} (body {@code {"input":[{"id":..}]}}) and {@code DELETE} ({@code id} query
 * parameters) {@code /rest/v1/lists/{listId}/leads.json}, at most 300 ids, answering {@code result[]} of
 * {@code {id, status}} with {@code added} / {@code removed} / {@code skipped} (1004 lead not found, 1015 lead not in
 * list).</li>
 * </ul>
 * A full sync adds the cohort's members; it does not remove the list's other members (see docs/destinations/
 * marketo.md).
 */
public final class MarketoDestination extends HttpDestination {
    /** The member property read when a record has no {@code email} field. */
    public static final String EMAIL_PROPERTY = "$email";
    /** At most 300 lead ids, filter values or lead records per call (List Membership, Leads). */
    public static final int MAX_PER_CALL = 300;

    /** Response-level codes ("Error Codes"). */
    static final String TOKEN_INVALID = "601";
    static final String TOKEN_EXPIRED = "602";
    static final String RATE_LIMIT = "606";
    static final String DAILY_QUOTA = "607";
    static final String CONCURRENCY_LIMIT = "615";
    /**
     * Marketo's "too many requests" codes and what they mean, from its "Error Codes" page
     * (experienceleague.adobe.com/en/docs/marketo-developer/marketo/rest/error-codes; help/rest-api/error-codes.md of
     * github.com/AdobeDocs/marketo-developer.en): 606, more than 100 calls in the past 20 seconds; 615, the
     * subscription already has 10 requests in progress; 607, the day's call quota is used up (resets at 12:00 AM
     * CST). The limits are the instance's, shared by every integration ("Marketo Integration Best Practices", "API
     * Limits": experienceleague.adobe.com/en/docs/marketo-developer/marketo/rest/marketo-integration-best-practices).
     */
    private static final Map<String, String> THROTTLING = Map.of(
            RATE_LIMIT, "Marketo's rate limit: more than 100 calls to the instance in 20 seconds",
            CONCURRENCY_LIMIT, "Marketo's concurrency limit: 10 calls to the instance already in progress",
            DAILY_QUOTA, "Marketo's daily API quota is used up");
    /**
     * The status a throttling answer fails with. Marketo answers HTTP 200 with the code in the body, but it means
     * "too many requests": as 429, the task counts it as rate limiting and lowers its concurrency (back pressure),
     * where a status of -1 would be taken, and logged, as a timeout or I/O error.
     */
    private static final int THROTTLED_STATUS = 429;
    /** Codes the "Error Codes" page calls temporary: time-out, API unavailable, system error, subscription unreachable,
     * transient error. */
    private static final Set<String> TEMPORARY = Set.of("604", "608", "611", "614", "713");
    /** Record-level: the lead id is not a lead ("Error Codes", 1004). */
    static final String LEAD_NOT_FOUND = "1004";
    /** Record-level: the lead is not a member of the list, on removal ("Error Codes", 1015). */
    static final String LEAD_NOT_IN_LIST = "1015";
    /** Record-level: several leads have this email, on createOrUpdate ("Error Codes", 1007). */
    static final String MULTIPLE_LEADS = "1007";
    /** The daily quota resets at 12:00 AM Central time ("Error Codes", 607; "REST API", quotas). */
    static final ZoneId QUOTA_ZONE = ZoneId.of("America/Chicago");

    private static final MediaType JSON_TYPE = MediaType.get("application/json");
    private static final String AUTH_HINT = "check marketo.client.id and marketo.client.secret (a LaunchPoint"
            + " custom service of the instance) and marketo.identity.url";
    private static final String PERMISSION_HINT = "check the role of the custom service's API-only user (Read-Write"
            + " Lead, Read-Write Assets) and the instance's IP allowlist";

    private final HttpUrl rest;
    private final HttpUrl identity;
    private final String clientId;
    private final String clientSecret;
    private final CohortNameTemplate listName;
    private final long folderId;
    private final String folderType;
    private final boolean upsertLeads;
    private final LeadIds leadIds;
    private final Clock clock;
    /** List ids by name, for the life of the task. */
    private final Map<String, Long> listIds = new ConcurrentHashMap<>();
    /** Pages of one sync may go concurrently: one looks up or creates the list, the others wait for it. */
    private final KeyLocks listLocks = new KeyLocks();
    /** The access token and when it expires (System.nanoTime); guarded by {@code this}. */
    private String token;
    private long tokenExpiresAtNanos;

    public MarketoDestination(CohortSyncConfig config) {
        this(HttpClients.create(config.httpTimeoutMs()), config.getString(MarketoKeys.ENDPOINT),
                MarketoKeys.identityUrl(config.getString(MarketoKeys.ENDPOINT),
                        config.getString(MarketoKeys.IDENTITY_URL)),
                config.getString(MarketoKeys.CLIENT_ID), config.getPassword(MarketoKeys.CLIENT_SECRET).value(),
                config.getString(MarketoKeys.LIST_NAME_TEMPLATE), config.getInt(MarketoKeys.FOLDER_ID),
                config.getString(MarketoKeys.FOLDER_TYPE), config.getBoolean(MarketoKeys.UPSERT_LEADS),
                config.getInt(MarketoKeys.LEAD_CACHE_SIZE), Clock.systemUTC());
    }

    MarketoDestination(OkHttpClient client, String endpoint, String identityUrl, String clientId, String clientSecret,
            String nameTemplate, long folderId, String folderType, boolean upsertLeads, int leadCacheSize,
            Clock clock) {
        super(new DestinationCalls(client, Secrets.of(clientSecret), AUTH_HINT));
        this.rest = HttpUrl.get(MarketoKeys.restBase(endpoint));
        this.identity = HttpUrl.get(MarketoKeys.restBase(identityUrl));
        this.clientId = clientId.trim();
        this.clientSecret = clientSecret.trim();
        this.listName = new CohortNameTemplate(nameTemplate);
        this.folderId = folderId;
        this.folderType = MarketoKeys.FOLDER_TYPES.stream().filter(t -> t.equalsIgnoreCase(folderType.trim()))
                .findFirst().orElse("Folder");
        this.upsertLeads = upsertLeads;
        this.leadIds = new LeadIds(leadCacheSize);
        this.clock = clock;
    }

    @Override
    public DeliveryResult send(Page page) throws TransientDeliveryException, PermanentDeliveryException {
        List<Rejection> rejections = new ArrayList<>();
        String rendered = listName.render(page.cohort());
        if (rendered == null) {
            for (MembershipChange member : page.members()) {
                rejections.add(new Rejection(member, "the Marketo list name template '" + listName
                        + "' needs a value cohort " + page.cohort().id() + " does not have (its name is unknown)"));
            }
            return new DeliveryResult(rejections);
        }
        // Get Lists reads its name parameter as a comma-separated list of names (swagger-mapi.json, getListsUsingGET).
        String name = rendered.replace(',', ' ');
        Map<String, List<MembershipChange>> byEmail = new LinkedHashMap<>();
        for (MembershipChange member : page.members()) {
            String email = emailOf(member);
            if (email == null) {
                rejections.add(new Rejection(member, "member " + member.distinctId() + " has no email (neither an"
                        + " email field nor a $email property): Marketo lists hold leads, found by email"));
            } else if (email.indexOf(',') >= 0) {
                rejections.add(new Rejection(member, "member " + member.distinctId() + " has an email with a"
                        + " comma, which Marketo's lead lookup (filterValues) reads as a separator"));
            } else {
                byEmail.computeIfAbsent(email.trim().toLowerCase(Locale.ROOT), k -> new ArrayList<>()).add(member);
            }
        }
        if (byEmail.isEmpty()) {
            return new DeliveryResult(rejections);
        }
        boolean add = page.action() != PageAction.REMOVE_MEMBERS;
        Long listId = add ? listIdCreatingIfMissing(name, page) : existingListId(name, page);
        if (listId == null) {
            return new DeliveryResult(rejections); // nothing to remove from a list that does not exist
        }
        Map<String, String> failures = new LinkedHashMap<>();
        Set<String> cached = new LinkedHashSet<>();
        Map<String, long[]> ids = resolve(new ArrayList<>(byEmail.keySet()), add, cached, failures, page);
        Set<String> stale = new LinkedHashSet<>();
        change(listId, add, ids, cached, stale, failures, page);
        if (!stale.isEmpty()) {
            // A cached id Marketo no longer knows (the lead was deleted or merged): resolve those emails again, once.
            stale.forEach(leadIds::forget);
            Map<String, long[]> fresh = resolve(new ArrayList<>(stale), add, new LinkedHashSet<>(), failures, page);
            change(listId, add, fresh, Set.of(), new LinkedHashSet<>(), failures, page);
        }
        failures.forEach((email, reason) -> {
            for (MembershipChange member : byEmail.get(email)) {
                rejections.add(new Rejection(member, reason.replace("{member}", member.distinctId())));
            }
        });
        return new DeliveryResult(rejections);
    }

    /**
     * Lead ids per email: cached ones first (noted in {@code cached}), then looked up 300 at a time, then, for adds
     * with {@code marketo.upsert.leads}, created. An add's email with no lead is a failure; a removal's is nothing to
     * remove.
     */
    private Map<String, long[]> resolve(List<String> emails, boolean add, Set<String> cached,
            Map<String, String> failures, Page page) throws TransientDeliveryException, PermanentDeliveryException {
        Map<String, long[]> ids = new LinkedHashMap<>();
        List<String> unknown = new ArrayList<>();
        for (String email : emails) {
            long[] known = leadIds.get(email);
            if (known != null) {
                ids.put(email, known);
                cached.add(email);
            } else {
                unknown.add(email);
            }
        }
        List<String> missing = new ArrayList<>();
        if (add && upsertLeads) {
            List<String> several = new ArrayList<>();
            for (List<String> chunk : chunks(unknown)) {
                upsert(chunk, ids, several, failures, page);
            }
            unknown = several; // several leads share these emails: their ids are looked up
        }
        for (List<String> chunk : chunks(unknown)) {
            lookUp(chunk, ids, page);
        }
        for (String email : unknown) {
            if (!ids.containsKey(email)) {
                missing.add(email);
            }
        }
        for (String email : missing) {
            if (add) {
                failures.put(email, "no Marketo lead has the email of member {member} (marketo.upsert.leads=true"
                        + " creates missing leads)");
            }
        }
        return ids;
    }

    /** Get Leads by Filter Type on email, as a form body (_method=GET) so that 300 emails never make a 414. */
    private void lookUp(List<String> emails, Map<String, long[]> ids, Page page)
            throws TransientDeliveryException, PermanentDeliveryException {
        Map<String, List<Long>> found = new LinkedHashMap<>();
        String pageToken = null;
        do {
            FormBody.Builder form = new FormBody.Builder().add("filterType", "email")
                    .add("filterValues", String.join(",", emails)).add("fields", "id,email")
                    .add("batchSize", Integer.toString(MAX_PER_CALL));
            if (pageToken != null) {
                form.add("nextPageToken", pageToken);
            }
            HttpUrl url = url("rest/v1/leads.json").newBuilder().addQueryParameter("_method", "GET").build();
            JsonNode answer = call("POST", url, form.build(), page);
            for (JsonNode lead : answer.path("result")) {
                String email = lead.path("email").asText("").trim().toLowerCase(Locale.ROOT);
                if (lead.path("id").canConvertToLong() && !email.isEmpty()) {
                    found.computeIfAbsent(email, e -> new ArrayList<>()).add(lead.path("id").asLong());
                }
            }
            pageToken = answer.path("result").size() >= MAX_PER_CALL ? answer.path("nextPageToken").asText(null)
                    : null;
        } while (pageToken != null && !pageToken.isEmpty());
        for (String email : emails) {
            List<Long> leads = found.get(email);
            if (leads != null) {
                long[] array = leads.stream().mapToLong(Long::longValue).distinct().sorted().toArray();
                ids.put(email, array);
                leadIds.put(email, array);
            }
        }
    }

    /** Sync Leads, createOrUpdate on email with the email alone: results come in input order. */
    private void upsert(List<String> emails, Map<String, long[]> ids, List<String> several,
            Map<String, String> failures, Page page) throws TransientDeliveryException, PermanentDeliveryException {
        RequestBody body = JsonBodies.write(JSON_TYPE, 80 + emails.size() * 48, "a Marketo lead sync", json -> {
            json.writeStartObject();
            json.writeStringField("action", "createOrUpdate");
            json.writeStringField("lookupField", "email");
            writeInput(json, "email", emails);
            json.writeEndObject();
        });
        JsonNode results = call("POST", url("rest/v1/leads.json"), body, page).path("result");
        for (int i = 0; i < emails.size(); i++) {
            String email = emails.get(i);
            JsonNode result = results.path(i);
            if (result.path("id").canConvertToLong() && !"skipped".equals(result.path("status").asText())) {
                long[] id = {result.path("id").asLong()};
                ids.put(email, id);
                leadIds.put(email, id);
            } else if (MULTIPLE_LEADS.equals(firstReason(result).code())) {
                several.add(email);
            } else {
                failures.put(email, "Marketo did not create or update the lead of member {member}: "
                        + firstReason(result).text(calls));
            }
        }
    }

    /**
     * Adds or removes the leads, 300 ids a call. A {@code skipped} id is a failure of its emails with Marketo's
     * reason, except a removal's "lead not in list" (already done) and a cached id's "lead not found" (noted in
     * {@code stale}, to be resolved again).
     */
    private void change(long listId, boolean add, Map<String, long[]> ids, Set<String> cached, Set<String> stale,
            Map<String, String> failures, Page page) throws TransientDeliveryException, PermanentDeliveryException {
        Map<Long, List<String>> emailsById = new LinkedHashMap<>();
        ids.forEach((email, leads) -> {
            for (long id : leads) {
                emailsById.computeIfAbsent(id, k -> new ArrayList<>()).add(email);
            }
        });
        List<Long> all = new ArrayList<>(emailsById.keySet());
        for (List<Long> chunk : chunks(all)) {
            JsonNode answer;
            if (add) {
                RequestBody body = JsonBodies.write(JSON_TYPE, 16 + chunk.size() * 20, "a Marketo list change",
                        json -> {
                            json.writeStartObject();
                            writeInput(json, "id", chunk);
                            json.writeEndObject();
                        });
                answer = call("POST", listLeads(listId), body, page);
            } else {
                HttpUrl.Builder url = listLeads(listId).newBuilder();
                chunk.forEach(id -> url.addQueryParameter("id", Long.toString(id)));
                answer = call("DELETE", url.build(), null, page);
            }
            for (JsonNode result : answer.path("result")) {
                if (!"skipped".equals(result.path("status").asText()) || !result.path("id").canConvertToLong()) {
                    continue;
                }
                Reason reason = firstReason(result);
                if (!add && LEAD_NOT_IN_LIST.equals(reason.code())) {
                    continue;
                }
                for (String email : emailsById.getOrDefault(result.path("id").asLong(), List.of())) {
                    if (LEAD_NOT_FOUND.equals(reason.code()) && cached.contains(email)) {
                        stale.add(email);
                    } else if (!failures.containsKey(email)) {
                        failures.put(email, "Marketo did not " + (add ? "add" : "remove") + " member {member} ("
                                + "lead " + result.path("id").asLong() + ")" + (add ? " to" : " from") + " the list: "
                                + reason.text(calls));
                    }
                }
            }
        }
    }

    /** {@code "input": [{"<field>": value}, ...]}, Marketo's record array (Sync Leads, Add to List). */
    private static void writeInput(JsonGenerator json, String field, List<?> values) throws IOException {
        json.writeArrayFieldStart("input");
        for (Object value : values) {
            json.writeStartObject();
            json.writeFieldName(field);
            if (value instanceof Long id) {
                json.writeNumber(id);
            } else {
                json.writeString(value.toString());
            }
            json.writeEndObject();
        }
        json.writeEndArray();
    }

    private HttpUrl listLeads(long listId) {
        return url("rest/v1/lists/" + listId + "/leads.json");
    }

    /** A record's first reason ({@code reasons[0]}), or an empty one. */
    private static Reason firstReason(JsonNode result) {
        JsonNode reason = result.path("reasons").path(0);
        return new Reason(reason.path("code").asText(""), reason.path("message").asText(""));
    }

    /** A Marketo code and message. */
    private record Reason(String code, String message) {
        /** As a message shows it: the code and the message, masked (it may quote an email). */
        String text(DestinationCalls calls) {
            String shown = code.isEmpty() ? "no reason given" : code + " " + message;
            return calls.mask(shown.strip());
        }
    }

    private Long listIdCreatingIfMissing(String name, Page page)
            throws TransientDeliveryException, PermanentDeliveryException {
        Long cached = listIds.get(name);
        if (cached != null) {
            return cached;
        }
        ReentrantLock lock = listLocks.lock(name, "Waiting for the Marketo list of " + page.describe());
        try {
            Long existing = existingListId(name, page);
            if (existing != null) {
                return existing;
            }
            RequestBody form = new FormBody.Builder()
                    .add("folder", "{\"id\":" + folderId + ",\"type\":\"" + folderType + "\"}")
                    .add("name", name).build();
            JsonNode created;
            try {
                created = call("POST", url("rest/asset/v1/staticLists.json"), form, page);
            } catch (PermanentDeliveryException e) {
                // Another task may have created it since (names are unique): use that one.
                Long raced = existingListId(name, page);
                if (raced != null) {
                    return raced;
                }
                throw e;
            }
            JsonNode id = created.path("result").path(0).path("id");
            if (!id.canConvertToLong()) {
                throw new PermanentDeliveryException("Marketo POST " + url("rest/asset/v1/staticLists.json")
                        + " for " + page.describe() + " answered without a list id");
            }
            listIds.put(name, id.asLong());
            return id.asLong();
        } finally {
            lock.unlock();
        }
    }

    /** The static list with exactly this name (the lowest id when several), read page by page; null when none. */
    private Long existingListId(String name, Page page) throws TransientDeliveryException, PermanentDeliveryException {
        Long cached = listIds.get(name);
        if (cached != null) {
            return cached;
        }
        Long lowest = null;
        String pageToken = null;
        do {
            HttpUrl.Builder url = url("rest/v1/lists.json").newBuilder().addQueryParameter("name", name)
                    .addQueryParameter("batchSize", Integer.toString(MAX_PER_CALL));
            if (pageToken != null) {
                url.addQueryParameter("nextPageToken", pageToken);
            }
            JsonNode answer = call("GET", url.build(), null, page);
            for (JsonNode list : answer.path("result")) {
                if (name.equals(list.path("name").asText(null)) && list.path("id").canConvertToLong()) {
                    long id = list.path("id").asLong();
                    lowest = lowest == null ? id : Math.min(lowest, id);
                }
            }
            pageToken = answer.path("result").size() >= MAX_PER_CALL ? answer.path("nextPageToken").asText(null)
                    : null;
        } while (pageToken != null && !pageToken.isEmpty());
        if (lowest != null) {
            listIds.put(name, lowest);
        }
        return lowest;
    }

    private HttpUrl url(String path) {
        return rest.newBuilder().addPathSegments(path).build();
    }

    private static <T> List<List<T>> chunks(List<T> items) {
        List<List<T>> chunks = new ArrayList<>();
        for (int from = 0; from < items.size(); from += MAX_PER_CALL) {
            chunks.add(items.subList(from, Math.min(items.size(), from + MAX_PER_CALL)));
        }
        return chunks;
    }

    /**
     * One REST call with the current token; a 601 or 602 answer gets a new token and the call is made once more.
     * Returns the answer when {@code success} is true, else throws by its first error code.
     */
    private JsonNode call(String method, HttpUrl url, RequestBody body, Page page)
            throws TransientDeliveryException, PermanentDeliveryException {
        String what = "Marketo " + method + " " + url.newBuilder().query(null).build() + " for " + page.describe();
        for (int attempt = 0; ; attempt++) {
            String used = token(page);
            // A wait the answer asks for (Retry-After, else X-RateLimit-Reset), read as any answer's. Marketo documents
            // none, but its limits come in a 200 answer, and the shared call path reads a wait only on a failed status.
            long[] waitHint = {-1};
            Request request = new Request.Builder().url(url).header("Authorization", "Bearer " + used)
                    .method(method, body).build();
            JsonNode answer = calls.execute(what, request, new AnswerReader<>() {
                @Override
                public JsonNode read(Answer answer) throws PermanentDeliveryException, IOException {
                    waitHint[0] = answer.waitMillis();
                    return answer.jsonObject(what);
                }

                /** 413 (over 1 MB) and 414 (URI over 8 KB) are the request's fault: permanent, by status. */
                @Override
                public JsonNode readFailure(Answer answer) {
                    return null;
                }
            });
            if (answer.path("success").asBoolean(false)) {
                return answer;
            }
            Reason error = new Reason(answer.path("errors").path(0).path("code").asText(""),
                    answer.path("errors").path(0).path("message").asText(""));
            boolean tokenRefused = TOKEN_INVALID.equals(error.code()) || TOKEN_EXPIRED.equals(error.code());
            if (tokenRefused && attempt == 0) {
                forgetToken(used);
                continue;
            }
            throw failure(what, error, tokenRefused, waitHint[0]);
        }
    }

    /**
     * Throws the failure of a {@code success: false} answer, by its first error code ("Error Codes").
     *
     * @param waitHint the wait the answer asked for, -1 for none
     */
    private PermanentDeliveryException failure(String what, Reason error, boolean tokenRefused, long waitHint)
            throws TransientDeliveryException {
        String message = what + " failed with Marketo error " + error.text(calls);
        String throttling = THROTTLING.get(error.code());
        if (DAILY_QUOTA.equals(error.code())) {
            long wait = millisUntilQuotaReset();
            throw new TransientDeliveryException(message + " (" + throttling + ", taken as HTTP "
                    + THROTTLED_STATUS + "); the quota (shared by every integration of the instance) resets at"
                    + " midnight US Central time, in " + TimeUnit.MILLISECONDS.toMinutes(wait) + " minutes: the sync"
                    + " waits (at most an hour at a time) and tries again", THROTTLED_STATUS, wait, null);
        }
        if (throttling != null) {
            // Marketo's advice for rate and concurrency limits is exponential backoff: the retry policy's, unless
            // the answer said how long to wait.
            throw new TransientDeliveryException(message + " (" + throttling + ", taken as HTTP " + THROTTLED_STATUS
                    + ")", THROTTLED_STATUS, waitHint, null);
        }
        if (tokenRefused || TEMPORARY.contains(error.code())) {
            throw new TransientDeliveryException(message, -1, -1, null);
        }
        String hint = "603".equals(error.code()) ? "; " + PERMISSION_HINT : "";
        return new PermanentDeliveryException(message + hint);
    }

    /** Milliseconds until the next midnight in {@link #QUOTA_ZONE}, plus a minute. */
    long millisUntilQuotaReset() {
        ZonedDateTime now = ZonedDateTime.now(clock.withZone(QUOTA_ZONE));
        ZonedDateTime midnight = now.toLocalDate().plusDays(1).atStartOfDay(QUOTA_ZONE);
        return Duration.between(now, midnight).toMillis() + TimeUnit.MINUTES.toMillis(1);
    }

    /** The cached token while it lasts, else a new one from the identity endpoint (one caller at a time). */
    private synchronized String token(Page page) throws TransientDeliveryException, PermanentDeliveryException {
        if (token != null && System.nanoTime() - tokenExpiresAtNanos < 0) {
            return token;
        }
        HttpUrl url = identity.newBuilder().addPathSegments("oauth/token")
                .addQueryParameter("grant_type", "client_credentials").addQueryParameter("client_id", clientId)
                .addQueryParameter("client_secret", clientSecret).build();
        // Never the query: it holds the secret.
        String what = "Marketo GET " + identity + "/oauth/token for " + page.describe();
        JsonNode answer = calls.execute(what, new Request.Builder().url(url).get().build(),
                a -> a.jsonObject(what));
        String accessToken = answer.path("access_token").asText("");
        if (accessToken.isBlank()) {
            throw new PermanentDeliveryException(what + " answered without an access_token; " + AUTH_HINT);
        }
        long seconds = Math.max(0, answer.path("expires_in").asLong(0));
        token = accessToken;
        tokenExpiresAtNanos = System.nanoTime() + TimeUnit.SECONDS.toNanos(seconds);
        return token;
    }

    /** Drops the token a call was refused with, unless another page already got a newer one. */
    private synchronized void forgetToken(String used) {
        if (used.equals(token)) {
            token = null;
        }
    }

    /** The record's {@code email}, else its {@code $email} property (Mixpanel's name for it); null when neither. */
    private static String emailOf(MembershipChange member) {
        String email = MemberValues.idText(member.email());
        return email != null ? email : MemberValues.idText(member.properties().get(EMAIL_PROPERTY));
    }

    @Override
    public boolean readsProperty(String key) {
        return EMAIL_PROPERTY.equals(key);
    }

    /**
     * Lead ids by lower-case email, the least recently used dropped first over the bound; 0 keeps nothing. Shared by
     * the pages in flight, hence synchronized.
     */
    static final class LeadIds {
        private final int bound;
        private final Map<String, long[]> ids;

        LeadIds(int bound) {
            this.bound = bound;
            this.ids = new LinkedHashMap<>(16, 0.75f, true) {
                @Override
                protected boolean removeEldestEntry(Map.Entry<String, long[]> eldest) {
                    return size() > LeadIds.this.bound;
                }
            };
        }

        synchronized long[] get(String email) {
            return ids.get(email);
        }

        synchronized void put(String email, long[] leads) {
            if (bound > 0) {
                ids.put(email, leads);
            }
        }

        synchronized void forget(String email) {
            ids.remove(email);
        }

        synchronized int size() {
            return ids.size();
        }
    }
}

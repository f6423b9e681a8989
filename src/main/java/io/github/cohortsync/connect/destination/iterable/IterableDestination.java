package io.github.cohortsync.connect.destination.iterable;

import java.io.IOException;
import java.util.ArrayList;
import java.util.IdentityHashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.locks.ReentrantLock;

import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import com.fasterxml.jackson.core.JsonGenerator;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;

import io.github.cohortsync.connect.config.CohortSyncConfig;
import io.github.cohortsync.connect.config.DestinationKeys;
import io.github.cohortsync.connect.delivery.ContentRejectedException;
import io.github.cohortsync.connect.delivery.PermanentDeliveryException;
import io.github.cohortsync.connect.delivery.TransientDeliveryException;
import io.github.cohortsync.connect.destination.CohortNameTemplate;
import io.github.cohortsync.connect.destination.DeliveryResult;
import io.github.cohortsync.connect.destination.HttpDestination;
import io.github.cohortsync.connect.destination.KeyLocks;
import io.github.cohortsync.connect.destination.ListMirror;
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
import okhttp3.HttpUrl;
import okhttp3.MediaType;
import okhttp3.OkHttpClient;
import okhttp3.Request;
import okhttp3.RequestBody;
import okio.BufferedSource;

/**
 * Iterable static lists: each cohort is a list (found by name, created when missing), adds subscribe its members and
 * removes unsubscribe them. Members are matched by {@code $iterable_user_id} when set, else by email; the answer's
 * invalid and not-found emails and user ids become rejections of exactly those members.
 */
public final class IterableDestination extends HttpDestination {
    private static final Logger log = LoggerFactory.getLogger(IterableDestination.class);
    /** The {@code properties} key that holds a member's Iterable user id. */
    public static final String USER_ID_PROPERTY = "$iterable_user_id";

    private static final MediaType JSON_TYPE = MediaType.get("application/json");
    private static final ObjectMapper JSON = new ObjectMapper();
    private static final String AUTH_HINT = "check iterable.api.key (a server-side key of the project) and"
            + " iterable.region";

    private final HttpUrl base;
    private final String apiKey;
    private final CohortNameTemplate listName;
    /** List ids by name, for the life of the task: lists are looked up once. */
    private final Map<String, Long> listIds = new ConcurrentHashMap<>();
    /** Pages of one sync may go concurrently: one of them looks up or creates a list, the others wait for it. */
    private final KeyLocks listLocks = new KeyLocks();
    /** The members of snapshots in progress, when lists are mirrored; null when they are not. */
    private final ListMirror mirror;
    private final int batchSize;
    /** Subscribers per bulk list call: a whole page, until Iterable answers BatchTooLarge. */
    private final AtomicInteger maxPerCall;
    /** Spaces this task's list exports: Iterable allows 5 per minute per project. */
    private final ExportPace exportPace;

    public IterableDestination(CohortSyncConfig config) {
        this(HttpClients.create(config.httpTimeoutMs()), baseUrl(config), config.getPassword(IterableKeys.API_KEY).value(),
                config.getString(IterableKeys.LIST_NAME_TEMPLATE),
                ListMirror.wanted(config, IterableKeys.SNAPSHOT_MIRROR), config.batchMaxSize(),
                config.getLong(IterableKeys.LIST_EXPORT_INTERVAL_MS));
    }

    IterableDestination(OkHttpClient client, String baseUrl, String apiKey, String listNameTemplate) {
        this(client, baseUrl, apiKey, listNameTemplate, false, 1000);
    }

    IterableDestination(OkHttpClient client, String baseUrl, String apiKey, String listNameTemplate,
                        boolean mirrorSnapshots, int batchSize) {
        this(client, baseUrl, apiKey, listNameTemplate, mirrorSnapshots, batchSize, 0);
    }

    IterableDestination(OkHttpClient client, String baseUrl, String apiKey, String listNameTemplate,
                        boolean mirrorSnapshots, int batchSize, long exportIntervalMs) {
        super(new DestinationCalls(client, Secrets.of(apiKey), AUTH_HINT));
        this.exportPace = new ExportPace(exportIntervalMs);
        this.base = HttpUrl.get(baseUrl.trim());
        this.apiKey = apiKey;
        this.listName = new CohortNameTemplate(listNameTemplate);
        this.mirror = mirrorSnapshots ? new ListMirror() : null;
        this.batchSize = batchSize;
        this.maxPerCall = new AtomicInteger(Integer.MAX_VALUE);
    }

    /** The API host of an Iterable data center ({@code us} or {@code eu}). */
    static String regionHost(String region) {
        return IterableKeys.HOSTS.host(region);
    }

    private static String baseUrl(CohortSyncConfig config) {
        return DestinationKeys.endpointOr(config, IterableKeys.ENDPOINT,
                () -> regionHost(config.getString(IterableKeys.REGION)));
    }

    @Override
    public DeliveryResult send(Page page) throws TransientDeliveryException, PermanentDeliveryException {
        List<Rejection> rejections = new ArrayList<>();
        String name = listName.render(page.cohort());
        CohortNameTemplate.Affixes affixes = name == null ? listName.affixes(page.cohort()) : null;
        if (name == null && affixes == null) {
            for (MembershipChange member : page.members()) {
                rejections.add(new Rejection(member, "the Iterable list name template '" + listName
                        + "' needs a value cohort " + page.cohort().id() + " does not have (its name is unknown"
                        + " when no record read named it and no name of it is remembered)"));
            }
            return new DeliveryResult(rejections);
        }
        boolean subscribe = page.action() != PageAction.REMOVE_MEMBERS;
        List<Subscriber> subscribers = new ArrayList<>(page.members().size());
        Map<String, List<MembershipChange>> byEmail = new LinkedHashMap<>();
        Map<String, List<MembershipChange>> byUserId = new LinkedHashMap<>();
        for (MembershipChange member : page.members()) {
            String userId = MemberValues.idText(member.properties().get(USER_ID_PROPERTY));
            String email = MemberValues.idText(member.email());
            if (userId != null) {
                subscribers.add(new Subscriber(userId, null));
                byUserId.computeIfAbsent(userId, k -> new ArrayList<>()).add(member);
            } else if (email != null) {
                subscribers.add(new Subscriber(null, email));
                byEmail.computeIfAbsent(email.toLowerCase(Locale.ROOT), k -> new ArrayList<>()).add(member);
            } else {
                rejections.add(new Rejection(member, "Iterable needs an email or $iterable_user_id"));
            }
        }
        if (subscribers.isEmpty()) {
            return new DeliveryResult(rejections);
        }
        Long listId = name == null ? listIdByAffixes(affixes, page)
                : subscribe ? listIdCreatingIfMissing(name, page) : existingListId(name, page);
        if (listId == null && name == null && subscribe) {
            for (Map<String, List<MembershipChange>> members : List.of(byEmail, byUserId)) {
                members.values().forEach(list -> list.forEach(member -> rejections.add(new Rejection(member,
                        "the name of cohort " + page.cohort().id() + " is unknown (no record read named it"
                                + " and no name of it is remembered) and no Iterable list named like '" + listName
                                + "' for it exists, so none can be created"))));
            }
            return new DeliveryResult(rejections);
        }
        if (listId == null) {
            // Nobody can leave a list that does not exist: nothing to send.
            return new DeliveryResult(rejections);
        }
        for (JsonNode answer : bulk(listId, subscribers, subscribe, page)) {
            rejections.addAll(rejectionsIn(answer, byEmail, byUserId));
        }
        if (mirror != null && page.action() == PageAction.MEMBERS) {
            ListMirror.Members members = mirror.record(page);
            if (page.pageNumber() == page.totalPages()) {
                unsubscribeStrangers(listId, members, page);
                mirror.forget(page);
            }
        }
        return new DeliveryResult(rejections);
    }

    /**
     * Once a snapshot subscribed every member of a cohort, unsubscribes the list's other subscribers, read from the
     * list export one line (one email) at a time and unsubscribed in batches, so memory stays bounded.
     */
    private void unsubscribeStrangers(long listId, ListMirror.Members members, Page page)
            throws TransientDeliveryException, PermanentDeliveryException {
        if (members.withoutEmail() > 0) {
            log.warn("The Iterable list of cohort {} is not mirrored: {} of its members are known by"
                    + " $iterable_user_id only, and the list export names subscribers by email", page.cohort().id(),
                    members.withoutEmail());
            return;
        }
        HttpUrl url = base.newBuilder().addPathSegments("api/lists/getUsers")
                .addQueryParameter("listId", Long.toString(listId)).build();
        String what = "Iterable GET " + base.newBuilder().addPathSegments("api/lists/getUsers").build()
                + " (list " + listId + ") to mirror cohort " + page.cohort().id();
        Request request = new Request.Builder().url(url).header("Api-Key", apiKey).get().build();
        exportPace.awaitTurn(what);
        long unsubscribed = calls.execute(what, request, new AnswerReader<>() {
            @Override
            public Long read(Answer answer)
                    throws TransientDeliveryException, PermanentDeliveryException, IOException {
                BufferedSource lines = answer.stream();
                long count = 0;
                List<Subscriber> strangers = new ArrayList<>();
                String line;
                while ((line = lines.readUtf8Line()) != null) {
                    String email = line.trim();
                    if (email.isEmpty() || members.contains(email)) {
                        continue;
                    }
                    strangers.add(new Subscriber(null, email));
                    if (strangers.size() >= batchSize) {
                        count += unsubscribe(listId, strangers, page);
                        strangers = new ArrayList<>();
                    }
                }
                return count + unsubscribe(listId, strangers, page);
            }

            @Override
            public Long readFailure(Answer answer) {
                if (answer.status() == 429) {
                    exportPace.holdBack(answer.waitMillis());
                }
                return null;
            }
        });
        if (unsubscribed > 0) {
            log.info("Mirrored the Iterable list of cohort {}: unsubscribed {} subscribers not in the snapshot",
                    page.cohort().id(), unsubscribed);
        }
    }

    private int unsubscribe(long listId, List<Subscriber> subscribers, Page page)
            throws TransientDeliveryException, PermanentDeliveryException {
        if (subscribers.isEmpty()) {
            return 0;
        }
        bulk(listId, subscribers, false, page);
        return subscribers.size();
    }

    /**
     * Subscribes or unsubscribes, in calls of at most {@link #maxPerCall} subscribers; a call Iterable answers with
     * {@code BatchTooLarge} is split in halves and each half sent again, down to single subscribers, and later
     * calls hold at most half the smallest refused call. Iterable publishes no per-call maximum (its Swagger lists
     * the error code but no limit), so batch.max.size (1000 by default) is our own choice. Returns the answers of
     * the calls made.
     */
    private List<JsonNode> bulk(long listId, List<Subscriber> subscribers, boolean subscribe, Page page)
            throws TransientDeliveryException, PermanentDeliveryException {
        List<JsonNode> answers = new ArrayList<>();
        int size = maxPerCall.get();
        for (int from = 0; from < subscribers.size(); from += size) {
            bulkSplittingWhenTooLarge(listId, subscribers.subList(from, Math.min(subscribers.size(), from + size)),
                    subscribe, page, answers);
        }
        return answers;
    }

    private void bulkSplittingWhenTooLarge(long listId, List<Subscriber> subscribers, boolean subscribe, Page page,
                                           List<JsonNode> answers)
            throws TransientDeliveryException, PermanentDeliveryException {
        String path = subscribe ? "api/lists/subscribe" : "api/lists/unsubscribe";
        try {
            answers.add(call("POST", path, subscribersBody(listId, subscribers, subscribe), page, true));
        } catch (BatchTooLargeException e) {
            if (subscribers.size() <= 1) {
                throw e;
            }
            // Later calls go at half the refused size at most: a few refusals find a size Iterable takes.
            int half = subscribers.size() / 2;
            if (maxPerCall.getAndAccumulate(half, Math::min) > half) {
                log.warn("Iterable answered BatchTooLarge to {} subscribers for {}: sending at most {} per call"
                        + " from now on", subscribers.size(), page.describe(), half);
            }
            bulkSplittingWhenTooLarge(listId, subscribers.subList(0, half), subscribe, page, answers);
            bulkSplittingWhenTooLarge(listId, subscribers.subList(half, subscribers.size()), subscribe, page,
                    answers);
        }
    }

    /** Iterable's {@code BatchTooLarge} error code: the call may succeed with fewer subscribers. */
    private static final class BatchTooLargeException extends ContentRejectedException {
        private BatchTooLargeException(String message) {
            super(message);
        }
    }

    /** One entry of a subscribe or unsubscribe call: a member by Iterable user id, or else by email. */
    private record Subscriber(String userId, String email) {
    }

    /**
     * {@code {"listId": <id>, "subscribers": [{"userId": ..., "preferUserId": true} | {"email": ...}, ...]}}, where
     * preferUserId (subscribe only) lets Iterable create a user known by id alone. Each subscriber carries an email
     * or a userId, never both (Iterable's Swagger: OptionalApiUser, Unsubscriber); an unsubscriber carries nothing
     * else (the Unsubscriber schema has no preferUserId), and {@code channelUnsubscribe} is never sent: true would
     * unsubscribe the user from the list's whole channel, a global unsubscribe.
     */
    private static RequestBody subscribersBody(long listId, List<Subscriber> subscribers, boolean subscribe) {
        return JsonBodies.write(JSON_TYPE, 64 + subscribers.size() * 64, "an Iterable list call", json -> {
            json.writeStartObject();
            json.writeNumberField("listId", listId);
            json.writeArrayFieldStart("subscribers");
            for (Subscriber subscriber : subscribers) {
                writeSubscriber(json, subscriber, subscribe);
            }
            json.writeEndArray();
            json.writeEndObject();
        });
    }

    private static void writeSubscriber(JsonGenerator json, Subscriber subscriber, boolean subscribe)
            throws IOException {
        json.writeStartObject();
        if (subscriber.userId() != null) {
            json.writeStringField("userId", subscriber.userId());
            if (subscribe) {
                json.writeBooleanField("preferUserId", true);
            }
        } else {
            json.writeStringField("email", subscriber.email());
        }
        json.writeEndObject();
    }

    /**
     * Where a bulk list answer names members it did not update, and why: the categories of {@code failedUpdates}
     * (Iterable's Swagger, definition FailedUserUpdates; failedEmails/failedUserIds from the zod schema of npm
     * {@code @iterable/api}), then the deprecated top-level invalidEmails/invalidUserIds, which older answers still
     * carry. A member named in several is rejected once, with the most specific reason.
     */
    private static final List<FailureCategory> FAILURES = List.of(
            new FailureCategory("failedUpdates", "invalidEmails", true, "Iterable reported the email of this member"
                    + " as invalid (failedUpdates.invalidEmails)"),
            new FailureCategory("failedUpdates", "invalidUserIds", false, "Iterable reported the $iterable_user_id"
                    + " of this member as invalid (failedUpdates.invalidUserIds)"),
            new FailureCategory("failedUpdates", "notFoundEmails", true, "Iterable found no user with the email of"
                    + " this member (failedUpdates.notFoundEmails)"),
            new FailureCategory("failedUpdates", "notFoundUserIds", false, "Iterable found no user with the"
                    + " $iterable_user_id of this member (failedUpdates.notFoundUserIds)"),
            new FailureCategory("failedUpdates", "forgottenEmails", true, "Iterable did not update this member: the"
                    + " user with its email was forgotten (GDPR) in Iterable (failedUpdates.forgottenEmails)"),
            new FailureCategory("failedUpdates", "forgottenUserIds", false, "Iterable did not update this member:"
                    + " the user with its $iterable_user_id was forgotten (GDPR) in Iterable"
                    + " (failedUpdates.forgottenUserIds)"),
            new FailureCategory("failedUpdates", "conflictEmails", true, "Iterable did not update this member: its"
                    + " email conflicts with an existing user (failedUpdates.conflictEmails)"),
            new FailureCategory("failedUpdates", "conflictUserIds", false, "Iterable did not update this member:"
                    + " its $iterable_user_id conflicts with an existing user (failedUpdates.conflictUserIds)"),
            new FailureCategory("failedUpdates", "invalidDataEmails", true, "Iterable did not update this member:"
                    + " invalid data other than its email (failedUpdates.invalidDataEmails)"),
            new FailureCategory("failedUpdates", "invalidDataUserIds", false, "Iterable did not update this member:"
                    + " invalid data other than its $iterable_user_id (failedUpdates.invalidDataUserIds)"),
            new FailureCategory("failedUpdates", "failedEmails", true, "Iterable reported that this member failed"
                    + " to update (failedUpdates.failedEmails)"),
            new FailureCategory("failedUpdates", "failedUserIds", false, "Iterable reported that this member failed"
                    + " to update (failedUpdates.failedUserIds)"),
            new FailureCategory(null, "invalidEmails", true, "Iterable reported the email of this member as"
                    + " invalid (invalidEmails)"),
            new FailureCategory(null, "invalidUserIds", false, "Iterable reported the $iterable_user_id of this"
                    + " member as invalid (invalidUserIds)"),
            // Not in the current spec, but answered by earlier versions of the API.
            new FailureCategory(null, "notFoundEmails", true, "Iterable found no user with the email of this"
                    + " member (notFoundEmails)"),
            new FailureCategory(null, "notFoundUserIds", false, "Iterable found no user with the $iterable_user_id"
                    + " of this member (notFoundUserIds)"));

    /** One list of identifiers in a bulk list answer: {@code parent.field}, or a top-level field. */
    private record FailureCategory(String parent, String field, boolean email, String reason) {
        JsonNode values(JsonNode answer) {
            return (parent == null ? answer : answer.path(parent)).path(field);
        }
    }

    /** The members the answer names as not updated, each once, with the first reason that names it. */
    private static List<Rejection> rejectionsIn(JsonNode answer, Map<String, List<MembershipChange>> byEmail,
                                                Map<String, List<MembershipChange>> byUserId) {
        Map<MembershipChange, String> rejected = new IdentityHashMap<>();
        List<MembershipChange> order = new ArrayList<>();
        for (FailureCategory category : FAILURES) {
            collect(category.values(answer), category.email() ? byEmail : byUserId, category.email(),
                    category.reason(), rejected, order);
        }
        return order.stream().map(m -> new Rejection(m, rejected.get(m))).toList();
    }

    private static void collect(JsonNode values, Map<String, List<MembershipChange>> members, boolean email,
                                String reason, Map<MembershipChange, String> rejected, List<MembershipChange> order) {
        for (JsonNode value : values) {
            String key = email ? value.asText().toLowerCase(Locale.ROOT) : value.asText();
            for (MembershipChange member : members.getOrDefault(key, List.of())) {
                if (rejected.putIfAbsent(member, reason) == null) {
                    order.add(member);
                }
            }
        }
    }

    /**
     * The list of a cohort whose name is unknown: the lowest id among lists named with the template's text around
     * the cohort's name (under the default template, {@code mixpanel_<any name>_<cohort id>}); null when none.
     */
    private Long listIdByAffixes(CohortNameTemplate.Affixes affixes, Page page)
            throws TransientDeliveryException, PermanentDeliveryException {
        String key = "\u0000" + affixes.prefix() + "\u0000" + affixes.suffix();
        Long cached = listIds.get(key);
        if (cached != null) {
            return cached;
        }
        Long lowest = null;
        for (JsonNode list : call("GET", "api/lists", null, page, false).path("lists")) {
            if (affixes.matches(list.path("name").asText(null)) && list.path("id").canConvertToLong()) {
                long id = list.path("id").asLong();
                lowest = lowest == null ? id : Math.min(lowest, id);
            }
        }
        if (lowest != null) {
            listIds.put(key, lowest);
        }
        return lowest;
    }

    private Long existingListId(String name, Page page) throws TransientDeliveryException, PermanentDeliveryException {
        Long cached = listIds.get(name);
        if (cached != null) {
            return cached;
        }
        Long found = lowestListId(name, page);
        if (found != null) {
            listIds.put(name, found);
        }
        return found;
    }

    /**
     * Several tasks may create the same list at once, and Iterable allows lists with the same name. After creating
     * one, the lists are read again and the lowest id with the name is used: every task settles on the same list,
     * because Iterable's list ids increase with creation, so a list created later never undercuts a cached one.
     */
    private Long listIdCreatingIfMissing(String name, Page page)
            throws TransientDeliveryException, PermanentDeliveryException {
        Long cached = listIds.get(name);
        if (cached != null) {
            return cached;
        }
        ReentrantLock lock = listLocks.lock(name, "Waiting for the Iterable list of "
                + page.describe());
        try {
            return createListIfMissing(name, page);
        } finally {
            lock.unlock();
        }
    }

    private Long createListIfMissing(String name, Page page)
            throws TransientDeliveryException, PermanentDeliveryException {
        Long existing = existingListId(name, page);
        if (existing != null) {
            return existing;
        }
        RequestBody request = JsonBodies.write(JSON_TYPE, 32 + 3 * name.length(), "an Iterable list", json -> {
            json.writeStartObject();
            json.writeStringField("name", name);
            json.writeEndObject();
        });
        JsonNode created = call("POST", "api/lists", request, page, false);
        if (!created.path("listId").canConvertToLong()) {
            throw new PermanentDeliveryException("Iterable POST /api/lists for " + page.describe()
                    + " answered without a listId");
        }
        Long lowest = lowestListId(name, page);
        long id = lowest != null ? Math.min(lowest, created.path("listId").asLong()) : created.path("listId").asLong();
        listIds.put(name, id);
        return id;
    }

    private Long lowestListId(String name, Page page) throws TransientDeliveryException, PermanentDeliveryException {
        JsonNode lists = call("GET", "api/lists", null, page, false).path("lists");
        Long lowest = null;
        for (JsonNode list : lists) {
            if (name.equals(list.path("name").asText(null)) && list.path("id").canConvertToLong()) {
                long id = list.path("id").asLong();
                lowest = lowest == null ? id : Math.min(lowest, id);
            }
        }
        return lowest;
    }

    /** One call; a call that {@code carriesMembers} (a subscribe or unsubscribe) refused for its content is split. */
    private JsonNode call(String method, String path, RequestBody body, Page page, boolean carriesMembers)
            throws TransientDeliveryException, PermanentDeliveryException {
        HttpUrl url = base.newBuilder().addPathSegments(path).build();
        String what = "Iterable " + method + " " + url + " for " + page.describe();
        Request.Builder request = new Request.Builder().url(url).header("Api-Key", apiKey).method(method, body);
        AnswerReader<JsonNode> reader = new AnswerReader<>() {
            @Override
            public JsonNode read(Answer answer) throws PermanentDeliveryException, IOException {
                return answer.jsonObject(what);
            }

            @Override
            public JsonNode readFailure(Answer answer)
                    throws TransientDeliveryException, PermanentDeliveryException, IOException {
                // Iterable's error messages may quote an email; they end up in logs.
                throwForErrorCode(what, answer, errorCode(answer.text()), answer.masked(answer.text()),
                        carriesMembers);
                return null;
            }
        };
        return carriesMembers ? calls.executeMembers(what, request.build(), reader)
                : calls.execute(what, request.build(), reader);
    }

    /** The {@code code} of Iterable's error body {@code {"code": ..., "msg": ...}} (Swagger: IterableApiResponse). */
    private static String errorCode(String answer) {
        try {
            JsonNode json = answer.isBlank() ? null : JSON.readTree(answer);
            return json != null && json.path("code").isTextual() ? json.path("code").asText() : null;
        } catch (IOException notJson) {
            return null;
        }
    }

    /**
     * Error codes that decide more than the status does: {@code RateLimitExceeded} is worth another try whatever
     * the status, and {@code BatchTooLarge} asks for a smaller call. {@code BadParams} naming a list (a list id
     * Iterable does not know, "Invalid list") is systemic: permanent and never split; another {@code BadParams} to
     * a subscribe or unsubscribe call may be a subscriber's fault, so the page is split. Other codes
     * ({@code BadApiKey}, ...) follow the status: 4xx permanent, 429 and 5xx transient.
     */
    private static void throwForErrorCode(String what, Answer response, String code, String maskedBody,
                                          boolean carriesMembers)
            throws TransientDeliveryException, PermanentDeliveryException {
        if ("RateLimitExceeded".equals(code)) {
            throw new TransientDeliveryException(what + " failed with HTTP " + response.status() + ": " + maskedBody,
                    response.status(), response.waitMillis(), null);
        }
        if ("BatchTooLarge".equals(code)) {
            throw new BatchTooLargeException(what + " failed with HTTP " + response.status() + ": " + maskedBody
                    + "; Iterable found the call too large (calls with several subscribers are split in halves)");
        }
        if ("BadParams".equals(code)) {
            String message = what + " failed with HTTP " + response.status() + ": " + maskedBody;
            if (!carriesMembers || maskedBody.toLowerCase(Locale.ROOT).contains("list")) {
                throw new PermanentDeliveryException(message + "; check the Iterable list of this cohort");
            }
            throw new ContentRejectedException(message + "; Iterable refused the parameters of this call", code);
        }
    }

    @Override
    public boolean readsProperty(String key) {
        return USER_ID_PROPERTY.equals(key);
    }

}

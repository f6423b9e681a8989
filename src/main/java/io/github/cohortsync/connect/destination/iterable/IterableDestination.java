package io.github.cohortsync.connect.destination.iterable;

import java.io.IOException;
import java.util.ArrayList;
import java.util.IdentityHashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.locks.ReentrantLock;

import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import com.fasterxml.jackson.core.JsonGenerator;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;

import io.github.cohortsync.connect.config.CohortSyncConfig;
import io.github.cohortsync.connect.config.DestinationKeys;
import io.github.cohortsync.connect.destination.CohortNameTemplate;
import io.github.cohortsync.connect.destination.DeliveryResult;
import io.github.cohortsync.connect.destination.Destination;
import io.github.cohortsync.connect.destination.MemberValues;
import io.github.cohortsync.connect.destination.KeyLocks;
import io.github.cohortsync.connect.destination.Page;
import io.github.cohortsync.connect.destination.PageAction;
import io.github.cohortsync.connect.destination.PermanentDeliveryException;
import io.github.cohortsync.connect.destination.Rejection;
import io.github.cohortsync.connect.destination.TransientDeliveryException;
import io.github.cohortsync.connect.http.HttpClients;
import io.github.cohortsync.connect.http.HttpFailures;
import io.github.cohortsync.connect.http.JsonBodies;
import io.github.cohortsync.connect.http.PersonalData;
import io.github.cohortsync.connect.record.MembershipChange;
import okhttp3.HttpUrl;
import okhttp3.MediaType;
import okhttp3.OkHttpClient;
import okhttp3.Request;
import okhttp3.RequestBody;
import okhttp3.Response;
import okhttp3.ResponseBody;
import okio.BufferedSource;

/**
 * Iterable static lists: each cohort is a list (found by name, created when missing), adds subscribe its members and
 * removes unsubscribe them. Members are matched by {@code $iterable_user_id} when set, else by email; the answer's
 * invalid and not-found emails and user ids become rejections of exactly those members.
 */
public final class IterableDestination implements Destination {
    private static final Logger log = LoggerFactory.getLogger(IterableDestination.class);
    /** The {@code properties} key that holds a member's Iterable user id. */
    public static final String USER_ID_PROPERTY = "$iterable_user_id";

    private static final MediaType JSON_TYPE = MediaType.get("application/json");
    private static final ObjectMapper JSON = new ObjectMapper();
    private static final String AUTH_HINT = "check iterable.api.key (a server-side key of the project) and"
            + " iterable.region";

    private final OkHttpClient client;
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

    public IterableDestination(CohortSyncConfig config) {
        this(HttpClients.create(config.httpTimeoutMs()), baseUrl(config), config.getPassword(IterableKeys.API_KEY).value(),
                config.getString(IterableKeys.LIST_NAME_TEMPLATE), mirrorSnapshots(config), config.batchMaxSize());
    }

    /**
     * A task sees only its partitions' members: with several tasks, mirroring one task's snapshot would unsubscribe
     * the members another task read, so the mirror needs tasks.max=1.
     */
    private static boolean mirrorSnapshots(CohortSyncConfig config) {
        if (!config.getBoolean(IterableKeys.SNAPSHOT_MIRROR)) {
            return false;
        }
        Object tasksMax = config.originals().get("tasks.max");
        if (tasksMax != null && !"1".equals(tasksMax.toString().trim())) {
            log.warn("iterable.snapshot.mirror is ignored with tasks.max={}: each task sees only part of a cohort,"
                    + " so lists are not mirrored (set tasks.max=1 to mirror them)", tasksMax);
            return false;
        }
        return true;
    }

    IterableDestination(OkHttpClient client, String baseUrl, String apiKey, String listNameTemplate) {
        this(client, baseUrl, apiKey, listNameTemplate, false, 1000);
    }

    IterableDestination(OkHttpClient client, String baseUrl, String apiKey, String listNameTemplate,
                        boolean mirrorSnapshots, int batchSize) {
        this.client = client;
        this.base = HttpUrl.get(baseUrl.trim());
        this.apiKey = apiKey;
        this.listName = new CohortNameTemplate(listNameTemplate);
        this.mirror = mirrorSnapshots ? new ListMirror() : null;
        this.batchSize = batchSize;
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
        if (name == null) {
            for (MembershipChange member : page.members()) {
                rejections.add(new Rejection(member, "the Iterable list name template '" + listName
                        + "' needs a value cohort " + page.cohort().id() + " does not have (its name is unknown"
                        + " when only tombstones of it were read since the task started)"));
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
        Long listId = subscribe ? listIdCreatingIfMissing(name, page) : existingListId(name, page);
        if (listId == null) {
            // Nobody can leave a list that does not exist: nothing to send.
            return new DeliveryResult(rejections);
        }
        String path = subscribe ? "api/lists/subscribe" : "api/lists/unsubscribe";
        JsonNode answer = call("POST", path, subscribersBody(listId, subscribers, subscribe), page);
        rejections.addAll(rejectionsIn(answer, byEmail, byUserId));
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
        long unsubscribed = 0;
        try (Response response = client.newCall(request).execute()) {
            if (!response.isSuccessful()) {
                HttpFailures.throwForStatus(what, response.code(), response.header("Retry-After"),
                        PersonalData.mask(HttpClients.readBody(response), apiKey), AUTH_HINT);
            }
            BufferedSource lines = response.body().source();
            List<Subscriber> strangers = new ArrayList<>();
            String line;
            while ((line = lines.readUtf8Line()) != null) {
                String email = line.trim();
                if (email.isEmpty() || members.contains(email)) {
                    continue;
                }
                strangers.add(new Subscriber(null, email));
                if (strangers.size() >= batchSize) {
                    unsubscribed += unsubscribe(listId, strangers, page);
                    strangers = new ArrayList<>();
                }
            }
            unsubscribed += unsubscribe(listId, strangers, page);
        } catch (IOException e) {
            throw HttpFailures.forIoError(what, e);
        }
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
        call("POST", "api/lists/unsubscribe", subscribersBody(listId, subscribers, false), page);
        return subscribers.size();
    }

    /** One entry of a subscribe or unsubscribe call: a member by Iterable user id, or else by email. */
    private record Subscriber(String userId, String email) {
    }

    /**
     * {@code {"listId": <id>, "subscribers": [{"userId": ..., "preferUserId": true} | {"email": ...}, ...]}}, where
     * preferUserId (subscribe only) lets Iterable create a user known by id alone.
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

    /** The members the answer names as invalid or not found, each once, with the first reason that names it. */
    private static List<Rejection> rejectionsIn(JsonNode answer, Map<String, List<MembershipChange>> byEmail,
                                                Map<String, List<MembershipChange>> byUserId) {
        Map<MembershipChange, String> rejected = new IdentityHashMap<>();
        List<MembershipChange> order = new ArrayList<>();
        collect(answer.path("invalidEmails"), byEmail, true,
                "Iterable reported the email of this member as invalid", rejected, order);
        collect(answer.path("invalidUserIds"), byUserId, false,
                "Iterable reported the $iterable_user_id of this member as invalid", rejected, order);
        collect(answer.path("notFoundEmails"), byEmail, true,
                "Iterable found no user with the email of this member", rejected, order);
        collect(answer.path("notFoundUserIds"), byUserId, false,
                "Iterable found no user with the $iterable_user_id of this member", rejected, order);
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
        JsonNode created = call("POST", "api/lists", request, page);
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
        JsonNode lists = call("GET", "api/lists", null, page).path("lists");
        Long lowest = null;
        for (JsonNode list : lists) {
            if (name.equals(list.path("name").asText(null)) && list.path("id").canConvertToLong()) {
                long id = list.path("id").asLong();
                lowest = lowest == null ? id : Math.min(lowest, id);
            }
        }
        return lowest;
    }

    private JsonNode call(String method, String path, RequestBody body, Page page)
            throws TransientDeliveryException, PermanentDeliveryException {
        HttpUrl url = base.newBuilder().addPathSegments(path).build();
        String what = "Iterable " + method + " " + url + " for " + page.describe();
        Request.Builder request = new Request.Builder().url(url).header("Api-Key", apiKey).method(method, body);
        try (Response response = client.newCall(request.build()).execute()) {
            ResponseBody responseBody = response.body();
            String answer = responseBody == null ? "" : responseBody.string();
            if (!response.isSuccessful()) {
                HttpFailures.throwForStatus(what, response.code(), response.header("Retry-After"),
                        // Iterable's error messages may quote an email; they end up in logs.
                        PersonalData.mask(answer, apiKey), AUTH_HINT);
            }
            try {
                JsonNode json = answer.isBlank() ? null : JSON.readTree(answer);
                if (json == null || !json.isObject()) {
                    throw new PermanentDeliveryException(what + " got an answer that is not a JSON object");
                }
                return json;
            } catch (IOException e) {
                throw new PermanentDeliveryException(what + " got an answer that is not JSON");
            }
        } catch (IOException e) {
            throw HttpFailures.forIoError(what, e);
        }
    }

    @Override
    public boolean readsProperty(String key) {
        return USER_ID_PROPERTY.equals(key);
    }

    @Override
    public void cancelInFlight() {
        client.dispatcher().cancelAll();
    }

    @Override
    public void close() {
        HttpClients.close(client);
    }
}

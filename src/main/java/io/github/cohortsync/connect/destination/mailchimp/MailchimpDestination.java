package io.github.cohortsync.connect.destination.mailchimp;

import java.io.IOException;
import java.util.ArrayList;
import java.util.IdentityHashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.locks.ReentrantLock;

import com.fasterxml.jackson.databind.JsonNode;

import io.github.cohortsync.connect.config.CohortSyncConfig;
import io.github.cohortsync.connect.config.DestinationKeys;
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
import okhttp3.Credentials;
import okhttp3.HttpUrl;
import okhttp3.MediaType;
import okhttp3.OkHttpClient;
import okhttp3.Request;
import okhttp3.RequestBody;

/**
 * Mailchimp static segments (tags) of one audience: each cohort is a static segment, found by name or created
 * empty; adds and full syncs add its members' emails, removes remove them. Facts from Mailchimp's Marketing API
 * reference (mailchimp.com/developer/marketing/api/list-segments/): list segments
 * {@code GET /3.0/lists/{list_id}/segments} with {@code type}, {@code count} (at most 1000) and {@code offset},
 * answering {@code segments[]} and {@code total_items}; add segment {@code POST /3.0/lists/{list_id}/segments} with
 * {@code name} and {@code static_segment} (an empty array creates an empty static segment); batch add or remove
 * members {@code POST /3.0/lists/{list_id}/segments/{segment_id}} with {@code members_to_add} /
 * {@code members_to_remove} (emails, at most 500 each), answering {@code errors[]} of
 * {@code {email_addresses, error}} for the emails it did not take.
 * <p>
 * A full sync adds the cohort's members but does not remove the segment's other members (not in this version),
 * and members are not created in the audience: an email that is not on it is reported by Mailchimp and rejected.
 */
public final class MailchimpDestination extends HttpDestination {
    /** At most 500 emails per members_to_add / members_to_remove (Marketing API reference). */
    public static final int MAX_EMAILS_PER_CALL = 500;
    /** The largest {@code count} of a list call (Marketing API reference: "maximum value is 1000"). */
    static final int SEGMENTS_PER_READ = 1000;

    /** The user name of the Basic auth; Mailchimp accepts any. */
    static final String USER_NAME = "cohort-sync";
    private static final MediaType JSON_TYPE = MediaType.get("application/json");
    private static final String AUTH_HINT = "check mailchimp.api.key (a Marketing API key of the account, ending in"
            + " its data centre) and mailchimp.list.id (the audience id)";

    private final HttpUrl base;
    private final String authorization;
    private final String listId;
    private final CohortNameTemplate segmentName;
    /** Segment ids by name, for the life of the task: segments are looked up once. */
    private final Map<String, Long> segmentIds = new ConcurrentHashMap<>();
    /** Pages of one sync may go concurrently: one looks up or creates the segment, the others wait for it. */
    private final KeyLocks segmentLocks = new KeyLocks();

    public MailchimpDestination(CohortSyncConfig config) {
        this(HttpClients.create(config.httpTimeoutMs()), baseUrl(config),
                config.getPassword(MailchimpKeys.API_KEY).value(), config.getString(MailchimpKeys.LIST_ID),
                config.getString(MailchimpKeys.SEGMENT_NAME_TEMPLATE));
    }

    MailchimpDestination(OkHttpClient client, String baseUrl, String apiKey, String listId, String nameTemplate) {
        super(new DestinationCalls(client, Secrets.of(basicAuth(apiKey).substring("Basic ".length()), apiKey),
                AUTH_HINT));
        this.base = HttpUrl.get(baseUrl.trim());
        this.authorization = basicAuth(apiKey);
        this.listId = listId.trim();
        this.segmentName = new CohortNameTemplate(nameTemplate);
    }

    /** Basic auth: any user name, the API key as password (Marketing API reference, "Authentication"). */
    private static String basicAuth(String apiKey) {
        return Credentials.basic(USER_NAME, apiKey.trim());
    }

    private static String baseUrl(CohortSyncConfig config) {
        return DestinationKeys.endpointOr(config, MailchimpKeys.ENDPOINT,
                () -> MailchimpKeys.host(config.getPassword(MailchimpKeys.API_KEY).value()));
    }

    @Override
    public DeliveryResult send(Page page) throws TransientDeliveryException, PermanentDeliveryException {
        List<Rejection> rejections = new ArrayList<>();
        String name = segmentName.render(page.cohort());
        if (name == null) {
            for (MembershipChange member : page.members()) {
                rejections.add(new Rejection(member, "the Mailchimp segment name template '" + segmentName
                        + "' needs a value cohort " + page.cohort().id() + " does not have (its name is unknown)"));
            }
            return new DeliveryResult(rejections);
        }
        Map<String, List<MembershipChange>> byEmail = new LinkedHashMap<>();
        for (MembershipChange member : page.members()) {
            String email = MemberValues.idText(member.email());
            if (email == null) {
                rejections.add(new Rejection(member, "member " + member.distinctId() + " has no email: Mailchimp"
                        + " segments hold audience members by email"));
            } else {
                byEmail.computeIfAbsent(email.toLowerCase(Locale.ROOT), k -> new ArrayList<>()).add(member);
            }
        }
        if (byEmail.isEmpty()) {
            return new DeliveryResult(rejections);
        }
        boolean add = page.action() != PageAction.REMOVE_MEMBERS;
        Long segmentId = add ? segmentIdCreatingIfMissing(name, page) : existingSegmentId(name, page);
        if (segmentId == null) {
            return new DeliveryResult(rejections); // nothing to remove from a segment that does not exist
        }
        List<String> emails = new ArrayList<>(byEmail.keySet());
        for (int from = 0; from < emails.size(); from += MAX_EMAILS_PER_CALL) {
            List<String> chunk = emails.subList(from, Math.min(emails.size(), from + MAX_EMAILS_PER_CALL));
            JsonNode answer = call("POST", url(segmentPath(segmentId)), membersBody(chunk, add), page, true);
            rejections.addAll(rejectionsIn(answer, byEmail, add));
        }
        return new DeliveryResult(rejections);
    }

    private List<String> segmentPath(long segmentId) {
        return List.of("3.0", "lists", listId, "segments", Long.toString(segmentId));
    }

    private static RequestBody membersBody(List<String> emails, boolean add) {
        return JsonBodies.write(JSON_TYPE, 64 + emails.size() * 40, "a Mailchimp segment call", json -> {
            json.writeStartObject();
            json.writeArrayFieldStart(add ? "members_to_add" : "members_to_remove");
            for (String email : emails) {
                json.writeString(email);
            }
            json.writeEndArray();
            json.writeEndObject();
        });
    }

    /**
     * The members the answer's {@code errors[]} names, each once, with Mailchimp's message (masked: it may quote an
     * email) and the member's distinct id, never its email.
     */
    private List<Rejection> rejectionsIn(JsonNode answer, Map<String, List<MembershipChange>> byEmail, boolean add) {
        Map<MembershipChange, Boolean> seen = new IdentityHashMap<>();
        List<Rejection> rejections = new ArrayList<>();
        for (JsonNode error : answer.path("errors")) {
            String message = calls.mask(error.path("error").asText("no message"));
            for (JsonNode email : error.path("email_addresses")) {
                for (MembershipChange member : byEmail.getOrDefault(email.asText().toLowerCase(Locale.ROOT),
                        List.of())) {
                    if (seen.put(member, Boolean.TRUE) == null) {
                        rejections.add(new Rejection(member, "Mailchimp did not " + (add ? "add" : "remove")
                                + " member " + member.distinctId() + (add ? " to" : " from") + " the segment: "
                                + message));
                    }
                }
            }
        }
        return rejections;
    }

    private Long segmentIdCreatingIfMissing(String name, Page page)
            throws TransientDeliveryException, PermanentDeliveryException {
        Long cached = segmentIds.get(name);
        if (cached != null) {
            return cached;
        }
        ReentrantLock lock = segmentLocks.lock(name, "Waiting for the Mailchimp segment of " + page.describe());
        try {
            Long existing = existingSegmentId(name, page);
            if (existing != null) {
                return existing;
            }
            RequestBody body = JsonBodies.write(JSON_TYPE, 48 + 3 * name.length(), "a Mailchimp segment", json -> {
                json.writeStartObject();
                json.writeStringField("name", name);
                json.writeArrayFieldStart("static_segment");
                json.writeEndArray();
                json.writeEndObject();
            });
            JsonNode created = call("POST", List.of("3.0", "lists", listId, "segments"), body, page);
            if (!created.path("id").canConvertToLong()) {
                throw new PermanentDeliveryException("Mailchimp POST /3.0/lists/" + listId + "/segments for "
                        + page.describe() + " answered without a segment id");
            }
            long id = created.path("id").asLong();
            segmentIds.put(name, id);
            return id;
        } finally {
            lock.unlock();
        }
    }

    /** The static segment with this name (the lowest id when several), read page by page; null when none. */
    private Long existingSegmentId(String name, Page page)
            throws TransientDeliveryException, PermanentDeliveryException {
        Long cached = segmentIds.get(name);
        if (cached != null) {
            return cached;
        }
        Long lowest = null;
        for (int offset = 0; ; offset += SEGMENTS_PER_READ) {
            HttpUrl url = url(List.of("3.0", "lists", listId, "segments")).newBuilder()
                    .addQueryParameter("type", "static")
                    .addQueryParameter("count", Integer.toString(SEGMENTS_PER_READ))
                    .addQueryParameter("offset", Integer.toString(offset)).build();
            JsonNode answer = call("GET", url, null, page, false);
            JsonNode segments = answer.path("segments");
            for (JsonNode segment : segments) {
                if (name.equals(segment.path("name").asText(null)) && segment.path("id").canConvertToLong()) {
                    long id = segment.path("id").asLong();
                    lowest = lowest == null ? id : Math.min(lowest, id);
                }
            }
            long total = answer.path("total_items").asLong(0);
            if (segments.size() < SEGMENTS_PER_READ || offset + SEGMENTS_PER_READ >= total) {
                break;
            }
        }
        if (lowest != null) {
            segmentIds.put(name, lowest);
        }
        return lowest;
    }

    private HttpUrl url(List<String> path) {
        HttpUrl.Builder url = base.newBuilder();
        path.forEach(url::addPathSegment);
        return url.build();
    }

    private JsonNode call(String method, List<String> path, RequestBody body, Page page)
            throws TransientDeliveryException, PermanentDeliveryException {
        return call(method, url(path), body, page, false);
    }

    /** One call; a call that {@code carriesMembers} refused with 400, 413 or 422 is split by the sync. */
    private JsonNode call(String method, HttpUrl url, RequestBody body, Page page, boolean carriesMembers)
            throws TransientDeliveryException, PermanentDeliveryException {
        String what = "Mailchimp " + method + " " + url + " for " + page.describe();
        Request request = new Request.Builder().url(url).header("Authorization", authorization)
                .method(method, body).build();
        AnswerReader<JsonNode> reader = new AnswerReader<>() {
            @Override
            public JsonNode read(Answer answer) throws PermanentDeliveryException, IOException {
                return answer.jsonObject(what);
            }

            /**
             * 401 (bad key), 403 (no access) and 404 (no such audience or segment) are permanent and name what to
             * check; 429 and 5xx are left to the status (transient, with Retry-After).
             */
            @Override
            public JsonNode readFailure(Answer answer) throws PermanentDeliveryException, IOException {
                int status = answer.status();
                if (status == 401 || status == 403 || status == 404) {
                    throw new PermanentDeliveryException(what + " failed with HTTP " + status + ": "
                            + answer.masked(answer.text()) + "; " + AUTH_HINT);
                }
                return null;
            }
        };
        return carriesMembers ? calls.executeMembers(what, request, reader) : calls.execute(what, request, reader);
    }

    @Override
    public boolean readsProperty(String key) {
        return false;
    }
}

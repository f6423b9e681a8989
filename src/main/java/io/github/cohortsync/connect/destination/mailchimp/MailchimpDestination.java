package io.github.cohortsync.connect.destination.mailchimp;

import java.io.IOException;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.IdentityHashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.locks.ReentrantLock;

import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import com.fasterxml.jackson.databind.JsonNode;

import io.github.cohortsync.connect.config.CohortSyncConfig;
import io.github.cohortsync.connect.config.DestinationKeys;
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
 * {@code {email_addresses, error}} for the emails it did not take; list segment members
 * {@code GET /3.0/lists/{list_id}/segments/{segment_id}/members} with {@code count} (at most 1000) and
 * {@code offset}, answering {@code members[]} ({@code email_address}) and {@code total_items}.
 * <p>
 * With {@code mailchimp.upsert.members}, emails are first added to the audience by batch subscribe
 * {@code POST /3.0/lists/{list_id}} ({@code members[]} of {@code {email_address, status}}, at most 500, with
 * {@code update_existing: false} so that existing contacts, and their consent, are left alone; Mailchimp reports
 * them in {@code errors[]} with {@code error_code} {@code ERROR_CONTACT_EXISTS}, which is not a failure). A full sync
 * with {@code mailchimp.snapshot.mirror} then removes the segment's members that are not in the snapshot.
 */
public final class MailchimpDestination extends HttpDestination {
    /** At most 500 emails per members_to_add / members_to_remove (Marketing API reference). */
    public static final int MAX_EMAILS_PER_CALL = 500;
    /** What batch subscribe answers, in {@code errors[].error_code}, for a contact already in the audience. */
    static final String CONTACT_EXISTS = "ERROR_CONTACT_EXISTS";
    /** The largest {@code count} of a list call (Marketing API reference: "maximum value is 1000"). */
    static final int SEGMENTS_PER_READ = 1000;

    /** The user name of the Basic auth; Mailchimp accepts any. */
    static final String USER_NAME = "cohort-sync";
    private static final Logger log = LoggerFactory.getLogger(MailchimpDestination.class);
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
    /** The status of contacts created before tagging, or null when unknown emails are not added to the audience. */
    private final String upsertStatus;
    /** The members of full syncs in progress, when segments are mirrored; null when they are not. */
    private final ListMirror mirror;

    public MailchimpDestination(CohortSyncConfig config) {
        this(HttpClients.create(config.httpTimeoutMs()), baseUrl(config),
                config.getPassword(MailchimpKeys.API_KEY).value(), config.getString(MailchimpKeys.LIST_ID),
                config.getString(MailchimpKeys.SEGMENT_NAME_TEMPLATE),
                config.getBoolean(MailchimpKeys.UPSERT_MEMBERS) ? config.getString(MailchimpKeys.UPSERT_STATUS)
                        .trim().toLowerCase(Locale.ROOT) : null,
                ListMirror.wanted(config, MailchimpKeys.SNAPSHOT_MIRROR));
    }

    MailchimpDestination(OkHttpClient client, String baseUrl, String apiKey, String listId, String nameTemplate) {
        this(client, baseUrl, apiKey, listId, nameTemplate, null, false);
    }

    /**
     * @param upsertStatus the status of contacts added to the audience before tagging; null to add none
     * @param mirror       whether a full sync removes the segment's members that are not in it
     */
    MailchimpDestination(OkHttpClient client, String baseUrl, String apiKey, String listId, String nameTemplate,
                         String upsertStatus, boolean mirror) {
        super(new DestinationCalls(client, Secrets.of(basicAuth(apiKey).substring("Basic ".length()), apiKey),
                AUTH_HINT));
        this.base = HttpUrl.get(baseUrl.trim());
        this.authorization = basicAuth(apiKey);
        this.listId = listId.trim();
        this.segmentName = new CohortNameTemplate(nameTemplate);
        this.upsertStatus = upsertStatus;
        this.mirror = mirror ? new ListMirror() : null;
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
        boolean endsSnapshot = mirror != null && page.action() == PageAction.MEMBERS
                && page.pageNumber() == page.totalPages();
        if (byEmail.isEmpty() && !endsSnapshot) {
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
            if (add && upsertStatus != null) {
                chunk = inAudience(chunk, byEmail, rejections, page);
            }
            if (!chunk.isEmpty()) {
                JsonNode answer = call("POST", url(segmentPath(segmentId)), membersBody(chunk, add), page, true);
                rejections.addAll(rejectionsIn(answer, byEmail, add));
            }
        }
        if (mirror != null && page.action() == PageAction.MEMBERS) {
            ListMirror.Members members = mirror.record(page);
            if (endsSnapshot) {
                removeStrangers(segmentId, members, page);
                mirror.forget(page);
            }
        }
        return new DeliveryResult(rejections);
    }

    /**
     * Adds the emails to the audience with {@link #upsertStatus}, never changing a contact that exists
     * ({@code update_existing: false}); returns the emails now in the audience. An email Mailchimp refuses for
     * another reason than "already a contact" rejects its members with Mailchimp's message (masked).
     */
    private List<String> inAudience(List<String> emails, Map<String, List<MembershipChange>> byEmail,
                                    List<Rejection> rejections, Page page)
            throws TransientDeliveryException, PermanentDeliveryException {
        RequestBody body = JsonBodies.write(JSON_TYPE, 64 + emails.size() * 72, "a Mailchimp batch subscribe",
                json -> {
                    json.writeStartObject();
                    json.writeArrayFieldStart("members");
                    for (String email : emails) {
                        json.writeStartObject();
                        json.writeStringField("email_address", email);
                        json.writeStringField("status", upsertStatus);
                        json.writeEndObject();
                    }
                    json.writeEndArray();
                    json.writeBooleanField("update_existing", false);
                    json.writeEndObject();
                });
        JsonNode answer = call("POST", List.of("3.0", "lists", listId), body, page);
        Set<String> refused = new HashSet<>();
        for (JsonNode error : answer.path("errors")) {
            if (CONTACT_EXISTS.equals(error.path("error_code").asText())) {
                continue;
            }
            String given = error.path("email_address").asText("");
            String email = given.toLowerCase(Locale.ROOT);
            if (!refused.add(email)) {
                continue;
            }
            String message = calls.mask(withoutEmail(error.path("error").asText("no message"), given));
            for (MembershipChange member : byEmail.getOrDefault(email, List.of())) {
                rejections.add(new Rejection(member, "Mailchimp did not add member " + member.distinctId()
                        + " to the audience: " + message));
            }
        }
        return refused.isEmpty() ? emails : emails.stream().filter(e -> !refused.contains(e)).toList();
    }

    /**
     * Once a full sync added every member of a cohort, removes the segment's other members: reads the segment's
     * members 1000 at a time (all pages first, since removing shifts the offsets), then removes the strangers 500
     * at a time. Holds the strangers' emails until then.
     */
    private void removeStrangers(long segmentId, ListMirror.Members members, Page page)
            throws TransientDeliveryException, PermanentDeliveryException {
        List<String> strangers = new ArrayList<>();
        List<String> path = new ArrayList<>(segmentPath(segmentId));
        path.add("members");
        for (int offset = 0; ; offset += SEGMENTS_PER_READ) {
            HttpUrl url = url(path).newBuilder()
                    .addQueryParameter("count", Integer.toString(SEGMENTS_PER_READ))
                    .addQueryParameter("offset", Integer.toString(offset)).build();
            JsonNode answer = call("GET", url, null, page, false);
            JsonNode read = answer.path("members");
            for (JsonNode member : read) {
                String email = member.path("email_address").asText("");
                if (!email.isBlank() && !members.contains(email)) {
                    strangers.add(email.toLowerCase(Locale.ROOT));
                }
            }
            if (read.size() < SEGMENTS_PER_READ || offset + SEGMENTS_PER_READ >= answer.path("total_items").asLong(0)) {
                break;
            }
        }
        for (int from = 0; from < strangers.size(); from += MAX_EMAILS_PER_CALL) {
            List<String> chunk = strangers.subList(from, Math.min(strangers.size(), from + MAX_EMAILS_PER_CALL));
            call("POST", segmentPath(segmentId), membersBody(chunk, false), page);
        }
        if (!strangers.isEmpty()) {
            log.info("Mirrored the Mailchimp segment of cohort {}: removed {} members not in the full sync",
                    page.cohort().id(), strangers.size());
        }
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
            String message = error.path("error").asText("no message");
            for (JsonNode email : error.path("email_addresses")) {
                message = withoutEmail(message, email.asText());
            }
            message = calls.mask(message);
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

    /**
     * The text without this email, as given and lower-cased: Mailchimp quotes the address it refuses, and one that
     * is not shaped like an email escapes the mask of personal data.
     */
    static String withoutEmail(String text, String email) {
        if (email == null || email.isBlank()) {
            return text;
        }
        return text.replace(email, "<email>").replace(email.toLowerCase(Locale.ROOT), "<email>");
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

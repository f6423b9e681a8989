package io.github.cohortsync.connect.destination.clevertap;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;

import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import com.fasterxml.jackson.core.JsonGenerator;
import com.fasterxml.jackson.databind.JsonNode;

import io.github.cohortsync.connect.config.CohortSyncConfig;
import io.github.cohortsync.connect.config.DestinationKeys;
import io.github.cohortsync.connect.delivery.PermanentDeliveryException;
import io.github.cohortsync.connect.delivery.TransientDeliveryException;
import io.github.cohortsync.connect.destination.DeliveryResult;
import io.github.cohortsync.connect.destination.HttpDestination;
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

/**
 * CleverTap's upload API: per member one "Partner Sync" event (as Mixpanel's own CleverTap sync sends it), plus a
 * profile record with Email/Phone when known, at most 1000 records per call.
 */
public final class CleverTapDestination extends HttpDestination {
    /** CleverTap's documented maximum of records per upload call. */
    public static final int MAX_RECORDS_PER_CALL = 1000;
    /** Members per page: at most two records each, so a full page is one call (CleverTap does not deduplicate). */
    public static final int MAX_MEMBERS_PER_PAGE = MAX_RECORDS_PER_CALL / 2;

    static final String USER_ID_PROPERTY = "$CleverTap_user_id";
    static final String EVENT_NAME = "Partner Sync";
    private static final String AUTH_HINT = "check clevertap.account.id and clevertap.passcode";
    private static final MediaType JSON_TYPE = MediaType.get("application/json; charset=utf-8");
    private static final Logger log = LoggerFactory.getLogger(CleverTapDestination.class);

    private final HttpUrl url;
    private final String accountId;
    private final String passcode;
    private final int maxRecordsPerCall;

    public CleverTapDestination(CohortSyncConfig config) {
        this(HttpClients.create(config.httpTimeoutMs()), baseUrl(config), config.getString(CleverTapKeys.ACCOUNT_ID),
                config.getPassword(CleverTapKeys.PASSCODE).value(), MAX_RECORDS_PER_CALL);
    }

    CleverTapDestination(OkHttpClient client, String baseUrl, String accountId, String passcode,
                         int maxRecordsPerCall) {
        super(new DestinationCalls(client, Secrets.of(passcode), AUTH_HINT));
        this.url = HttpClients.url(baseUrl, "1/upload");
        this.accountId = accountId.trim();
        this.passcode = passcode;
        this.maxRecordsPerCall = maxRecordsPerCall;
    }

    private static String baseUrl(CohortSyncConfig config) {
        return DestinationKeys.endpointOr(config, CleverTapKeys.ENDPOINT,
                () -> CleverTapKeys.baseUrl(config.getString(CleverTapKeys.REGION)));
    }

    @Override
    public DeliveryResult send(Page page) throws TransientDeliveryException, PermanentDeliveryException {
        List<Rejection> rejections = new ArrayList<>();
        if (page.cohort().name() == null) {
            // An event without "Partner Segment Name" would not reach the CleverTap segment the adds built.
            for (MembershipChange member : page.members()) {
                rejections.add(new Rejection(member, "the name of cohort " + page.cohort().id() + " is unknown"
                        + " (no record read named it and no name of it is remembered), and CleverTap's Partner Sync"
                        + " event needs it as 'Partner Segment Name'"));
            }
            return new DeliveryResult(rejections);
        }
        String tooLong = tooLongEventValue(page);
        if (tooLong != null) {
            for (MembershipChange member : page.members()) {
                rejections.add(new Rejection(member, tooLong));
            }
            return new DeliveryResult(rejections);
        }
        List<Upload> uploads = new ArrayList<>(page.members().size());
        for (Upload upload : uploads(page)) {
            String tooLongProfile = tooLongProfileValue(upload);
            if (tooLongProfile != null) {
                rejections.add(new Rejection(upload.member(), tooLongProfile));
            } else {
                uploads.add(upload);
            }
        }
        if (uploads.isEmpty()) {
            return new DeliveryResult(rejections);
        }
        List<List<Upload>> calls = split(uploads);
        for (int i = 0; i < calls.size(); i++) {
            String what = "CleverTap POST " + url.host() + url.encodedPath() + " with " + page.describe()
                    + (calls.size() > 1 ? " (call " + (i + 1) + " of " + calls.size() + ")" : "");
            rejections.addAll(upload(what, page, calls.get(i)));
        }
        return rejections.isEmpty() ? DeliveryResult.allAccepted() : new DeliveryResult(rejections);
    }

    /**
     * CleverTap's Upload Events API limits event keys to 120 characters and property values to 512 bytes
     * (developer.clevertap.com/docs/upload-events-api, "Body Parameters"); its Upload User Profiles API limits
     * profile keys to 120 bytes and values to 512 bytes (developer.clevertap.com/docs/upload-user-profiles-api). Our
     * keys are fixed and short; the values that come from records are checked before sending.
     */
    static final int MAX_KEY_CHARS = 120;
    static final int MAX_VALUE_BYTES = 512;

    /** Why no member of the page can be sent (its cohort's name or id is too long an event value), or null. */
    private static String tooLongEventValue(Page page) {
        for (Map.Entry<String, String> value : Map.of("Partner Segment Name", page.cohort().name(),
                "Partner Segment ID", page.cohort().id()).entrySet()) {
            int bytes = utf8Length(value.getValue());
            if (bytes > MAX_VALUE_BYTES) {
                return "the event property '" + value.getKey() + "' of cohort " + page.cohort().id() + " would be "
                        + bytes + " bytes, over CleverTap's limit of " + MAX_VALUE_BYTES + " bytes per event property"
                        + " value";
            }
        }
        return null;
    }

    /** Why this member's profile record cannot be sent (its email or phone is too long a value), or null. */
    private static String tooLongProfileValue(Upload upload) {
        if (upload.email() && utf8Length(upload.member().email()) > MAX_VALUE_BYTES) {
            return "the member's email is " + utf8Length(upload.member().email()) + " bytes, over CleverTap's limit"
                    + " of " + MAX_VALUE_BYTES + " bytes per profile value";
        }
        if (upload.phone() && utf8Length(upload.member().phoneNumber()) > MAX_VALUE_BYTES) {
            return "the member's phone number is " + utf8Length(upload.member().phoneNumber()) + " bytes, over"
                    + " CleverTap's limit of " + MAX_VALUE_BYTES + " bytes per profile value";
        }
        return null;
    }

    private static int utf8Length(String text) {
        return text == null ? 0 : text.getBytes(StandardCharsets.UTF_8).length;
    }

    /**
     * One member's records: its event and, when email or phone is known, its profile.
     *
     * @param email whether the profile carries the member's email
     * @param phone whether the profile carries the member's phone number
     */
    record Upload(MembershipChange member, String identity, boolean email, boolean phone) {
        /** 1 (the event) or 2 (the event and the profile). */
        int records() {
            return email || phone ? 2 : 1;
        }
    }

    private static List<Upload> uploads(Page page) {
        List<Upload> uploads = new ArrayList<>(page.members().size());
        for (MembershipChange member : page.members()) {
            uploads.add(new Upload(member, identity(member), !isBlank(member.email()),
                    !isBlank(member.phoneNumber())));
        }
        return uploads;
    }

    /** {@code {"d": [<event>, <profile>?, ...]}} with each member's records, in page order. */
    private static RequestBody body(Page page, List<Upload> call) {
        String action = page.action() == PageAction.REMOVE_MEMBERS ? "Removed" : "Added";
        return JsonBodies.write(JSON_TYPE, 64 + call.size() * 400, "a CleverTap upload", json -> {
            json.writeStartObject();
            json.writeArrayFieldStart("d");
            for (Upload upload : call) {
                writeEvent(json, page, action, upload);
                if (upload.records() == 2) {
                    writeProfile(json, upload);
                }
            }
            json.writeEndArray();
            json.writeEndObject();
        });
    }

    /** The Partner Sync event, as Mixpanel's own CleverTap sync sends it. */
    private static void writeEvent(JsonGenerator json, Page page, String action, Upload upload) throws IOException {
        json.writeStartObject();
        json.writeStringField("identity", upload.identity());
        json.writeStringField("type", "event");
        json.writeStringField("evtName", EVENT_NAME);
        json.writeObjectFieldStart("evtData");
        json.writeStringField("Partner Segment Name", page.cohort().name());
        json.writeStringField("Action", action);
        json.writeStringField("Partner Segment ID", page.cohort().id());
        json.writeStringField("CT Source", "Mixpanel");
        json.writeStringField("Partner Name", "Mixpanel");
        json.writeEndObject();
        // ts is in epoch seconds (CleverTap error 525: "Timestamp not in UNIX epoch format").
        json.writeNumberField("ts", Math.floorDiv(upload.member().timestampMillis(), 1000L));
        json.writeEndObject();
    }

    /** The profile record with the member's Email and Phone, whichever are known. */
    private static void writeProfile(JsonGenerator json, Upload upload) throws IOException {
        json.writeStartObject();
        json.writeStringField("identity", upload.identity());
        json.writeStringField("type", "profile");
        json.writeObjectFieldStart("profileData");
        if (upload.email()) {
            json.writeStringField("Email", upload.member().email());
        }
        if (upload.phone()) {
            json.writeStringField("Phone", upload.member().phoneNumber());
        }
        json.writeEndObject();
        json.writeEndObject();
    }

    /** $CleverTap_user_id from the member's properties when set, else the distinct id. */
    static String identity(MembershipChange member) {
        Object id = member.properties().get(USER_ID_PROPERTY);
        return id == null || id.toString().isBlank() ? member.distinctId() : id.toString();
    }

    /** Calls of at most maxRecordsPerCall records, in page order, never splitting one member's records. */
    private List<List<Upload>> split(List<Upload> uploads) {
        List<List<Upload>> calls = new ArrayList<>();
        List<Upload> call = new ArrayList<>();
        int records = 0;
        for (Upload upload : uploads) {
            if (records + upload.records() > maxRecordsPerCall && !call.isEmpty()) {
                calls.add(call);
                call = new ArrayList<>();
                records = 0;
            }
            call.add(upload);
            records += upload.records();
        }
        if (!call.isEmpty()) {
            calls.add(call);
        }
        return calls;
    }

    private List<Rejection> upload(String what, Page page, List<Upload> call)
            throws TransientDeliveryException, PermanentDeliveryException {
        Request request = new Request.Builder()
                .url(url)
                .header("X-CleverTap-Account-Id", accountId)
                .header("X-CleverTap-Passcode", passcode)
                .post(body(page, call))
                .build();
        return calls.executeMembers(what, request, new AnswerReader<>() {
            @Override
            public List<Rejection> read(Answer answer) throws PermanentDeliveryException, IOException {
                return rejections(what, call, answer.json());
            }

            @Override
            public String failureText(Answer answer) throws IOException {
                return summary(answer.json());
            }
        });
    }

    /** The unprocessed records of a 2xx answer, as rejections of exactly their members. */
    private List<Rejection> rejections(String what, List<Upload> call, JsonNode answer)
            throws PermanentDeliveryException {
        String status = answer == null ? null : answer.path("status").asText(null);
        JsonNode unprocessed = answer == null ? null : answer.path("unprocessed");
        boolean hasUnprocessed = unprocessed != null && unprocessed.isArray() && !unprocessed.isEmpty();
        if ("fail".equals(status) && !hasUnprocessed) {
            throw new PermanentDeliveryException(what + " was answered with status fail: "
                    + calls.mask(summary(answer)));
        }
        if (!hasUnprocessed) {
            return List.of();
        }
        Map<String, List<Upload>> byIdentity = new LinkedHashMap<>();
        call.forEach(upload -> byIdentity.computeIfAbsent(upload.identity(), k -> new ArrayList<>()).add(upload));
        Map<MembershipChange, Set<String>> reasons = new LinkedHashMap<>();
        for (JsonNode item : unprocessed) {
            JsonNode type = item.path("record").path("type");
            String reason = "CleverTap did not process " + (type.isTextual() ? "the " + type.asText() + " record"
                    : "a record") + ": " + calls.mask(item.path("error").asText("(no error message)"))
                    + " (code " + item.path("code").asText("none") + ")";
            JsonNode identity = item.path("record").path("identity");
            List<Upload> members = identity.isMissingNode() ? null : byIdentity.get(identity.asText());
            if (members == null) {
                log.warn("{}: an unprocessed record names no member of the call; it is not reported: {}",
                        what, reason);
                continue;
            }
            members.forEach(upload -> reasons.computeIfAbsent(upload.member(), k -> new LinkedHashSet<>())
                    .add(reason));
        }
        List<Rejection> rejections = new ArrayList<>();
        reasons.forEach((member, why) -> rejections.add(new Rejection(member, String.join("; ", why))));
        return rejections;
    }

    /** CleverTap's status and error of an answer, never its echoed records (they hold emails and phones); unmasked. */
    private static String summary(JsonNode answer) {
        if (answer == null || !answer.isObject()) {
            return null;
        }
        StringBuilder text = new StringBuilder();
        append(text, "status", answer.path("status"));
        append(text, "error", answer.path("error"));
        append(text, "code", answer.path("code"));
        append(text, "processed", answer.path("processed"));
        if (answer.path("unprocessed").isArray()) {
            text.append(text.length() == 0 ? "" : ", ").append("unprocessed: ").append(answer.path("unprocessed")
                    .size());
        }
        return text.length() == 0 ? null : text.toString();
    }

    private static void append(StringBuilder text, String name, JsonNode value) {
        if (!value.isMissingNode() && !value.isNull()) {
            text.append(text.length() == 0 ? "" : ", ").append(name).append(": ").append(value.asText());
        }
    }

    private static boolean isBlank(String text) {
        return text == null || text.isBlank();
    }

    @Override
    public boolean readsProperty(String key) {
        return USER_ID_PROPERTY.equals(key);
    }

}

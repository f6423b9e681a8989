package io.github.cohortsync.connect.destination.webhook;

import java.io.IOException;
import java.util.ArrayList;
import java.util.Collections;
import java.util.IdentityHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;

import com.fasterxml.jackson.core.JsonGenerator;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;

import io.github.cohortsync.connect.config.CohortSyncConfig;
import io.github.cohortsync.connect.delivery.ContentRejectedException;
import io.github.cohortsync.connect.delivery.PermanentDeliveryException;
import io.github.cohortsync.connect.delivery.TransientDeliveryException;
import io.github.cohortsync.connect.destination.DeliveryResult;
import io.github.cohortsync.connect.destination.HttpDestination;
import io.github.cohortsync.connect.destination.Page;
import io.github.cohortsync.connect.destination.Rejection;
import io.github.cohortsync.connect.http.DestinationCalls;
import io.github.cohortsync.connect.http.HttpClients;
import io.github.cohortsync.connect.http.HttpFailures;
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
 * The custom webhook in Mixpanel's cohort-sync format: one JSON POST per page, answered by
 * {@code {"action": <same>, "status": "success"|"failure", "error": {"message", "code"}}}.
 *
 * <p>What real receivers of the format require (docs/compatibility.md, section Webhook): the cohort name and the
 * project id are non-blank strings in every page, the cohort id is at most {@value #MAX_COHORT_ID_CHARS} characters,
 * the name at most {@value #MAX_COHORT_NAME_CHARS}, and a member's distinct id at most
 * {@value #MAX_DISTINCT_ID_BYTES} UTF-8 bytes.
 */
public final class WebhookDestination extends HttpDestination {
    /** Sent as mixpanel_project_id when neither the record nor {@code project.id} names a project. */
    public static final String DEFAULT_PROJECT_ID = "0";
    /** Flagsmith's MixpanelParametersSerializer: mixpanel_cohort_id is a CharField(max_length=255). */
    static final int MAX_COHORT_ID_CHARS = 255;
    /** Flagsmith's MixpanelParametersSerializer: mixpanel_cohort_name is a CharField(max_length=2000). */
    static final int MAX_COHORT_NAME_CHARS = 2000;
    /** Flagsmith's MixpanelMemberSerializer: an identifier of at most 1024 UTF-8 bytes (a DynamoDB sort key). */
    static final int MAX_DISTINCT_ID_BYTES = 1024;

    private static final MediaType JSON_TYPE = MediaType.get("application/json; charset=utf-8");
    private static final ObjectMapper MAPPER = new ObjectMapper();

    private final HttpUrl url;
    private final String safeUrl;
    private final String authorization;
    private final List<String> exportedProperties;

    public WebhookDestination(CohortSyncConfig config) {
        this(HttpClients.create(config.httpTimeoutMs()), config.getString(WebhookKeys.URL),
                blankToNull(config.getString(WebhookKeys.AUTH_USERNAME)),
                config.getPassword(WebhookKeys.AUTH_PASSWORD) == null ? null
                        : config.getPassword(WebhookKeys.AUTH_PASSWORD).value(),
                config.getList(WebhookKeys.PROPERTIES).stream().map(String::trim).filter(s -> !s.isEmpty()).toList());
    }

    WebhookDestination(OkHttpClient client, String url, String username, String password,
                       List<String> exportedProperties) {
        // The encoded credentials first: masking the password alone would leave the rest of them readable.
        super(new DestinationCalls(client, Secrets.of(encodedCredentials(username, password), password),
                "check webhook.auth.username and webhook.auth.password"));
        this.url = HttpUrl.get(url.trim());
        // Query strings and user info may hold tokens: messages show scheme, host and path only.
        this.safeUrl = this.url.scheme() + "://" + this.url.host() + ":" + this.url.port() + this.url.encodedPath();
        this.authorization = username == null ? null : "Basic " + encodedCredentials(username, password);
        this.exportedProperties = List.copyOf(exportedProperties);
    }

    @Override
    public DeliveryResult send(Page page) throws TransientDeliveryException, PermanentDeliveryException {
        List<Rejection> rejections = rejections(page);
        if (cohortIdTooLong(page)) {
            // Receivers refuse the cohort id itself: nothing of this cohort can go, not even an empty page.
            return new DeliveryResult(rejections);
        }
        if (!rejections.isEmpty()) {
            Set<MembershipChange> rejected = Collections.newSetFromMap(new IdentityHashMap<>());
            rejections.forEach(rejection -> rejected.add(rejection.member()));
            List<MembershipChange> kept = page.members().stream().filter(m -> !rejected.contains(m)).toList();
            // The page still goes, with the members left (maybe none): its number is part of its session, and page 1
            // of a full sync tells the receiver to replace the cohort.
            page = page.withMembers(kept);
        }
        String what = "Webhook POST " + safeUrl + " with " + page.describe();
        Request.Builder request = new Request.Builder()
                .url(url)
                .header("Idempotency-Key", page.idempotencyKey())
                .post(body(page));
        if (authorization != null) {
            request.header("Authorization", authorization);
        }
        Page sent = page;
        return calls.executeMembers(what, request.build(), answer -> {
            // Any non-2xx fails by its status, whatever the body (the envelope or not, e.g. a proxy's 401 page).
            checkAnswer(what, sent, answer.text(), answer.waitMillis());
            return rejections.isEmpty() ? DeliveryResult.allAccepted() : new DeliveryResult(rejections);
        });
    }

    /**
     * Members no receiver of the format accepts, each rejected with its reason (errant record reporter / DLQ) instead
     * of a page the receiver refuses as a whole: a distinct id over {@value #MAX_DISTINCT_ID_BYTES} UTF-8 bytes, and
     * every member of a cohort whose id is over {@value #MAX_COHORT_ID_CHARS} characters.
     */
    static List<Rejection> rejections(Page page) {
        List<Rejection> rejections = new ArrayList<>();
        int idLength = cohortIdLength(page);
        for (MembershipChange member : page.members()) {
            if (idLength > MAX_COHORT_ID_CHARS) {
                rejections.add(new Rejection(member, "the cohort id is " + idLength + " characters, over the "
                        + MAX_COHORT_ID_CHARS + " receivers of the Mixpanel webhook format accept"));
                continue;
            }
            long bytes = utf8Length(member.distinctId());
            if (bytes > MAX_DISTINCT_ID_BYTES) {
                rejections.add(new Rejection(member, "the distinct id is " + bytes + " UTF-8 bytes, over the "
                        + MAX_DISTINCT_ID_BYTES + " receivers of the Mixpanel webhook format accept"));
            }
        }
        return rejections;
    }

    private static int cohortIdLength(Page page) {
        return page.cohort().id().codePointCount(0, page.cohort().id().length());
    }

    private static boolean cohortIdTooLong(Page page) {
        return cohortIdLength(page) > MAX_COHORT_ID_CHARS;
    }

    /** The UTF-8 length of the text, without encoding it (an unpaired surrogate counts as 3 bytes). */
    static long utf8Length(String text) {
        long bytes = 0;
        for (int i = 0; i < text.length(); i++) {
            char c = text.charAt(i);
            if (c < 0x80) {
                bytes += 1;
            } else if (c < 0x800) {
                bytes += 2;
            } else if (Character.isHighSurrogate(c) && i + 1 < text.length()
                    && Character.isLowSurrogate(text.charAt(i + 1))) {
                bytes += 4;
                i++;
            } else {
                bytes += 3;
            }
        }
        return bytes;
    }

    /**
     * The cohort's name as sent: the name the page's cohort carries, else {@code Cohort <id>} (receivers refuse a
     * null or blank name), cut to {@value #MAX_COHORT_NAME_CHARS} characters (never inside a surrogate pair).
     */
    static String cohortName(Page page) {
        String name = page.cohort().name();
        if (name == null || name.isBlank()) {
            return "Cohort " + page.cohort().id();
        }
        if (name.codePointCount(0, name.length()) <= MAX_COHORT_NAME_CHARS) {
            return name;
        }
        return name.substring(0, name.offsetByCodePoints(0, MAX_COHORT_NAME_CHARS));
    }

    /** The project as sent: the page's cohort's (a record's project_id, else project.id), else "0". */
    static String projectId(Page page) {
        String id = page.cohort().projectId();
        return id == null || id.isBlank() ? DEFAULT_PROJECT_ID : id;
    }

    /**
     * The receiver must confirm the page: same action, status success. A {@code failure} is transient when its
     * {@code error.code} is (429, 5xx, as for HTTP statuses), a refusal of the content when it is 400, 413 or 422
     * (the page is split), permanent otherwise; anything else is permanent. A transient one waits {@code waitMillis},
     * the answer's {@link io.github.cohortsync.connect.http.Answer#waitMillis()}.
     */
    private void checkAnswer(String what, Page page, String answer, long waitMillis)
            throws PermanentDeliveryException, TransientDeliveryException {
        JsonNode json = HttpClients.jsonOrNull(answer);
        if (json == null || !json.isObject()) {
            throw new PermanentDeliveryException(what + " got an answer that is not a JSON object; the receiver"
                    + " must answer {\"action\": \"" + page.action().wireName() + "\", \"status\": \"success\"}"
                    + (answer == null || answer.isBlank() ? " (the body was empty)" : ""));
        }
        String action = json.path("action").asText(null);
        if (!page.action().wireName().equals(action)) {
            throw new PermanentDeliveryException(what + " got an answer for action '" + action + "' instead of '"
                    + page.action().wireName() + "'");
        }
        String status = json.path("status").asText(null);
        if ("success".equals(status)) {
            return;
        }
        if ("failure".equals(status)) {
            JsonNode error = json.path("error");
            String message = what + " was answered with status failure: "
                    + calls.mask(error.path("message").asText("(no message)")) + " (code "
                    + calls.mask(error.path("code").asText("none")) + ")";
            int code = errorCode(error.path("code"));
            if (code >= 100 && code <= 599 && HttpFailures.isTransient(code)) {
                throw new TransientDeliveryException(message, code, waitMillis, null);
            }
            if (HttpFailures.isContentRefusal(code)) {
                // Flagsmith answers an invalid payload with the envelope and code 400: a member may be the cause.
                throw new ContentRejectedException(message, String.valueOf(code));
            }
            throw new PermanentDeliveryException(message);
        }
        throw new PermanentDeliveryException(what + " got an answer with status '" + status
                + "'; expected 'success' or 'failure'");
    }

    /** The failure's {@code error.code} as an HTTP-like status (a number or a numeric string); -1 when it is not. */
    private static int errorCode(JsonNode code) {
        if (code.isIntegralNumber()) {
            return code.canConvertToInt() ? code.intValue() : -1;
        }
        if (code.isTextual()) {
            try {
                return Integer.parseInt(code.asText().trim());
            } catch (NumberFormatException e) {
                return -1;
            }
        }
        return -1;
    }

    private RequestBody body(Page page) {
        return JsonBodies.write(JSON_TYPE, 256 + page.members().size() * 160, "a webhook page", json -> {
            // Exported property values are arbitrary JSON values: the mapper writes them.
            json.setCodec(MAPPER);
            json.writeStartObject();
            json.writeStringField("action", page.action().wireName());
            json.writeObjectFieldStart("parameters");
            json.writeStringField("mixpanel_project_id", projectId(page));
            json.writeStringField("mixpanel_cohort_id", page.cohort().id());
            json.writeStringField("mixpanel_cohort_name", cohortName(page));
            json.writeStringField("mixpanel_cohort_description", page.cohort().description());
            json.writeStringField("mixpanel_session_id", page.sessionId());
            json.writeObjectFieldStart("page_info");
            json.writeNumberField("total_pages", page.totalPages());
            json.writeNumberField("page_count", page.pageNumber());
            json.writeEndObject();
            json.writeArrayFieldStart("members");
            for (MembershipChange member : page.members()) {
                writeMember(json, member);
            }
            json.writeEndArray();
            json.writeEndObject();
            json.writeEndObject();
        });
    }

    private void writeMember(JsonGenerator json, MembershipChange member) throws IOException {
        json.writeStartObject();
        json.writeStringField("email", member.email());
        json.writeStringField("mixpanel_distinct_id", member.distinctId());
        json.writeStringField("first_name", member.firstName());
        json.writeStringField("last_name", member.lastName());
        json.writeStringField("phone_number", member.phoneNumber());
        Map<String, Object> properties = member.properties();
        for (String key : exportedProperties) {
            if (properties.containsKey(key)) {
                json.writeFieldName(key);
                json.writeObject(properties.get(key));
            }
        }
        json.writeEndObject();
    }

    /** The Basic credentials as sent after "Basic "; null without a user name. */
    private static String encodedCredentials(String username, String password) {
        return username == null ? null
                : Credentials.basic(username, password == null ? "" : password).substring("Basic ".length());
    }

    private static String blankToNull(String text) {
        return text == null || text.isBlank() ? null : text;
    }

    @Override
    public boolean readsProperty(String key) {
        return exportedProperties.contains(key);
    }

}

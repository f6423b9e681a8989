package io.github.cohortsync.connect.destination.braze;

import java.io.IOException;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.UnaryOperator;
import java.util.regex.Pattern;

import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import com.fasterxml.jackson.databind.JsonNode;

import io.github.cohortsync.connect.config.CohortSyncConfig;
import io.github.cohortsync.connect.config.DestinationKeys;
import io.github.cohortsync.connect.delivery.ContentRejectedException;
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
 * Braze's /users/track in attribute mode: each member's array custom attribute gains ({@code add}) or loses
 * ({@code remove}) the cohort's name; one request per page of at most 75 attribute objects (batch.max.size), split
 * when Braze answers that the request holds too many.
 */
public final class BrazeDestination extends HttpDestination {
    /** Braze's documented maximum of attribute objects per /users/track request. */
    public static final int MAX_ATTRIBUTES_PER_REQUEST = 75;
    /** Braze's documented maximum length of a custom attribute value, in characters. */
    static final int MAX_VALUE_CHARACTERS = 255;

    static final String FALLBACK_USER_ID_FIELD = "$user_id";
    private static final String AUTH_HINT = "check braze.api.key (it needs the users.track permission)";
    private static final MediaType JSON_TYPE = MediaType.get("application/json; charset=utf-8");
    private static final Logger log = LoggerFactory.getLogger(BrazeDestination.class);

    private final HttpUrl url;
    private final String authorization;
    private final String attributeName;
    private final String userIdField;
    private final boolean updateExistingOnly;
    private final AtomicLong unattributedItemErrors = new AtomicLong();
    /** Attribute objects per request: the page's size, lowered for good when Braze answers that it is too many. */
    private final AtomicInteger maxPerCall = new AtomicInteger(MAX_ATTRIBUTES_PER_REQUEST);
    /** The cohorts of each user sent, to count users over braze.attribute.max.length; null when not counted. */
    private final AttributeLengths lengths;
    private BrazeMetrics metrics;
    /** Cohort syncs (session ids) that already logged users going over the attribute's maximum length. */
    private final Set<String> warnedSessions = ConcurrentHashMap.newKeySet();

    public BrazeDestination(CohortSyncConfig config) {
        this(HttpClients.create(config.httpTimeoutMs()), baseUrl(config),
                config.getPassword(BrazeKeys.API_KEY).value(), config.getString(BrazeKeys.ATTRIBUTE_NAME),
                config.getString(BrazeKeys.USER_ID_FIELD), config.getBoolean(BrazeKeys.UPDATE_EXISTING_ONLY),
                config.getInt(BrazeKeys.ATTRIBUTE_MAX_LENGTH));
        if (lengths != null) {
            Object connector = config.originals().get("name");
            Object task = config.originals().get(CohortSyncConfig.TASK_ID);
            metrics = BrazeMetrics.register(lengths, connector == null ? "unnamed" : connector.toString(),
                    task == null ? "0" : task.toString());
        }
    }

    BrazeDestination(OkHttpClient client, String baseUrl, String apiKey, String attributeName, String userIdField,
                     boolean updateExistingOnly) {
        this(client, baseUrl, apiKey, attributeName, userIdField, updateExistingOnly, 0);
    }

    BrazeDestination(OkHttpClient client, String baseUrl, String apiKey, String attributeName, String userIdField,
                     boolean updateExistingOnly, int attributeMaxLength) {
        super(new DestinationCalls(client, Secrets.of(apiKey), AUTH_HINT));
        this.lengths = attributeMaxLength > 0 ? new AttributeLengths(attributeMaxLength) : null;
        this.url = HttpClients.url(baseUrl, "users/track");
        this.authorization = "Bearer " + apiKey.trim();
        this.attributeName = attributeName.trim();
        this.userIdField = userIdField.trim();
        this.updateExistingOnly = updateExistingOnly;
    }

    private static String baseUrl(CohortSyncConfig config) {
        return DestinationKeys.endpointOr(config, BrazeKeys.ENDPOINT,
                () -> BrazeKeys.baseUrl(config.getString(BrazeKeys.INSTANCE)));
    }

    @Override
    public DeliveryResult send(Page page) throws TransientDeliveryException, PermanentDeliveryException {
        if (page.members().size() > MAX_ATTRIBUTES_PER_REQUEST) {
            // batch.max.size is validated against this; a larger page is a programming error, not Braze's.
            throw new IllegalArgumentException("A Braze page holds at most " + MAX_ATTRIBUTES_PER_REQUEST
                    + " members, got " + page.members().size());
        }
        List<Rejection> rejections = new ArrayList<>();
        List<MembershipChange> sent = new ArrayList<>();
        List<String> externalIds = new ArrayList<>();
        String operation = page.action() == PageAction.REMOVE_MEMBERS ? "remove" : "add";
        String cohortName = page.cohort().name();
        for (MembershipChange member : page.members()) {
            String externalId = externalId(member);
            if (externalId == null) {
                rejections.add(new Rejection(member, "no Braze user id: the record's properties have neither "
                        + userIdField + " nor " + FALLBACK_USER_ID_FIELD));
                continue;
            }
            if (cohortName == null) {
                rejections.add(new Rejection(member, "the name of cohort " + page.cohort().id()
                        + " is unknown (no record of it carried cohort_name)"));
                continue;
            }
            int nameLength = cohortName.codePointCount(0, cohortName.length());
            if (nameLength > MAX_VALUE_CHARACTERS) {
                rejections.add(new Rejection(member, "the name of cohort " + page.cohort().id() + " is "
                        + nameLength + " characters, over Braze's limit of " + MAX_VALUE_CHARACTERS
                        + " for a custom attribute value"));
                continue;
            }
            externalIds.add(externalId);
            sent.add(member);
        }
        if (sent.isEmpty()) {
            return new DeliveryResult(rejections);
        }
        String what = "Braze POST " + url.host() + url.encodedPath() + " with " + page.describe();
        int size = maxPerCall.get();
        List<Rejection> refused = new ArrayList<>();
        for (int from = 0; from < sent.size(); from += size) {
            int to = Math.min(sent.size(), from + size);
            refused.addAll(postSplittingWhenTooMany(what, externalIds.subList(from, to), operation, cohortName,
                    sent.subList(from, to)));
        }
        countLengths(page, sent, externalIds, refused);
        rejections.addAll(refused);
        return rejections.isEmpty() ? DeliveryResult.allAccepted() : new DeliveryResult(rejections);
    }

    /**
     * Records the cohort change of the members Braze accepted and, once per cohort sync, warns about the users it
     * pushed over braze.attribute.max.length, by external id only.
     */
    private void countLengths(Page page, List<MembershipChange> sent, List<String> externalIds,
                              List<Rejection> refused) {
        if (lengths == null) {
            return;
        }
        Set<MembershipChange> rejected = java.util.Collections.newSetFromMap(new java.util.IdentityHashMap<>());
        refused.forEach(r -> rejected.add(r.member()));
        List<String> accepted = new ArrayList<>(sent.size());
        for (int i = 0; i < sent.size(); i++) {
            if (!rejected.contains(sent.get(i))) {
                accepted.add(externalIds.get(i));
            }
        }
        List<String> over = lengths.apply(page.cohort().id(), accepted, page.action() != PageAction.REMOVE_MEMBERS);
        if (over.isEmpty()) {
            return;
        }
        if (warnedSessions.size() > 10_000) {
            warnedSessions.clear();
        }
        if (warnedSessions.add(page.sessionId())) {
            log.warn("{} Braze user(s) are now in more than {} cohorts (braze.attribute.max.length) through {}:"
                    + " Braze keeps only the newest values of the array attribute '{}' and drops the oldest"
                    + " without an error ({} such users known to this task); external ids: {}{}", over.size(),
                    lengths.maxLength(), page.describe(), attributeName, lengths.usersOver(),
                    over.subList(0, Math.min(10, over.size())), over.size() > 10 ? " ..." : "");
        }
    }

    /** Users this task knows to be over braze.attribute.max.length; 0 when not counted. */
    long usersOverAttributeMaxLength() {
        return lengths == null ? 0 : lengths.usersOver();
    }

    /**
     * Posts the objects; when Braze answers that the request holds too many ("400 Max Input Length Exceeded",
     * braze-docs {@code _docs/_api/errors.md}: accounts on the "Monthly Active Users CY 24-25" plan take at most 50
     * objects per request, {@code post_user_track.md}), sends each half again, down to single objects, and keeps
     * later requests at half the refused size. Set batch.max.size=50 on such an account to avoid the refusals.
     */
    private List<Rejection> postSplittingWhenTooMany(String what, List<String> externalIds, String operation,
                                                     String cohortName, List<MembershipChange> sent)
            throws TransientDeliveryException, PermanentDeliveryException {
        try {
            return post(what, body(externalIds, operation, cohortName), sent);
        } catch (TooManyObjectsException e) {
            if (sent.size() <= 1) {
                throw e;
            }
            int half = sent.size() / 2;
            if (maxPerCall.getAndAccumulate(half, Math::min) > half) {
                log.warn("{}: Braze refused {} attribute objects in one request as too many; sending at most {} per"
                        + " request from now on (set batch.max.size to your account's limit to avoid this)", what,
                        sent.size(), half);
            }
            List<Rejection> rejections = new ArrayList<>(postSplittingWhenTooMany(what, externalIds.subList(0, half),
                    operation, cohortName, sent.subList(0, half)));
            rejections.addAll(postSplittingWhenTooMany(what, externalIds.subList(half, sent.size()), operation,
                    cohortName, sent.subList(half, sent.size())));
            return rejections;
        }
    }

    /** Braze's answer to a request with more objects than the account takes; a single object refused is split on. */
    private static final class TooManyObjectsException extends ContentRejectedException {
        private TooManyObjectsException(String message) {
            super(message);
        }
    }

    /** "Max Input Length Exceeded" and "The max number of ... per request was exceeded" (braze-docs errors.md). */
    private static final Pattern TOO_MANY_OBJECTS = Pattern.compile(
            "(?i)max input length exceeded|max number of .* per request was exceeded|too many");

    /** The configured property, else $user_id; null when the record has neither. */
    String externalId(MembershipChange member) {
        return externalId(member, userIdField);
    }

    /** The member's Braze external_id: the property {@code userIdField}, else $user_id; null when it has neither. */
    static String externalId(MembershipChange member, String userIdField) {
        Map<String, Object> properties = member.properties();
        for (String field : new String[] {userIdField, FALLBACK_USER_ID_FIELD}) {
            Object value = properties.get(field);
            if (value != null && !(value instanceof Map) && !(value instanceof List) && !value.toString().isBlank()) {
                return value.toString();
            }
        }
        return null;
    }

    /**
     * {@code {"attributes": [{"external_id": <id>, "_update_existing_only": <flag>, <attribute>: {<add|remove>:
     * [<cohort name>]}}, ...]}}: one attribute object per member, in the order of {@code externalIds} (Braze's
     * errors name an object by its index). The attribute's name is never one of the object's other keys
     * (BrazeKeys.RESERVED_ATTRIBUTE_KEYS is refused by the config), so no key is written twice.
     */
    private RequestBody body(List<String> externalIds, String operation, String cohortName) {
        int expectedBytes = 32 + externalIds.size() * (96 + attributeName.length() + 3 * cohortName.length());
        return JsonBodies.write(JSON_TYPE, expectedBytes, "a Braze /users/track call", json -> {
            json.writeStartObject();
            json.writeArrayFieldStart("attributes");
            for (String externalId : externalIds) {
                json.writeStartObject();
                json.writeStringField("external_id", externalId);
                json.writeBooleanField("_update_existing_only", updateExistingOnly);
                json.writeObjectFieldStart(attributeName);
                json.writeArrayFieldStart(operation);
                json.writeString(cohortName);
                json.writeEndArray();
                json.writeEndObject();
                json.writeEndObject();
            }
            json.writeEndArray();
            json.writeEndObject();
        });
    }

    private List<Rejection> post(String what, RequestBody body, List<MembershipChange> sent)
            throws TransientDeliveryException, PermanentDeliveryException {
        Request request = new Request.Builder()
                .url(url)
                .header("Authorization", authorization)
                .post(body)
                .build();
        return calls.executeMembers(what, request, new AnswerReader<>() {
            @Override
            public List<Rejection> read(Answer answer) throws PermanentDeliveryException, IOException {
                JsonNode json = answer.json();
                ItemErrors errors = ItemErrors.of(json, sent, calls::mask);
                if (json == null || !json.isObject() || !json.hasNonNull("message")
                        || "success".equals(json.path("message").asText())) {
                    errors.logUnattributed(what, BrazeDestination.this);
                    return errors.rejections();
                }
                if (errors.coversAll(sent)) {
                    return errors.rejections();
                }
                throw new PermanentDeliveryException(what + " was answered with a fatal error: "
                        + calls.mask(summary(json)));
            }

            @Override
            public List<Rejection> readFailure(Answer answer) throws PermanentDeliveryException, IOException {
                if (answer.status() != 400) {
                    return null;
                }
                JsonNode json = answer.json();
                // Braze refuses a request whose every object is invalid ("Valid data must be provided ..."), naming
                // each object's error: those members are rejected, the call is not a failure of the sync.
                ItemErrors errors = ItemErrors.of(json, sent, calls::mask);
                if (errors.coversAll(sent)) {
                    return errors.rejections();
                }
                if (json != null && TOO_MANY_OBJECTS.matcher(json.path("message").asText("")).find()) {
                    throw new TooManyObjectsException(what + " failed with HTTP 400: " + calls.mask(summary(json))
                            + "; Braze found too many objects in the request even after splitting it");
                }
                return null;
            }

            @Override
            public String failureText(Answer answer) throws IOException {
                return summary(answer.json());
            }
        });
    }

    /** Item errors Braze reported so far that named no member of their request, so were not rejected per record. */
    long unattributedItemErrors() {
        return unattributedItemErrors.get();
    }

    /**
     * The errors of an answer, split into those that name an object of the request's attributes array (by index,
     * which rejects exactly that member) and those that do not (counted and logged, without their text beyond the
     * masked error type).
     */
    private record ItemErrors(Map<MembershipChange, List<String>> reasons, List<String> unattributedTypes) {

        static ItemErrors of(JsonNode answer, List<MembershipChange> sent, UnaryOperator<String> mask) {
            Map<MembershipChange, List<String>> reasons = new LinkedHashMap<>();
            List<String> unattributed = new ArrayList<>();
            if (answer == null || !answer.isObject()) {
                return new ItemErrors(reasons, unattributed);
            }
            for (JsonNode error : answer.path("errors")) {
                String type = mask.apply(error.path("type").asText("unnamed error"));
                JsonNode index = error.path("index");
                boolean attributes = !error.has("input_array")
                        || "attributes".equals(error.path("input_array").asText());
                if (attributes && index.canConvertToInt() && index.asInt() >= 0 && index.asInt() < sent.size()) {
                    reasons.computeIfAbsent(sent.get(index.asInt()), k -> new ArrayList<>()).add(type);
                } else {
                    unattributed.add(type);
                }
            }
            return new ItemErrors(reasons, unattributed);
        }

        boolean coversAll(List<MembershipChange> sent) {
            return unattributedTypes.isEmpty() && reasons.size() == sent.size();
        }

        List<Rejection> rejections() {
            List<Rejection> rejections = new ArrayList<>();
            reasons.forEach((member, why) -> rejections.add(new Rejection(member,
                    "Braze did not apply the attribute: " + String.join("; ", why))));
            return rejections;
        }

        void logUnattributed(String what, BrazeDestination braze) {
            if (unattributedTypes.isEmpty()) {
                return;
            }
            long total = braze.unattributedItemErrors.addAndGet(unattributedTypes.size());
            log.warn("{}: Braze reported {} item error(s) that name no object of the request's attributes array,"
                    + " so no member can be rejected for them ({} such errors since the task started); types: {}",
                    what, unattributedTypes.size(), total, unattributedTypes);
        }
    }

    /** Braze's message and errors of an answer, unmasked. */
    private static String summary(JsonNode answer) {
        if (answer == null || !answer.isObject()) {
            return null;
        }
        StringBuilder text = new StringBuilder();
        if (answer.hasNonNull("message")) {
            text.append("message: ").append(answer.path("message").asText());
        }
        if (answer.path("errors").isArray() && !answer.path("errors").isEmpty()) {
            text.append(text.length() == 0 ? "" : ", ").append("errors: ").append(answer.path("errors"));
        }
        return text.length() == 0 ? null : text.toString();
    }

    @Override
    public boolean readsProperty(String key) {
        return userIdField.equals(key) || FALLBACK_USER_ID_FIELD.equals(key);
    }

    @Override
    public void close() {
        if (metrics != null) {
            metrics.close();
        }
        super.close();
    }
}

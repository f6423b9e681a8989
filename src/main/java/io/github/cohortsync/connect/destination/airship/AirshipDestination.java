package io.github.cohortsync.connect.destination.airship;

import java.io.IOException;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;

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
 * Airship Named User tags: each cohort is one tag in one tag group; entering members get it, leaving members lose
 * it, by {@code POST /api/named_users/tags} with {@code {"audience": {"named_user_id": [...]}, "add"|"remove":
 * {"<group>": ["<tag>"]}}} (Airship API reference, Tags, "Named User tags"; the same body in
 * urbanairship/java-library {@code NamedUserTagRequest} and urbanairship/python-library {@code NamedUserTags}).
 * At most 1000 named users per request (urbanairship/agent-tools {@code skills/api/tags/SKILL.md}: "1-1000 items").
 * <p>
 * A full sync adds the tag to the cohort's members; it never removes the tag from anyone else: Airship's only
 * whole-group operation, {@code set}, replaces one named user's tags of a group, not the group's members.
 */
public final class AirshipDestination extends HttpDestination {
    /** At most 1000 named users per request (urbanairship/agent-tools, skills/api/tags/SKILL.md). */
    public static final int MAX_NAMED_USERS_PER_CALL = 1000;
    /** Airship API v3 is chosen by this Accept header (API reference, "Introduction"; every official client). */
    static final String ACCEPT = "application/vnd.urbanairship+json; version=3";

    private static final Logger log = LoggerFactory.getLogger(AirshipDestination.class);
    private static final MediaType JSON_TYPE = MediaType.get("application/json");
    private static final String AUTH_HINT = "check airship.token (a bearer token of the project), or airship.app.key"
            + " and airship.master.secret, and airship.region (a project lives in one cloud site)";

    private final HttpUrl url;
    private final String authorization;
    private final String appKey;
    private final String tagGroup;
    private final CohortNameTemplate tagName;
    private final String namedUserProperty;

    public AirshipDestination(CohortSyncConfig config) {
        this(HttpClients.create(config.httpTimeoutMs()),
                DestinationKeys.endpointOr(config, AirshipKeys.ENDPOINT,
                        () -> AirshipKeys.HOSTS.host(config.getString(AirshipKeys.REGION))),
                password(config, AirshipKeys.TOKEN), config.getString(AirshipKeys.APP_KEY),
                password(config, AirshipKeys.MASTER_SECRET), config.getString(AirshipKeys.TAG_GROUP),
                config.getString(AirshipKeys.TAG_NAME_TEMPLATE), config.getString(AirshipKeys.NAMED_USER_PROPERTY));
    }

    /**
     * @param token        a bearer token, or null to use Basic auth with the app key and master secret
     * @param appKey       the project's app key: Basic auth's user name; sent as X-UA-Appkey with a token
     */
    AirshipDestination(OkHttpClient client, String baseUrl, String token, String appKey, String masterSecret,
                       String tagGroup, String tagNameTemplate, String namedUserProperty) {
        super(new DestinationCalls(client, secrets(token, appKey, masterSecret), AUTH_HINT));
        this.url = HttpUrl.get(baseUrl.trim()).newBuilder().addPathSegments("api/named_users/tags").build();
        this.authorization = isBlank(token) ? Credentials.basic(appKey.trim(), masterSecret.trim())
                : "Bearer " + token.trim();
        this.appKey = isBlank(appKey) ? null : appKey.trim();
        this.tagGroup = tagGroup.trim();
        this.tagName = new CohortNameTemplate(tagNameTemplate);
        this.namedUserProperty = namedUserProperty.trim();
    }

    private static String password(CohortSyncConfig config, String key) {
        return config.getPassword(key) == null ? null : config.getPassword(key).value();
    }

    private static boolean isBlank(String value) {
        return value == null || value.isBlank();
    }

    /** The token, or the master secret and its Basic encoding (the app key alone is not secret). */
    private static Secrets secrets(String token, String appKey, String masterSecret) {
        if (!isBlank(token)) {
            return Secrets.of(token);
        }
        String basic = Credentials.basic(appKey.trim(), masterSecret.trim()).substring("Basic ".length());
        return Secrets.of(basic, masterSecret);
    }

    @Override
    public DeliveryResult send(Page page) throws TransientDeliveryException, PermanentDeliveryException {
        String tag = tagName.render(page.cohort());
        String tagProblem = tag == null ? "the Airship tag name template '" + tagName + "' needs a value cohort "
                + page.cohort().id() + " does not have (its name is unknown)"
                : tag.isEmpty() || tag.length() > AirshipKeys.MAX_NAME_LENGTH ? "the Airship tag of cohort "
                + page.cohort().id() + " would be " + tag.length() + " characters long; Airship takes tags of"
                + " 1-128 characters (check airship.tag.name.template)" : null;
        List<Rejection> rejections = new ArrayList<>();
        if (tagProblem != null) {
            for (MembershipChange member : page.members()) {
                rejections.add(new Rejection(member, tagProblem));
            }
            return new DeliveryResult(rejections);
        }
        Map<String, List<MembershipChange>> byNamedUser = new LinkedHashMap<>();
        for (MembershipChange member : page.members()) {
            String id = namedUserId(member);
            if (id == null) {
                rejections.add(new Rejection(member, "member " + member.distinctId() + " has no Airship Named User"
                        + " id (" + describeIdSource() + ")"));
            } else if (!id.equals(id.strip())) {
                // "This ID cannot have leading or trailing whitespace" (API reference, schemas "Named User").
                rejections.add(new Rejection(member, "the Airship Named User id of member " + member.distinctId()
                        + " (" + describeIdSource() + ") has leading or trailing whitespace, which Airship refuses"));
            } else {
                byNamedUser.computeIfAbsent(id, k -> new ArrayList<>()).add(member);
            }
        }
        boolean add = page.action() != PageAction.REMOVE_MEMBERS;
        List<String> ids = new ArrayList<>(byNamedUser.keySet());
        int warnings = 0;
        for (int from = 0; from < ids.size(); from += MAX_NAMED_USERS_PER_CALL) {
            List<String> chunk = ids.subList(from, Math.min(ids.size(), from + MAX_NAMED_USERS_PER_CALL));
            warnings += call(tagsBody(chunk, add, tag), chunk, page);
        }
        if (warnings > 0) {
            // Warnings are not shown: they may name users. A tag group that is missing or inactive warns.
            log.warn("Airship accepted the tag calls of {} with {} warning(s); check that the tag group '{}'"
                    + " (airship.tag.group) exists and is active in the project", page.describe(), warnings,
                    tagGroup);
        }
        return new DeliveryResult(rejections);
    }

    private String describeIdSource() {
        return AirshipKeys.DISTINCT_ID.equals(namedUserProperty) ? "its distinct_id"
                : "property " + namedUserProperty + ", airship.named.user.property";
    }

    /** The member's Named User id: the configured property, or the distinct_id; null when it has none. */
    private String namedUserId(MembershipChange member) {
        if (AirshipKeys.DISTINCT_ID.equals(namedUserProperty)) {
            return MemberValues.idText(member.distinctId());
        }
        return MemberValues.idText(member.properties().get(namedUserProperty));
    }

    private RequestBody tagsBody(List<String> namedUsers, boolean add, String tag) {
        return JsonBodies.write(JSON_TYPE, 96 + namedUsers.size() * 40 + tag.length(), "an Airship tag call",
                json -> {
                    json.writeStartObject();
                    json.writeObjectFieldStart("audience");
                    json.writeArrayFieldStart("named_user_id");
                    for (String id : namedUsers) {
                        json.writeString(id);
                    }
                    json.writeEndArray();
                    json.writeEndObject();
                    json.writeObjectFieldStart(add ? "add" : "remove");
                    json.writeArrayFieldStart(tagGroup);
                    json.writeString(tag);
                    json.writeEndArray();
                    json.writeEndObject();
                    json.writeEndObject();
                });
    }

    /** Makes one tag call for these named users; returns how many warnings its answer carried. */
    private int call(RequestBody body, List<String> namedUsers, Page page)
            throws TransientDeliveryException, PermanentDeliveryException {
        String what = "Airship POST " + url + " for " + page.describe();
        Request.Builder request = new Request.Builder().url(url).header("Authorization", authorization)
                .header("Accept", ACCEPT).post(body);
        if (appKey != null) {
            request.header("X-UA-Appkey", appKey);
        }
        return calls.executeMembers(what, request.build(), new AnswerReader<>() {
            /**
             * {@code {"ok": true}}, maybe with {@code warnings} (some tag groups not updated, API reference) or
             * {@code tag_warnings} (urbanairship/agent-tools): success either way; {@code "ok": false} is a failure.
             */
            @Override
            public Integer read(Answer answer) throws PermanentDeliveryException, IOException {
                JsonNode json = answer.jsonObject(what);
                if (!json.path("ok").asBoolean(true)) {
                    throw new PermanentDeliveryException(what + " answered ok=false: "
                            + answer.masked(withoutIds(json.path("error").asText("no error given"), namedUsers)));
                }
                return count(json.path("warnings")) + count(json.path("tag_warnings"));
            }

            /**
             * 401 and 403 (bad credentials; a secure tag group needs the master secret) and a 400 about the tag
             * group are systemic: no member is at fault. Any other 400 is about the request's content: left to the
             * status, which splits the page to find the members at fault (split retries), as 404, 429 and 5xx are
             * left to theirs.
             */
            @Override
            public Integer readFailure(Answer answer) throws PermanentDeliveryException, IOException {
                int status = answer.status();
                if (status == 401 || status == 403) {
                    throw new PermanentDeliveryException(what + " failed with HTTP " + status + ": "
                            + answer.masked(failureText(answer)) + "; " + AUTH_HINT);
                }
                if (status == 400 && answer.text().toLowerCase(Locale.ROOT).contains("tag group")) {
                    throw new PermanentDeliveryException(what + " failed with HTTP 400: "
                            + answer.masked(failureText(answer)) + "; check that the tag group '" + tagGroup
                            + "' (airship.tag.group) exists in the Airship project");
                }
                return null;
            }

            /** The body without the call's Named User ids: they may be personal data (a CRM id, an email). */
            @Override
            public String failureText(Answer answer) throws IOException {
                return withoutIds(answer.text(), namedUsers);
            }
        });
    }

    /**
     * The text with each of these ids of 4 characters or more replaced by {@code <named user>}, longest first (so
     * that an id inside another is not half replaced); shorter ids say nothing about a person.
     */
    static String withoutIds(String text, List<String> ids) {
        if (text == null || text.isEmpty()) {
            return text;
        }
        List<String> longestFirst = ids.stream().filter(id -> id.length() >= 4 && text.contains(id))
                .sorted(Comparator.comparingInt(String::length).reversed()).toList();
        String masked = text;
        for (String id : longestFirst) {
            masked = masked.replace(id, "<named user>");
        }
        return masked;
    }

    /** An array's size, a non-blank text as one, anything else none. */
    private static int count(JsonNode warnings) {
        if (warnings.isArray()) {
            return warnings.size();
        }
        return warnings.isTextual() && !warnings.asText().isBlank() ? 1 : 0;
    }

    @Override
    public boolean readsProperty(String key) {
        return namedUserProperty.equals(key);
    }
}

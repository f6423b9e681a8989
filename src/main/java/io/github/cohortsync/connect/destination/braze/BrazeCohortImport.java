package io.github.cohortsync.connect.destination.braze;

import java.io.IOException;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.locks.ReentrantLock;

import com.fasterxml.jackson.core.JsonGenerator;

import io.github.cohortsync.connect.config.CohortSyncConfig;
import io.github.cohortsync.connect.config.DestinationKeys;
import io.github.cohortsync.connect.delivery.PermanentDeliveryException;
import io.github.cohortsync.connect.delivery.TransientDeliveryException;
import io.github.cohortsync.connect.destination.DeliveryResult;
import io.github.cohortsync.connect.destination.HttpDestination;
import io.github.cohortsync.connect.destination.KeyLocks;
import io.github.cohortsync.connect.destination.Page;
import io.github.cohortsync.connect.destination.PageAction;
import io.github.cohortsync.connect.destination.Rejection;
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
 * Braze's partner cohort import: a cohort is named through {@code /partners/<partner>/cohorts} the first time this
 * task sends it (and again when its name changes), then its members are added or removed by external_id through
 * {@code /partners/<partner>/cohorts/users}, at most 1000 ids per call. Both keys travel in the body, none in a
 * header, as Braze documents.
 */
public final class BrazeCohortImport extends HttpDestination {
    /** Braze's documented maximum of user ids per /cohorts/users request. */
    public static final int MAX_USER_IDS_PER_REQUEST = 1000;

    private static final String AUTH_HINT = "check braze.partner.api.key (the key Braze issued for this instance's"
            + " cluster: US and EU keys differ), braze.data.import.key (the workspace's Data Import Key) and"
            + " braze.partner.name";
    private static final MediaType JSON_TYPE = MediaType.get("application/json; charset=utf-8");

    private final HttpUrl cohortsUrl;
    private final HttpUrl usersUrl;
    private final String partnerApiKey;
    private final String dataImportKey;
    private final String userIdField;
    /** Cohort id to the name Braze last accepted from this task. */
    private final Map<String, String> namedCohorts = new ConcurrentHashMap<>();
    /** Pages of one sync may go concurrently: one of them names a new cohort, the others wait for it. */
    private final KeyLocks namingLocks = new KeyLocks();

    public BrazeCohortImport(CohortSyncConfig config) {
        this(HttpClients.create(config.httpTimeoutMs()),
                DestinationKeys.endpointOr(config, BrazeKeys.ENDPOINT,
                        () -> BrazeKeys.baseUrl(config.getString(BrazeKeys.INSTANCE))),
                config.getString(BrazeKeys.PARTNER_NAME), config.getPassword(BrazeKeys.PARTNER_API_KEY).value(),
                config.getPassword(BrazeKeys.DATA_IMPORT_KEY).value(), config.getString(BrazeKeys.USER_ID_FIELD));
    }

    BrazeCohortImport(OkHttpClient client, String baseUrl, String partnerName, String partnerApiKey,
                      String dataImportKey, String userIdField) {
        super(new DestinationCalls(client, Secrets.of(partnerApiKey, dataImportKey), AUTH_HINT));
        HttpUrl partner = HttpClients.url(baseUrl, "partners").newBuilder().addPathSegment(partnerName.trim()).build();
        this.cohortsUrl = partner.newBuilder().addPathSegment("cohorts").build();
        this.usersUrl = partner.newBuilder().addPathSegments("cohorts/users").build();
        this.partnerApiKey = partnerApiKey.trim();
        this.dataImportKey = dataImportKey.trim();
        this.userIdField = userIdField.trim();
    }

    @Override
    public DeliveryResult send(Page page) throws TransientDeliveryException, PermanentDeliveryException {
        if (page.members().size() > MAX_USER_IDS_PER_REQUEST) {
            // batch.max.size is validated against this; a larger page is a programming error, not Braze's.
            throw new IllegalArgumentException("A Braze cohort import page holds at most " + MAX_USER_IDS_PER_REQUEST
                    + " members, got " + page.members().size());
        }
        List<Rejection> rejections = new ArrayList<>();
        List<String> userIds = new ArrayList<>(page.members().size());
        for (MembershipChange member : page.members()) {
            String externalId = BrazeDestination.externalId(member, userIdField);
            if (externalId == null) {
                rejections.add(new Rejection(member, "no Braze user id: the record's properties have neither "
                        + userIdField + " nor " + BrazeDestination.FALLBACK_USER_ID_FIELD + " (a tombstone carries"
                        + " none; Braze's cohort import matches users by external_id only)"));
                continue;
            }
            userIds.add(externalId);
        }
        if (userIds.isEmpty()) {
            return new DeliveryResult(rejections);
        }
        nameCohortIfNew(page);
        boolean remove = page.action() == PageAction.REMOVE_MEMBERS;
        RequestBody body = JsonBodies.write(JSON_TYPE, 256 + userIds.size() * 40, "a Braze cohort import call",
                json -> {
                    json.writeStartObject();
                    writeKeys(json, page.cohort().id());
                    json.writeArrayFieldStart("cohort_changes");
                    json.writeStartObject();
                    json.writeArrayFieldStart("user_ids");
                    for (String userId : userIds) {
                        json.writeString(userId);
                    }
                    json.writeEndArray();
                    json.writeBooleanField("should_remove", remove);
                    json.writeEndObject();
                    json.writeEndArray();
                    json.writeEndObject();
                });
        post("Braze POST " + usersUrl.host() + usersUrl.encodedPath() + " with " + page.describe(), usersUrl, body, true);
        return rejections.isEmpty() ? DeliveryResult.allAccepted() : new DeliveryResult(rejections);
    }

    /**
     * Names the cohort in Braze when this task has not yet done so under its current name. A cohort known only
     * from tombstones has no name: its members are still changed by cohort id, and it is named when a record
     * that carries its name arrives.
     */
    private void nameCohortIfNew(Page page) throws TransientDeliveryException, PermanentDeliveryException {
        String id = page.cohort().id();
        String name = cohortName(page);
        if (name == null || name.equals(namedCohorts.get(id))) {
            return;
        }
        ReentrantLock lock = namingLocks.lock(id, "Waiting for Braze cohort " + id
                + " to be named");
        try {
            if (!name.equals(namedCohorts.get(id))) {
                nameCohort(page, id, name);
            }
        } finally {
            lock.unlock();
        }
    }

    /**
     * The name to give Braze: the cohort's name, or a fallback when it is blank, because Braze answers 400 to a
     * name that is not a non-empty string (braze-docs {@code _docs/_partners/isv_partners/cohort_import.md},
     * troubleshooting); null when the name is unknown (no record read named the cohort and no
     * name of it is remembered).
     */
    static String cohortName(Page page) {
        String name = page.cohort().name();
        if (name == null) {
            return null;
        }
        return name.isBlank() ? "Mixpanel cohort " + page.cohort().id() : name;
    }

    private void nameCohort(Page page, String id, String name)
            throws TransientDeliveryException, PermanentDeliveryException {
        String createdAt = createdAt(page);
        RequestBody body = JsonBodies.write(JSON_TYPE, 256 + name.length() * 3, "a Braze cohort naming call", json -> {
            json.writeStartObject();
            writeKeys(json, id);
            json.writeStringField("name", name);
            json.writeStringField("created_at", createdAt);
            json.writeEndObject();
        });
        post("Braze POST " + cohortsUrl.host() + cohortsUrl.encodedPath() + " naming cohort " + id, cohortsUrl, body, false);
        namedCohorts.put(id, name);
    }

    /** The earliest change time of the page, as ISO-8601: stable across retries of the page. */
    private static String createdAt(Page page) {
        long earliest = page.members().stream().mapToLong(MembershipChange::timestampMillis).min().orElseThrow();
        return Instant.ofEpochMilli(earliest).toString();
    }

    /** The fields every partner call starts with: both keys (Braze reads them from the body) and the cohort. */
    private void writeKeys(JsonGenerator json, String cohortId) throws IOException {
        json.writeStringField("partner_api_key", partnerApiKey);
        json.writeStringField("client_secret", dataImportKey);
        json.writeStringField("cohort_id", cohortId);
    }

    /**
     * Braze documents no per-user outcome here (ids matching no user are ignored): any 2xx accepts the call. A call
     * that {@code carriesMembers} refused with 400, 413 or 422 is split by the sync; the naming call is not.
     */
    private void post(String what, HttpUrl url, RequestBody body, boolean carriesMembers)
            throws TransientDeliveryException, PermanentDeliveryException {
        // One of Braze's documented 401 texts quotes the client secret ("Partner not enabled for client with client
        // secret: <client secret>", braze-docs cohort_import.md): the call path masks both keys, raw or as escaped in
        // the JSON answer, so it reaches no log, no exception message and no REST status.
        Request request = new Request.Builder().url(url).post(body).build();
        if (carriesMembers) {
            calls.executeMembers(what, request, AnswerReader.acceptAny2xx());
        } else {
            calls.execute(what, request, AnswerReader.acceptAny2xx());
        }
    }

}

package io.github.cohortsync.connect.destination.segment;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.time.Clock;
import java.util.ArrayList;
import java.util.List;

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

/**
 * Segment's HTTP Tracking API: per member one {@code identify} setting the cohort's boolean trait, batched into
 * {@code POST /v1/batch} requests that stay under Segment's byte limits. A page may take several requests; a retry
 * resends them all, which is safe because every message has a {@code messageId} derived from the record's
 * coordinates and Segment deduplicates on it.
 */
public final class SegmentDestination extends HttpDestination {
    /** Segment's limits are "500 KB" per request and "32 KB" per message; read as 1000-byte KB, the safe side. */
    static final int MAX_REQUEST_BYTES = 500_000;
    static final int MAX_MESSAGE_BYTES = 32_000;

    private static final MediaType JSON_TYPE = MediaType.get("application/json");
    private static final String AUTH_HINT = "check segment.write.key (the write key of a Segment HTTP API source)"
            + " and segment.region";
    /** {"batch":[ ... ],"sentAt":"<ISO instant, at most 30 characters>"} around the messages. */
    private static final int ENVELOPE_BYTES = "{\"batch\":[],\"sentAt\":\"\"}".length() + 30;
    private static final byte[] BATCH_START = "{\"batch\":[".getBytes(StandardCharsets.UTF_8);

    private final HttpUrl batchUrl;
    private final String authorization;
    private final String userIdField;
    private final CohortNameTemplate traitName;
    private final String connectorName;
    private final Clock clock;

    public SegmentDestination(CohortSyncConfig config, String connectorName) {
        this(HttpClients.create(config.httpTimeoutMs()), baseUrl(config), config.getPassword(SegmentKeys.WRITE_KEY).value(),
                config.getString(SegmentKeys.USER_ID_FIELD).trim(),
                config.getString(SegmentKeys.TRAIT_NAME_TEMPLATE), connectorName, Clock.systemUTC());
    }

    SegmentDestination(OkHttpClient client, String baseUrl, String writeKey, String userIdField,
                       String traitNameTemplate, String connectorName, Clock clock) {
        // The encoded credentials first: masking the write key alone would leave the rest of them readable.
        super(new DestinationCalls(client,
                Secrets.of(Credentials.basic(writeKey, "").substring("Basic ".length()), writeKey), AUTH_HINT));
        this.batchUrl = HttpClients.url(baseUrl, "v1/batch");
        this.authorization = Credentials.basic(writeKey, "");
        this.userIdField = userIdField;
        this.traitName = new CohortNameTemplate(traitNameTemplate);
        this.connectorName = connectorName;
        this.clock = clock;
    }

    /** The Tracking API host of a Segment region ({@code us} or {@code eu}). */
    static String regionHost(String region) {
        return SegmentKeys.HOSTS.host(region);
    }

    private static String baseUrl(CohortSyncConfig config) {
        return DestinationKeys.endpointOr(config, SegmentKeys.ENDPOINT,
                () -> regionHost(config.getString(SegmentKeys.REGION)));
    }

    /** A snapshot sets the trait to false for users who left: their profile may still carry it as true. */
    @Override
    public boolean snapshotIncludesLeavers() {
        return true;
    }

    @Override
    public DeliveryResult send(Page page) throws TransientDeliveryException, PermanentDeliveryException {
        List<Rejection> rejections = new ArrayList<>();
        String trait = traitName.render(page.cohort());
        if (trait == null) {
            for (MembershipChange member : page.members()) {
                rejections.add(new Rejection(member, "the Segment trait name template '" + traitName
                        + "' needs a value cohort " + page.cohort().id() + " does not have (its name is unknown"
                        + " when no record read named it and no name of it is remembered)"));
            }
            return new DeliveryResult(rejections);
        }
        boolean member = page.action() != PageAction.REMOVE_MEMBERS;
        List<Batch> requests = new ArrayList<>();
        JsonBodies.Buffer current = null;
        int messages = 0;
        int currentBytes = ENVELOPE_BYTES;
        List<MembershipChange> members = page.members();
        try (IdentifyMessages identify = new IdentifyMessages(new MessageIds(connectorName), trait, member)) {
            for (int i = 0; i < members.size(); i++) {
                MembershipChange change = members.get(i);
                String userId = userId(change);
                if (userId == null) {
                    rejections.add(new Rejection(change, "Segment needs a userId, but the member has no value in"
                            + " the field '" + userIdField + "' (segment.user.id.field)"));
                    continue;
                }
                int length = identify.write(change, userId);
                if (length > MAX_MESSAGE_BYTES) {
                    rejections.add(new Rejection(change, "the identify message is " + length
                            + " bytes, over Segment's limit of " + MAX_MESSAGE_BYTES + " bytes per message"));
                    continue;
                }
                // One byte per message for the comma that separates it from the previous one.
                if (messages > 0 && currentBytes + 1 + length > MAX_REQUEST_BYTES) {
                    requests.add(new Batch(current, messages));
                    current = null;
                    messages = 0;
                    currentBytes = ENVELOPE_BYTES;
                }
                if (current == null) {
                    current = new JsonBodies.Buffer(expectedBytes(length, members.size() - i));
                    current.write(BATCH_START, 0, BATCH_START.length);
                } else {
                    current.write(',');
                }
                currentBytes += (messages == 0 ? 0 : 1) + length;
                identify.appendTo(current);
                messages++;
            }
        } catch (IOException e) {
            throw new IllegalStateException("Could not write a Segment identify call as JSON", e);
        }
        if (messages > 0) {
            requests.add(new Batch(current, messages));
        }
        for (int i = 0; i < requests.size(); i++) {
            post(page, i + 1, requests.size(), requests.get(i));
        }
        return new DeliveryResult(rejections);
    }

    /**
     * A request body's first capacity: the remaining members at about this message's size, with 1/16 to spare for
     * longer user ids (growing the buffer would copy it), within the request limit.
     */
    private static int expectedBytes(int messageBytes, int remainingMembers) {
        long perMessage = messageBytes + 1L;
        long estimate = ENVELOPE_BYTES + perMessage * remainingMembers + perMessage * remainingMembers / 16;
        return (int) Math.min(estimate, MAX_REQUEST_BYTES);
    }

    /** A request's body so far ({"batch":[ and its messages) and how many messages it holds. */
    private record Batch(JsonBodies.Buffer body, int messages) {
    }

    private void post(Page page, int request, int requests, Batch batch)
            throws TransientDeliveryException, PermanentDeliveryException {
        String what = "Segment POST " + batchUrl + " (request " + request + "/" + requests + ", "
                + batch.messages() + " identify calls) for " + page.describe();
        byte[] end = ("],\"sentAt\":\"" + clock.instant() + "\"}").getBytes(StandardCharsets.UTF_8);
        batch.body().write(end, 0, end.length);
        Request call = new Request.Builder()
                .url(batchUrl)
                .header("Authorization", authorization)
                .post(batch.body().body(JSON_TYPE))
                .build();
        calls.executeMembers(what, call, AnswerReader.acceptAny2xx());
    }

    /** The member's value of the configured field, as text; null when it has none. */
    String userId(MembershipChange change) {
        Object value = switch (userIdField) {
            case "distinct_id" -> change.distinctId();
            case "email" -> change.email();
            case "first_name" -> change.firstName();
            case "last_name" -> change.lastName();
            case "phone_number" -> change.phoneNumber();
            default -> change.properties().get(userIdField);
        };
        return MemberValues.idText(value);
    }

    /** Deterministic per record (connector, topic, partition, offset): a resent change is deduplicated. */
    String messageId(MembershipChange change) {
        return new MessageIds(connectorName).messageId(change);
    }

    @Override
    public boolean readsProperty(String key) {
        return userIdField.equals(key);
    }

}

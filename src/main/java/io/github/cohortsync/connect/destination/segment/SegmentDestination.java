package io.github.cohortsync.connect.destination.segment;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.time.Clock;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.UUID;

import com.fasterxml.jackson.core.JsonFactory;
import com.fasterxml.jackson.core.JsonGenerator;

import io.github.cohortsync.connect.config.CohortSyncConfig;
import io.github.cohortsync.connect.config.DestinationKeys;
import io.github.cohortsync.connect.destination.CohortNameTemplate;
import io.github.cohortsync.connect.destination.DeliveryResult;
import io.github.cohortsync.connect.destination.Destination;
import io.github.cohortsync.connect.destination.MemberValues;
import io.github.cohortsync.connect.destination.Page;
import io.github.cohortsync.connect.destination.PageAction;
import io.github.cohortsync.connect.destination.PermanentDeliveryException;
import io.github.cohortsync.connect.destination.Rejection;
import io.github.cohortsync.connect.destination.TransientDeliveryException;
import io.github.cohortsync.connect.http.HttpClients;
import io.github.cohortsync.connect.http.HttpFailures;
import io.github.cohortsync.connect.record.MembershipChange;
import okhttp3.Credentials;
import okhttp3.HttpUrl;
import okhttp3.MediaType;
import okhttp3.OkHttpClient;
import okhttp3.Request;
import okhttp3.RequestBody;
import okhttp3.Response;

/**
 * Segment's HTTP Tracking API: per member one {@code identify} setting the cohort's boolean trait, batched into
 * {@code POST /v1/batch} requests that stay under Segment's byte limits. A page may take several requests; a retry
 * resends them all, which is safe because every message has a {@code messageId} derived from the record's
 * coordinates and Segment deduplicates on it.
 */
public final class SegmentDestination implements Destination {
    /** Segment's limits are "500 KB" per request and "32 KB" per message; read as 1000-byte KB, the safe side. */
    static final int MAX_REQUEST_BYTES = 500_000;
    static final int MAX_MESSAGE_BYTES = 32_000;

    private static final MediaType JSON_TYPE = MediaType.get("application/json");
    private static final JsonFactory JSON_FACTORY = new JsonFactory();
    private static final String AUTH_HINT = "check segment.write.key (the write key of a Segment HTTP API source)"
            + " and segment.region";
    /** {"batch":[ ... ],"sentAt":"<ISO instant, at most 30 characters>"} around the messages. */
    private static final int ENVELOPE_BYTES = "{\"batch\":[],\"sentAt\":\"\"}".length() + 30;

    private final OkHttpClient client;
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
        this.client = client;
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
                        + " when only tombstones of it were read since the task started)"));
            }
            return new DeliveryResult(rejections);
        }
        boolean member = page.action() != PageAction.REMOVE_MEMBERS;
        List<List<byte[]>> requests = new ArrayList<>();
        List<byte[]> current = new ArrayList<>();
        int currentBytes = ENVELOPE_BYTES;
        for (MembershipChange change : page.members()) {
            String userId = userId(change);
            if (userId == null) {
                rejections.add(new Rejection(change, "Segment needs a userId, but the member has no value in"
                        + " the field '" + userIdField + "' (segment.user.id.field)"));
                continue;
            }
            byte[] message = identify(change, userId, trait, member);
            if (message.length > MAX_MESSAGE_BYTES) {
                rejections.add(new Rejection(change, "the identify message is " + message.length
                        + " bytes, over Segment's limit of " + MAX_MESSAGE_BYTES + " bytes per message"));
                continue;
            }
            // One byte per message for the comma that separates it from the previous one.
            if (!current.isEmpty() && currentBytes + 1 + message.length > MAX_REQUEST_BYTES) {
                requests.add(current);
                current = new ArrayList<>();
                currentBytes = ENVELOPE_BYTES;
            }
            currentBytes += (current.isEmpty() ? 0 : 1) + message.length;
            current.add(message);
        }
        if (!current.isEmpty()) {
            requests.add(current);
        }
        for (int i = 0; i < requests.size(); i++) {
            post(page, i + 1, requests.size(), requests.get(i));
        }
        return new DeliveryResult(rejections);
    }

    private void post(Page page, int request, int requests, List<byte[]> messages)
            throws TransientDeliveryException, PermanentDeliveryException {
        String what = "Segment POST " + batchUrl + " (request " + request + "/" + requests + ", "
                + messages.size() + " identify calls) for " + page.describe();
        Request call = new Request.Builder()
                .url(batchUrl)
                .header("Authorization", authorization)
                .post(RequestBody.create(batch(messages), JSON_TYPE))
                .build();
        try (Response response = client.newCall(call).execute()) {
            if (!response.isSuccessful()) {
                HttpFailures.throwForStatus(what, response.code(), response.header("Retry-After"),
                        HttpClients.readBody(response), AUTH_HINT);
            }
        } catch (IOException e) {
            throw HttpFailures.forIoError(what, e);
        }
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
        String coordinates = connectorName + "\n" + change.topic() + "\n" + change.partition() + "\n"
                + change.offset();
        return UUID.nameUUIDFromBytes(coordinates.getBytes(StandardCharsets.UTF_8)).toString();
    }

    private byte[] identify(MembershipChange change, String userId, String trait, boolean value) {
        ByteArrayOutputStream bytes = new ByteArrayOutputStream(200);
        try (JsonGenerator json = JSON_FACTORY.createGenerator(bytes)) {
            json.writeStartObject();
            json.writeStringField("type", "identify");
            json.writeStringField("userId", userId);
            json.writeObjectFieldStart("traits");
            json.writeBooleanField(trait, value);
            json.writeEndObject();
            json.writeStringField("messageId", messageId(change));
            json.writeStringField("timestamp", Instant.ofEpochMilli(change.timestampMillis()).toString());
            json.writeEndObject();
        } catch (IOException e) {
            throw new IllegalStateException("Could not write a Segment identify call as JSON", e);
        }
        return bytes.toByteArray();
    }

    private byte[] batch(List<byte[]> messages) {
        ByteArrayOutputStream bytes = new ByteArrayOutputStream(MAX_REQUEST_BYTES / 4);
        bytes.writeBytes("{\"batch\":[".getBytes(StandardCharsets.UTF_8));
        for (int i = 0; i < messages.size(); i++) {
            if (i > 0) {
                bytes.write(',');
            }
            bytes.writeBytes(messages.get(i));
        }
        bytes.writeBytes(("],\"sentAt\":\"" + clock.instant() + "\"}").getBytes(StandardCharsets.UTF_8));
        return bytes.toByteArray();
    }

    @Override
    public boolean readsProperty(String key) {
        return userIdField.equals(key);
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

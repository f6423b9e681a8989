package io.github.cohortsync.connect.destination.webhook;

import java.io.IOException;
import java.util.List;
import java.util.Map;

import com.fasterxml.jackson.core.JsonGenerator;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;

import io.github.cohortsync.connect.config.CohortSyncConfig;
import io.github.cohortsync.connect.destination.DeliveryResult;
import io.github.cohortsync.connect.destination.Destination;
import io.github.cohortsync.connect.destination.Page;
import io.github.cohortsync.connect.destination.PermanentDeliveryException;
import io.github.cohortsync.connect.destination.TransientDeliveryException;
import io.github.cohortsync.connect.http.HttpClients;
import io.github.cohortsync.connect.http.HttpFailures;
import io.github.cohortsync.connect.http.JsonBodies;
import io.github.cohortsync.connect.http.PersonalData;
import io.github.cohortsync.connect.record.MembershipChange;
import okhttp3.Credentials;
import okhttp3.HttpUrl;
import okhttp3.MediaType;
import okhttp3.OkHttpClient;
import okhttp3.Request;
import okhttp3.RequestBody;
import okhttp3.Response;

/**
 * The custom webhook in Mixpanel's cohort-sync format: one JSON POST per page, answered by
 * {@code {"action": <same>, "status": "success"|"failure", "error": {...}}}.
 */
public final class WebhookDestination implements Destination {
    private static final MediaType JSON_TYPE = MediaType.get("application/json; charset=utf-8");
    private static final ObjectMapper MAPPER = new ObjectMapper();

    private final OkHttpClient client;
    private final HttpUrl url;
    private final String safeUrl;
    private final String authorization;
    private final String password;
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
        this.client = client;
        this.url = HttpUrl.get(url.trim());
        // Query strings and user info may hold tokens: messages show scheme, host and path only.
        this.safeUrl = this.url.scheme() + "://" + this.url.host() + ":" + this.url.port() + this.url.encodedPath();
        this.authorization = username == null ? null : Credentials.basic(username, password == null ? "" : password);
        this.password = password;
        this.exportedProperties = List.copyOf(exportedProperties);
    }

    @Override
    public DeliveryResult send(Page page) throws TransientDeliveryException, PermanentDeliveryException {
        String what = "Webhook POST " + safeUrl + " with " + page.describe();
        Request.Builder request = new Request.Builder()
                .url(url)
                .header("Idempotency-Key", page.idempotencyKey())
                .post(body(page));
        if (authorization != null) {
            request.header("Authorization", authorization);
        }
        try (Response response = client.newCall(request.build()).execute()) {
            String answer = HttpClients.readBody(response);
            if (!response.isSuccessful()) {
                HttpFailures.throwForStatus(what, response.code(), response.header("Retry-After"),
                        PersonalData.mask(answer, password), "check webhook.auth.username and webhook.auth.password");
            }
            checkAnswer(what, page, answer);
            return DeliveryResult.allAccepted();
        } catch (IOException e) {
            throw HttpFailures.forIoError(what, e);
        }
    }

    /** The receiver must confirm the page: same action, status success. Anything else is a permanent failure. */
    private static void checkAnswer(String what, Page page, String answer) throws PermanentDeliveryException {
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
            throw new PermanentDeliveryException(what + " was answered with status failure: "
                    + PersonalData.mask(error.path("message").asText("(no message)")) + " (code "
                    + PersonalData.mask(error.path("code").asText("none")) + ")");
        }
        throw new PermanentDeliveryException(what + " got an answer with status '" + status
                + "'; expected 'success' or 'failure'");
    }

    private RequestBody body(Page page) {
        return JsonBodies.write(JSON_TYPE, 256 + page.members().size() * 160, "a webhook page", json -> {
            // Exported property values are arbitrary JSON values: the mapper writes them.
            json.setCodec(MAPPER);
            json.writeStartObject();
            json.writeStringField("action", page.action().wireName());
            json.writeObjectFieldStart("parameters");
            json.writeStringField("mixpanel_project_id", page.cohort().projectId());
            json.writeStringField("mixpanel_cohort_id", page.cohort().id());
            json.writeStringField("mixpanel_cohort_name", page.cohort().name());
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

    private static String blankToNull(String text) {
        return text == null || text.isBlank() ? null : text;
    }

    @Override
    public boolean readsProperty(String key) {
        return exportedProperties.contains(key);
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

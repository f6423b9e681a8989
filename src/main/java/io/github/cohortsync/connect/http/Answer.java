package io.github.cohortsync.connect.http;

import java.io.IOException;
import java.time.Clock;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;

import io.github.cohortsync.connect.delivery.PermanentDeliveryException;

import okhttp3.Response;
import okhttp3.ResponseBody;
import okio.BufferedSource;

/** A destination's answer to one call, as the shared call path hands it to the destination's reader. */
public final class Answer {
    private final Response response;
    private final Secrets secrets;
    private String text;

    Answer(Response response, Secrets secrets) {
        this.response = response;
        this.secrets = secrets;
    }

    public int status() {
        return response.code();
    }

    public boolean isSuccessful() {
        return response.isSuccessful();
    }

    public String header(String name) {
        return response.header(name);
    }

    /**
     * The wait this answer asks for, read as every answer's is ({@link HttpFailures#waitMillis}): its
     * {@code Retry-After}, else its {@code X-RateLimit-Reset}; -1 when neither says.
     */
    public long waitMillis() {
        return HttpFailures.waitMillis(response.header("Retry-After"), response.header("X-RateLimit-Reset"),
                Clock.systemUTC());
    }

    /** The body as text, read once; empty when there is none. Raw: it may hold secrets and personal data. */
    public String text() throws IOException {
        if (text == null) {
            ResponseBody body = response.body();
            text = body == null ? "" : body.string();
        }
        return text;
    }

    /** The body as JSON, or null when it is empty or not JSON. */
    public JsonNode json() throws IOException {
        return HttpClients.jsonOrNull(text());
    }

    /**
     * The body as a JSON object, for destinations whose every answer is one.
     *
     * @param what the call, as its messages name it
     * @throws PermanentDeliveryException when the body is empty, not JSON, or JSON but not an object
     */
    public JsonNode jsonObject(String what) throws PermanentDeliveryException, IOException {
        String body = text();
        JsonNode json;
        try {
            json = body.isBlank() ? null : HttpClients.JSON.readTree(body);
        } catch (JsonProcessingException e) {
            throw new PermanentDeliveryException(what + " got an answer that is not JSON");
        }
        if (json == null || !json.isObject()) {
            throw new PermanentDeliveryException(what + " got an answer that is not a JSON object");
        }
        return json;
    }

    /** The body as a stream, for answers too long to hold (e.g. a list export); use instead of {@link #text()}. */
    public BufferedSource stream() {
        return response.body().source();
    }

    /** The text cleared of this call's secrets and of personal data: the only form that may reach a message. */
    public String masked(String raw) {
        return secrets.mask(raw);
    }
}

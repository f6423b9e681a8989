package io.github.cohortsync.connect.http;

import java.io.IOException;

import io.github.cohortsync.connect.delivery.PermanentDeliveryException;
import io.github.cohortsync.connect.delivery.TransientDeliveryException;
import okhttp3.OkHttpClient;
import okhttp3.Request;
import okhttp3.Response;

/**
 * The one HTTP call path of every destination: executes a request, masks the destination's secrets and personal data
 * in whatever of the answer may reach a message, classifies failures (transient or permanent, Retry-After), maps
 * I/O errors, and cancels or closes calls in flight. Destinations keep only their bodies, answers and limits.
 */
public final class DestinationCalls implements AutoCloseable {
    private final OkHttpClient client;
    private final Secrets secrets;
    private final String authHint;

    /**
     * @param secrets  every credential the destination sends, masked in messages
     * @param authHint what the user should check on 401 or 403, e.g. "check webhook.auth.password"
     */
    public DestinationCalls(OkHttpClient client, Secrets secrets, String authHint) {
        this.client = client;
        this.secrets = secrets;
        this.authHint = authHint;
    }

    /**
     * Makes the call once and reads its answer.
     *
     * @param what names the call for messages, e.g. "Segment POST https://host/v1/batch for add_members page 1/2 of
     *             cohort 7"; it must hold no secret (no query string with a key, no user info)
     */
    public <T> T execute(String what, Request request, AnswerReader<T> reader)
            throws TransientDeliveryException, PermanentDeliveryException {
        return execute(what, request, reader, false);
    }

    /**
     * As {@link #execute}, for a call that carries a page's members: a 400, 413 or 422 throws
     * {@link io.github.cohortsync.connect.delivery.ContentRejectedException}, so the page is split to find the
     * members at fault. Calls that set things up (find or create a list) use {@link #execute}: their refusals are
     * no member's fault.
     */
    public <T> T executeMembers(String what, Request request, AnswerReader<T> reader)
            throws TransientDeliveryException, PermanentDeliveryException {
        return execute(what, request, reader, true);
    }

    private <T> T execute(String what, Request request, AnswerReader<T> reader, boolean carriesMembers)
            throws TransientDeliveryException, PermanentDeliveryException {
        try (Response response = client.newCall(request).execute()) {
            Answer answer = new Answer(response, secrets);
            if (response.isSuccessful()) {
                return reader.read(answer);
            }
            T accepted = reader.readFailure(answer);
            if (accepted != null) {
                return accepted;
            }
            HttpFailures.throwForStatus(what, response.code(), answer.waitMillis(),
                    secrets.mask(reader.failureText(answer)), authHint, carriesMembers);
            throw new IllegalStateException("unreachable: throwForStatus always throws");
        } catch (IOException e) {
            throw HttpFailures.forIoError(what, e);
        }
    }

    /** The text cleared of this destination's secrets and of personal data, for messages the destination builds. */
    public String mask(String text) {
        return secrets.mask(text);
    }

    /** Aborts calls in flight, so a stopping task does not wait for a slow destination. */
    public void cancelInFlight() {
        client.dispatcher().cancelAll();
    }

    /** Aborts calls in flight and releases the client's threads and connections. */
    @Override
    public void close() {
        HttpClients.close(client);
    }
}

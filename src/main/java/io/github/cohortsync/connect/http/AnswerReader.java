package io.github.cohortsync.connect.http;

import java.io.IOException;

import io.github.cohortsync.connect.delivery.PermanentDeliveryException;
import io.github.cohortsync.connect.delivery.TransientDeliveryException;

/** What a destination knows about its own answers; everything else about a call is {@link DestinationCalls}'. */
@FunctionalInterface
public interface AnswerReader<T> {

    /** Reads a 2xx answer into the destination's outcome, or throws when its body says the call failed. */
    T read(Answer answer) throws TransientDeliveryException, PermanentDeliveryException, IOException;

    /**
     * A non-2xx answer the destination knows more about than its status (an error code in the body, per-member
     * errors): returns an outcome to accept it after all, throws to classify it, or returns null to let the status
     * decide (408, 425, 429, 5xx transient with their Retry-After; anything else permanent). Default: null.
     */
    default T readFailure(Answer answer) throws TransientDeliveryException, PermanentDeliveryException, IOException {
        return null;
    }

    /**
     * The part of a failed answer worth showing, before masking: the whole body by default; a destination whose
     * answers echo the records it was sent shows a summary instead. The call path masks whatever this returns.
     */
    default String failureText(Answer answer) throws IOException {
        return answer.text();
    }

    /** A reader for calls whose 2xx answer says nothing more: any 2xx accepts the call. */
    static AnswerReader<Void> acceptAny2xx() {
        return answer -> null;
    }
}

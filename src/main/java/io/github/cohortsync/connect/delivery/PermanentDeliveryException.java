package io.github.cohortsync.connect.delivery;

/**
 * A failure that retrying will not fix (bad credentials, a rejected request, a failure answer): the task fails
 * with this message, which carries the destination's own message, its status code and a hint.
 */
public class PermanentDeliveryException extends Exception {
    public PermanentDeliveryException(String message) {
        super(message);
    }
}

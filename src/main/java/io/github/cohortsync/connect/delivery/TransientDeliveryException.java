package io.github.cohortsync.connect.delivery;

/** A failure worth retrying: a connection error, a timeout, HTTP 408, 425, 429 or 5xx. */
public class TransientDeliveryException extends Exception {
    private final long retryAfterMillis;

    public TransientDeliveryException(String message, long retryAfterMillis, Throwable cause) {
        super(message, cause);
        this.retryAfterMillis = retryAfterMillis;
    }

    public TransientDeliveryException(String message, long retryAfterMillis) {
        this(message, retryAfterMillis, null);
    }

    /** How long the destination asked us to wait (Retry-After), or -1 when it did not say. */
    public long retryAfterMillis() {
        return retryAfterMillis;
    }
}

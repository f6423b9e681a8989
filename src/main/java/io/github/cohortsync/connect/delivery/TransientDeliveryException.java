package io.github.cohortsync.connect.delivery;

/** A failure worth retrying: a connection error, a timeout, HTTP 408, 425, 429 or 5xx. */
public class TransientDeliveryException extends Exception {
    private final long retryAfterMillis;
    private final int status;

    public TransientDeliveryException(String message, long retryAfterMillis, Throwable cause) {
        this(message, -1, retryAfterMillis, cause);
    }

    public TransientDeliveryException(String message, long retryAfterMillis) {
        this(message, -1, retryAfterMillis, null);
    }

    /** A failure from an HTTP answer with {@code status} (e.g. 429). */
    public TransientDeliveryException(String message, int status, long retryAfterMillis, Throwable cause) {
        super(message, cause);
        this.retryAfterMillis = retryAfterMillis;
        this.status = status;
    }

    /** How long the destination asked us to wait (Retry-After), or -1 when it did not say. */
    public long retryAfterMillis() {
        return retryAfterMillis;
    }

    /**
     * The HTTP status of the answer that failed (for a webhook {@code failure} envelope, its {@code error.code}), or
     * -1 when there was none (an I/O error) or it is not known.
     */
    public int status() {
        return status;
    }
}

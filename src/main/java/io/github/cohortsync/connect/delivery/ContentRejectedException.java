package io.github.cohortsync.connect.delivery;

/**
 * A permanent refusal of a whole call that what the call carries may have caused, so that a call with fewer of the
 * same members may pass: HTTP 400, 413 or 422 to a call that carries a page's members, or a vendor's own word for it
 * (Iterable {@code BatchTooLarge} and {@code BadParams} on a list call, Braze "too many objects", a webhook
 * {@code failure} with code 400, 413 or 422).
 *
 * <p>The sync splits a page refused this way in halves and sends each again, down to single members; a member
 * refused alone becomes a per-member rejection (dead letter queue or WARN) with this message, everyone else is
 * delivered ({@code SplittingDestination}, bounded by {@code split.max.requests}). A destination throws this only
 * for a call that carries members and only when a smaller call could be answered differently; a refusal of the
 * account, the endpoint or the list (401, 403, 404, an unknown list or cohort id, an auth or quota message) stays a
 * plain {@link PermanentDeliveryException}, which fails the task at once and is never split.
 */
public class ContentRejectedException extends PermanentDeliveryException {
    private final String code;

    public ContentRejectedException(String message) {
        this(message, null);
    }

    /** @param code the destination's code for the refusal (an HTTP status, a vendor's error code); may be null */
    public ContentRejectedException(String message, String code) {
        super(message);
        this.code = code;
    }

    /** The destination's code for the refusal, or null when it gave none. */
    public String code() {
        return code;
    }
}

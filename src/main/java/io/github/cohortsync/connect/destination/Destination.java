package io.github.cohortsync.connect.destination;

import io.github.cohortsync.connect.delivery.ContentRejectedException;
import io.github.cohortsync.connect.delivery.PermanentDeliveryException;
import io.github.cohortsync.connect.delivery.TransientDeliveryException;

/**
 * A place cohorts are synced to. Builds the call for a page, makes it, and turns the answer into an outcome.
 *
 * <p>Split retries come for free: the sync wraps every destination in a {@link SplittingDestination}, which splits a
 * diff page refused with a {@link ContentRejectedException} down to the members at fault. A destination only has to
 * say which refusals its members may cause: make the calls that carry a page's members with
 * {@code DestinationCalls.executeMembers} (400, 413 and 422 then throw {@link ContentRejectedException}), keep calls
 * that find or create a list, segment or cohort on {@code DestinationCalls.execute}, and throw
 * {@link ContentRejectedException} (or a subclass) for a vendor's own "too large" or "bad parameter" code of a members
 * call. Account, endpoint and list refusals stay plain {@link PermanentDeliveryException}s.
 */
public interface Destination extends AutoCloseable {

    /**
     * Delivers one page, once (retries are the caller's).
     *
     * @return the accepted outcome, possibly with per-member rejections
     * @throws TransientDeliveryException when a retry may succeed
     * @throws PermanentDeliveryException when it will not; a {@link ContentRejectedException} when what the page
     *                                    carries may be the cause, so that a page with fewer of its members may pass
     */
    DeliveryResult send(Page page) throws TransientDeliveryException, PermanentDeliveryException;

    /**
     * How a snapshot reaches this destination: its members always go as {@code members} pages; when this is true,
     * users whose latest change in the snapshot is a removal (tombstones included) also go, as removals, because
     * the destination keeps per-user state that only an explicit removal resets. Default: members only.
     */
    default boolean snapshotIncludesLeavers() {
        return false;
    }

    /**
     * Whether this destination's pages read the member property {@code key}. The sync buffer keeps only the
     * properties read, so a destination that starts reading another property must say so here. Default: all.
     */
    default boolean readsProperty(String key) {
        return true;
    }

    /** Aborts calls in flight, so a stopping task does not wait for a slow destination. */
    void cancelInFlight();

    @Override
    void close();
}

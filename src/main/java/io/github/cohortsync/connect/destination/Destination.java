package io.github.cohortsync.connect.destination;

import io.github.cohortsync.connect.delivery.PermanentDeliveryException;
import io.github.cohortsync.connect.delivery.TransientDeliveryException;

/** A place cohorts are synced to. Builds the call for a page, makes it, and turns the answer into an outcome. */
public interface Destination extends AutoCloseable {

    /**
     * Delivers one page, once (retries are the caller's).
     *
     * @return the accepted outcome, possibly with per-member rejections
     * @throws TransientDeliveryException when a retry may succeed
     * @throws PermanentDeliveryException when it will not
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

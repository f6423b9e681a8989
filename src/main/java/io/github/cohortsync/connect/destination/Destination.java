package io.github.cohortsync.connect.destination;

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

    /** Aborts calls in flight, so a stopping task does not wait for a slow destination. */
    void cancelInFlight();

    @Override
    void close();
}

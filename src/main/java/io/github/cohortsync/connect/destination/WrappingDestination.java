package io.github.cohortsync.connect.destination;

/**
 * A destination that changes how pages are sent to another one and asks that one everything else: what it reads, how
 * snapshots reach it, cancelling and closing.
 */
abstract class WrappingDestination implements Destination {
    /** The destination wrapped. */
    protected final Destination destination;

    WrappingDestination(Destination destination) {
        this.destination = destination;
    }

    @Override
    public boolean snapshotIncludesLeavers() {
        return destination.snapshotIncludesLeavers();
    }

    @Override
    public boolean readsProperty(String key) {
        return destination.readsProperty(key);
    }

    @Override
    public void cancelInFlight() {
        destination.cancelInFlight();
    }

    @Override
    public void close() {
        destination.close();
    }
}

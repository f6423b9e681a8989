package io.github.cohortsync.connect.destination.iterable;

import io.github.cohortsync.connect.config.CohortSyncConfig;
import io.github.cohortsync.connect.destination.Destination;
import io.github.cohortsync.connect.destination.DestinationFacts;

/** Iterable. It documents no per-call maximum for list (un)subscribes; 1000, like Mixpanel's own sync. */
public final class IterableProvider extends DestinationFacts {
    public IterableProvider() {
        super("iterable", new IterableKeys(), 1000, 16);
    }

    @Override
    public Destination create(CohortSyncConfig config, String connectorName) {
        return new IterableDestination(config);
    }
}

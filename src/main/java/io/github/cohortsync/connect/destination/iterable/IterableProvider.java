package io.github.cohortsync.connect.destination.iterable;

import io.github.cohortsync.connect.config.CohortSyncConfig;
import io.github.cohortsync.connect.config.DestinationKeys;
import io.github.cohortsync.connect.destination.Destination;
import io.github.cohortsync.connect.destination.DestinationProvider;

/** Iterable. It documents no per-call maximum for list (un)subscribes; 1000, like Mixpanel's own sync. */
public final class IterableProvider implements DestinationProvider {
    private static final DestinationKeys KEYS = new IterableKeys();

    @Override
    public String configValue() {
        return "iterable";
    }

    @Override
    public DestinationKeys keys() {
        return KEYS;
    }

    @Override
    public int maxBatchSize() {
        return 1000;
    }

    @Override
    public int defaultMaxInFlight() {
        return 4;
    }

    @Override
    public Destination create(CohortSyncConfig config, String connectorName) {
        return new IterableDestination(config);
    }
}

package io.github.cohortsync.connect.destination.braze;

import io.github.cohortsync.connect.config.CohortSyncConfig;
import io.github.cohortsync.connect.config.DestinationKeys;
import io.github.cohortsync.connect.destination.Destination;
import io.github.cohortsync.connect.destination.DestinationProvider;

/**
 * Braze: a user attribute by default, or the partner cohort import ({@code braze.mode}). Braze allows 3,000
 * /users/track requests per 3 seconds by default.
 */
public final class BrazeProvider implements DestinationProvider {
    private static final DestinationKeys KEYS = new BrazeKeys();

    @Override
    public String configValue() {
        return "braze";
    }

    @Override
    public DestinationKeys keys() {
        return KEYS;
    }

    @Override
    public int maxBatchSize() {
        return BrazeDestination.MAX_ATTRIBUTES_PER_REQUEST;
    }

    @Override
    public int defaultMaxInFlight() {
        return 4;
    }

    @Override
    public Destination create(CohortSyncConfig config, String connectorName) {
        return BrazeKeys.isCohortImport(config.values()) ? new BrazeCohortImport(config)
                : new BrazeDestination(config);
    }
}

package io.github.cohortsync.connect.destination.braze;

import io.github.cohortsync.connect.config.CohortSyncConfig;
import io.github.cohortsync.connect.destination.Destination;
import io.github.cohortsync.connect.destination.DestinationFacts;

/**
 * Braze: a user attribute by default, or the partner cohort import ({@code braze.mode}). Braze allows 3,000
 * /users/track requests per 3 seconds by default.
 */
public final class BrazeProvider extends DestinationFacts {
    public BrazeProvider() {
        super("braze", new BrazeKeys(), BrazeDestination.MAX_ATTRIBUTES_PER_REQUEST, 32);
    }

    @Override
    public Destination create(CohortSyncConfig config, String connectorName) {
        return BrazeKeys.isCohortImport(config.values()) ? new BrazeCohortImport(config)
                : new BrazeDestination(config);
    }
}

package io.github.cohortsync.connect.destination.clevertap;

import io.github.cohortsync.connect.config.CohortSyncConfig;
import io.github.cohortsync.connect.destination.Destination;
import io.github.cohortsync.connect.destination.DestinationFacts;

/**
 * CleverTap. It limits concurrent API requests to 15 per account (429 over that), shared by every task, and states no
 * request rate (developer.clevertap.com, "API Request Limit"): the default of rate.limit.concurrent.requests.
 */
public final class CleverTapProvider extends DestinationFacts {
    public CleverTapProvider() {
        super("clevertap", new CleverTapKeys(), CleverTapDestination.MAX_MEMBERS_PER_PAGE, 15, 15);
    }

    @Override
    public Destination create(CohortSyncConfig config, String connectorName) {
        return new CleverTapDestination(config);
    }
}

package io.github.cohortsync.connect.destination.clevertap;

import io.github.cohortsync.connect.config.CohortSyncConfig;
import io.github.cohortsync.connect.config.DestinationKeys;
import io.github.cohortsync.connect.destination.Destination;
import io.github.cohortsync.connect.destination.DestinationProvider;

/** CleverTap. It limits concurrent uploads to 15 per account (429 over that), shared by every task. */
public final class CleverTapProvider implements DestinationProvider {
    private static final DestinationKeys KEYS = new CleverTapKeys();

    @Override
    public String configValue() {
        return "clevertap";
    }

    @Override
    public DestinationKeys keys() {
        return KEYS;
    }

    @Override
    public int maxBatchSize() {
        return CleverTapDestination.MAX_MEMBERS_PER_PAGE;
    }

    @Override
    public int defaultMaxInFlight() {
        return 4;
    }

    @Override
    public Destination create(CohortSyncConfig config, String connectorName) {
        return new CleverTapDestination(config);
    }
}

package io.github.cohortsync.connect.destination.webhook;

import io.github.cohortsync.connect.config.CohortSyncConfig;
import io.github.cohortsync.connect.config.DestinationKeys;
import io.github.cohortsync.connect.destination.Destination;
import io.github.cohortsync.connect.destination.DestinationProvider;

/** The webhook: one page at a time, as a receiver may rely on pages arriving in order. */
public final class WebhookProvider implements DestinationProvider {
    private static final DestinationKeys KEYS = new WebhookKeys();

    @Override
    public String configValue() {
        return "webhook";
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
        return 1;
    }

    @Override
    public Destination create(CohortSyncConfig config, String connectorName) {
        return new WebhookDestination(config);
    }
}

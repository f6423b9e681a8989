package io.github.cohortsync.connect.destination.webhook;

import io.github.cohortsync.connect.config.CohortSyncConfig;
import io.github.cohortsync.connect.destination.Destination;
import io.github.cohortsync.connect.destination.DestinationFacts;

/** The webhook: one page at a time, as a receiver may rely on pages arriving in order. */
public final class WebhookProvider extends DestinationFacts {
    public WebhookProvider() {
        super("webhook", new WebhookKeys(), 1000, 1);
    }

    @Override
    public Destination create(CohortSyncConfig config, String connectorName) {
        return new WebhookDestination(config);
    }
}

package io.github.cohortsync.connect.destination;

import io.github.cohortsync.connect.config.CohortSyncConfig;
import io.github.cohortsync.connect.destination.braze.BrazeCohortImport;
import io.github.cohortsync.connect.destination.braze.BrazeDestination;
import io.github.cohortsync.connect.destination.braze.BrazeKeys;
import io.github.cohortsync.connect.destination.clevertap.CleverTapDestination;
import io.github.cohortsync.connect.destination.iterable.IterableDestination;
import io.github.cohortsync.connect.destination.segment.SegmentDestination;
import io.github.cohortsync.connect.destination.webhook.WebhookDestination;

/** Creates the configured destination: the one registration point of every destination. */
public final class Destinations {
    private Destinations() {
    }

    /**
     * @param connectorName the connector's name, for destinations that derive stable ids (e.g. message ids) from it
     */
    public static Destination create(CohortSyncConfig config, String connectorName) {
        return switch (config.destination()) {
            case WEBHOOK -> new WebhookDestination(config);
            case SEGMENT -> new SegmentDestination(config, connectorName);
            case ITERABLE -> new IterableDestination(config);
            case CLEVERTAP -> new CleverTapDestination(config);
            case BRAZE -> BrazeKeys.isCohortImport(config.values()) ? new BrazeCohortImport(config)
                    : new BrazeDestination(config);
        };
    }
}

package io.github.cohortsync.connect.destination;

import io.github.cohortsync.connect.config.CohortSyncConfig;
import io.github.cohortsync.connect.config.DestinationType;

/** Creates the configured destination through its registered {@link DestinationProvider}. */
public final class Destinations {
    private Destinations() {
    }

    /**
     * @param connectorName the connector's name, for destinations that derive stable ids (e.g. message ids) from it
     */
    public static Destination create(CohortSyncConfig config, String connectorName) {
        DestinationType type = config.destination();
        if (!(type instanceof DestinationProvider provider)) {
            throw new IllegalStateException("The destination type '" + type.configValue() + "' ("
                    + type.getClass().getName() + ") is registered but is no DestinationProvider");
        }
        return provider.create(config, connectorName);
    }
}

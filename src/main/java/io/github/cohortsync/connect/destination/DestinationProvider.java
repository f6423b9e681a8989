package io.github.cohortsync.connect.destination;

import io.github.cohortsync.connect.config.CohortSyncConfig;
import io.github.cohortsync.connect.config.DestinationType;

/**
 * Everything the connector knows of one destination: its type name, keys (config group and checks) and limits, and
 * how to build it. A new destination implements this in its package and adds its class name, as one line, to
 * {@code META-INF/services/io.github.cohortsync.connect.config.DestinationType}: the one registration point.
 */
public interface DestinationProvider extends DestinationType {

    /**
     * @param connectorName the connector's name, for destinations that derive stable ids (e.g. message ids) from it
     */
    Destination create(CohortSyncConfig config, String connectorName);
}

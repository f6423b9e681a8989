package io.github.cohortsync.connect.destination.airship;

import io.github.cohortsync.connect.config.CohortSyncConfig;
import io.github.cohortsync.connect.destination.Destination;
import io.github.cohortsync.connect.destination.DestinationFacts;

/**
 * Airship Named User tags. A tag call takes at most 1000 named users (urbanairship/agent-tools,
 * skills/api/tags/SKILL.md: "audience.named_user_id ... 1-1000 items").
 */
public final class AirshipProvider extends DestinationFacts {
    public AirshipProvider() {
        super("airship", new AirshipKeys(), AirshipDestination.MAX_NAMED_USERS_PER_CALL, 4);
    }

    @Override
    public Destination create(CohortSyncConfig config, String connectorName) {
        return new AirshipDestination(config);
    }
}

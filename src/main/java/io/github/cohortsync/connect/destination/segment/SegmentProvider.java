package io.github.cohortsync.connect.destination.segment;

import io.github.cohortsync.connect.config.CohortSyncConfig;
import io.github.cohortsync.connect.destination.Destination;
import io.github.cohortsync.connect.destination.DestinationFacts;

/**
 * Segment. It limits bytes, not members (500 KB per request, split as needed); 1000 members keep pages small. It
 * asks for well below about 50 requests/s per source for bulk traffic: 4 calls at once stay there at Segment's
 * usual round trips.
 */
public final class SegmentProvider extends DestinationFacts {
    public SegmentProvider() {
        super("segment", new SegmentKeys(), 1000, 32);
    }

    @Override
    public Destination create(CohortSyncConfig config, String connectorName) {
        return new SegmentDestination(config, connectorName);
    }
}

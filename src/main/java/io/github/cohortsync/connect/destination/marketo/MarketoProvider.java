package io.github.cohortsync.connect.destination.marketo;

import io.github.cohortsync.connect.config.CohortSyncConfig;
import io.github.cohortsync.connect.destination.Destination;
import io.github.cohortsync.connect.destination.DestinationFacts;

/**
 * Marketo Engage static lists. A list membership call takes at most 300 lead ids (Marketo developer docs, "List
 * Membership (Static Lists)"); 2 pages in flight by default, because an instance allows 10 concurrent calls shared by
 * every integration and Marketo advises five or fewer ("Marketo Integration Best Practices", concurrency limit). The
 * 10 is the default of rate.limit.concurrent.requests; a page's calls go one after the other.
 */
public final class MarketoProvider extends DestinationFacts {
    public MarketoProvider() {
        super("marketo", new MarketoKeys(), MarketoDestination.MAX_PER_CALL, 2, 10);
    }

    @Override
    public Destination create(CohortSyncConfig config, String connectorName) {
        return new MarketoDestination(config);
    }
}

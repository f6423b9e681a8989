package io.github.cohortsync.connect.destination.mailchimp;

import io.github.cohortsync.connect.config.CohortSyncConfig;
import io.github.cohortsync.connect.config.DestinationKeys;
import io.github.cohortsync.connect.destination.Destination;
import io.github.cohortsync.connect.destination.DestinationProvider;

/**
 * Mailchimp static segments (tags). A batch add or remove takes at most 500 emails per array (Marketing API
 * reference, "Batch add or remove members", POST /lists/{list_id}/segments/{segment_id}).
 */
public final class MailchimpProvider implements DestinationProvider {
    private static final DestinationKeys KEYS = new MailchimpKeys();

    @Override
    public String configValue() {
        return "mailchimp";
    }

    @Override
    public DestinationKeys keys() {
        return KEYS;
    }

    @Override
    public int maxBatchSize() {
        return MailchimpDestination.MAX_EMAILS_PER_CALL;
    }

    @Override
    public int defaultMaxInFlight() {
        return 4;
    }

    @Override
    public Destination create(CohortSyncConfig config, String connectorName) {
        return new MailchimpDestination(config);
    }
}

package io.github.cohortsync.connect.destination.mailchimp;

import io.github.cohortsync.connect.config.CohortSyncConfig;
import io.github.cohortsync.connect.destination.Destination;
import io.github.cohortsync.connect.destination.DestinationFacts;

/**
 * Mailchimp static segments (tags). A batch add or remove takes at most 500 emails per array (Marketing API
 * reference, "Batch add or remove members", POST /lists/{list_id}/segments/{segment_id}). An account allows 10
 * simultaneous connections, 429 {@code Too_Many_Connections} over that (Marketing API "Fundamentals" page): the
 * default of rate.limit.concurrent.requests.
 */
public final class MailchimpProvider extends DestinationFacts {
    public MailchimpProvider() {
        super("mailchimp", new MailchimpKeys(), MailchimpDestination.MAX_EMAILS_PER_CALL, 10, 10);
    }

    @Override
    public Destination create(CohortSyncConfig config, String connectorName) {
        return new MailchimpDestination(config);
    }
}

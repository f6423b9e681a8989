package io.github.cohortsync.connect.it;

import static io.github.cohortsync.connect.it.MembershipRecord.add;
import static io.github.cohortsync.connect.it.MembershipRecord.user;
import static org.assertj.core.api.Assertions.assertThat;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;

import org.junit.jupiter.api.Test;

import io.github.cohortsync.connect.it.standin.MailchimpReceiver;

/**
 * End-to-end sync to a local stand-in for Mailchimp's static segments: two cohorts' adds (one over 500 members, so
 * several calls) and removals end as exactly the expected segment members, each segment is created once though
 * pages go concurrently, a 429 is retried, and an invalid email and a tombstone (no email) go to the dead letter
 * queue naming the member, not its email; a full sync with upsert adds unknown emails to the audience without
 * touching an existing contact's consent and leaves the segment equal to the cohort.
 */
@ConnectCluster(name = "mailchimp-sync-it")
class MailchimpSyncIT {
    private static ConnectHarness harness;

    @Test
    void syncsAddsAndRemovalsAsExactlyTheExpectedSegmentMembers() throws Exception {
        String topic = harness.createTopic("mailchimp-membership", 1);
        String dlq = ConnectHarness.uniqueName("mailchimp-dlq");
        String connector = ConnectHarness.uniqueName("mailchimp");
        // Mailchimp reports it in errors[]: rejected, dead-lettered, never a member.
        String invalid = user("bad", 0);
        TwoPhaseSync sync = new TwoPhaseSync(700, 21, record -> record,
                add("101", invalid).with("email", "not-an-email"));

        try (MailchimpReceiver mailchimp = MailchimpReceiver.start()) {
            ConnectorConfig config = ConnectorConfig.mailchimp(topic, MailchimpReceiver.API_KEY,
                    MailchimpReceiver.LIST_ID, mailchimp.url());
            // The tombstone has no email: rejected to the DLQ, so b-00020 stays in the segment.
            List<String> dead = sync.run(harness, topic, connector, config, dlq, () -> mailchimp.throttleNext(1));

            assertThat(mailchimp.violations()).isEmpty();
            assertThat(mailchimp.members())
                    .isEqualTo(ExpectedMembership.of(sync.accepted()).emailsByName(MailchimpSyncIT::segment));
            assertThat(mailchimp.creations()).containsOnly(
                    Map.entry(segment("101"), 1), Map.entry(segment("202"), 1));
            assertThat(mailchimp.throttled()).as("a 429 is retried").isEqualTo(1);
            assertThat(mailchimp.batchCalls()).as("700 adds need at least two calls of at most 500")
                    .isGreaterThanOrEqualTo(4);
            assertThat(dead.get(0)).contains("member " + invalid).contains("Invalid email address")
                    .doesNotContain("not-an-email");
            assertThat(dead.get(1)).contains("member " + user("b", 20) + " has no email");
            harness.assertAllRunning(connector);
        } finally {
            harness.deleteConnectorQuietly(connector);
        }
    }

    /**
     * A first run on a compacted topic is a full sync: with mailchimp.upsert.members the unknown emails become
     * contacts (transactional) first, an existing contact keeps its status (consent) untouched, an invalid email
     * is dead-lettered, and the segment ends equal to the cohort: members from an earlier sync who are no longer in
     * it are removed (mailchimp.snapshot.mirror, on by default).
     */
    @Test
    void aFullSyncWithUpsertMakesTheSegmentEqualTheCohortWithoutTouchingConsent() throws Exception {
        String topic = harness.createCompactedTopic("mailchimp-full");
        String dlq = ConnectHarness.uniqueName("mailchimp-full-dlq");
        String connector = ConnectHarness.uniqueName("mailchimp-full");
        List<MembershipRecord> records = new ArrayList<>();
        List<String> cohort = new ArrayList<>();
        for (int i = 0; i < 40; i++) {
            records.add(add("404", user("m", i)));
            cohort.add(MembershipRecord.email(user("m", i)));
        }
        String invalid = user("bad", 1);
        records.add(add("404", invalid).with("email", "not-an-email"));
        harness.produce(topic, records);
        String existing = MembershipRecord.email(user("m", 3));

        try (MailchimpReceiver mailchimp = MailchimpReceiver.start().strictAudience()) {
            mailchimp.contact(existing, "unsubscribed");
            mailchimp.contact("left-1@example.com", "subscribed");
            mailchimp.contact("left-2@example.com", "subscribed");
            mailchimp.prefill(segment("404"), existing, "left-1@example.com", "left-2@example.com");
            Map<String, String> config = ConnectorConfig.mailchimp(topic, MailchimpReceiver.API_KEY,
                    MailchimpReceiver.LIST_ID, mailchimp.url())
                    .with("mailchimp.upsert.members", "true")
                    .deadLetterQueue(dlq)
                    .fullSyncs(harness.connect().kafka().bootstrapServers())
                    .build();
            harness.startConnector(connector, config, 1);
            harness.awaitCommittedToEnd(connector, topic);

            assertThat(mailchimp.violations()).isEmpty();
            assertThat(mailchimp.members()).containsOnlyKeys(segment("404"));
            assertThat(mailchimp.members().get(segment("404"))).as("the segment equals the cohort")
                    .containsExactlyInAnyOrderElementsOf(cohort);
            Map<String, String> contacts = mailchimp.contacts();
            assertThat(contacts.get(existing)).as("an existing contact's consent is untouched")
                    .isEqualTo("unsubscribed");
            assertThat(contacts).containsEntry(MembershipRecord.email(user("m", 0)), "transactional");
            assertThat(mailchimp.creations()).as("the segment was found, not created").isEmpty();

            Map<String, String> dead = DeadLetterMessages.byOffset(harness, dlq, 1);
            assertThat(dead).containsOnlyKeys(String.valueOf(records.size() - 1));
            assertThat(dead.values()).singleElement().asString().contains("member " + invalid)
                    .doesNotContain("not-an-email");
            harness.assertAllRunning(connector);
        } finally {
            harness.deleteConnectorQuietly(connector);
        }
    }

    private static String segment(String cohortId) {
        return "Mixpanel - " + MembershipRecord.cohortName(cohortId);
    }
}

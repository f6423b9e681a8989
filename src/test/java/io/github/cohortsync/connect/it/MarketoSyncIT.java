package io.github.cohortsync.connect.it;

import static io.github.cohortsync.connect.it.MembershipRecord.add;
import static io.github.cohortsync.connect.it.MembershipRecord.tombstone;
import static io.github.cohortsync.connect.it.MembershipRecord.user;
import static org.assertj.core.api.Assertions.assertThat;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;

import org.junit.jupiter.api.Test;

import io.github.cohortsync.connect.it.standin.MarketoReceiver;

/**
 * End-to-end sync to a local stand-in for a Marketo instance: two cohorts' adds (one over 300 members, so several
 * lookups and list calls) and removals end as exactly the expected static list members, each list is created once
 * though pages go concurrently, a 606 (rate limit) is retried, an access token expired mid-run (602) is renewed, and a
 * member whose email has no lead and a tombstone (no email) go to the dead letter queue naming the member, not its
 * email. A full sync with lead creation adds the cohort's members and leaves the list's other members.
 */
@ConnectCluster(name = "marketo-sync-it")
class MarketoSyncIT {
    private static ConnectHarness harness;

    private static ConnectorConfig marketo(String topic, MarketoReceiver standIn) {
        return ConnectorConfig.marketo(topic, MarketoReceiver.CLIENT_ID, MarketoReceiver.CLIENT_SECRET,
                MarketoReceiver.FOLDER_ID, standIn.url());
    }

    @Test
    void syncsAddsAndRemovalsAsExactlyTheExpectedListMembers() throws Exception {
        String topic = harness.createTopic("marketo-membership", 1);
        String dlq = ConnectHarness.uniqueName("marketo-dlq");
        String connector = ConnectHarness.uniqueName("marketo");
        // No lead has this email and leads are not created: rejected, dead-lettered, never a member.
        String unknown = user("nolead", 0);
        TwoPhaseSync sync = new TwoPhaseSync(700, 21, record -> record, add("101", unknown));

        try (MarketoReceiver marketo = MarketoReceiver.start()) {
            marketo.addLeads(sync.addedUsers().stream().map(MembershipRecord::email).toList());
            // The tombstone has no email: rejected to the DLQ, so b-00020 stays in the list.
            List<String> dead = sync.run(harness, topic, connector, marketo(topic, marketo), dlq, () -> {
                marketo.expireTokens();
                marketo.rateLimitNext(1);
            });

            assertThat(marketo.violations()).isEmpty();
            assertThat(marketo.members())
                    .isEqualTo(ExpectedMembership.of(sync.accepted()).emailsByName(MarketoSyncIT::list));
            assertThat(marketo.creations()).containsOnly(Map.entry(list("101"), 1), Map.entry(list("202"), 1));
            assertThat(marketo.rateLimited()).as("a 606 is retried").isEqualTo(1);
            assertThat(marketo.expiredAnswers()).as("the expired token, used by the pages in flight (2)")
                    .isBetween(1, 2);
            assertThat(marketo.tokensIssued()).as("then renewed once for both").isEqualTo(2);
            assertThat(marketo.concurrencyLimited()).as("default concurrency stays under 10").isZero();
            assertThat(marketo.listCalls()).as("700 adds need at least three calls of at most 300")
                    .isGreaterThanOrEqualTo(5);
            assertThat(dead.get(0)).contains("no Marketo lead has the email of member " + unknown)
                    .doesNotContain(MembershipRecord.email(unknown));
            assertThat(dead.get(1)).contains("member " + user("b", 20) + " has no email");
            harness.assertAllRunning(connector);
        } finally {
            harness.deleteConnectorQuietly(connector);
        }
    }

    @Test
    void aFullSyncCreatesMissingLeadsAddsTheMembersAndLeavesTheListsOtherMembers() throws Exception {
        String topic = harness.createCompactedTopic("marketo-full");
        String connector = ConnectHarness.uniqueName("marketo-full");
        List<MembershipRecord> records = new ArrayList<>();
        for (int i = 0; i < 350; i++) {
            records.add(add("303", user("f", i)));
        }
        for (int i = 0; i < 10; i++) {
            records.add(tombstone("303", user("f", i)));
        }

        try (MarketoReceiver marketo = MarketoReceiver.start()) {
            String stranger = "stranger@example.com";
            marketo.seedList(list("303"), List.of(stranger));
            harness.produce(topic, records);
            Map<String, String> config = marketo(topic, marketo)
                    .with("marketo.upsert.leads", "true")
                    .fullSyncs(harness.connect().kafka().bootstrapServers())
                    .syncIntervalMs(1000)
                    .build();
            harness.startConnector(connector, config, 1);
            harness.awaitCommittedToEnd(connector, topic);

            Set<String> expected = new TreeSet<>(ExpectedMembership.of(records).emailsByName(MarketoSyncIT::list)
                    .get(list("303")));
            assertThat(expected).hasSize(340);
            expected.add(stranger);
            assertThat(marketo.violations()).isEmpty();
            assertThat(marketo.members()).containsOnly(Map.entry(list("303"), expected));
            assertThat(marketo.hasLead(MembershipRecord.email(user("f", 10)))).as("leads created").isTrue();
            assertThat(marketo.hasLead(MembershipRecord.email(user("f", 0)))).as("no lead for a leaver").isFalse();
            assertThat(marketo.creations()).as("the existing list is found by name").isEmpty();
            harness.assertAllRunning(connector);
        } finally {
            harness.deleteConnectorQuietly(connector);
        }
    }

    private static String list(String cohortId) {
        return "mixpanel_" + MembershipRecord.cohortName(cohortId) + "_" + cohortId;
    }
}

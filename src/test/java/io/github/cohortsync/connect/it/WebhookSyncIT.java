package io.github.cohortsync.connect.it;

import static io.github.cohortsync.connect.it.MembershipRecord.add;
import static io.github.cohortsync.connect.it.MembershipRecord.remove;
import static io.github.cohortsync.connect.it.MembershipRecord.tombstone;
import static io.github.cohortsync.connect.it.MembershipRecord.user;
import static org.assertj.core.api.Assertions.assertThat;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;

import org.junit.jupiter.api.Test;

import com.fasterxml.jackson.databind.JsonNode;

import io.github.cohortsync.connect.it.standin.WebhookReceiver.Delivery;
import io.github.cohortsync.connect.it.standin.WebhookReceiver;

/**
 * End-to-end syncs to a webhook through a real broker and worker: final membership, page shape and paging,
 * offsets committed only after delivery, the cohort filter, and netting.
 */
@ConnectCluster(name = "webhook-sync-it")
class WebhookSyncIT {
    private static ConnectHarness harness;

    @PerTest
    private WebhookReceiver receiver;
    @ConnectorName
    private String connector;

    /**
     * 3 cohorts, ~4100 interleaved adds, removes and tombstones of ~3100 users in two phases: the receiver ends
     * with exactly the membership the records imply, every request has the documented shape, pages hold at most
     * 1000 members with consistent page_info, and offsets reach the end of the topic only once all was delivered.
     */
    @Test
    void syncsInterleavedChangesOfSeveralCohortsExactly() throws Exception {
        String topic = harness.createTopic("membership", 1);
        // Phase 1, produced before the connector starts so that it is read (and synced) in one go.
        List<MembershipRecord> big = new ArrayList<>();
        for (int i = 0; i < 2500; i++) {
            big.add(add("101", user("big", i)).with("project_id", "proj-7"));
        }
        List<MembershipRecord> mid = new ArrayList<>();
        for (int i = 0; i < 400; i++) {
            mid.add(add("202", user("mid", i)).with("project_id", "proj-7"));
        }
        List<MembershipRecord> small = new ArrayList<>();
        for (int i = 0; i < 100; i++) {
            // An integer cohort id and no project_id: the config's project.id is sent.
            small.add(add("303", user("small", i)).with("cohort_id", 303));
        }
        List<MembershipRecord> churn = new ArrayList<>();
        for (int i = 0; i < 50; i++) {
            churn.add(add("202", user("churn", i)).with("project_id", "proj-7"));
            churn.add(remove("202", user("churn", i)).with("project_id", "proj-7"));
        }
        List<MembershipRecord> phase1 = Interleave.randomly(1, big, mid, small, churn);
        harness.produce(topic, phase1);
        ExpectedMembership expected = ExpectedMembership.of(phase1);

        Map<String, String> config = ConnectorConfig.webhook(topic, receiver.url()).build();
        // Long enough that each phase is one sync, so the paging of one sync can be checked.
        config.put("sync.interval.ms", "2000");
        config.put("project.id", "proj-default");
        config.put("webhook.auth.username", "hook-user");
        config.put("webhook.auth.password", "hook-s3cret");
        receiver.expectBasicAuth("hook-user", "hook-s3cret");
        harness.startConnector(connector, config, 1);

        // Committed offsets are read first, the receiver after: once the commit reached the end, delivery must
        // already be complete.
        harness.awaitCommittedToEnd(connector, topic);
        assertThat(receiver.membership()).as("membership once phase 1 was committed")
                .isEqualTo(expected.asMap());
        assertThat(expected.of("101")).hasSize(2500);

        // The 2500 adds of cohort 101 went as one sync of 3 pages: 1000, 1000, 500 members.
        List<Delivery> bigAdds = receiver.accepted().stream()
                .filter(d -> "101".equals(d.cohortId()) && "add_members".equals(d.action())).toList();
        assertThat(bigAdds).hasSize(3);
        assertThat(bigAdds).extracting(Delivery::sessionId).containsOnly(bigAdds.get(0).sessionId());
        assertThat(bigAdds).extracting(Delivery::totalPages).containsOnly(3);
        assertThat(bigAdds).extracting(Delivery::pageCount).containsExactlyInAnyOrder(1, 2, 3);
        assertThat(bigAdds).extracting(d -> d.distinctIds().size()).containsExactlyInAnyOrder(1000, 1000, 500);
        assertThat(bigAdds).extracting(Delivery::idempotencyKey).doesNotHaveDuplicates();

        // Phase 2, while the connector runs: removes, tombstones, re-adds and new users.
        List<MembershipRecord> leaveBig = new ArrayList<>();
        for (int i = 0; i < 300; i++) {
            leaveBig.add(remove("101", user("big", i)).with("project_id", "proj-7"));
        }
        for (int i = 300; i < 500; i++) {
            leaveBig.add(tombstone("101", user("big", i)));
        }
        for (int i = 0; i < 20; i++) {
            leaveBig.add(add("101", user("big", i)).with("project_id", "proj-7")); // back again
        }
        List<MembershipRecord> moveMid = new ArrayList<>();
        for (int i = 0; i < 100; i++) {
            moveMid.add(remove("202", user("mid", i)).with("project_id", "proj-7"));
        }
        for (int i = 400; i < 600; i++) {
            moveMid.add(add("202", user("mid", i)).with("project_id", "proj-7"));
        }
        List<MembershipRecord> emptySmall = new ArrayList<>();
        for (int i = 0; i < 100; i++) {
            emptySmall.add(tombstone("303", user("small", i)));
        }
        List<MembershipRecord> flash = new ArrayList<>();
        for (int i = 0; i < 50; i++) {
            flash.add(add("303", user("flash", i)).with("cohort_id", 303));
            flash.add(remove("303", user("flash", i)).with("cohort_id", 303));
        }
        List<MembershipRecord> phase2 = Interleave.randomly(2, leaveBig, moveMid, emptySmall, flash);
        harness.produce(topic, phase2);
        expected.apply(phase2);

        harness.awaitCommittedToEnd(connector, topic);
        Map<String, Set<String>> finalMembership = receiver.membership();
        assertThat(finalMembership).as("membership once phase 2 was committed").isEqualTo(expected.asMap());
        assertThat(finalMembership).containsOnlyKeys("101", "202");
        assertThat(finalMembership.get("101")).hasSize(2500 - 500 + 20);
        assertThat(finalMembership.get("202")).hasSize(400 - 100 + 200);

        assertThat(receiver.violations()).as("requests not in the documented shape").isEmpty();
        assertThat(receiver.pagingProblems()).as("page sequences").isEmpty();
        assertThat(receiver.acceptedCountByKey()).as("accepted deliveries per Idempotency-Key")
                .allSatisfy((key, count) -> assertThat(count).as(key).isEqualTo(1L));
        assertThat(receiver.deliveries()).as("no request was refused").allMatch(Delivery::accepted);

        // Removes (explicit and tombstones) arrive as remove_members pages of the right cohort. A user who entered
        // and left is sent as removed, its latest state, exactly once.
        List<String> removedFromSmall = receiver.accepted().stream()
                .filter(d -> "303".equals(d.cohortId()) && "remove_members".equals(d.action()))
                .flatMap(d -> d.distinctIds().stream()).toList();
        List<String> expectedRemoves = new ArrayList<>(expectedUsers("small", 100));
        expectedRemoves.addAll(expectedUsers("flash", 50));
        assertThat(removedFromSmall).containsExactlyInAnyOrderElementsOf(expectedRemoves);

        // The parameters and member fields carry what the records said.
        for (Delivery d : receiver.accepted()) {
            assertThat(d.cohortName()).isEqualTo(MembershipRecord.cohortName(d.cohortId()));
            assertThat(d.projectId()).isEqualTo("303".equals(d.cohortId()) ? "proj-default" : "proj-7");
        }
        Delivery firstAdds = bigAdds.get(0);
        assertThat(firstAdds.cohortDescription()).isEqualTo("Users of " + MembershipRecord.cohortName("101"));
        JsonNode member = firstAdds.members().get(0);
        String id = member.get("mixpanel_distinct_id").asText();
        assertThat(member.get("email").asText()).isEqualTo(MembershipRecord.email(id));
        assertThat(member.get("first_name").asText()).isEqualTo(MembershipRecord.firstName(id));
        assertThat(member.get("last_name").asText()).isEqualTo("Tester");
        assertThat(member.get("phone_number").asText()).isEqualTo(MembershipRecord.phone(id));
        harness.assertAllRunning(connector);
    }

    /** {@code cohorts.include} sends only the listed cohort; the other cohorts' offsets are committed all the same. */
    @Test
    void cohortFilterSendsOnlyIncludedCohortsAndCommitsTheRest() throws Exception {
        String topic = harness.createTopic("filtered", 1);
        Map<String, String> config = ConnectorConfig.webhook(topic, receiver.url())
                .with("cohorts.include", "303")
                .build();
        harness.startConnector(connector, config, 1);

        List<MembershipRecord> records = new ArrayList<>();
        for (int i = 0; i < 30; i++) {
            records.add(add("101", user("a", i)));
            // The record's id is an integer; the filter lists it as text.
            records.add(add("303", user("b", i)).with("cohort_id", 303));
            records.add(add("404", user("c", i)));
        }
        records.add(remove("303", user("b", 0)).with("cohort_id", 303));
        records.add(tombstone("101", user("a", 0)));
        harness.produce(topic, records);

        harness.awaitCommittedToEnd(connector, topic);
        assertThat(receiver.cohortsSeen()).containsExactly("303");
        assertThat(receiver.membership()).isEqualTo(Map.of("303", ExpectedMembership.of(records).of("303")));
        assertThat(receiver.membership().get("303")).hasSize(29);
        assertThat(receiver.violations()).isEmpty();
        harness.assertAllRunning(connector);
    }

    /**
     * Within one sync interval only the latest change per user is sent: a new user who enters and leaves is sent
     * once as removed, a member who leaves and comes back once as a member, in one add and one remove page.
     */
    @Test
    void changesWithinOneIntervalAreSentOnceAsTheLatestState() throws Exception {
        String topic = harness.createTopic("netting", 1);
        Map<String, String> config = ConnectorConfig.webhook(topic, receiver.url()).syncIntervalMs(3000).build();
        harness.startConnector(connector, config, 1);

        harness.produce(topic, add("101", "member"));
        harness.awaitCommittedToEnd(connector, topic);
        assertThat(receiver.membership()).isEqualTo(Map.of("101", Set.of("member")));
        int before = receiver.requestCount();

        // All produced at once, well within one 3 s interval.
        List<MembershipRecord> interval = List.of(
                add("101", "newcomer"),
                remove("101", "member"),
                remove("101", "newcomer"),
                add("101", "member"),
                add("101", "other"));
        harness.produce(topic, interval);

        harness.awaitCommittedToEnd(connector, topic);
        assertThat(receiver.membership()).isEqualTo(Map.of("101", Set.of("member", "other")));
        List<Delivery> later = receiver.deliveries().subList(before, receiver.requestCount());
        assertThat(later).as("one add page and one remove page").hasSize(2);
        assertThat(later).filteredOn(d -> "add_members".equals(d.action())).singleElement()
                .satisfies(d -> assertThat(d.distinctIds()).containsExactlyInAnyOrder("member", "other"));
        assertThat(later).filteredOn(d -> "remove_members".equals(d.action())).singleElement()
                .satisfies(d -> assertThat(d.distinctIds()).containsExactly("newcomer"));
        assertThat(receiver.violations()).isEmpty();
    }

    private static List<String> expectedUsers(String prefix, int count) {
        List<String> users = new ArrayList<>();
        for (int i = 0; i < count; i++) {
            users.add(user(prefix, i));
        }
        return users;
    }
}

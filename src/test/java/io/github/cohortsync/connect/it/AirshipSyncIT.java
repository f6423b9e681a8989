package io.github.cohortsync.connect.it;

import static io.github.cohortsync.connect.it.MembershipRecord.add;
import static io.github.cohortsync.connect.it.MembershipRecord.remove;
import static io.github.cohortsync.connect.it.MembershipRecord.user;
import static org.assertj.core.api.Assertions.assertThat;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.TreeSet;

import org.junit.jupiter.api.Test;

import io.github.cohortsync.connect.it.standin.AirshipReceiver;

/**
 * End-to-end sync to a local stand-in for Airship's Named User tags: adds and removals of two cohorts (one over 1000
 * members, so several calls) end as exactly the expected tags in the tag group, a 429 with Retry-After, a 503 and
 * an answer with warnings are all taken in stride, members without a Named User id (and tombstones, which carry
 * none) go to the dead letter queue; a wrong token fails the task with a hint and without the token; a full sync
 * with Basic auth and distinct_id as the Named User id adds the cohort's members and keeps other holders of the tag.
 */
@ConnectCluster(name = "airship-sync-it")
class AirshipSyncIT {
    private static ConnectHarness harness;

    /** A member whose Airship Named User id is {@code nu-<user>}, as Mixpanel's property carries it. */
    private static MembershipRecord withNamedUser(MembershipRecord record) {
        return record.with("properties", Map.of("$airship_named_user", "nu-" + record.user()));
    }

    @Test
    void syncsAddsAndRemovalsAsExactlyTheExpectedTags() throws Exception {
        String topic = harness.createTopic("airship-membership", 1);
        String dlq = ConnectHarness.uniqueName("airship-dlq");
        String connector = ConnectHarness.uniqueName("airship");
        // No $airship_named_user: rejected, dead-lettered, never tagged.
        String anonymous = user("anon", 0);
        TwoPhaseSync sync = new TwoPhaseSync(1200, 33, AirshipSyncIT::withNamedUser, add("101", anonymous));

        try (AirshipReceiver airship = AirshipReceiver.start()) {
            ConnectorConfig config = ConnectorConfig.airship(topic, AirshipReceiver.TOKEN, airship.url());
            // The tombstone has no properties, so no Named User id: rejected, so b-00020 keeps its tag.
            List<String> dead = sync.run(harness, topic, connector, config, dlq, () -> {
                airship.throttleNext(1);
                airship.failNext(1);
                airship.warnNext(1);
            });

            assertThat(airship.violations()).isEmpty();
            assertThat(airship.tagged()).isEqualTo(expectedTags(sync.accepted()));
            assertThat(airship.throttled()).as("a 429 is retried after its Retry-After").isEqualTo(1);
            assertThat(airship.failedUnavailable()).as("a 503 is retried").isEqualTo(1);
            assertThat(airship.largestAudience()).isLessThanOrEqualTo(1000);
            assertThat(airship.calls()).as("1200 adds need two calls of at most 1000").isGreaterThanOrEqualTo(5);
            assertThat(dead.get(0)).contains("member " + anonymous + " has no Airship Named User id")
                    .contains("$airship_named_user").doesNotContain("@");
            assertThat(dead.get(1)).contains("member " + user("b", 20) + " has no Airship Named User id");
            harness.assertAllRunning(connector);
        } finally {
            harness.deleteConnectorQuietly(connector);
        }
    }

    @Test
    void aWrongTokenFailsTheTaskWithAHintAndWithoutTheToken() throws Exception {
        String connector = ConnectHarness.uniqueName("airship-wrong-token");
        String topic = harness.createTopic("airship-wrong-token", 1);
        String wrong = "MTp3cm9uZy10b2tlbi05OQ";
        try (AirshipReceiver airship = AirshipReceiver.start()) {
            harness.produce(topic, withNamedUser(add("101", user("u", 1))));
            Map<String, String> config = ConnectorConfig.airship(topic, wrong, airship.url()).build();
            harness.startConnector(connector, config, 1);

            String trace = harness.awaitTaskFailed(connector);

            assertThat(trace).contains("HTTP 401", "check airship.token").doesNotContain(wrong);
            assertThat(harness.committedTotal(connector, topic)).isZero();
            assertThat(airship.tagged()).isEmpty();
        } finally {
            harness.deleteConnectorQuietly(connector);
        }
    }

    /**
     * A first run on a compacted topic is a full sync ('members' pages): the cohort's current members get the tag,
     * by distinct_id (airship.named.user.property=distinct_id) and with the app key and master secret. A named user
     * who held the tag before and is not in the cohort keeps it: Airship has no way to list or clear a tag's holders
     * in one group short of per-user "set", so a full sync only adds (documented).
     */
    @Test
    void aFullSyncAddsTheCohortsMembersAndKeepsOtherHolders() throws Exception {
        String topic = harness.createCompactedTopic("airship-full");
        String connector = ConnectHarness.uniqueName("airship-full");
        List<MembershipRecord> records = new ArrayList<>();
        Set<String> members = new TreeSet<>();
        for (int i = 0; i < 30; i++) {
            records.add(add("303", user("f", i)));
            members.add(user("f", i));
        }
        for (int i = 0; i < 3; i++) {
            records.add(remove("303", user("f", i)));
            members.remove(user("f", i));
        }
        harness.produce(topic, records);
        String tag = MembershipRecord.cohortName("303");

        try (AirshipReceiver airship = AirshipReceiver.start()) {
            airship.prefill(tag, Set.of("stranger"));
            Map<String, String> config = ConnectorConfig.airship(topic, "", airship.url())
                    .with("airship.app.key", AirshipReceiver.APP_KEY)
                    .with("airship.master.secret", AirshipReceiver.MASTER_SECRET)
                    .with("airship.named.user.property", "distinct_id")
                    .fullSyncs(harness.connect().kafka().bootstrapServers())
                    .build();
            config.remove("airship.token");
            harness.startConnector(connector, config, 1);
            harness.awaitCommittedToEnd(connector, topic);

            Set<String> expected = new TreeSet<>(members);
            expected.add("stranger");
            assertThat(airship.tagged()).isEqualTo(Map.of(tag, expected));
            assertThat(airship.violations()).isEmpty();
            harness.assertAllRunning(connector);
        } finally {
            harness.deleteConnectorQuietly(connector);
        }
    }

    /** Per tag (the cohort's name), the Named User ids of the users whose latest record is an add. */
    private static Map<String, Set<String>> expectedTags(List<MembershipRecord> records) {
        Map<String, Map<String, Boolean>> latest = new TreeMap<>();
        for (MembershipRecord r : records) {
            latest.computeIfAbsent(MembershipRecord.cohortName(r.cohortId()), t -> new TreeMap<>())
                    .put(r.user(), r.isAdd());
        }
        Map<String, Set<String>> tags = new TreeMap<>();
        latest.forEach((tag, users) -> {
            Set<String> ids = new TreeSet<>();
            users.forEach((user, in) -> {
                if (in) {
                    ids.add("nu-" + user);
                }
            });
            if (!ids.isEmpty()) {
                tags.put(tag, ids);
            }
        });
        return tags;
    }
}

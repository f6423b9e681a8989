package io.github.cohortsync.connect.it;

import static io.github.cohortsync.connect.it.MembershipRecord.add;
import static io.github.cohortsync.connect.it.MembershipRecord.user;
import static org.assertj.core.api.Assertions.assertThat;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;

import org.apache.kafka.clients.admin.NewTopic;
import org.apache.kafka.common.Uuid;
import org.apache.kafka.common.errors.TopicExistsException;
import org.junit.jupiter.api.Test;

import io.github.cohortsync.connect.it.standin.WebhookReceiver;
import io.github.cohortsync.connect.it.standin.WebhookReceiver.Delivery;

/**
 * A topic deleted and created again under the same name, as users do in development and staging or after a bad
 * migration: the connector is deleted, the topic deleted and re-created, the same seed script produces the same
 * records again (so the same cohort, user and action land at the same offsets), and the connector is created again
 * under the same name and config. Its consumer group's committed offsets went with the old topic, so the new topic
 * is read from offset 0 on this host, whose delivery journal and cohort state file still hold the old topic's
 * deliveries. Every member of the new topic must reach the receiver again (the receiver behind it may have been
 * reset with it); with full syncs on, the new topic gets its first run again ('members' pages, a new session).
 */
@ConnectCluster(name = "recreated-topic-it")
class RecreatedTopicIT {
    private static final String COHORT = "4242";
    private static final int MEMBERS = 60;

    private static ConnectHarness harness;

    @PerTest
    private WebhookReceiver receiver;
    @ConnectorName
    private String connector;

    /**
     * Diffs only: the delivery journal of the old topic must not make the task skip the new topic's records. With
     * snapshot.bootstrap.servers set the task reads the topic's id and starts the journal of the old topic afresh
     * (without the id, before this was fixed, it skipped the 60 changes at the offsets the old topic delivered).
     */
    @Test
    void aReCreatedTopicIsSentInFullWithDiffsOnly() throws Exception {
        Map<String, String> config = ConnectorConfig.webhook("unset", receiver.url())
                .with("snapshot.bootstrap.servers", harness.connect().kafka().bootstrapServers()).build();
        assertThat(config).containsEntry("snapshot.enabled", "false");
        runTwice(config, false);
    }

    /** Full syncs on (the documented config): the new topic's first run is a 'members' session again. */
    @Test
    void aReCreatedTopicGetsItsFirstRunAgainWithFullSyncs() throws Exception {
        receiver.requireMembersFirst();
        Map<String, String> config = ConnectorConfig.webhook("unset", receiver.url())
                .fullSyncs(harness.connect().kafka().bootstrapServers()).build();
        runTwice(config, true);
        assertThat(receiver.cohortNotFound()).as("404 Cohort not found").isEmpty();
        assertThat(receiver.pagingProblems()).isEmpty();
    }

    private void runTwice(Map<String, String> config, boolean fullSyncs) throws Exception {
        String topic = ConnectHarness.uniqueName("recreated");
        config.put("topics", topic);
        harness.connect().kafka().createTopic(topic, 1);
        Uuid oldId = topicId(topic);
        List<MembershipRecord> seed = seed();
        harness.produce(topic, seed);
        harness.startConnector(connector, config, 1);
        harness.awaitCommittedToEnd(connector, topic);
        assertThat(acceptedMembers(0)).as("the old topic's members").isEqualTo(users(seed));
        long firstSessions = membersSessions();

        // What a user does: delete the connector, drop and re-create the topic, seed it again, create the connector.
        harness.connect().deleteConnector(connector);
        harness.connect().assertions().assertConnectorDoesNotExist(connector, "the connector was not deleted");
        recreate(topic);
        assertThat(topicId(topic)).as("the new topic's id").isNotEqualTo(oldId);
        List<MembershipRecord> again = new ArrayList<>(seed);
        for (int i = 0; i < 10; i++) {
            again.add(add(COHORT, user("later", i)));
        }
        harness.produce(topic, again);
        int before = receiver.requestCount();
        harness.startConnector(connector, config, 1);
        harness.awaitCommittedToEnd(connector, topic);

        assertThat(acceptedMembers(before)).as("members of the new topic accepted after it was re-created")
                .isEqualTo(users(again));
        if (fullSyncs) {
            assertThat(membersSessions()).as("the new topic's first run is a new 'members' session")
                    .isEqualTo(firstSessions + 1);
        }
        assertThat(receiver.membership()).isEqualTo(ExpectedMembership.of(again).asMap());
        harness.assertAllRunning(connector);
    }

    private static List<MembershipRecord> seed() {
        List<MembershipRecord> records = new ArrayList<>();
        for (int i = 0; i < MEMBERS; i++) {
            records.add(add(COHORT, user("seed", i)));
        }
        return records;
    }

    private static Set<String> users(List<MembershipRecord> records) {
        Set<String> users = new TreeSet<>();
        records.forEach(r -> users.add(r.user()));
        return users;
    }

    /** Distinct users of accepted add or members pages of the cohort, from request {@code from} on. */
    private Set<String> acceptedMembers(int from) {
        Set<String> users = new TreeSet<>();
        receiver.accepted().stream().filter(d -> d.index() >= from && COHORT.equals(d.cohortId())
                        && !"remove_members".equals(d.action()))
                .forEach(d -> users.addAll(d.distinctIds()));
        return users;
    }

    private long membersSessions() {
        return receiver.accepted().stream().filter(d -> "members".equals(d.action())).map(Delivery::sessionId)
                .distinct().count();
    }

    private Uuid topicId(String topic) throws Exception {
        return harness.admin().describeTopics(Set.of(topic)).allTopicNames().get(30, TimeUnit.SECONDS).get(topic)
                .topicId();
    }

    /** Deletes the topic and creates it again once the broker has finished deleting it. */
    private void recreate(String topic) throws Exception {
        harness.admin().deleteTopics(Set.of(topic)).all().get(30, TimeUnit.SECONDS);
        ConnectHarness.await().alias("topic " + topic + " re-created").until(() -> {
            try {
                harness.admin().createTopics(List.of(new NewTopic(topic, 1, (short) 1))).all()
                        .get(30, TimeUnit.SECONDS);
                return true;
            } catch (ExecutionException e) {
                if (e.getCause() instanceof TopicExistsException) {
                    return false;
                }
                throw e;
            }
        });
        ConnectHarness.await().alias("the old topic's committed offsets are gone")
                .until(() -> harness.committedOffsets(connector, topic).isEmpty());
    }
}

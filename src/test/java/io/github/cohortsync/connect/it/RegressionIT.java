package io.github.cohortsync.connect.it;

import static io.github.cohortsync.connect.it.MembershipRecord.add;
import static io.github.cohortsync.connect.it.MembershipRecord.remove;
import static io.github.cohortsync.connect.it.MembershipRecord.tombstone;
import static org.assertj.core.api.Assertions.assertThat;

import java.util.List;
import java.util.Map;
import java.util.Set;

import org.apache.kafka.common.TopicPartition;
import org.junit.jupiter.api.Test;

import io.github.cohortsync.connect.it.standin.WebhookReceiver.Delivery;
import io.github.cohortsync.connect.it.standin.WebhookReceiver.Reply;
import io.github.cohortsync.connect.it.standin.WebhookReceiver;

/** Defects found while writing the integration tests, each reproduced through the real worker and kept fixed. */
@ConnectCluster(name = "regression-it")
class RegressionIT {
    private static ConnectHarness harness;

    @PerTest
    private WebhookReceiver receiver;
    @ConnectorName
    private String connector;

    /**
     * At-least-once replay must not lose changes. A sync whose first page (remove X) was accepted fails on its
     * second page (remove Z); X and Z then re-enter the cohort and the task is restarted. The task reads again
     * from the last commit: remove X, remove Z, add X, add Z. Netting treats remove-then-add as "no change", but the
     * receiver already applied "remove X", so X must be sent again.
     */
    @Test
    void replayAfterAPartlyDeliveredSyncDoesNotLoseAReAdd() throws Exception {
        String topic = harness.createTopic("replay", 1);
        Map<String, String> config = ConnectorConfig.webhook(topic, receiver.url()).with("batch.max.size", "1").build();
        harness.startConnector(connector, config, 1);
        harness.produce(topic, add("101", "x"), add("101", "z"));
        harness.awaitCommittedToEnd(connector, topic);
        assertThat(receiver.membership()).isEqualTo(Map.of("101", Set.of("x", "z")));

        // The removes go as two one-member pages of one sync: the first is accepted, the second refused.
        receiver.enqueue(Reply.success());
        receiver.answerByDefault(Reply.httpStatus(401).withBody("{\"error\":\"expired\"}"));
        harness.produce(topic, remove("101", "x"), remove("101", "z"));
        harness.awaitTaskFailed(connector);
        assertThat(harness.committedOffsets(connector, topic)).isEqualTo(Map.of(new TopicPartition(topic, 0), 2L));
        assertThat(receiver.membership().get("101")).hasSize(1);

        // Both come back; the receiver is fixed; the task restarts and replays from offset 2.
        harness.produce(topic, add("101", "x"), add("101", "z"));
        receiver.answerByDefault(Reply.success());
        harness.connect().restartTask(connector, 0);
        harness.awaitCommittedToEnd(connector, topic);

        assertThat(receiver.membership()).as("both users are members again")
                .isEqualTo(Map.of("101", Set.of("x", "z")));
    }

    /**
     * A tombstone carries only ids, so its cohort's project must come from what is known of the cohort; config
     * {@code project.id} is only for records (and cohorts) that carry none.
     */
    @Test
    void tombstoneKeepsTheKnownProjectOfItsCohort() throws Exception {
        String topic = harness.createTopic("tombstone-project", 1);
        Map<String, String> config = ConnectorConfig.webhook(topic, receiver.url())
                .with("project.id", "proj-default")
                .build();
        harness.startConnector(connector, config, 1);
        harness.produce(topic, add("101", "x").with("project_id", "proj-7"),
                add("101", "y").with("project_id", "proj-7"));
        harness.awaitCommittedToEnd(connector, topic);

        harness.produce(topic, tombstone("101", "x"));
        harness.awaitCommittedToEnd(connector, topic);

        List<Delivery> accepted = receiver.accepted();
        assertThat(accepted).extracting(Delivery::action).containsExactly("add_members", "remove_members");
        assertThat(accepted).extracting(Delivery::projectId).containsOnly("proj-7");
    }
}

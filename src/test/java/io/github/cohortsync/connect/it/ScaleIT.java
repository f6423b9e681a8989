package io.github.cohortsync.connect.it;

import static io.github.cohortsync.connect.it.MembershipRecord.add;
import static io.github.cohortsync.connect.it.MembershipRecord.remove;
import static io.github.cohortsync.connect.it.MembershipRecord.tombstone;
import static io.github.cohortsync.connect.it.MembershipRecord.user;
import static org.assertj.core.api.Assertions.assertThat;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;

import org.junit.jupiter.api.Test;

import io.github.cohortsync.connect.it.standin.WebhookReceiver;

/**
 * Two workers in distributed mode, {@code tasks.max=2} on a 3-partition topic keyed by (cohort, user): every
 * change of one key stays in one partition and so in order, and the final membership is exact.
 */
@ConnectCluster(name = "scale-it", workers = 2)
class ScaleIT {
    private static ConnectHarness harness;

    @Test
    void twoTasksOnThreePartitionsSyncExactly() throws Exception {
        String topic = harness.createTopic("scaled", 3);
        String connector = ConnectHarness.uniqueName("scaled");
        try (WebhookReceiver receiver = WebhookReceiver.start()) {
            Map<String, String> config = ConnectorConfig.webhook(topic, receiver.url()).tasks(2).build();
            harness.startConnector(connector, config, 2);

            List<MembershipRecord> first = new ArrayList<>();
            List<MembershipRecord> second = new ArrayList<>();
            for (String cohort : List.of("101", "202", "303")) {
                List<MembershipRecord> joins = new ArrayList<>();
                for (int i = 0; i < 600; i++) {
                    joins.add(add(cohort, user("u" + cohort, i)));
                }
                first.addAll(joins);
                List<MembershipRecord> changes = new ArrayList<>();
                for (int i = 0; i < 600; i += 3) {
                    // Leave (either way), sometimes come back; keyed records keep their order per partition.
                    changes.add(i % 2 == 0 ? remove(cohort, user("u" + cohort, i))
                            : tombstone(cohort, user("u" + cohort, i)));
                    if (i % 9 == 0) {
                        changes.add(add(cohort, user("u" + cohort, i)));
                    }
                }
                for (int i = 600; i < 800; i++) {
                    changes.add(add(cohort, user("u" + cohort, i)));
                }
                second.addAll(changes);
            }
            harness.produce(topic, first);
            // Let some syncs happen between the two batches, so removes meet already-delivered members.
            ConnectHarness.await().until(() -> receiver.accepted().size() >= 3);
            harness.produce(topic, second);
            List<MembershipRecord> all = new ArrayList<>(first);
            all.addAll(second);

            harness.awaitCommittedToEnd(connector, topic);
            assertThat(harness.endOffsets(topic).values()).as("records spread over the 3 partitions")
                    .allSatisfy(end -> assertThat(end).isPositive());
            assertThat(receiver.membership()).isEqualTo(ExpectedMembership.of(all).asMap());
            assertThat(receiver.violations()).isEmpty();
            assertThat(receiver.pagingProblems()).isEmpty();
            assertThat(harness.tasks(connector)).hasSize(2);
            harness.assertAllRunning(connector);
        } finally {
            harness.deleteConnectorQuietly(connector);
        }
    }
}

package io.github.cohortsync.connect.it;

import static io.github.cohortsync.connect.it.ForkedWorker.runningWorkers;
import static io.github.cohortsync.connect.it.ForkedWorker.slowAwait;
import static io.github.cohortsync.connect.it.MembershipRecord.add;
import static io.github.cohortsync.connect.it.MembershipRecord.remove;
import static io.github.cohortsync.connect.it.MembershipRecord.user;
import static org.assertj.core.api.Assertions.assertThat;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.stream.Collectors;

import org.junit.jupiter.api.Test;

import io.github.cohortsync.connect.it.standin.WebhookReceiver.Reply;
import io.github.cohortsync.connect.it.standin.WebhookReceiver;

/**
 * A worker killed with SIGKILL in the middle of a sync, then started again: one in-JVM worker plus a worker in its
 * own JVM, two tasks, one on each. Nothing is lost; only changes not yet committed at the kill are sent again.
 */
// Short group timeouts, so that the killed worker and its consumer are noticed in seconds; the forked workers
// join with the same properties.
@ConnectCluster(name = "worker-kill-it", workerProps = {
    "session.timeout.ms=6000",
    "heartbeat.interval.ms=1000",
    "scheduled.rebalance.max.delay.ms=1000",
    "consumer.session.timeout.ms=6000",
    "consumer.heartbeat.interval.ms=1000",
    "offset.flush.interval.ms=1000",
    "offset.flush.timeout.ms=5000"})
class WorkerKillIT {
    private static final int OWNER_CHANGES_AFTER_THE_KILL = 3;

    private static ConnectHarness harness;

    @Test
    void workerKilledMidSyncAndRestartedLosesNothing() throws Exception {
        String topic = harness.createTopic("kill", 2);
        String connector = ConnectHarness.uniqueName("kill");
        List<MembershipRecord> records = new ArrayList<>();
        for (int i = 0; i < 400; i++) {
            records.add(add("1001", user("k", i)).inPartition(0));
            records.add(add("1002", user("k", i)).inPartition(1));
        }
        for (int i = 0; i < 400; i += 5) {
            records.add(remove("1001", user("k", i)).inPartition(0));
            records.add(remove("1002", user("k", i)).inPartition(1));
        }
        try (WebhookReceiver receiver = WebhookReceiver.start();
             ForkedWorker first = ForkedWorker.start(harness)) {
            receiver.answerByDefault(Reply.success().withDelay(150));
            Map<String, String> config = ConnectorConfig.webhook(topic, receiver.url())
                    .tasks(2)
                    .syncIntervalMs(300)
                    .with("batch.max.size", "40")
                    .with("consumer.override.max.poll.records", "100")
                    .build();
            harness.connect().configureConnector(connector, config);
            slowAwait().alias("one task on each worker")
                    .until(() -> runningWorkers(harness, connector).size() == 2);
            assertThat(runningWorkers(harness, connector)).anyMatch(w -> w.startsWith(ForkedWorker.HOST + ":"));

            harness.produce(topic, records);
            slowAwait().until(() -> receiver.accepted().stream().map(WebhookReceiver.Delivery::cohortId)
                    .collect(Collectors.toSet()).size() == 2 && receiver.accepted().size() >= 6);
            long committedAtKill = harness.committedTotal(connector, topic);
            int acceptedAtKill = receiver.accepted().size();
            first.kill();
            assertThat(harness.committedTotal(connector, topic)).as("changes committed at the kill")
                    .isLessThan(records.size());

            try (ForkedWorker second = ForkedWorker.start(harness)) {
                slowAwait().alias("committed offsets reach the end").until(() ->
                        harness.committedOffsets(connector, topic).equals(harness.endOffsets(topic)));
                slowAwait().alias("two tasks running").until(() -> runningWorkers(harness, connector).size() >= 1
                        && harness.tasks(connector).stream().allMatch(t -> "RUNNING".equals(t.state())));

                assertThat(receiver.membership()).isEqualTo(ExpectedMembership.of(records).asMap());
                DeliveryTally tally = DeliveryTally.of(records, receiver).print("worker-sigkill-mid-sync",
                        "uncommittedAtKill=" + (records.size() - committedAtKill) + " pagesAcceptedAtKill="
                                + acceptedAtKill);
                assertThat(tally.lost()).isZero();
                // Each change of owner re-reads a partition from its last commit, so a change not committed at
                // the kill can be sent again once per change of owner. After the kill a partition changes owner
                // up to three times: to the surviving task, to the killed task restarted on the surviving worker,
                // and to that task moved to the restarted worker.
                assertThat(tally.duplicates()).as("only changes not committed at the kill are sent again, at most"
                        + " once per change of owner").isLessThanOrEqualTo(OWNER_CHANGES_AFTER_THE_KILL
                        * (int) (records.size() - committedAtKill));
                assertThat(receiver.violations()).isEmpty();
                harness.deleteConnectorQuietly(connector);
            }
        }
    }
}

package io.github.cohortsync.connect.it;

import static io.github.cohortsync.connect.it.ForkedWorker.runningWorkers;
import static io.github.cohortsync.connect.it.ForkedWorker.slowAwait;
import static io.github.cohortsync.connect.it.MembershipRecord.add;
import static io.github.cohortsync.connect.it.MembershipRecord.remove;
import static io.github.cohortsync.connect.it.MembershipRecord.user;
import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

import org.apache.kafka.common.TopicPartition;
import org.junit.jupiter.api.Test;

import io.github.cohortsync.connect.CommitCycleHookConnector;
import io.github.cohortsync.connect.CommitCycleHookTask;
import io.github.cohortsync.connect.CommitCycleHookTask.Point;
import io.github.cohortsync.connect.it.standin.WebhookReceiver;
import io.github.cohortsync.connect.it.standin.WebhookReceiver.Delivery;
import io.github.cohortsync.connect.it.standin.WebhookReceiver.Reply;
import io.github.cohortsync.connect.sync.journal.JournalContents;

/**
 * A worker killed with SIGKILL at each point of the commit cycle of a sync it delivered, and started again on the
 * same host: before preCommit (the sync's mark not written), between preCommit and the framework's commit (the
 * mark written, the commit never sent), and after the commit landed. One in-JVM worker and one worker in its own
 * JVM, two tasks; the forked worker's task stops at the chosen point ({@link CommitCycleHookTask}) and is killed
 * there. Each time: nothing is lost, and the changes sent again are at most the members of the pages the killed
 * task had in flight: pages the receiver accepted whose delivery the task's journal does not show.
 */
@ConnectCluster(name = "commit-cycle-kill-it", workerProps = {
    "session.timeout.ms=6000",
    "heartbeat.interval.ms=1000",
    "scheduled.rebalance.max.delay.ms=1000",
    "consumer.session.timeout.ms=6000",
    "consumer.heartbeat.interval.ms=1000",
    "offset.flush.interval.ms=1000",
    "offset.flush.timeout.ms=5000"})
class CommitCycleKillIT {
    /** Each partition carries one cohort, so a page names the partition it came from. */
    private static final List<String> COHORTS = List.of("1001", "1002");
    private static final int ADDS_PER_PARTITION = 300;
    private static final int REMOVES_PER_PARTITION = 60;

    private static ConnectHarness harness;

    @Test
    void killedAtEachPointOfTheCommitCycleResendsAtMostThePagesInFlight() throws Exception {
        String topic = harness.createTopic("cycle", 2);
        String connector = ConnectHarness.uniqueName("cycle");
        Path work = Files.createDirectories(Path.of("target", "commit-cycle-kill")).toAbsolutePath();
        Path journalDir = Files.createTempDirectory(work, "journal");
        Path hookDir = Files.createTempDirectory(work, "hook");
        Map<String, String> hook = Map.of(CommitCycleHookTask.DIR_PROPERTY, hookDir.toString());
        List<MembershipRecord> produced = new ArrayList<>();
        try (WebhookReceiver receiver = WebhookReceiver.start()) {
            receiver.answerByDefault(Reply.success().withDelay(40));
            ForkedWorker worker = ForkedWorker.start(harness, hook);
            try {
                Map<String, String> config = ConnectorConfig.webhook(topic, receiver.url())
                        .tasks(2)
                        .syncIntervalMs(300)
                        .with("connector.class", CommitCycleHookConnector.class.getName())
                        .with("delivery.journal.dir", journalDir.toString())
                        .with("batch.max.size", "20")
                        .with("consumer.override.max.poll.records", "50")
                        .build();
                harness.connect().configureConnector(connector, config);
                for (Point point : Point.values()) {
                    worker = killAt(point, topic, connector, journalDir, hookDir, hook, produced, receiver, worker);
                }
                harness.deleteConnectorQuietly(connector);
            } finally {
                worker.close();
            }
        }
    }

    /** One stage: new changes, the forked task stopped at {@code point} and killed, a new forked worker. */
    private ForkedWorker killAt(Point point, String topic, String connector, Path journalDir, Path hookDir,
                                Map<String, String> hook, List<MembershipRecord> produced,
                                WebhookReceiver receiver, ForkedWorker worker) throws Exception {
        slowAwait().alias("a task of the forked worker runs and owns a partition").until(() ->
                runningWorkers(harness, connector).stream().anyMatch(w -> w.startsWith(ForkedWorker.HOST + ":"))
                        && !read(hookDir.resolve("assignment")).isBlank());
        int stageStart = receiver.deliveries().size();
        int duplicatesBefore = DeliveryTally.of(produced, receiver).duplicates();
        List<MembershipRecord> records = stageRecords(point.ordinal());
        Files.writeString(hookDir.resolve("arm"), point.name());
        harness.produce(topic, records);
        produced.addAll(records);

        slowAwait().alias("the forked task reaches " + point).until(() -> Files.exists(hookDir.resolve("reached")));
        Map<String, String> reached = properties(read(hookDir.resolve("reached")));
        Map<TopicPartition, Long> returned = offsets(reached.get("offsets"));
        if (point == Point.AFTER_COMMIT) {
            slowAwait().alias("the offsets preCommit returned are committed").until(() -> {
                Map<TopicPartition, Long> committed = harness.committedOffsets(connector, topic);
                return returned.entrySet().stream().allMatch(e -> committed.getOrDefault(e.getKey(), -1L)
                        >= e.getValue());
            });
        }
        worker.kill();
        List<Delivery> acceptedAtKill = receiver.accepted();
        Map<TopicPartition, Long> committedAtKill = harness.committedOffsets(connector, topic);

        // Pages in flight at the kill: accepted by the receiver for the killed task's partitions in this stage, but
        // not (wholly) journaled as delivered; the killed JVM sends nothing more.
        int membersInFlight = 0;
        int pagesInFlight = 0;
        List<String> marks = new ArrayList<>();
        boolean unlanded = false;
        for (TopicPartition partition : partitions(reached.get("partitions"))) {
            JournalContents journal = JournalContents.read(journalDir, connector, partition);
            String cohort = COHORTS.get(partition.partition());
            marks.add(partition.partition() + ":" + journal.marks());
            // No commit yet: consumption starts at the earliest offset, 0 (the worker's auto.offset.reset).
            long committed = committedAtKill.getOrDefault(partition, 0L);
            switch (point) {
                // Marks are written before their commit; the last one landed unless its commit failed.
                case BEFORE_PRE_COMMIT -> assertThat(journal.lastMark()).as("the last mark, of the last commit")
                        .isGreaterThanOrEqualTo(committed);
                case BETWEEN_PRE_COMMIT_AND_COMMIT -> {
                    if (returned.containsKey(partition)) {
                        assertThat(journal.lastMark()).as("the mark preCommit wrote")
                                .isEqualTo(returned.get(partition));
                        unlanded |= committed < returned.get(partition);
                    }
                }
                case AFTER_COMMIT -> assertThat(committed).isGreaterThanOrEqualTo(returned.getOrDefault(partition,
                        -1L));
                default -> throw new IllegalStateException(point.name());
            }
            for (Delivery page : acceptedAtKill) {
                if (page.index() >= stageStart && cohort.equals(page.cohortId()) && !page.distinctIds().stream()
                        .allMatch(u -> journal.wasDelivered(cohort, u, "add_members".equals(page.action())))) {
                    pagesInFlight++;
                    membersInFlight += page.distinctIds().size();
                }
            }
        }
        if (point == Point.BETWEEN_PRE_COMMIT_AND_COMMIT) {
            assertThat(unlanded).as("a mark written whose commit never landed").isTrue();
        }
        Files.deleteIfExists(hookDir.resolve("reached"));
        Files.deleteIfExists(hookDir.resolve("arm"));
        Files.deleteIfExists(hookDir.resolve("assignment"));

        ForkedWorker next = ForkedWorker.start(harness, hook);
        slowAwait().alias("committed offsets reach the end").until(() ->
                harness.committedOffsets(connector, topic).equals(harness.endOffsets(topic)));
        assertThat(receiver.membership()).isEqualTo(ExpectedMembership.of(produced).asMap());
        DeliveryTally tally = DeliveryTally.of(produced, receiver);
        int duplicates = tally.duplicates() - duplicatesBefore;
        tally.print("commit-cycle-" + point, "killedPartitions=" + reached.get("partitions") + " returned="
                + returned + " committedAtKill=" + committedAtKill + " journalMarks=" + marks + " pagesInFlight="
                + pagesInFlight + " membersInFlight=" + membersInFlight + " duplicatesThisStage=" + duplicates);
        assertThat(tally.lost()).isZero();
        assertThat(duplicates).as("only the members of pages in flight at the kill are sent again")
                .isLessThanOrEqualTo(membersInFlight);
        assertThat(receiver.violations()).isEmpty();
        return next;
    }

    /**
     * Adds of new users in each partition's cohort, and removes of users added in the stage before: one change per
     * (cohort, user) in a stage, so a resend is a duplicate of exactly one accepted entry.
     */
    private static List<MembershipRecord> stageRecords(int stage) {
        List<MembershipRecord> records = new ArrayList<>();
        for (int p = 0; p < COHORTS.size(); p++) {
            for (int i = 0; i < ADDS_PER_PARTITION; i++) {
                records.add(add(COHORTS.get(p), user("s" + stage + "-", i)).inPartition(p));
            }
            if (stage > 0) {
                for (int i = 0; i < REMOVES_PER_PARTITION; i++) {
                    records.add(remove(COHORTS.get(p), user("s" + (stage - 1) + "-", i * 5)).inPartition(p));
                }
            }
        }
        return records;
    }

    private static String read(Path file) {
        try {
            return Files.exists(file) ? Files.readString(file) : "";
        } catch (IOException e) {
            return "";
        }
    }

    private static Map<String, String> properties(String text) {
        Map<String, String> result = new HashMap<>();
        for (String line : text.split("\n")) {
            int eq = line.indexOf('=');
            if (eq > 0) {
                result.put(line.substring(0, eq), line.substring(eq + 1).trim());
            }
        }
        return result;
    }

    private static List<TopicPartition> partitions(String text) {
        List<TopicPartition> result = new ArrayList<>();
        for (String each : text.split(",")) {
            if (!each.isBlank()) {
                int colon = each.lastIndexOf(':');
                result.add(new TopicPartition(each.substring(0, colon), Integer.parseInt(each.substring(colon + 1))));
            }
        }
        return result;
    }

    private static Map<TopicPartition, Long> offsets(String text) {
        Map<TopicPartition, Long> result = new HashMap<>();
        for (String each : text == null ? new String[0] : text.split(",")) {
            if (!each.isBlank()) {
                int eq = each.lastIndexOf('=');
                result.put(partitions(each.substring(0, eq)).get(0), Long.parseLong(each.substring(eq + 1)));
            }
        }
        return result;
    }
}

package io.github.cohortsync.connect.it;

import static io.github.cohortsync.connect.it.MembershipRecord.add;
import static io.github.cohortsync.connect.it.MembershipRecord.remove;
import static io.github.cohortsync.connect.it.MembershipRecord.tombstone;
import static io.github.cohortsync.connect.it.MembershipRecord.user;
import static org.assertj.core.api.Assertions.assertThat;

import java.lang.management.ManagementFactory;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.stream.Collectors;

import javax.management.MBeanServer;
import javax.management.ObjectName;

import org.junit.jupiter.api.Test;

import io.github.cohortsync.connect.it.standin.WebhookReceiver.Delivery;
import io.github.cohortsync.connect.it.standin.WebhookReceiver.Reply;
import io.github.cohortsync.connect.metrics.TaskMetrics;
import io.github.cohortsync.connect.it.standin.IterableReceiver;
import io.github.cohortsync.connect.it.standin.WebhookReceiver;

/**
 * Snapshots through a real broker and worker: a first run sends a compacted topic's current membership as
 * {@code members} pages before any diff, {@code sync.mode=one_time} sends it once and idles, a snapshot larger than
 * {@code buffer.max.changes} is spilled to disk, and a task restarted mid-snapshot starts it over.
 */
@ConnectCluster(name = "snapshot-sync-it")
class SnapshotSyncIT {
    private static final MBeanServer JMX = ManagementFactory.getPlatformMBeanServer();
    private static ConnectHarness harness;

    @PerTest
    private WebhookReceiver receiver;
    @ConnectorName
    private String connector;

    private String compactedTopic(String prefix) {
        String topic = ConnectHarness.uniqueName(prefix);
        harness.connect().kafka().createTopic(topic, 1, 1, Map.of("cleanup.policy", "compact"));
        return topic;
    }

    private Map<String, String> snapshotConfig(String topic) {
        return ConnectorConfig.webhook(topic, receiver.url())
                .fullSyncs(harness.connect().kafka().bootstrapServers())
                .build();
    }

    private long metric(String attribute) throws Exception {
        return (Long) JMX.getAttribute(TaskMetrics.objectName(connector, "0"), attribute);
    }

    /** 25,000 members of 3 cohorts (9,000, 10,000 and 6,000), 1,500 of them later tombstoned or removed. */
    private static List<MembershipRecord> membership() {
        List<MembershipRecord> records = new ArrayList<>();
        Map<String, Integer> sizes = new LinkedHashMap<>();
        sizes.put("101", 9_000);
        sizes.put("202", 10_000);
        sizes.put("303", 6_000);
        sizes.forEach((cohort, size) -> {
            for (int i = 0; i < size; i++) {
                records.add(add(cohort, user("m" + cohort, i)));
            }
        });
        for (int i = 0; i < 1_000; i++) {
            records.add(tombstone("202", user("m202", i * 10)));
        }
        for (int i = 0; i < 500; i++) {
            records.add(remove("101", user("m101", i * 3)));
        }
        return records;
    }

    private static int pages(long members) {
        return (int) ((members + 999) / 1000);
    }

    /** The accepted members pages of the last session of each cohort, checked to be complete and consistent. */
    private List<Delivery> lastMembersSessions() {
        List<Delivery> members = receiver.accepted().stream().filter(d -> "members".equals(d.action())).toList();
        Map<String, String> lastSession = new LinkedHashMap<>();
        members.forEach(d -> lastSession.put(d.cohortId(), d.sessionId()));
        return members.stream().filter(d -> d.sessionId().equals(lastSession.get(d.cohortId()))).toList();
    }

    private static void assertExactPaging(List<Delivery> pages, Map<String, Set<String>> expected) {
        Map<String, List<Delivery>> byCohort = pages.stream()
                .collect(Collectors.groupingBy(Delivery::cohortId, LinkedHashMap::new, Collectors.toList()));
        assertThat(byCohort.keySet()).containsExactlyInAnyOrderElementsOf(expected.keySet());
        byCohort.forEach((cohort, cohortPages) -> {
            int total = pages(expected.get(cohort).size());
            assertThat(cohortPages).as("members pages of cohort " + cohort).hasSize(total);
            assertThat(cohortPages).extracting(Delivery::totalPages).containsOnly(total);
            assertThat(cohortPages).extracting(Delivery::pageCount)
                    .containsExactlyElementsOf(java.util.stream.IntStream.rangeClosed(1, total).boxed().toList());
            assertThat(cohortPages).extracting(Delivery::sessionId).containsOnly(cohortPages.get(0).sessionId());
            assertThat(cohortPages.stream().flatMap(d -> d.distinctIds().stream()).toList())
                    .containsExactlyInAnyOrderElementsOf(expected.get(cohort));
        });
    }

    /**
     * A first run over a compacted topic: the webhook receives exactly the current membership as members pages
     * with exact page_info, spilled to disk on the way (the snapshot is larger than buffer.max.changes); later
     * changes then arrive as diffs.
     */
    @Test
    void aFirstRunSendsTheCurrentMembershipAsMembersPagesThenDiffs() throws Exception {
        String topic = compactedTopic("snapshot");
        List<MembershipRecord> records = membership();
        harness.produce(topic, records);
        ExpectedMembership expected = ExpectedMembership.of(records);
        assertThat(expected.asMap().values().stream().mapToInt(Set::size).sum()).isEqualTo(25_000 - 1_500);

        Map<String, String> config = snapshotConfig(topic);
        config.put("buffer.max.changes", "4000");
        harness.startConnector(connector, config, 1);
        harness.awaitCommittedToEnd(connector, topic);

        assertThat(receiver.membership()).isEqualTo(expected.asMap());
        assertThat(receiver.accepted()).extracting(Delivery::action).containsOnly("members");
        assertExactPaging(receiver.accepted(), expected.asMap());
        assertThat(receiver.violations()).isEmpty();
        assertThat(receiver.pagingProblems()).isEmpty();
        assertThat(metric("SnapshotChangesSpilled")).as("netted changes spilled to disk").isGreaterThan(20_000);
        assertThat(metric("SnapshotSpillFiles")).isGreaterThanOrEqualTo(6);
        assertThat(metric("SnapshotsCompleted")).isEqualTo(1);
        assertThat(metric("SnapshotMembersSent")).isEqualTo(23_500);

        List<MembershipRecord> later = List.of(add("303", user("new", 1)), tombstone("101", user("m101", 1)),
                remove("202", user("m202", 1)), add("202", user("m202", 0)));
        harness.produce(topic, later);
        harness.awaitCommittedToEnd(connector, topic);

        assertThat(receiver.membership()).isEqualTo(expected.apply(later).asMap());
        int snapshotPages = pages(8_500) + pages(9_000) + pages(6_000);
        assertThat(receiver.accepted().subList(snapshotPages, receiver.accepted().size()))
                .extracting(Delivery::action).containsOnly("add_members", "remove_members");
        assertThat(metric("SnapshotsCompleted")).isEqualTo(1);
    }

    /** sync.mode=one_time: one snapshot, then idle while new records keep arriving (they are neither sent nor committed). */
    @Test
    void oneTimeSendsOneSnapshotThenStaysIdle() throws Exception {
        String topic = compactedTopic("export");
        List<MembershipRecord> records = new ArrayList<>();
        for (int i = 0; i < 2_500; i++) {
            records.add(add(i % 2 == 0 ? "11" : "22", user("u", i)));
        }
        records.add(tombstone("11", user("u", 0)));
        harness.produce(topic, records);
        Map<org.apache.kafka.common.TopicPartition, Long> boundary = harness.endOffsets(topic);

        Map<String, String> config = snapshotConfig(topic);
        config.put("sync.mode", "one_time");
        harness.startConnector(connector, config, 1);
        ConnectHarness.await().until(() -> metric("OneTimeExportComplete") == 1);
        ConnectHarness.await().until(() -> harness.committedOffsets(connector, topic), boundary::equals);

        assertThat(receiver.membership()).isEqualTo(ExpectedMembership.of(records).asMap());
        int requests = receiver.requestCount();
        assertThat(receiver.accepted()).extracting(Delivery::action).containsOnly("members");

        harness.produce(topic, add("11", user("late", 1)), tombstone("22", user("u", 1)));
        ConnectHarness.await().during(Duration.ofSeconds(3)).atMost(Duration.ofSeconds(10))
                .until(() -> receiver.requestCount() == requests);
        assertThat(harness.committedOffsets(connector, topic)).isEqualTo(boundary);
        assertThat(metric("SnapshotsCompleted")).isEqualTo(1);
        harness.assertAllRunning(connector);
    }

    /**
     * Iterable with iterable.snapshot.mirror (the default): a list pre-filled with strangers and with some of the
     * cohort's members ends with exactly the cohort's members.
     */
    @Test
    void anIterableListPreFilledWithStrangersEndsEqualToTheCohort() throws Exception {
        String topic = compactedTopic("iterable-mirror");
        List<MembershipRecord> records = new ArrayList<>();
        for (int i = 0; i < 1_500; i++) {
            records.add(add("55", user("mirror", i)));
        }
        for (int i = 0; i < 100; i++) {
            records.add(tombstone("55", user("mirror", i)));
        }
        harness.produce(topic, records);
        Set<String> expected = ExpectedMembership.of(records).of("55").stream()
                .map(u -> "email:" + MembershipRecord.email(u)).collect(Collectors.toCollection(java.util.TreeSet::new));
        List<String> prefilled = new ArrayList<>();
        for (int i = 0; i < 700; i++) {
            prefilled.add(MembershipRecord.email(user("stranger", i)));
        }
        for (int i = 0; i < 200; i++) {
            // Members already on the list, and users of the snapshot who left (tombstoned) but are still on it.
            prefilled.add(MembershipRecord.email(user("mirror", i)));
        }
        String listName = "mixpanel_" + MembershipRecord.cohortName("55") + "_55";

        try (IterableReceiver iterable = IterableReceiver.start()) {
            iterable.prefill(listName, prefilled);
            Map<String, String> config = ConnectorConfig.iterable(topic, "iterable-s3cret-key", iterable.url())
                    .fullSyncs(harness.connect().kafka().bootstrapServers())
                    .build();
            harness.startConnector(connector, config, 1);
            harness.awaitCommittedToEnd(connector, topic);

            assertThat(iterable.membership()).containsOnlyKeys(listName);
            assertThat(iterable.membership().get(listName)).hasSize(1_400).isEqualTo(expected);
            assertThat(iterable.violations()).isEmpty();
        }
    }

    /**
     * The receiver fails permanently after 4 pages of the first snapshot; once the task is restarted it starts
     * the snapshot over (nothing was committed) and no diff is sent before it is delivered.
     */
    @Test
    void aTaskRestartedMidSnapshotStartsItOver() throws Exception {
        String topic = compactedTopic("restart");
        List<MembershipRecord> records = new ArrayList<>();
        for (int i = 0; i < 6_000; i++) {
            records.add(add(i < 3_000 ? "7" : "8", user("r", i)));
        }
        for (int i = 0; i < 200; i++) {
            records.add(tombstone("7", user("r", i)));
        }
        harness.produce(topic, records);
        receiver.enqueue(Reply.success(), Reply.success(), Reply.success(), Reply.success(),
                Reply.failure("receiver is full", "413"));

        harness.startConnector(connector, snapshotConfig(topic), 1);
        assertThat(harness.awaitTaskFailed(connector)).contains("receiver is full");
        assertThat(harness.committedOffsets(connector, topic)).as("nothing of a partial snapshot is committed")
                .isEmpty();
        List<MembershipRecord> later = List.of(add("7", user("after", 1)), tombstone("8", user("r", 5_999)));
        harness.produce(topic, later);

        harness.connect().restartTask(connector, 0);
        harness.awaitCommittedToEnd(connector, topic);

        ExpectedMembership expected = ExpectedMembership.of(records).apply(later);
        assertThat(receiver.membership()).isEqualTo(expected.asMap());
        List<Delivery> accepted = receiver.accepted();
        assertThat(accepted).extracting(Delivery::action).containsOnly("members");
        assertExactPaging(lastMembersSessions(), expected.asMap());
        assertThat(accepted.size()).isEqualTo(4 + pages(2_801) + pages(2_999));
    }
}

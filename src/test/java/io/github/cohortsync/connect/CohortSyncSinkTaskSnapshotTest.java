package io.github.cohortsync.connect;

import static io.github.cohortsync.connect.Records.change;
import static io.github.cohortsync.connect.Records.tombstone;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.awaitility.Awaitility.await;

import java.io.IOException;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collection;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.atomic.AtomicInteger;

import org.apache.kafka.clients.consumer.OffsetAndMetadata;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.connect.errors.ConnectException;
import org.apache.kafka.connect.sink.SinkRecord;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;

import io.github.cohortsync.connect.sync.snapshot.OffsetsLookup;
import io.github.cohortsync.connect.sync.snapshot.SnapshotPlan.PartitionOffsets;
import mockwebserver3.Dispatcher;
import mockwebserver3.MockResponse;
import mockwebserver3.MockWebServer;
import mockwebserver3.RecordedRequest;
import okhttp3.Headers;

/** The task's snapshot phase through its public lifecycle, with offsets given by a stand-in lookup. */
class CohortSyncSinkTaskSnapshotTest {
    @TempDir
    Path journalDir;
    private static final ObjectMapper JSON = new ObjectMapper();
    private static final TopicPartition P0 = new TopicPartition(Records.TOPIC, 0);
    private static final TopicPartition P1 = new TopicPartition(Records.TOPIC, 1);
    private static final Duration WAIT = Duration.ofSeconds(20);

    /** Accepts every page, or answers 400 to every page from the given one on. */
    private static final class Receiver extends Dispatcher {
        final List<JsonNode> accepted = new CopyOnWriteArrayList<>();
        final AtomicInteger requests = new AtomicInteger();
        volatile int failFromRequest = Integer.MAX_VALUE;
        volatile boolean unavailable;
        /** How long each answer takes. */
        volatile long delayMs;

        @Override
        public MockResponse dispatch(RecordedRequest request) throws InterruptedException {
            int number = requests.incrementAndGet();
            Thread.sleep(delayMs);
            if (number >= failFromRequest) {
                return new MockResponse(400, Headers.of(), "bad page");
            }
            if (unavailable) {
                return new MockResponse(503, Headers.of(), "down");
            }
            try {
                JsonNode page = JSON.readTree(request.getBody().utf8());
                accepted.add(page);
                return new MockResponse(200, Headers.of("Content-Type", "application/json"),
                        "{\"action\": \"" + page.path("action").asText() + "\", \"status\": \"success\"}");
            } catch (IOException e) {
                return new MockResponse(400, Headers.of(), "unparsable");
            }
        }

        List<String> actions() {
            return accepted.stream().map(p -> p.path("action").asText()).toList();
        }

        List<String> members(String action) {
            List<String> ids = new ArrayList<>();
            accepted.stream().filter(p -> p.path("action").asText().equals(action)).forEach(p ->
                    p.path("parameters").path("members").forEach(m -> ids.add(m.path("mixpanel_distinct_id").asText())));
            return ids;
        }
    }

    /** Offsets as the cluster would give them; the groups and partitions asked for are remembered. */
    private static final class Offsets implements OffsetsLookup {
        final Map<TopicPartition, PartitionOffsets> offsets = new HashMap<>();
        final List<String> groups = new ArrayList<>();
        RuntimeException failure;
        boolean closed;

        @Override
        public Map<TopicPartition, PartitionOffsets> offsets(Collection<TopicPartition> partitions) {
            if (failure != null) {
                throw failure;
            }
            Map<TopicPartition, PartitionOffsets> result = new HashMap<>();
            partitions.forEach(p -> result.put(p, offsets.get(p)));
            return result;
        }

        @Override
        public void close() {
            closed = true;
        }
    }

    private final MockWebServer server = new MockWebServer();
    private final Receiver receiver = new Receiver();
    private final Offsets offsets = new Offsets();
    private CohortSyncSinkTask task;
    private FakeSinkTaskContext context;

    @TempDir
    Path spill;

    @BeforeEach
    void startReceiver() throws IOException {
        server.setDispatcher(receiver);
        server.start();
    }

    @AfterEach
    void stopAll() {
        if (task != null) {
            task.stop();
        }
        server.close();
    }

    private void start(String... overrides) {
        Map<String, String> props = new HashMap<>();
        props.put("name", "snapshot-test");
        props.put("destination", "webhook");
        props.put("webhook.url", server.url("/hook").toString());
        props.put("sync.interval.ms", "100");
        props.put("retry.max.attempts", "0");
        props.put("http.timeout.ms", "1000");
        props.put("snapshot.bootstrap.servers", "127.0.0.1:9");
        props.put("snapshot.spill.dir", spill.toString());
        props.put("delivery.journal.dir", journalDir.toString());
        for (int i = 0; i < overrides.length; i += 2) {
            props.put(overrides[i], overrides[i + 1]);
        }
        context = new FakeSinkTaskContext(false, P0, P1);
        task = new CohortSyncSinkTask((config, group) -> {
            offsets.groups.add(group);
            return offsets;
        });
        task.initialize(context);
        task.start(props);
        task.open(List.of(P0, P1));
    }

    /** Writes the task's cohort state as a task that had these cohorts' first contact would have left it. */
    private void contacted(String... cohorts) throws IOException {
        com.fasterxml.jackson.databind.node.ObjectNode root = JSON.createObjectNode();
        root.put("version", 1);
        root.putNull("generation");
        root.put("failing_since_ms", -1);
        com.fasterxml.jackson.databind.node.ArrayNode list = root.putArray("cohorts");
        for (String cohort : cohorts) {
            list.addObject().put("id", cohort).put("name", "Cohort " + cohort).put("contacted", true);
        }
        Path file = stateFile();
        java.nio.file.Files.createDirectories(file.getParent());
        java.nio.file.Files.writeString(file, root.toString());
    }

    private Path stateFile() {
        return journalDir.resolve("snapshot-test").resolve("cohorts-task-0.json");
    }

    private static SinkRecord at(int partition, long offset, Records record) {
        return record.at(partition, offset).build();
    }

    private Map<TopicPartition, OffsetAndMetadata> preCommit(long p0, long p1) {
        return task.preCommit(Map.of(P0, new OffsetAndMetadata(p0), P1, new OffsetAndMetadata(p1)));
    }

    private void pollUntil(Runnable assertion) {
        await().atMost(WAIT).pollInterval(Duration.ofMillis(20)).untilAsserted(() -> {
            task.put(List.of());
            assertion.run();
        });
    }

    @Test
    void aFirstRunNetsTheWholeSnapshotBeforeSendingItAsMembersPagesThenSendsDiffs() {
        offsets.offsets.put(P0, new PartitionOffsets(null, 0, 3));
        offsets.offsets.put(P1, new PartitionOffsets(null, 0, 2));
        start("batch.max.size", "2");
        assertThat(offsets.groups).containsExactly("connect-snapshot-test");

        task.put(List.of(at(0, 0, change("c1", "u1")), at(0, 1, change("c1", "u2")), at(1, 0, change("c1", "u3")),
                at(1, 1, change("c2", "u4"))));
        assertThat(context.paused()).as("P1 is read up to its boundary; P0 is still read").containsExactly(P1);
        assertThat(receiver.requests.get()).as("nothing is sent before the snapshot is read").isZero();
        assertThat(preCommit(2, 2)).isEmpty();

        // Records from the boundary on are diffs: they wait for the snapshot to be delivered.
        task.put(List.of(at(0, 2, tombstone("c1", "u2")), at(0, 3, change("c2", "u5")),
                at(0, 4, change("c1", "u6"))));
        pollUntil(() -> assertThat(preCommit(5, 2)).containsEntry(P0, new OffsetAndMetadata(5)));

        assertThat(receiver.actions()).containsExactly("members", "members", "add_members", "add_members");
        JsonNode first = receiver.accepted.get(0).path("parameters");
        assertThat(first.path("mixpanel_cohort_id").asText()).isEqualTo("c1");
        assertThat(first.path("page_info").path("total_pages").asInt()).isEqualTo(1);
        assertThat(receiver.members("members")).containsExactly("u1", "u3", "u4");
        assertThat(receiver.members("add_members")).containsExactlyInAnyOrder("u5", "u6");
        assertThat(receiver.accepted.get(1).path("parameters").path("mixpanel_cohort_id").asText()).isEqualTo("c2");
        assertThat(context.paused()).as("resumed once the snapshot is delivered").isEmpty();
        assertThat(task.stats().snapshotsCompleted.get()).isEqualTo(1);
        assertThat(task.stats().membersFull.get()).isEqualTo(3);
    }

    @Test
    void nothingOfASnapshotIsCommittedBeforeItsLastPageIsDelivered() {
        offsets.offsets.put(P0, new PartitionOffsets(null, 0, 6));
        offsets.offsets.put(P1, new PartitionOffsets(null, 0, 0));
        start("batch.max.size", "1", "buffer.max.changes", "2");
        receiver.failFromRequest = 4;

        List<SinkRecord> records = new ArrayList<>();
        for (int i = 0; i < 6; i++) {
            records.add(at(0, i, change("c1", "u" + i)));
        }
        task.put(records);

        // The snapshot goes in parts of at most buffer.max.changes members; the 4th page fails permanently.
        await().atMost(WAIT).pollInterval(Duration.ofMillis(20)).untilAsserted(() ->
                assertThatThrownBy(() -> task.put(List.of())).isInstanceOf(ConnectException.class)
                        .hasMessageContaining("members page 4/6 of cohort c1"));
        assertThat(receiver.members("members")).containsExactly("u0", "u1", "u2");
        assertThat(task.stats().snapshotChangesSpilled.get()).as("6 netted changes > buffer.max.changes")
                .isEqualTo(6);
        assertThat(preCommit(6, 0)).as("a partly delivered snapshot commits nothing").isEmpty();
    }

    @Test
    void oneTimeSendsTheSnapshotThenStaysPausedAndIgnoresLaterRecords() {
        offsets.offsets.put(P0, new PartitionOffsets(null, 0, 2));
        offsets.offsets.put(P1, new PartitionOffsets(null, 5, 5));
        start("sync.mode", "one_time");

        task.put(List.of(at(0, 0, change("c1", "u1")), at(0, 1, change("c1", "u2")),
                at(0, 2, change("c1", "late"))));
        pollUntil(() -> assertThat(task.stats().oneTimeExportComplete.get()).isEqualTo(1));

        assertThat(receiver.members("members")).containsExactly("u1", "u2");
        assertThat(context.paused()).containsExactlyInAnyOrder(P0, P1);
        assertThat(preCommit(3, 5)).containsOnly(Map.entry(P0, new OffsetAndMetadata(2)),
                Map.entry(P1, new OffsetAndMetadata(5)));

        task.put(List.of(at(0, 3, change("c1", "later"))));
        task.put(List.of());
        assertThat(receiver.accepted).hasSize(1);
        assertThat(preCommit(4, 5)).containsEntry(P0, new OffsetAndMetadata(2));

        // A rebalance hands the partitions back: they stay paused.
        task.close(List.of(P0, P1));
        offsets.offsets.put(P0, new PartitionOffsets(2L, 0, 4));
        offsets.offsets.put(P1, new PartitionOffsets(5L, 5, 5));
        task.open(List.of(P0, P1));
        assertThat(context.paused()).containsExactlyInAnyOrder(P0, P1);
        assertThat(task.stats().oneTimeExportComplete.get()).isEqualTo(1);
    }

    @Test
    void partitionsWithCommittedOffsetsSkipTheSnapshotInDynamicMode() throws IOException {
        contacted("c1");
        offsets.offsets.put(P0, new PartitionOffsets(10L, 0, 20));
        offsets.offsets.put(P1, new PartitionOffsets(0L, 0, 0));
        start("consumer.override.group.id", "my-group");
        assertThat(offsets.groups).containsExactly("my-group");

        task.put(List.of(at(0, 10, change("c1", "u1"))));
        pollUntil(() -> assertThat(preCommit(11, 0)).containsEntry(P0, new OffsetAndMetadata(11)));
        assertThat(receiver.actions()).containsExactly("add_members");
        assertThat(task.stats().snapshotsCompleted.get()).isZero();
    }

    /**
     * A snapshot sets the destination's membership, so what the delivery journal holds as delivered before it is no
     * longer current: a diff read after the snapshot is sent even when the journal holds its delivery.
     */
    @Test
    void aSnapshotResetsTheDeliveryJournal() throws IOException {
        contacted("c1");
        offsets.offsets.put(P0, new PartitionOffsets(10L, 0, 11));
        offsets.offsets.put(P1, new PartitionOffsets(0L, 0, 0));
        start();
        task.put(List.of(at(0, 10, change("c1", "u1"))));
        pollUntil(() -> assertThat(receiver.members("add_members")).containsExactly("u1"));
        // Stopped before its offset was committed; then the group's offsets are reset to the beginning.
        task.close(List.of(P0, P1));
        task.stop();
        offsets.offsets.put(P0, new PartitionOffsets(null, 0, 10));

        start();
        task.put(List.of(at(0, 0, change("c1", "u0")), at(0, 9, change("c1", "u9")),
                at(0, 10, change("c1", "u1"))));

        pollUntil(() -> assertThat(preCommit(11, 0)).containsEntry(P0, new OffsetAndMetadata(11)));
        assertThat(receiver.members("members")).containsExactly("u0", "u9");
        assertThat(receiver.members("add_members")).as("sent again after the snapshot").containsExactly("u1", "u1");
        assertThat(task.stats().changesSkippedAsDelivered.get()).isZero();
    }

    @Test
    void aRevokedPartitionStartsTheSnapshotOverForThePartitionsKept() {
        offsets.offsets.put(P0, new PartitionOffsets(null, 0, 3));
        offsets.offsets.put(P1, new PartitionOffsets(null, 0, 3));
        start();
        task.put(List.of(at(0, 0, change("c1", "u1")), at(1, 0, change("c1", "u2"))));

        task.close(List.of(P1));

        assertThat(context.rewinds()).containsExactly(Map.entry(P0, 0L));
        task.put(List.of(at(0, 0, change("c1", "u1")), at(0, 1, change("c1", "u3")), at(0, 2, change("c1", "u4"))));
        pollUntil(() -> assertThat(task.stats().snapshotsCompleted.get()).isEqualTo(1));
        assertThat(receiver.members("members")).containsExactly("u1", "u3", "u4");
    }

    /**
     * A cohort first met after the first run (c2) starts with its complete membership as 'members' pages: the task
     * reads its partitions again from the log start up to where it had read, keeps only c2's changes, then sends
     * the buffered diffs of the other cohorts; nothing below the old position is sent again as a diff.
     */
    @Test
    void aCohortFirstSeenAfterTheFirstRunStartsWithItsCompleteMembershipAsMembers() throws IOException {
        contacted("c1");
        offsets.offsets.put(P0, new PartitionOffsets(10L, 0, 20));
        offsets.offsets.put(P1, new PartitionOffsets(0L, 0, 0));
        start();
        task.put(List.of(at(0, 10, change("c1", "u1")), at(0, 11, change("c2", "u2"))));
        pollUntil(() -> assertThat(context.rewinds()).containsEntry(P0, 0L));
        assertThat(receiver.requests.get()).as("no diff of c2 before its first contact").isZero();
        // What the consumer would have fetched before the rewind is no part of the snapshot.
        task.put(List.of(at(0, 12, change("c2", "u3"))));
        assertThat(preCommit(13, 0)).as("nothing committed while the first contact is read").isEmpty();

        task.put(List.of(at(0, 0, change("c2", "u0")), at(0, 5, change("c1", "old")), at(0, 6, change("c3", "x")),
                at(0, 10, change("c1", "u1")), at(0, 11, change("c2", "u2")), at(0, 12, change("c2", "u3"))));
        pollUntil(() -> assertThat(preCommit(13, 0)).containsEntry(P0, new OffsetAndMetadata(13)));

        assertThat(receiver.actions().get(0)).isEqualTo("members");
        assertThat(receiver.members("members")).containsExactly("u0", "u2");
        assertThat(receiver.members("add_members")).containsExactlyInAnyOrder("u1", "u3");
        assertThat(receiver.actions()).containsExactly("members", "add_members", "add_members");
        assertThat(java.nio.file.Files.readString(stateFile())).contains("\"c2\"");
    }

    /**
     * A rebalance during a first contact: the buffered diffs of the other cohorts of the kept partition were read
     * with it, so the snapshot is started over as a full one of that partition, which carries every cohort.
     */
    @Test
    void aRebalanceDuringAFirstContactStartsAFullSnapshotOfTheKeptPartitions() throws IOException {
        contacted("c1");
        offsets.offsets.put(P0, new PartitionOffsets(2L, 0, 10));
        offsets.offsets.put(P1, new PartitionOffsets(1L, 0, 5));
        start();
        task.put(List.of(at(0, 2, change("c1", "u1")), at(0, 3, change("c2", "u2")), at(1, 1, change("c1", "x"))));
        pollUntil(() -> assertThat(context.rewinds()).containsEntry(P0, 0L).containsEntry(P1, 0L));

        task.close(List.of(P1));
        task.put(List.of(at(0, 0, change("c1", "u0")), at(0, 1, change("c2", "u9")), at(0, 2, change("c1", "u1")),
                at(0, 3, change("c2", "u2"))));
        pollUntil(() -> assertThat(task.preCommit(Map.of(P0, new OffsetAndMetadata(4))))
                .containsEntry(P0, new OffsetAndMetadata(4)));

        assertThat(receiver.actions()).containsExactly("members", "members");
        assertThat(receiver.members("members")).containsExactly("u0", "u1", "u2", "u9");
    }

    /** A first contact larger than buffer.max.changes is spilled to disk, as a first run's snapshot is. */
    @Test
    void aFirstContactLargerThanTheBufferIsSpilledToDisk() throws IOException {
        contacted("c1");
        offsets.offsets.put(P0, new PartitionOffsets(20L, 0, 30));
        offsets.offsets.put(P1, new PartitionOffsets(0L, 0, 0));
        start("buffer.max.changes", "4", "batch.max.size", "3");
        task.put(List.of(at(0, 20, change("c2", "u20"))));
        pollUntil(() -> assertThat(context.rewinds()).containsEntry(P0, 0L));
        List<SinkRecord> again = new ArrayList<>();
        for (int i = 0; i <= 20; i++) {
            again.add(at(0, i, change(i % 2 == 0 ? "c2" : "c1", "u" + i)));
        }
        task.put(again);
        pollUntil(() -> assertThat(preCommit(21, 0)).containsEntry(P0, new OffsetAndMetadata(21)));

        assertThat(task.stats().snapshotSpillFiles.get()).as("spilled: at most 4 netted changes in memory")
                .isGreaterThanOrEqualTo(2);
        assertThat(receiver.actions()).containsOnly("members").hasSize(4);
        assertThat(receiver.members("members")).hasSize(11).doesNotContain("u1", "u19");
        assertThat(spill.resolve("cohort-sync-snapshot-test-task-0")).doesNotExist();
    }

    /** Changing snapshot.refresh.generation makes the next start a full refresh, once. */
    @Test
    void aNewRefreshGenerationSendsEveryCohortAsMembersOnce() throws IOException {
        contacted("c1", "c2");
        offsets.offsets.put(P0, new PartitionOffsets(3L, 0, 4));
        offsets.offsets.put(P1, new PartitionOffsets(0L, 0, 0));
        start("snapshot.refresh.generation", "2026-12-01");
        assertThat(context.rewinds()).containsEntry(P0, 0L);
        task.put(List.of(at(0, 0, change("c1", "u0")), at(0, 1, change("c2", "u1")), at(0, 2, change("c1", "u2")),
                at(0, 3, change("c2", "u3"))));
        pollUntil(() -> assertThat(preCommit(4, 0)).containsEntry(P0, new OffsetAndMetadata(4)));
        assertThat(receiver.actions()).containsExactly("members", "members");
        assertThat(receiver.members("members")).containsExactly("u0", "u2", "u1", "u3");
        assertThat(java.nio.file.Files.readString(stateFile())).contains("\"generation\":\"2026-12-01\"");

        task.stop();
        offsets.offsets.put(P0, new PartitionOffsets(4L, 0, 4));
        start("snapshot.refresh.generation", "2026-12-01");
        assertThat(context.rewinds()).as("the generation was delivered: no second refresh").isEmpty();
    }

    /**
     * The task is stopped (its partitions closed) while the last part of a refresh is in flight: the part gets a
     * bounded wait, the refresh counts as delivered, and the next start sends no second one.
     */
    @Test
    void aRefreshWhoseLastPartIsInFlightWhenThePartitionsCloseCountsAsDelivered() throws IOException {
        contacted("c1", "c2");
        offsets.offsets.put(P0, new PartitionOffsets(3L, 0, 4));
        offsets.offsets.put(P1, new PartitionOffsets(0L, 0, 0));
        start("snapshot.refresh.generation", "2026-12-01");
        receiver.delayMs = 200;
        task.put(List.of(at(0, 0, change("c1", "u0")), at(0, 1, change("c2", "u1")), at(0, 2, change("c1", "u2")),
                at(0, 3, change("c2", "u3"))));
        await().atMost(WAIT).until(() -> receiver.requests.get() >= 1);
        assertThat(receiver.accepted).as("the refresh is in flight").isEmpty();

        task.close(List.of(P0, P1));
        assertThat(receiver.actions()).containsExactly("members", "members");
        assertThat(task.stats().snapshotsCompleted.get()).isEqualTo(1);
        assertThat(java.nio.file.Files.readString(stateFile())).contains("\"generation\":\"2026-12-01\"");

        task.stop();
        start("snapshot.refresh.generation", "2026-12-01");
        assertThat(context.rewinds()).as("the generation was delivered: no second refresh").isEmpty();
        assertThat(receiver.requests.get()).isEqualTo(2);
    }

    /**
     * The destination fails for longer than snapshot.refresh.after.failure.ms: the pending diff is replaced by a full
     * refresh, which the destination gets once it is back.
     */
    @Test
    void aDestinationFailingLongerThanTheRefreshTimeGetsAFullRefresh() throws IOException {
        contacted("c1");
        offsets.offsets.put(P0, new PartitionOffsets(2L, 0, 4));
        offsets.offsets.put(P1, new PartitionOffsets(0L, 0, 0));
        start("snapshot.refresh.after.failure.ms", "300");
        receiver.unavailable = true;
        task.put(List.of(at(0, 2, change("c1", "u2")), at(0, 3, tombstone("c1", "u0"))));
        pollUntil(() -> assertThat(context.rewinds()).containsEntry(P0, 0L));
        assertThat(receiver.requests.get()).isPositive();
        receiver.unavailable = false;

        task.put(List.of(at(0, 0, change("c1", "u0")), at(0, 1, change("c1", "u1")), at(0, 2, change("c1", "u2")),
                at(0, 3, tombstone("c1", "u0"))));
        pollUntil(() -> assertThat(preCommit(4, 0)).containsEntry(P0, new OffsetAndMetadata(4)));
        assertThat(receiver.actions()).containsExactly("members");
        assertThat(receiver.members("members")).containsExactly("u1", "u2");
    }

    /** A cohort met only through a tombstone after a restart still carries the last name seen of it. */
    @Test
    void aCohortMetOnlyThroughATombstoneAfterARestartCarriesItsRememberedName() {
        offsets.offsets.put(P0, new PartitionOffsets(null, 0, 1));
        offsets.offsets.put(P1, new PartitionOffsets(0L, 0, 0));
        start();
        task.put(List.of(at(0, 0, change("c1", "u1").with("cohort_name", "Churned users"))));
        pollUntil(() -> assertThat(preCommit(1, 0)).containsEntry(P0, new OffsetAndMetadata(1)));
        task.stop();

        offsets.offsets.put(P0, new PartitionOffsets(1L, 0, 2));
        start();
        task.put(List.of(at(0, 1, tombstone("c1", "u1"))));
        pollUntil(() -> assertThat(preCommit(2, 0)).containsEntry(P0, new OffsetAndMetadata(2)));
        assertThat(receiver.actions()).containsExactly("members", "remove_members");
        assertThat(receiver.accepted.get(1).path("parameters").path("mixpanel_cohort_name").asText())
                .isEqualTo("Churned users");
    }

    @Test
    void offsetsThatCannotBeReadFailTheAssignmentWithTheLookupsMessage() {
        offsets.failure = new ConnectException("Could not read the committed offsets: check snapshot.bootstrap.servers");
        assertThatThrownBy(() -> start()).isInstanceOf(ConnectException.class)
                .hasMessageContaining("snapshot.bootstrap.servers");
    }

    @Test
    void stoppingDeletesTheSpillFilesAndClosesTheLookup() {
        offsets.offsets.put(P0, new PartitionOffsets(null, 0, 100));
        offsets.offsets.put(P1, new PartitionOffsets(null, 0, 0));
        start("buffer.max.changes", "5");
        List<SinkRecord> records = new ArrayList<>();
        for (int i = 0; i < 20; i++) {
            records.add(at(0, i, change("c1", "u" + i)));
        }
        task.put(records);
        assertThat(task.stats().snapshotSpillFiles.get()).isEqualTo(4);
        assertThat(spill.resolve("cohort-sync-snapshot-test-task-0")).isDirectory();

        task.stop();
        task = null;

        assertThat(spill.resolve("cohort-sync-snapshot-test-task-0")).doesNotExist();
        assertThat(offsets.closed).isTrue();
        assertThat(receiver.requests.get()).isZero();
    }
}

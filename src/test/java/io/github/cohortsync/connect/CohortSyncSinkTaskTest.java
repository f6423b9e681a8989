package io.github.cohortsync.connect;

import static io.github.cohortsync.connect.Records.change;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assertions.assertTimeoutPreemptively;

import java.io.IOException;
import java.lang.management.ManagementFactory;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collection;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicReference;
import java.util.function.BiFunction;

import javax.management.MBeanServer;
import javax.management.ObjectName;

import org.apache.kafka.clients.consumer.OffsetAndMetadata;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.Uuid;
import org.apache.kafka.connect.errors.ConnectException;
import org.apache.kafka.connect.sink.SinkRecord;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;

import io.github.cohortsync.connect.config.CohortSyncConfig;
import io.github.cohortsync.connect.metrics.TaskMetrics;
import io.github.cohortsync.connect.sync.snapshot.OffsetsLookup;
import io.github.cohortsync.connect.sync.snapshot.SnapshotPlan.PartitionOffsets;
import mockwebserver3.Dispatcher;
import mockwebserver3.MockResponse;
import mockwebserver3.MockWebServer;
import mockwebserver3.RecordedRequest;
import okhttp3.Headers;

/** The task through its public lifecycle, against a local webhook receiver. */
class CohortSyncSinkTaskTest {
    private static final ObjectMapper JSON = new ObjectMapper();
    private static final TopicPartition P0 = new TopicPartition(Records.TOPIC, 0);
    private static final TopicPartition P1 = new TopicPartition(Records.TOPIC, 1);
    private static final Duration WAIT = Duration.ofSeconds(20);

    /** Answers success unless told otherwise; remembers every page it accepted. */
    private static final class Receiver extends Dispatcher {
        volatile int status = 200;
        volatile String body;
        volatile long delayMs;
        /** When not negative: pages are answered 400 once this many were accepted. */
        volatile int refuseAfter = -1;
        /** Opened at teardown, so that no answer is still being delayed when the server closes. */
        final CountDownLatch released = new CountDownLatch(1);
        final AtomicInteger requests = new AtomicInteger();
        final List<JsonNode> accepted = new CopyOnWriteArrayList<>();
        final Map<String, Integer> deliveriesByKey = new ConcurrentHashMap<>();
        /** When set, every request is held until it opens (or the teardown does). */
        volatile CountDownLatch gate;
        final AtomicInteger held = new AtomicInteger();
        final AtomicInteger mostHeld = new AtomicInteger();

        @Override
        public MockResponse dispatch(RecordedRequest request) throws InterruptedException {
            requests.incrementAndGet();
            if (delayMs > 0) {
                released.await(delayMs, TimeUnit.MILLISECONDS);
            }
            CountDownLatch holding = gate;
            if (holding != null) {
                mostHeld.accumulateAndGet(held.incrementAndGet(), Math::max);
                try {
                    while (!holding.await(10, TimeUnit.MILLISECONDS) && released.getCount() > 0) {
                        // Held until the test or the teardown opens.
                    }
                } finally {
                    held.decrementAndGet();
                }
            }
            if (status != 200) {
                return new MockResponse(status, Headers.of(), body == null ? "" : body);
            }
            if (refuseAfter >= 0 && accepted.size() >= refuseAfter) {
                return new MockResponse(400, Headers.of(), "{\"error\": \"member list malformed\"}");
            }
            try {
                JsonNode page = JSON.readTree(request.getBody().utf8());
                accepted.add(page);
                deliveriesByKey.merge(request.getHeaders().get("Idempotency-Key"), 1, Integer::sum);
                return new MockResponse(200, Headers.of("Content-Type", "application/json"),
                        "{\"action\": \"" + page.path("action").asText() + "\", \"status\": \"success\"}");
            } catch (IOException e) {
                return new MockResponse(400, Headers.of(), "unparsable");
            }
        }

        List<String> members(String action) {
            List<String> ids = new ArrayList<>();
            for (JsonNode page : accepted) {
                if (page.path("action").asText().equals(action)) {
                    page.path("parameters").path("members")
                            .forEach(m -> ids.add(m.path("mixpanel_distinct_id").asText()));
                }
            }
            return ids;
        }
    }

    private final MockWebServer server = new MockWebServer();
    private final Receiver receiver = new Receiver();
    private CohortSyncSinkTask task;
    private FakeSinkTaskContext context;
    @TempDir
    Path journalDir;
    private long offset;
    /** How a started task reads offsets and topic ids; null: the real admin client. */
    private BiFunction<CohortSyncConfig, String, OffsetsLookup> offsetsLookups;

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
        receiver.released.countDown();
        server.close();
    }

    private Map<String, String> config(String... overrides) {
        Map<String, String> props = new HashMap<>();
        props.put("name", "task-test");
        props.put("destination", "webhook");
        props.put("webhook.url", server.url("/hook").toString());
        props.put("sync.interval.ms", "100");
        props.put("retry.max.attempts", "2");
        props.put("retry.backoff.initial.ms", "10");
        props.put("retry.backoff.max.ms", "20");
        props.put("http.timeout.ms", "1000");
        props.put("delivery.journal.dir", journalDir.toString());
        for (int i = 0; i < overrides.length; i += 2) {
            props.put(overrides[i], overrides[i + 1]);
        }
        return props;
    }

    private void start(boolean withReporter, String... overrides) {
        context = new FakeSinkTaskContext(withReporter, P0, P1);
        task = offsetsLookups == null ? new CohortSyncSinkTask() : new CohortSyncSinkTask(offsetsLookups);
        task.initialize(context);
        task.start(config(overrides));
        task.open(List.of(P0, P1));
    }

    private SinkRecord record(Records records) {
        return records.at(0, offset++).build();
    }

    private Map<TopicPartition, OffsetAndMetadata> preCommit() {
        Map<TopicPartition, OffsetAndMetadata> current = new HashMap<>();
        current.put(P0, new OffsetAndMetadata(offset));
        current.put(P1, new OffsetAndMetadata(0));
        return task.preCommit(current);
    }

    /** Drives the task as the framework's poll loop would, with no new records. */
    private void pollUntil(Runnable assertion) {
        await().atMost(WAIT).pollInterval(Duration.ofMillis(20)).untilAsserted(() -> {
            task.put(List.of());
            assertion.run();
        });
    }

    @Test
    void commitsOffsetsOnlyAfterTheSyncIsDelivered() {
        start(false);
        receiver.delayMs = 300;
        task.put(List.of(record(change("c1", "u1")), record(change("c1", "u2")), record(change("c2", "u3"))));

        assertThat(preCommit()).as("nothing is delivered yet").isEmpty();
        pollUntil(() -> assertThat(receiver.requests.get()).isPositive());
        assertThat(preCommit()).as("a sync in flight commits nothing").isEmpty();

        pollUntil(() -> assertThat(preCommit()).containsEntry(P0, new OffsetAndMetadata(3)));
        assertThat(receiver.members("add_members")).containsExactlyInAnyOrder("u1", "u2", "u3");
        assertThat(preCommit()).doesNotContainKey(P1);
        assertThat(context.commitRequests).isPositive();
    }

    @Test
    void thePagesOfOneSyncGoConcurrentlyAndItsOffsetsWaitForAllOfThem() {
        start(false, "sync.max.in.flight.requests", "3", "batch.max.size", "1", "http.timeout.ms", "10000");
        receiver.gate = new CountDownLatch(1);
        task.put(List.of(record(change("c1", "u1")), record(change("c1", "u2")), record(change("c1", "u3")),
                record(change("c1", "u4")), record(change("c1", "u5"))));

        pollUntil(() -> assertThat(receiver.held.get()).isEqualTo(3));
        assertThat(receiver.requests.get()).as("no fourth page while three are in flight").isEqualTo(3);
        assertThat(preCommit()).as("a sync with pages in flight commits nothing").isEmpty();
        receiver.gate.countDown();

        pollUntil(() -> assertThat(preCommit()).containsEntry(P0, new OffsetAndMetadata(5)));
        assertThat(receiver.members("add_members")).containsExactlyInAnyOrder("u1", "u2", "u3", "u4", "u5");
        assertThat(receiver.mostHeld.get()).isEqualTo(3);
    }

    @Test
    void exportsTheConfiguredPropertiesThroughTheLeanBuffer() {
        start(false, "webhook.properties", "plan, $city");
        task.put(List.of(record(change("c1", "u1")
                .with("properties", Map.of("plan", "pro", "$city", "Berlin", "country", "DE")))));

        pollUntil(() -> assertThat(receiver.accepted).hasSize(1));
        JsonNode member = receiver.accepted.get(0).path("parameters").path("members").get(0);
        assertThat(member.path("plan").asText()).isEqualTo("pro");
        assertThat(member.path("$city").asText()).isEqualTo("Berlin");
        assertThat(member.has("country")).as("not exported, so not kept").isFalse();
    }

    @Test
    void publishesItsCountersOverJmxWhileItRuns() throws Exception {
        start(false, "cohort.sync.task.id", "3");
        task.put(List.of(record(change("c1", "u1")), record(change("c1", "u1").remove()),
                record(change("c1", "u2"))));
        pollUntil(() -> assertThat(preCommit()).containsEntry(P0, new OffsetAndMetadata(3)));

        MBeanServer server = ManagementFactory.getPlatformMBeanServer();
        ObjectName name = TaskMetrics.objectName("task-test", "3");
        assertThat(server.getAttribute(name, "RecordsRead")).isEqualTo(3L);
        assertThat(server.getAttribute(name, "ChangesNettedAway")).isEqualTo(1L);
        assertThat(server.getAttribute(name, "MembersAdded")).isEqualTo(1L);
        assertThat(server.getAttribute(name, "MembersRemoved")).isEqualTo(1L);
        assertThat(server.getAttribute(name, "Requests")).isEqualTo(2L);
        assertThat(server.getAttribute(name, "SyncsCompleted")).isEqualTo(1L);
        assertThat(server.getAttribute(name, "BufferSize")).isEqualTo(0L);

        task.stop();
        task = null;
        assertThat(server.isRegistered(name)).as("unregistered when the task stops").isFalse();
    }

    @Test
    void putNeverWaitsForASlowDestination() {
        start(false, "http.timeout.ms", "10000");
        receiver.delayMs = 10_000;
        task.put(List.of(record(change("c1", "u1"))));
        pollUntil(() -> assertThat(receiver.requests.get()).isPositive());

        assertTimeoutPreemptively(Duration.ofSeconds(3), () -> {
            for (int i = 0; i < 20; i++) {
                task.put(List.of(record(change("c1", "v" + i))));
                preCommit();
            }
        });
        assertThat(context.lastTimeout).as("asks to be called back to collect the sync").isBetween(1L, 1_000L);
    }

    @Test
    void byDefaultAnEmptyPollDoesNotSyncBeforeTheIntervalAndAsksToBeCalledBackWhenItIsDue() throws Exception {
        start(false, "sync.interval.ms", "60000");
        task.put(List.of(record(change("c1", "u1"))));
        assertThat(context.lastTimeout).isBetween(1L, 60_000L);
        Thread.sleep(20);

        task.put(List.of());
        task.put(List.of());

        assertThat(preCommit()).as("not delivered, not committed").isEmpty();
        assertThat(receiver.requests.get()).as("netting goes on for the whole interval").isZero();
        assertThat(context.lastTimeout).as("the rest of the interval, not a whole one").isBetween(1L, 59_999L);
    }

    @Test
    void withSyncOnIdleAnEmptyPollSyncsEverythingAtOnce() {
        start(false, "sync.interval.ms", "60000", "sync.on.idle", "true", "batch.max.size", "2");
        task.put(List.of(record(change("c1", "u1")), record(change("c1", "u2")), record(change("c1", "u3")),
                record(change("c1", "u2").remove())));
        assertThat(receiver.requests.get()).as("records keep coming: no sync yet").isZero();

        pollUntil(() -> assertThat(preCommit()).containsEntry(P0, new OffsetAndMetadata(4)));

        assertThat(receiver.members("add_members")).containsExactly("u1", "u3");
        assertThat(receiver.members("remove_members")).as("still netted within the sync").containsExactly("u2");
        assertThat(context.commitRequests).isPositive();
    }

    @Test
    void withSyncOnIdleAFullBufferStillSendsOnlyWholePagesWhileRecordsKeepComing() {
        start(false, "sync.interval.ms", "60000", "sync.on.idle", "true", "batch.max.size", "2",
                "buffer.max.changes", "5");
        receiver.delayMs = 60_000;
        task.put(List.of(record(change("c1", "u1")), record(change("c1", "u2")), record(change("c1", "u3")),
                record(change("c1", "u4")), record(change("c1", "u5"))));
        pollUntil(() -> assertThat(receiver.requests.get()).isPositive());
        receiver.released.countDown();

        pollUntil(() -> assertThat(preCommit()).containsEntry(P0, new OffsetAndMetadata(5)));
        assertThat(receiver.accepted).extracting(page -> page.path("parameters").path("members").size())
                .as("whole pages first (u5 kept back), then the idle sync sends the partial page")
                .containsExactly(2, 2, 1);
    }

    @Test
    void withSyncOnIdleTheEmptyPollsOfAPausedTaskAreNotIdle() {
        start(false, "sync.interval.ms", "60000", "sync.on.idle", "true", "batch.max.size", "2",
                "buffer.max.changes", "5");
        receiver.delayMs = 60_000;
        task.put(List.of(record(change("c1", "u1")), record(change("c1", "u2")), record(change("c1", "u3")),
                record(change("c1", "u4")), record(change("c1", "u5"))));
        pollUntil(() -> assertThat(receiver.requests.get()).isPositive());
        task.put(List.of(record(change("c1", "u6")), record(change("c1", "u7")), record(change("c1", "u8")),
                record(change("c1", "u9"))));
        assertThat(context.paused()).as("full buffer, sync in flight").containsExactlyInAnyOrder(P0, P1);
        receiver.released.countDown();

        pollUntil(() -> assertThat(preCommit()).containsEntry(P0, new OffsetAndMetadata(9)));
        assertThat(receiver.accepted).extracting(page -> page.path("parameters").path("page_info")
                        .path("total_pages").asInt())
                .as("the sync after the pause is forced by the full buffer (whole pages, u9 kept back), not idle")
                .containsExactly(2, 2, 2, 2, 1);
    }

    /**
     * The stall of docs/benchmarks.md, reproduced by WorkerLossIT: paused with a full buffer and a sync in flight
     * when a rebalance revokes every partition. A poll between revocation and the new assignment lets the task
     * resume, but nothing is assigned then; the worker re-applies the old pause to the partition assigned next, which
     * the task must therefore resume itself, or it never reads again.
     */
    @Test
    void resumesThePartitionsAssignedAfterARebalanceThatInterruptedAPause() {
        start(false, "buffer.max.changes", "2");
        receiver.delayMs = 60_000;
        task.put(List.of(record(change("c1", "a0")), record(change("c1", "a1"))));
        task.put(List.of(record(change("c1", "a2")), record(change("c1", "a3"))));
        assertThat(context.paused()).as("full buffer, sync in flight").containsExactlyInAnyOrder(P0, P1);
        receiver.released.countDown();

        preCommit();
        task.close(List.of(P0, P1));
        context.revokeAll();
        task.put(List.of());
        context.assign(P0);
        task.open(List.of(P0));
        task.put(List.of());

        assertThat(context.paused()).as("paused after the rebalance").isEmpty();
    }

    @Test
    void aDestinationOutageKeepsTheTaskRunningPausesConsumptionAndLosesNothing() {
        start(false, "buffer.max.changes", "5");
        receiver.status = 503;
        List<SinkRecord> first = new ArrayList<>();
        for (int i = 0; i < 5; i++) {
            first.add(record(change("c1", "a" + i)));
        }
        task.put(first);
        pollUntil(() -> assertThat(receiver.requests.get()).isGreaterThanOrEqualTo(6));

        List<SinkRecord> second = new ArrayList<>();
        for (int i = 0; i < 5; i++) {
            second.add(record(change("c1", "b" + i)));
        }
        task.put(second);
        assertThat(context.paused()).as("a full buffer with a sync stuck pauses consumption")
                .containsExactlyInAnyOrder(P0, P1);
        assertThat(preCommit()).isEmpty();

        receiver.status = 200;
        pollUntil(() -> assertThat(preCommit()).containsEntry(P0, new OffsetAndMetadata(10)));
        assertThat(context.paused()).isEmpty();
        assertThat(receiver.members("add_members")).containsExactlyInAnyOrder(
                "a0", "a1", "a2", "a3", "a4", "b0", "b1", "b2", "b3", "b4");
        assertThat(receiver.deliveriesByKey.values()).as("no page is delivered twice").containsOnly(1);
        assertThat(task.stats().retries.get()).isPositive();
        assertThat(task.stats().failedSyncs.get()).isPositive();
    }

    @Test
    void aPermanentFailureFailsTheTaskWithTheDestinationsMessage() {
        start(false);
        receiver.status = 401;
        receiver.body = "{\"error\": \"bad credentials\"}";
        task.put(List.of(record(change("c1", "u1"))));

        await().atMost(WAIT).untilAsserted(() -> assertThatThrownBy(() -> task.put(List.of()))
                .isInstanceOf(ConnectException.class)
                .hasMessageContaining("HTTP 401")
                .hasMessageContaining("bad credentials")
                .hasMessageContaining("check webhook.auth.username and webhook.auth.password"));
        assertThat(preCommit()).isEmpty();
        assertThat(receiver.requests.get()).as("permanent failures are not retried").isEqualTo(1);
    }

    /** As the worker restarts a task: its partitions closed, the task stopped, a new one reading from the last commit. */
    private void restart(String... overrides) {
        task.close(List.of(P0, P1));
        task.stop();
        start(false, overrides);
        offset = 0;
    }

    private List<SinkRecord> adds(int count) {
        List<SinkRecord> records = new ArrayList<>();
        for (int i = 0; i < count; i++) {
            records.add(record(change("c1", "u" + i)));
        }
        return records;
    }

    @Test
    void afterAPermanentFailureARestartedTaskSendsOnlyTheUndeliveredPages() {
        // Splitting off: a refused page fails the task (with splitting, SplittingDestinationTest).
        start(false, "batch.max.size", "2", "split.max.requests", "0");
        receiver.refuseAfter = 1;
        task.put(adds(6));
        await().atMost(WAIT).untilAsserted(() -> assertThatThrownBy(() -> task.put(List.of()))
                .hasMessageContaining("HTTP 400").hasMessageContaining("1 of 3 pages"));
        assertThat(preCommit()).isEmpty();
        assertThat(receiver.members("add_members")).containsExactly("u0", "u1");

        receiver.refuseAfter = -1;
        restart("batch.max.size", "2", "split.max.requests", "0");
        task.put(adds(6));

        pollUntil(() -> assertThat(preCommit()).containsEntry(P0, new OffsetAndMetadata(6)));
        assertThat(receiver.members("add_members")).as("each member delivered once")
                .containsExactlyInAnyOrder("u0", "u1", "u2", "u3", "u4", "u5");
        assertThat(task.stats().changesSkippedAsDelivered.get()).isEqualTo(2);
        assertThat(task.stats().membersAdded.get()).isEqualTo(4);
    }

    @Test
    void aSyncDeliveredWhileItsPartitionsCloseIsNotSentAgainByTheNextTask() {
        start(false);
        receiver.delayMs = 300;
        task.put(adds(5));
        pollUntil(() -> assertThat(receiver.requests.get()).isPositive());

        restart();
        int requests = receiver.requests.get();
        assertThat(receiver.accepted).as("delivered inside close(), so never committed").hasSize(1);
        task.put(adds(5));

        pollUntil(() -> assertThat(preCommit()).containsEntry(P0, new OffsetAndMetadata(5)));
        assertThat(receiver.requests.get()).as("nothing sent again").isEqualTo(requests);
        assertThat(task.stats().changesSkippedAsDelivered.get()).isEqualTo(5);
        assertThat(context.commitRequests).as("commits what it skipped at once").isPositive();
    }

    /**
     * preCommit returned 6 (and the journal marked it), but the worker died before the framework committed it: the
     * restarted task reads from 3, the commit before, and sends nothing of what was delivered again.
     */
    @Test
    void aRestartBelowACommitThatNeverLandedSendsNothingDeliveredAgain() {
        start(false);
        task.put(adds(3));
        pollUntil(() -> assertThat(preCommit()).containsEntry(P0, new OffsetAndMetadata(3)));
        List<SinkRecord> later = List.of(record(change("c1", "u3")), record(change("c1", "u4")),
                record(change("c1", "u5")));
        task.put(later);
        pollUntil(() -> assertThat(preCommit()).containsEntry(P0, new OffsetAndMetadata(6)));
        int requests = receiver.requests.get();

        restart();
        offset = 3;
        task.put(List.of(record(change("c1", "u3")), record(change("c1", "u4")), record(change("c1", "u5"))));

        pollUntil(() -> assertThat(preCommit()).containsEntry(P0, new OffsetAndMetadata(6)));
        assertThat(receiver.requests.get()).as("nothing sent again").isEqualTo(requests);
        assertThat(task.stats().changesSkippedAsDelivered.get()).isEqualTo(3);
    }

    /**
     * Diffs only, with snapshot.bootstrap.servers set: a restart on the same topic skips what was delivered, but a
     * topic deleted and created again under the same name (another id, offsets from 0 again, the same records) is
     * sent in full: the old topic's journal would otherwise match its offsets.
     */
    @Test
    void aTopicCreatedAgainUnderTheSameNameIsSentInFull() {
        AtomicReference<Uuid> topicId = new AtomicReference<>(Uuid.randomUuid());
        List<String> asked = new CopyOnWriteArrayList<>();
        OffsetsLookup lookup = new OffsetsLookup() {
            @Override
            public Map<TopicPartition, PartitionOffsets> offsets(Collection<TopicPartition> partitions) {
                throw new AssertionError("full syncs are off");
            }

            @Override
            public Map<String, Uuid> topicIds(Collection<String> topics) {
                asked.addAll(topics);
                return Map.of(Records.TOPIC, topicId.get());
            }

            @Override
            public void close() {
            }
        };
        offsetsLookups = (config, group) -> lookup;
        String[] diffsOnly = {"snapshot.enabled", "false", "snapshot.bootstrap.servers", "127.0.0.1:9"};
        start(false, diffsOnly);
        task.put(adds(3));
        pollUntil(() -> assertThat(preCommit()).containsEntry(P0, new OffsetAndMetadata(3)));
        assertThat(asked).containsExactly(Records.TOPIC);

        restart(diffsOnly);
        task.put(adds(3));
        pollUntil(() -> assertThat(preCommit()).containsEntry(P0, new OffsetAndMetadata(3)));
        assertThat(task.stats().changesSkippedAsDelivered.get()).as("the same topic: skipped").isEqualTo(3);
        assertThat(receiver.members("add_members")).containsExactlyInAnyOrder("u0", "u1", "u2");

        topicId.set(Uuid.randomUuid());
        restart(diffsOnly);
        task.put(adds(3));
        pollUntil(() -> assertThat(preCommit()).containsEntry(P0, new OffsetAndMetadata(3)));
        assertThat(task.stats().changesSkippedAsDelivered.get()).as("a re-created topic: nothing skipped").isZero();
        assertThat(receiver.members("add_members")).containsExactlyInAnyOrder("u0", "u1", "u2", "u0", "u1", "u2");
    }

    @Test
    void withoutTheJournalARestartedTaskSendsEverythingUncommittedAgain() {
        start(false, "batch.max.size", "2", "delivery.journal.enabled", "false", "split.max.requests", "0");
        receiver.refuseAfter = 1;
        task.put(adds(6));
        await().atMost(WAIT).untilAsserted(() -> assertThatThrownBy(() -> task.put(List.of()))
                .hasMessageContaining("HTTP 400"));

        receiver.refuseAfter = -1;
        restart("batch.max.size", "2", "delivery.journal.enabled", "false", "split.max.requests", "0");
        task.put(adds(6));

        pollUntil(() -> assertThat(preCommit()).containsEntry(P0, new OffsetAndMetadata(6)));
        assertThat(receiver.members("add_members")).as("the first page twice")
                .containsExactlyInAnyOrder("u0", "u1", "u0", "u1", "u2", "u3", "u4", "u5");
        assertThat(task.stats().changesSkippedAsDelivered.get()).isZero();
        try (java.util.stream.Stream<Path> files = java.nio.file.Files.walk(journalDir)) {
            assertThat(files.filter(f -> f.toString().endsWith(".journal"))).as("no journal file").isEmpty();
        } catch (IOException e) {
            throw new java.io.UncheckedIOException(e);
        }
    }

    @Test
    void aBadRecordFailsTheTaskNamingWhereAndWhichField() {
        start(false);
        SinkRecord bad = change("c1", "u1").without("distinct_id").at(1, 41).build();

        assertThatThrownBy(() -> task.put(List.of(bad)))
                .isInstanceOf(ConnectException.class)
                .hasMessageContaining("topic cohort-membership, partition 1, offset 41")
                .hasMessageContaining("field 'distinct_id'")
                .hasMessageContaining("errors.tolerance=all");
    }

    @Test
    void withToleranceBadRecordsGoToTheReporterAndTheRestIsDelivered() {
        start(true, "errors.tolerance", "all", "errors.deadletterqueue.topic.name", "dlq");
        SinkRecord bad = record(change("c1", "u1").with("action", "maybe"));
        task.put(List.of(record(change("c1", "u0")), bad, record(change("c1", "u2"))));

        assertThat(context.reported).singleElement().satisfies(r -> {
            assertThat(r.record()).isSameAs(bad);
            assertThat(r.error()).hasMessageContaining("field 'action'");
        });
        pollUntil(() -> assertThat(preCommit()).containsEntry(P0, new OffsetAndMetadata(3)));
        assertThat(receiver.members("add_members")).containsExactlyInAnyOrder("u0", "u2");
    }

    @Test
    void filteredCohortsAreCommittedWithoutACall() {
        start(false, "cohorts.include", "keep, also");
        task.put(List.of(record(change("other", "u1")), record(change("keep", "u2")),
                record(change("other", "u3"))));

        pollUntil(() -> assertThat(preCommit()).containsEntry(P0, new OffsetAndMetadata(3)));
        assertThat(receiver.members("add_members")).containsExactly("u2");

        task.put(List.of(record(change("other", "u4"))));
        int before = receiver.requests.get();
        pollUntil(() -> assertThat(preCommit()).containsEntry(P0, new OffsetAndMetadata(4)));
        assertThat(receiver.requests.get()).isEqualTo(before);
    }

    @Test
    void revokingPartitionsDuringAnOutageCancelsTheSyncWithinABound() {
        start(false, "http.timeout.ms", "500", "retry.max.attempts", "100");
        receiver.status = 503;
        task.put(List.of(record(change("c1", "u1"))));
        pollUntil(() -> assertThat(receiver.requests.get()).isPositive());

        assertTimeoutPreemptively(Duration.ofSeconds(10), () -> task.close(List.of(P0, P1)));

        assertThat(task.preCommit(Map.of())).isEmpty();
        receiver.status = 200;
        int before = receiver.requests.get();
        task.put(List.of());
        await().during(Duration.ofMillis(300)).atMost(Duration.ofSeconds(2))
                .untilAsserted(() -> assertThat(receiver.accepted).as("revoked changes are left to the next owner")
                        .isEmpty());
        assertThat(receiver.requests.get() - before).isLessThanOrEqualTo(1);
    }

    @Test
    void stopReturnsPromptlyDuringAnOutage() {
        start(false, "http.timeout.ms", "5000", "retry.max.attempts", "100");
        receiver.delayMs = 10_000;
        task.put(List.of(record(change("c1", "u1"))));
        pollUntil(() -> assertThat(receiver.requests.get()).isPositive());

        assertTimeoutPreemptively(Duration.ofSeconds(3), () -> task.stop());
        task = null;
    }

    @Test
    void tombstonesAreSentAsRemovesNamedFromEarlierRecords() {
        start(false);
        task.put(List.of(record(change("c1", "u1").with("cohort_name", "Churned"))));
        pollUntil(() -> assertThat(receiver.accepted).hasSize(1));
        task.put(List.of(record(Records.tombstone("c1", "u1"))));

        pollUntil(() -> assertThat(receiver.accepted).hasSize(2));
        JsonNode remove = receiver.accepted.get(1);
        assertThat(remove.path("action").asText()).isEqualTo("remove_members");
        assertThat(remove.path("parameters").path("mixpanel_cohort_name").asText()).isEqualTo("Churned");
        assertThat(receiver.members("remove_members")).containsExactly("u1");
    }
}

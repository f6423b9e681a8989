package io.github.cohortsync.connect;

import static io.github.cohortsync.connect.Records.change;
import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assertions.assertTimeoutPreemptively;

import java.io.IOException;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collection;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicReference;

import org.apache.kafka.clients.consumer.ConsumerRebalanceListener;
import org.apache.kafka.clients.consumer.OffsetAndMetadata;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.connect.runtime.RuntimeCallerStandIn;
import org.apache.kafka.connect.sink.SinkRecord;
import org.apache.log4j.Logger;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;

import io.github.cohortsync.connect.sync.SyncEngine;
import io.github.cohortsync.connect.sync.SyncEngine.Closing;
import io.github.cohortsync.connect.sync.snapshot.OffsetsLookup;
import io.github.cohortsync.connect.sync.snapshot.SnapshotPlan.PartitionOffsets;
import mockwebserver3.Dispatcher;
import mockwebserver3.MockResponse;
import mockwebserver3.MockWebServer;
import mockwebserver3.RecordedRequest;
import okhttp3.Headers;

/**
 * A stop versus a rebalance while a sync is in flight. Connect closes the partitions in both cases without saying
 * which; the task tells them apart by its caller: inside a consumer rebalance callback is a rebalance (a bounded wait
 * for the sync's calls on the wire, no new call), called by the Connect runtime outside one is a stop (the sync is
 * cancelled at once, so that the task ends well within the worker's task.shutdown.graceful.timeout.ms of 5 s). Either
 * way nothing is committed past an undelivered change, and the next task delivers every member.
 */
class CohortSyncSinkTaskStopTest {
    private static final ObjectMapper JSON = new ObjectMapper();
    private static final TopicPartition P0 = new TopicPartition(Records.TOPIC, 0);
    private static final TopicPartition P1 = new TopicPartition(Records.TOPIC, 1);
    private static final Duration WAIT = Duration.ofSeconds(20);
    /** The worker's default task.shutdown.graceful.timeout.ms: the bound of close and stop together. */
    private static final Duration GRACEFUL_STOP = Duration.ofSeconds(5);

    /** Accepts pages, or holds them (never accepted, answered 503 at teardown) or answers them late. */
    private static final class Receiver extends Dispatcher {
        volatile boolean hold;
        volatile long delayMs;
        final CountDownLatch released = new CountDownLatch(1);
        final AtomicInteger requests = new AtomicInteger();
        final AtomicInteger held = new AtomicInteger();
        final List<JsonNode> accepted = new CopyOnWriteArrayList<>();

        @Override
        public MockResponse dispatch(RecordedRequest request) throws InterruptedException {
            requests.incrementAndGet();
            if (hold) {
                held.incrementAndGet();
                released.await(60, TimeUnit.SECONDS);
                return new MockResponse(503, Headers.of(), "");
            }
            if (delayMs > 0) {
                released.await(delayMs, TimeUnit.MILLISECONDS);
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

        List<String> members() {
            List<String> ids = new ArrayList<>();
            for (JsonNode page : accepted) {
                page.path("parameters").path("members").forEach(m -> ids.add(m.path("mixpanel_distinct_id").asText()));
            }
            return ids;
        }
    }

    /** Closes the task's partitions from a rebalance callback, as the consumer does during a poll. */
    private static final class Rebalance implements ConsumerRebalanceListener {
        private final CohortSyncSinkTask task;

        Rebalance(CohortSyncSinkTask task) {
            this.task = task;
        }

        @Override
        public void onPartitionsRevoked(Collection<TopicPartition> partitions) {
            task.close(partitions);
        }

        @Override
        public void onPartitionsAssigned(Collection<TopicPartition> partitions) {
            task.open(partitions);
        }
    }

    private final MockWebServer server = new MockWebServer();
    private final Receiver receiver = new Receiver();
    private final LogCapture logs = new LogCapture();
    /** No offsets committed, five records in P0: a first run's full sync. Used only when snapshots are on. */
    private final OffsetsLookup offsets = new OffsetsLookup() {
        @Override
        public Map<TopicPartition, PartitionOffsets> offsets(Collection<TopicPartition> partitions) {
            Map<TopicPartition, PartitionOffsets> result = new HashMap<>();
            partitions.forEach(p -> result.put(p, new PartitionOffsets(null, 0, p.equals(P0) ? 5 : 0)));
            return result;
        }

        @Override
        public void close() {
        }
    };
    @TempDir
    Path spill;
    @TempDir
    Path journalDir;
    private CohortSyncSinkTask task;
    private FakeSinkTaskContext context;

    @BeforeEach
    void startReceiver() throws IOException {
        server.setDispatcher(receiver);
        server.start();
        Logger.getLogger(SyncEngine.class).addAppender(logs);
    }

    @AfterEach
    void stopAll() {
        Logger.getLogger(SyncEngine.class).removeAppender(logs);
        if (task != null) {
            task.stop();
        }
        receiver.released.countDown();
        server.close();
    }

    private void start(String... overrides) {
        Map<String, String> props = new HashMap<>();
        props.put("name", "stop-test");
        props.put("destination", "webhook");
        props.put("webhook.url", server.url("/hook").toString());
        props.put("sync.interval.ms", "100");
        props.put("batch.max.size", "2");
        // Today's wait on a rebalance is min(30 s, http.timeout.ms): here 30 s, far beyond the graceful stop.
        props.put("http.timeout.ms", "30000");
        props.put("delivery.journal.dir", journalDir.toString());
        for (int i = 0; i < overrides.length; i += 2) {
            props.put(overrides[i], overrides[i + 1]);
        }
        context = new FakeSinkTaskContext(false, P0, P1);
        task = new CohortSyncSinkTask((config, group) -> offsets);
        task.initialize(context);
        task.start(props);
        task.open(List.of(P0, P1));
    }

    private static List<SinkRecord> adds(int count) {
        List<SinkRecord> records = new ArrayList<>();
        for (int i = 0; i < count; i++) {
            records.add(change("c1", "u" + i).at(0, i).build());
        }
        return records;
    }

    private Map<TopicPartition, OffsetAndMetadata> preCommit(long consumed) {
        return task.preCommit(Map.of(P0, new OffsetAndMetadata(consumed), P1, new OffsetAndMetadata(0)));
    }

    /** Puts the records and polls until their sync is in flight, held by the receiver. */
    private void holdASync(List<SinkRecord> records) {
        receiver.hold = true;
        task.put(records);
        pollUntil(() -> assertThat(receiver.held.get()).isPositive());
    }

    /**
     * As WorkerSinkTask stops a task: its partitions closed from the final commit, then the task stopped; both
     * within the worker's graceful bound.
     */
    private void stopAsTheWorkerDoes() {
        assertTimeoutPreemptively(GRACEFUL_STOP, () -> RuntimeCallerStandIn.run(() -> {
            task.close(List.of(P0, P1));
            task.stop();
        }));
        task = null;
    }

    private void pollUntil(Runnable assertion) {
        await().atMost(WAIT).pollInterval(Duration.ofMillis(20)).untilAsserted(() -> {
            task.put(List.of());
            assertion.run();
        });
    }

    @Test
    void aCloseIsAStopOnlyWhenConnectCallsItOutsideARebalanceCallback() {
        AtomicReference<Closing> told = new AtomicReference<>();
        ConsumerRebalanceListener listener = new ConsumerRebalanceListener() {
            @Override
            public void onPartitionsRevoked(Collection<TopicPartition> partitions) {
                told.set(CohortSyncSinkTask.closing());
            }

            @Override
            public void onPartitionsAssigned(Collection<TopicPartition> partitions) {
            }
        };

        assertThat(CohortSyncSinkTask.closing()).as("an unknown caller keeps the bounded wait")
                .isEqualTo(Closing.REVOKED);
        RuntimeCallerStandIn.run(() -> told.set(CohortSyncSinkTask.closing()));
        assertThat(told.get()).as("Connect's final commit before SinkTask.stop").isEqualTo(Closing.STOPPING);
        RuntimeCallerStandIn.run(() -> listener.onPartitionsRevoked(List.of(P0)));
        assertThat(told.get()).as("a rebalance during Connect's poll").isEqualTo(Closing.REVOKED);
        told.set(null);
        // The interface's default onPartitionsLost calls onPartitionsRevoked: both frames are the listener's.
        RuntimeCallerStandIn.run(() -> listener.onPartitionsLost(List.of(P0)));
        assertThat(told.get()).as("partitions lost").isEqualTo(Closing.REVOKED);
    }

    @Test
    void aStopCancelsTheSyncInFlightAtOnceAndTheNextTaskDeliversEveryMember() {
        start();
        List<SinkRecord> records = adds(5);
        holdASync(records);
        assertThat(preCommit(5)).as("a sync in flight commits nothing").isEmpty();

        stopAsTheWorkerDoes();
        assertThat(logs.lines).anyMatch(line -> line.startsWith("The task stops while a sync is in flight"));
        assertThat(receiver.accepted).as("the held pages were never accepted").isEmpty();

        receiver.hold = false;
        start();
        task.put(records);
        pollUntil(() -> assertThat(preCommit(5)).containsEntry(P0, new OffsetAndMetadata(5)));
        assertThat(receiver.members()).as("nothing lost").containsExactlyInAnyOrder("u0", "u1", "u2", "u3", "u4");
        assertThat(task.stats().changesSkippedAsDelivered.get()).as("nothing was delivered before").isZero();
    }

    @Test
    void aStopAfterPartOfTheSyncWasDeliveredResendsOnlyTheRest() {
        start();
        List<SinkRecord> records = adds(6);
        // A first sync (one page) is delivered; the pages of the next are held.
        task.put(records.subList(0, 2));
        pollUntil(() -> assertThat(receiver.accepted).hasSize(1));
        holdASync(records.subList(2, 6));
        Map<TopicPartition, OffsetAndMetadata> committed = preCommit(6);

        stopAsTheWorkerDoes();
        long from = committed.containsKey(P0) ? committed.get(P0).offset() : 0;
        assertThat(from).as("never past the held page").isLessThanOrEqualTo(2);

        receiver.hold = false;
        start();
        task.put(records.subList((int) from, 6));
        pollUntil(() -> assertThat(preCommit(6)).containsEntry(P0, new OffsetAndMetadata(6)));
        assertThat(receiver.members()).as("each member once: the journal skips what was delivered")
                .containsExactlyInAnyOrder("u0", "u1", "u2", "u3", "u4", "u5");
        assertThat(task.stats().changesSkippedAsDelivered.get()).isEqualTo(2 - from);
    }

    @Test
    void aRebalanceStillWaitsForTheSyncInFlight() {
        start();
        receiver.delayMs = 500;
        List<SinkRecord> records = adds(2);
        task.put(records);
        pollUntil(() -> assertThat(receiver.requests.get()).isPositive());
        Rebalance rebalance = new Rebalance(task);

        RuntimeCallerStandIn.run(() -> rebalance.onPartitionsRevoked(List.of(P0, P1)));

        assertThat(receiver.accepted).as("delivered inside close(), so never committed by this close").hasSize(1);
        assertThat(logs.lines).noneMatch(line -> line.startsWith("The task stops while a sync is in flight"));
        int requests = receiver.requests.get();
        RuntimeCallerStandIn.run(() -> rebalance.onPartitionsAssigned(List.of(P0, P1)));
        task.put(records);
        pollUntil(() -> assertThat(preCommit(2)).containsEntry(P0, new OffsetAndMetadata(2)));
        assertThat(receiver.requests.get()).as("the next owner skips what was delivered").isEqualTo(requests);
        assertThat(task.stats().changesSkippedAsDelivered.get()).isEqualTo(2);
    }

    @Test
    void aRebalanceWaitsOnlyForTheCallOnTheWireAndLeavesTheOtherPagesToTheNextOwner() {
        start();
        receiver.delayMs = 300;
        // Five pages of two, one at a time (the webhook's default): the whole sync takes at least 1.5 s.
        List<SinkRecord> records = adds(10);
        task.put(records);
        pollUntil(() -> assertThat(receiver.requests.get()).isPositive());
        Rebalance rebalance = new Rebalance(task);

        RuntimeCallerStandIn.run(() -> rebalance.onPartitionsRevoked(List.of(P0, P1)));

        assertThat(receiver.requests.get()).as("the revocation waited for the call on the wire and started no other")
                .isEqualTo(1);
        assertThat(receiver.accepted).hasSize(1);
        RuntimeCallerStandIn.run(() -> rebalance.onPartitionsAssigned(List.of(P0, P1)));
        task.put(records);
        pollUntil(() -> assertThat(preCommit(10)).containsEntry(P0, new OffsetAndMetadata(10)));
        assertThat(receiver.members()).as("each member once: the next owner sends the pages that were left")
                .containsExactlyInAnyOrder("u0", "u1", "u2", "u3", "u4", "u5", "u6", "u7", "u8", "u9");
        assertThat(task.stats().changesSkippedAsDelivered.get()).as("the page delivered during the wait").isEqualTo(2);
    }

    @Test
    void aStopCancelsASnapshotPartInFlightAndTheNextTaskSendsTheWholeSnapshot() {
        String[] snapshots = {"snapshot.bootstrap.servers", "127.0.0.1:9", "snapshot.spill.dir", spill.toString()};
        start(snapshots);
        List<SinkRecord> records = adds(5);
        holdASync(records);
        assertThat(preCommit(5)).as("a snapshot in flight commits nothing").isEmpty();

        stopAsTheWorkerDoes();

        receiver.hold = false;
        start(snapshots);
        task.put(records);
        pollUntil(() -> assertThat(preCommit(5)).containsEntry(P0, new OffsetAndMetadata(5)));
        assertThat(receiver.accepted).extracting(page -> page.path("action").asText()).containsOnly("members");
        assertThat(receiver.members()).as("the whole snapshot, nothing lost")
                .containsExactlyInAnyOrder("u0", "u1", "u2", "u3", "u4");
        assertThat(task.stats().snapshotsCompleted.get()).isEqualTo(1);
    }
}

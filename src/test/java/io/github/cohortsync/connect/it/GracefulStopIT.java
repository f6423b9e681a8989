package io.github.cohortsync.connect.it;

import static io.github.cohortsync.connect.it.MembershipRecord.add;
import static io.github.cohortsync.connect.it.MembershipRecord.user;
import static org.assertj.core.api.Assertions.assertThat;

import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;

import org.apache.log4j.AppenderSkeleton;
import org.apache.log4j.Logger;
import org.apache.log4j.spi.LoggingEvent;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

import io.github.cohortsync.connect.it.standin.WebhookReceiver;
import io.github.cohortsync.connect.it.standin.WebhookReceiver.Reply;

/**
 * A connector deleted while a sync is in flight against a destination that does not answer in time (slow, or rate
 * limited with a long Retry-After), on a real Connect worker with the default task.shutdown.graceful.timeout.ms
 * (5 s): the task stops within that bound (the worker logs no {@code Graceful stop of task ... failed}), commits
 * nothing it did not deliver, and the connector created again under the same name delivers every member.
 */
@ConnectCluster(name = "graceful-stop-it")
class GracefulStopIT {
    /** Worker's (WorkerSinkTask's) line when a task outlives task.shutdown.graceful.timeout.ms. */
    private static final String GRACEFUL_STOP_FAILED = "Graceful stop of task ";
    private static final String TASK_STOPPED = "Cohort sync task stopped";

    private static ConnectHarness harness;

    @PerTest
    private WebhookReceiver receiver;
    @ConnectorName
    private String connector;

    private final ConnectorLines logs = new ConnectorLines();

    /** Every log line with the connector and task Connect names in its logging context, if any. */
    private static final class ConnectorLines extends AppenderSkeleton {
        final List<String> lines = Collections.synchronizedList(new ArrayList<>());

        @Override
        protected void append(LoggingEvent event) {
            Object context = event.getMDC("connector.context");
            lines.add((context == null ? "" : context.toString()) + event.getRenderedMessage());
        }

        boolean any(String... parts) {
            synchronized (lines) {
                return lines.stream().anyMatch(line -> List.of(parts).stream().allMatch(line::contains));
            }
        }

        @Override
        public boolean requiresLayout() {
            return false;
        }

        @Override
        public void close() {
        }
    }

    @BeforeEach
    void captureLogs() {
        Logger.getRootLogger().addAppender(logs);
    }

    @AfterEach
    void releaseLogs() {
        Logger.getRootLogger().removeAppender(logs);
    }

    /**
     * No page is answered (nor applied) within http.timeout.ms: the slowest destination, whose first page stays in
     * flight for the whole test.
     */
    @Test
    void deletingTheConnectorWhileASlowDestinationHoldsASyncStopsItsTaskInTime() throws Exception {
        deleteMidSyncThenRecreate(Reply.noAnswer());
    }

    /** Every page is answered 429 with Retry-After: 60: the sync waits out the hold. */
    @Test
    void deletingTheConnectorWhileARateLimitHoldsASyncStopsItsTaskInTime() throws Exception {
        deleteMidSyncThenRecreate(Reply.httpStatus(429).withRetryAfter("60"));
    }

    private void deleteMidSyncThenRecreate(Reply slow) throws Exception {
        String topic = harness.createTopic("graceful-stop", 1);
        List<MembershipRecord> records = new ArrayList<>();
        for (int i = 0; i < 300; i++) {
            records.add(add("101", user("u", i)));
        }
        harness.produce(topic, records);
        receiver.answerByDefault(slow);
        Map<String, String> config = ConnectorConfig.webhook(topic, receiver.url())
                .with("batch.max.size", "100")
                // A rebalance would wait min(30 s, http.timeout.ms) for the sync: here 30 s, six times the bound.
                .with("http.timeout.ms", "60000")
                .with("retry.max.attempts", "10")
                .build();
        harness.startConnector(connector, config, 1);
        ConnectHarness.await().until(() -> receiver.requestCount() >= 1);
        assertThat(receiver.accepted()).as("the sync is in flight, nothing delivered").isEmpty();

        long deleting = System.nanoTime();
        harness.connect().deleteConnector(connector);
        ConnectHarness.await().alias("task of " + connector + " stopped")
                .until(() -> logs.any(connector, TASK_STOPPED));
        long stoppedMs = TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - deleting);
        System.out.printf("GRACEFUL-STOP %s: connector deleted to task stopped in %d ms%n", slow, stoppedMs);

        // The worker logs that line when the bound ends, so before the task's own last line had the task been late.
        assertThat(logs.any(GRACEFUL_STOP_FAILED + connector)).as("the worker's graceful stop of the task failed")
                .isFalse();
        assertThat(logs.any(connector, "The task stops while a sync is in flight")).isTrue();
        assertThat(harness.committedOffsets(connector, topic)).as("nothing committed past undelivered changes")
                .isEmpty();

        receiver.answerByDefault(Reply.success());
        harness.startConnector(connector, config, 1);
        harness.awaitCommittedToEnd(connector, topic);
        assertThat(receiver.membership()).as("every member, nothing lost")
                .isEqualTo(ExpectedMembership.of(records).asMap());
        assertThat(receiver.violations()).isEmpty();
    }
}

package io.github.cohortsync.connect.it;

import static io.github.cohortsync.connect.it.MembershipRecord.add;
import static io.github.cohortsync.connect.it.MembershipRecord.user;
import static org.assertj.core.api.Assertions.assertThat;

import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;

import org.apache.kafka.common.TopicPartition;
import org.junit.jupiter.api.Test;

import io.github.cohortsync.connect.it.standin.WebhookReceiver.Delivery;
import io.github.cohortsync.connect.it.standin.WebhookReceiver.Reply;
import io.github.cohortsync.connect.it.standin.WebhookReceiver;

/**
 * How the connector lives with a failing webhook: transient failures are retried page by page and never fail the
 * task; permanent ones fail it with the receiver's message and a hint; offsets never pass undelivered changes.
 */
@ConnectCluster(name = "delivery-failure-it")
class DeliveryFailureIT {
    private static ConnectHarness harness;

    @PerTest
    private WebhookReceiver receiver;
    @ConnectorName
    private String connector;

    /**
     * Three 503s in a row (one with Retry-After: 1): the same page is retried with the same Idempotency-Key, the task
     * stays RUNNING, everything arrives, and no page is accepted twice.
     */
    @Test
    void transientFailuresAreRetriedWithTheSamePage() throws Exception {
        String topic = harness.createTopic("retry", 1);
        List<MembershipRecord> records = adds("101", "u", 1200);
        harness.produce(topic, records);
        receiver.enqueue(Reply.httpStatus(503),
                Reply.httpStatus(503).withRetryAfter("1").withBody("{\"error\":\"busy\"}"),
                Reply.httpStatus(503));

        harness.startConnector(connector, ConnectorConfig.webhook(topic, receiver.url()).build(), 1);

        harness.awaitCommittedToEnd(connector, topic);
        assertThat(receiver.membership()).isEqualTo(ExpectedMembership.of(records).asMap());
        harness.assertAllRunning(connector);

        List<Delivery> all = receiver.deliveries();
        assertThat(all.subList(0, 4)).extracting(Delivery::replyCode).containsExactly(503, 503, 503, 200);
        assertThat(all.subList(0, 4)).extracting(Delivery::idempotencyKey).containsOnly(all.get(0).idempotencyKey());
        assertThat(all.subList(0, 4)).extracting(Delivery::body).containsOnly(all.get(0).body());
        // Apart from the three refused attempts, one request per page, each accepted once.
        Map<String, Long> accepted = receiver.acceptedCountByKey();
        assertThat(accepted.values()).containsOnly(1L);
        assertThat(receiver.requestCount()).isEqualTo(accepted.size() + 3);
        assertThat(receiver.violations()).isEmpty();
        assertThat(receiver.pagingProblems()).isEmpty();
    }

    /**
     * An outage longer than the retries: the task stays RUNNING and commits nothing while the page cannot be
     * delivered; once the receiver is back, the sync resumes from the undelivered page (pages already accepted are
     * not sent again) and the offsets reach the end.
     */
    @Test
    void outageKeepsTaskRunningAndResumesFromTheUndeliveredPage() throws Exception {
        String topic = harness.createTopic("outage", 1);
        List<MembershipRecord> records = adds("101", "u", 350);
        harness.produce(topic, records);
        receiver.enqueue(Reply.success());
        receiver.answerByDefault(Reply.httpStatus(503));
        Map<String, String> config = ConnectorConfig.webhook(topic, receiver.url())
                .with("batch.max.size", "100")
                .with("retry.max.attempts", "1")
                .build();

        harness.startConnector(connector, config, 1);

        // 1 accepted page, then at least three rounds of (attempt + 1 retry) on the next page.
        ConnectHarness.await().until(() -> receiver.requestCount() >= 1 + 6);
        harness.assertAllRunning(connector);
        assertThat(harness.committedOffsets(connector, topic)).as("nothing committed during the outage").isEmpty();
        assertThat(receiver.membership().get("101")).hasSize(100);

        receiver.answerByDefault(Reply.success());
        harness.awaitCommittedToEnd(connector, topic);
        assertThat(receiver.membership()).isEqualTo(ExpectedMembership.of(records).asMap());
        harness.assertAllRunning(connector);

        List<Delivery> all = receiver.deliveries();
        Set<String> refusedKeys = new HashSet<>();
        all.stream().filter(d -> !d.accepted()).forEach(d -> refusedKeys.add(d.idempotencyKey()));
        assertThat(refusedKeys).as("only one page was ever refused").hasSize(1);
        String firstKey = all.get(0).idempotencyKey();
        assertThat(all).filteredOn(d -> firstKey.equals(d.idempotencyKey())).as("the accepted first page")
                .hasSize(1);
        assertThat(receiver.acceptedCountByKey().values()).as("accepted deliveries per page").containsOnly(1L);
        assertThat(receiver.acceptedCountByKey()).containsKey(refusedKeys.iterator().next());
        assertThat(receiver.violations()).isEmpty();
        assertThat(receiver.pagingProblems()).isEmpty();
    }

    /**
     * HTTP 401 fails the task with the status, the receiver's message and a hint to check the credentials; offsets
     * stay where the last delivered sync left them.
     */
    @Test
    void unauthorizedFailsTheTaskWithAHint() throws Exception {
        String topic = harness.createTopic("unauthorized", 1);
        Map<String, String> config = ConnectorConfig.webhook(topic, receiver.url())
                .with("webhook.auth.username", "hook-user")
                .with("webhook.auth.password", "wrong-password")
                .build();
        harness.startConnector(connector, config, 1);
        List<MembershipRecord> delivered = adds("101", "early", 10);
        harness.produce(topic, delivered);
        harness.awaitCommittedToEnd(connector, topic);
        Map<TopicPartition, Long> committedBefore = harness.committedOffsets(connector, topic);
        int requestsBefore = receiver.requestCount();

        receiver.answerByDefault(Reply.httpStatus(401).withBody("{\"error\":\"bad credentials\"}"));
        harness.produce(topic, adds("101", "late", 5));

        String trace = harness.awaitTaskFailed(connector);
        assertThat(trace).contains("401", "bad credentials", "webhook.auth");
        assertThat(trace).doesNotContain("wrong-password");
        assertThat(harness.committedOffsets(connector, topic)).as("offsets after the failure")
                .isEqualTo(committedBefore);
        assertThat(receiver.requestCount() - requestsBefore).as("a permanent failure is not retried").isEqualTo(1);
        assertThat(receiver.membership()).isEqualTo(ExpectedMembership.of(delivered).asMap());
        assertThat(receiver.violations()).isEmpty();
    }

    /** A {@code "status": "failure"} answer fails the task with the receiver's error message and code. */
    @Test
    void failureAnswerFailsTheTaskWithItsMessage() throws Exception {
        String topic = harness.createTopic("failure-answer", 1);
        receiver.answerByDefault(Reply.failure("cohort 101 is locked by an export", "E_LOCKED"));
        harness.startConnector(connector, ConnectorConfig.webhook(topic, receiver.url()).build(), 1);
        harness.produce(topic, adds("101", "u", 3));

        String trace = harness.awaitTaskFailed(connector);
        assertThat(trace).contains("cohort 101 is locked by an export", "E_LOCKED");
        assertThat(harness.committedOffsets(connector, topic)).as("nothing committed").isEmpty();
        assertThat(receiver.requestCount()).as("a permanent failure is not retried").isEqualTo(1);
        assertThat(receiver.violations()).isEmpty();
    }

    private static List<MembershipRecord> adds(String cohort, String prefix, int count) {
        List<MembershipRecord> records = new ArrayList<>();
        for (int i = 0; i < count; i++) {
            records.add(add(cohort, user(prefix, i)));
        }
        return records;
    }
}

package io.github.cohortsync.connect.it;

import static io.github.cohortsync.connect.it.DeliveryTally.metric;
import static io.github.cohortsync.connect.it.MembershipRecord.add;
import static io.github.cohortsync.connect.it.MembershipRecord.remove;
import static io.github.cohortsync.connect.it.MembershipRecord.user;
import static org.assertj.core.api.Assertions.assertThat;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.TimeUnit;
import java.util.regex.Pattern;

import org.apache.log4j.Logger;

import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInfo;

import io.github.cohortsync.connect.LogCapture;
import io.github.cohortsync.connect.it.standin.WebhookReceiver.Delivery;
import io.github.cohortsync.connect.it.standin.WebhookReceiver.Reply;
import io.github.cohortsync.connect.it.standin.WebhookReceiver;

/**
 * Faults injected at a real webhook receiver while a real Connect worker runs the connector: a long 503 outage,
 * 429 with Retry-After, connection resets, read timeouts and silence, and a permanent failure in the middle of a
 * sync. Each test checks the receiver's final state per cohort, that nothing is lost, the committed offsets, and
 * the task's JMX counters; each prints a {@code RELIABILITY} line that docs/reliability.md quotes. The webhook
 * is called with HTTP Basic credentials, and everything logged during a test (worker and connector) is checked
 * for the password, the members' emails and their phone numbers.
 */
@ConnectCluster(name = "fault-injection-it")
class FaultInjectionIT {
    private static final String USER = "fault-user";
    private static final String PASSWORD = "fault-pa55-XYZ";
    private static final Pattern PERSONAL_DATA = Pattern.compile("@example\\.com|\\+1555\\d|" + PASSWORD);

    private static ConnectHarness harness;

    private final LogCapture logs = new LogCapture();

    private WebhookReceiver receiver;
    private String connector;

    @BeforeEach
    void startReceiver(TestInfo test) throws Exception {
        Logger.getRootLogger().addAppender(logs);
        receiver = WebhookReceiver.start();
        receiver.expectBasicAuth(USER, PASSWORD);
        connector = ConnectHarness.uniqueName(test.getTestMethod().orElseThrow().getName());
    }

    @AfterEach
    void stopReceiverAndCheckLogs() {
        harness.deleteConnectorQuietly(connector);
        receiver.close();
        Logger.getRootLogger().removeAppender(logs);
        assertThat(logs.lines).as("log lines of the run").isNotEmpty()
                .noneMatch(line -> PERSONAL_DATA.matcher(line).find());
    }

    /** The webhook config of these tests: short backoffs from the harness, and HTTP Basic credentials. */
    private Map<String, String> config(String topic) {
        return ConnectorConfig.webhook(topic, receiver.url())
                .with("webhook.auth.username", USER)
                .with("webhook.auth.password", PASSWORD)
                .build();
    }

    /**
     * 503 for longer than all retries: the task stays RUNNING, commits nothing, stops reading once its buffer is
     * full, and delivers everything exactly once when the receiver comes back. Every 503 is either a retry or the
     * end of a sync attempt that gave up, so retries + failed syncs equals the 503s the receiver sent.
     */
    @Test
    void outageLongerThanAllRetriesPausesAndThenDeliversEverything() throws Exception {
        String topic = harness.createTopic("outage", 1);
        List<MembershipRecord> records = cohortsWithLeavers(List.of("201", "202", "203"), 300, 20);
        harness.produce(topic, records);
        receiver.answerByDefault(Reply.httpStatus(503).withBody("{\"error\":\"maintenance\"}"));
        Map<String, String> config = config(topic);
        config.put("batch.max.size", "100");
        config.put("buffer.max.changes", "200");
        config.put("retry.max.attempts", "2");
        config.put("retry.backoff.initial.ms", "50");
        config.put("retry.backoff.max.ms", "100");
        config.put("sync.interval.ms", "300");
        config.put("consumer.override.max.poll.records", "50");

        harness.startConnector(connector, config, 1);

        ConnectHarness.await().until(() -> metric(connector, 0, "FailedSyncs") >= 3);
        long readDuringOutage = metric(connector, 0, "RecordsRead");
        harness.assertAllRunning(connector);
        assertThat(harness.committedOffsets(connector, topic)).as("nothing committed during the outage").isEmpty();
        assertThat(metric(connector, 0, "BufferSize")).as("buffered changes").isLessThanOrEqualTo(200 + 50);
        assertThat(readDuringOutage).as("records read while the sync cannot be delivered")
                .isLessThan(records.size());
        long failedBefore = metric(connector, 0, "FailedSyncs");
        ConnectHarness.await().until(() -> metric(connector, 0, "FailedSyncs") >= failedBefore + 2);
        assertThat(metric(connector, 0, "RecordsRead")).as("no record read while paused")
                .isEqualTo(readDuringOutage);
        assertThat(receiver.membership()).isEmpty();
        harness.assertAllRunning(connector);

        receiver.answerByDefault(Reply.success());
        harness.awaitCommittedToEnd(connector, topic);

        harness.assertAllRunning(connector);
        assertThat(receiver.membership()).isEqualTo(ExpectedMembership.of(records).asMap());
        long refused = receiver.deliveries().stream().filter(d -> d.replyCode() == 503).count();
        long retries = metric(connector, 0, "Retries");
        long failedSyncs = metric(connector, 0, "FailedSyncs");
        assertThat(retries + failedSyncs).as("retries + failed syncs = 503 answers").isEqualTo(refused);
        assertThat(failedSyncs * 3).as("each failed sync: 1 attempt + 2 retries").isLessThanOrEqualTo(refused);
        DeliveryTally tally = DeliveryTally.of(records, receiver).print("503-outage",
                "recordsReadWhilePaused=" + readDuringOutage + " answered503=" + refused + " retries=" + retries
                        + " failedSyncs=" + failedSyncs);
        assertThat(tally.lost()).isZero();
        assertThat(tally.duplicates()).as("a page accepted once is never sent again").isZero();
        assertThat(receiver.violations()).isEmpty();
        assertThat(receiver.pagingProblems()).isEmpty();
    }

    /** 429 with Retry-After: the next attempt comes no sooner than the receiver asked, even above the max backoff. */
    @Test
    void retryAfterIsHonoured() throws Exception {
        String topic = harness.createTopic("retry-after", 1);
        List<MembershipRecord> records = cohortsWithLeavers(List.of("301"), 50, 5);
        harness.produce(topic, records);
        receiver.enqueue(Reply.httpStatus(429).withRetryAfter("2"), Reply.httpStatus(429).withRetryAfter("1"));
        Map<String, String> config = config(topic);
        config.put("retry.backoff.max.ms", "200");

        harness.startConnector(connector, config, 1);
        harness.awaitCommittedToEnd(connector, topic);

        List<Delivery> all = receiver.deliveries();
        assertThat(all.subList(0, 3)).extracting(Delivery::replyCode).containsExactly(429, 429, 200);
        long firstWait = TimeUnit.NANOSECONDS.toMillis(all.get(1).receivedNanos() - all.get(0).receivedNanos());
        long secondWait = TimeUnit.NANOSECONDS.toMillis(all.get(2).receivedNanos() - all.get(1).receivedNanos());
        assertThat(firstWait).as("wait after Retry-After: 2").isGreaterThanOrEqualTo(2000);
        assertThat(secondWait).as("wait after Retry-After: 1").isGreaterThanOrEqualTo(1000);
        assertThat(metric(connector, 0, "Retries")).isEqualTo(2);
        assertThat(metric(connector, 0, "FailedSyncs")).isZero();
        harness.assertAllRunning(connector);
        assertThat(receiver.membership()).isEqualTo(ExpectedMembership.of(records).asMap());
        DeliveryTally tally = DeliveryTally.of(records, receiver).print("429-retry-after",
                "waitsMs=" + firstWait + "," + secondWait + " retries=2");
        assertThat(tally.lost()).isZero();
        assertThat(tally.duplicates()).isZero();
        assertThat(receiver.violations()).isEmpty();
    }

    /**
     * A reset connection (twice), an answer later than the read timeout, and a receiver that never answers: all
     * transient, retried with the same page, delivered; and once the connector is deleted none of its sender or
     * HTTP threads is left.
     */
    @Test
    void resetsTimeoutsAndSilenceAreRetriedWithoutLeakingThreads() throws Exception {
        String topic = harness.createTopic("network", 1);
        List<MembershipRecord> records = cohortsWithLeavers(List.of("401", "402"), 120, 10);
        harness.produce(topic, records);
        receiver.enqueue(Reply.connectionReset(), Reply.connectionReset(), Reply.lateAnswer(3000),
                Reply.noAnswer());
        Map<String, String> config = config(topic);
        config.put("http.timeout.ms", "1000");
        config.put("retry.max.attempts", "5");
        config.put("batch.max.size", "100");
        assertThat(connectorThreads()).as("threads before the connector starts").isEmpty();

        harness.startConnector(connector, config, 1);
        harness.awaitCommittedToEnd(connector, topic);

        List<Delivery> all = receiver.deliveries();
        assertThat(all.subList(0, 5)).extracting(Delivery::idempotencyKey).containsOnly(all.get(0).idempotencyKey());
        assertThat(all.get(4).accepted()).isTrue();
        assertThat(metric(connector, 0, "Retries")).as("one retry per fault").isEqualTo(4);
        assertThat(metric(connector, 0, "FailedSyncs")).isZero();
        harness.assertAllRunning(connector);
        assertThat(receiver.membership()).isEqualTo(ExpectedMembership.of(records).asMap());
        DeliveryTally tally = DeliveryTally.of(records, receiver).print("reset-timeout-silence", "retries=4");
        assertThat(tally.lost()).isZero();
        assertThat(tally.duplicates()).isZero();
        assertThat(receiver.violations()).isEmpty();
        assertThat(receiver.pagingProblems()).isEmpty();

        assertThat(connectorThreads()).as("threads while the connector runs").isNotEmpty();
        harness.deleteConnectorQuietly(connector);
        ConnectHarness.await().alias("sender and HTTP threads of the deleted connector")
                .until(this::connectorThreads, List::isEmpty);
    }

    /**
     * Page 2 of 3 refused with 400 and split retries off: the task FAILS with the receiver's message and commits nothing. After a
     * restart the delivery journal shows which changes the receiver already accepted: only pages 2 and 3's
     * members are sent again, nothing is delivered twice and nothing is lost.
     */
    @Test
    void permanentFailureOfTheSecondPageFailsTheTaskAndARestartSendsOnlyTheUndeliveredPages() throws Exception {
        String topic = harness.createTopic("partial", 1);
        List<MembershipRecord> records = new ArrayList<>();
        for (int i = 0; i < 300; i++) {
            records.add(add("601", user("p", i)));
        }
        harness.produce(topic, records);
        receiver.enqueue(Reply.success(), Reply.httpStatus(400).withBody("{\"error\":\"member list malformed\"}"));
        Map<String, String> config = config(topic);
        config.put("batch.max.size", "100");
        // Splitting off: the refused page fails the task as a page-level refusal did before split retries.
        config.put("split.max.requests", "0");

        harness.startConnector(connector, config, 1);
        String trace = harness.awaitTaskFailed(connector);

        assertThat(trace).contains("400", "member list malformed");
        assertThat(harness.committedOffsets(connector, topic)).as("nothing committed").isEmpty();
        assertThat(receiver.deliveries()).extracting(Delivery::pageCount).containsExactly(1, 2);
        Set<String> firstPage = Set.copyOf(receiver.deliveries().get(0).distinctIds());
        assertThat(firstPage).hasSize(100);
        assertThat(receiver.membership().get("601")).hasSize(100);
        int before = receiver.requestCount();

        harness.connect().restartTask(connector, 0);
        harness.awaitCommittedToEnd(connector, topic);

        List<Delivery> resent = receiver.deliveries().subList(before, receiver.requestCount());
        List<String> resentMembers = resent.stream().flatMap(d -> d.distinctIds().stream()).toList();
        assertThat(resent).allMatch(Delivery::accepted);
        assertThat(resentMembers).as("pages 2 and 3's members, each once").hasSize(200).doesNotHaveDuplicates()
                .noneMatch(firstPage::contains);
        assertThat(metric(connector, 0, "ChangesSkippedAsDelivered")).isEqualTo(100);
        harness.assertAllRunning(connector);
        assertThat(receiver.membership()).isEqualTo(ExpectedMembership.of(records).asMap());
        DeliveryTally tally = DeliveryTally.of(records, receiver).print("page-2-of-3-fails",
                "pagesResentAfterRestart=" + resent.size() + " membersResent=" + resentMembers.size()
                        + " skippedAsDelivered=" + metric(connector, 0, "ChangesSkippedAsDelivered"));
        assertThat(tally.lost()).isZero();
        assertThat(tally.duplicates()).as("the journal kept page 1 from being sent again").isZero();
        assertThat(receiver.violations()).isEmpty();
    }

    /** Threads of this connector: its sender and page senders, and any OkHttp thread working for this receiver. */
    private List<String> connectorThreads() {
        String port = ":" + receiver.url().split(":")[2].split("/")[0];
        return Thread.getAllStackTraces().keySet().stream().filter(Thread::isAlive).map(Thread::getName)
                .filter(name -> name.equals("cohort-sync-sender-" + connector)
                        || name.startsWith("cohort-sync-sender-" + connector + "-page-")
                        || name.startsWith("OkHttp") && name.contains(port))
                .toList();
    }

    /**
     * Each cohort gets {@code users} adds, then the first {@code leavers} of them are removed; cohorts are
     * interleaved so that every sync spans several.
     */
    static List<MembershipRecord> cohortsWithLeavers(List<String> cohorts, int users, int leavers) {
        List<MembershipRecord> records = new ArrayList<>();
        for (int i = 0; i < users; i++) {
            for (String cohort : cohorts) {
                records.add(add(cohort, user("c" + cohort, i)));
            }
        }
        for (int i = 0; i < leavers; i++) {
            for (String cohort : cohorts) {
                records.add(remove(cohort, user("c" + cohort, i)));
            }
        }
        return records;
    }
}

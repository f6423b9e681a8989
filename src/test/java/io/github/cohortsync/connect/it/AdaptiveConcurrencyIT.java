package io.github.cohortsync.connect.it;

import static io.github.cohortsync.connect.it.MembershipRecord.add;
import static io.github.cohortsync.connect.it.MembershipRecord.remove;
import static io.github.cohortsync.connect.it.MembershipRecord.user;
import static org.assertj.core.api.Assertions.assertThat;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.atomic.AtomicLong;
import java.util.stream.Collectors;

import org.junit.jupiter.api.Test;

import io.github.cohortsync.connect.it.standin.WebhookReceiver;
import io.github.cohortsync.connect.it.standin.WebhookReceiver.Delivery;
import io.github.cohortsync.connect.it.standin.WebhookReceiver.Reply;

/**
 * The adaptive limit of pages in flight through a real Connect worker and the webhook stand-in: it falls on 503 and
 * 429 and grows back on success (read from JMX {@code ConcurrencyLimit}, never from timing), a full sync's middle
 * pages go at once between page 1 and the last page, and under a limit that keeps moving nothing is lost or
 * reordered per member.
 */
@ConnectCluster(name = "adaptive-concurrency-it")
class AdaptiveConcurrencyIT {
    /** Slow enough that several pages are in flight together, and well above a loaded machine's jitter. */
    private static final long ANSWER_MS = 50;

    private static ConnectHarness harness;

    @PerTest
    private WebhookReceiver receiver;
    @ConnectorName
    private String connector;

    private long limit() {
        return DeliveryTally.metric(connector, 0, "ConcurrencyLimit");
    }

    private static List<MembershipRecord> adds(String cohort, String prefix, int from, int to) {
        List<MembershipRecord> records = new ArrayList<>();
        for (int i = from; i < to; i++) {
            records.add(add(cohort, user(prefix, i)));
        }
        return records;
    }

    @Test
    void theLimitFallsOn503And429AndGrowsBackOnSuccess() throws Exception {
        String topic = harness.createTopic("adaptive", 1);
        receiver.answerByDefault(Reply.success().withDelay(ANSWER_MS));
        var config = ConnectorConfig.webhook(topic, receiver.url())
                .with("sync.max.in.flight.requests", "16")
                .with("batch.max.size", "10")
                .build();
        List<MembershipRecord> records = new ArrayList<>(adds("101", "u", 0, 2000));
        harness.produce(topic, records);

        harness.startConnector(connector, config, 1);
        int[] produced = {2000};
        ConnectHarness.await().until(() -> {
            if (limit() > 4) {
                return true;
            }
            if (harness.committedTotal(connector, topic) == harness.endTotal(topic)) {
                // Drained before the limit was seen above 4 (a loaded machine's jitter): more pages to grow on.
                List<MembershipRecord> more = adds("101", "u", produced[0], produced[0] + 500);
                produced[0] += 500;
                harness.produce(topic, more);
                records.addAll(more);
            }
            return false;
        });
        harness.awaitCommittedToEnd(connector, topic);
        long grown = limit();
        System.out.println("ADAPTIVE grew to " + grown + " of 16 over " + produced[0] / 10 + " pages answered in "
                + ANSWER_MS + " ms");

        // Every answer a 503: the limit halves down to 1 (the pages keep being retried); then back up.
        List<MembershipRecord> removes = new ArrayList<>();
        for (int i = 0; i < 2000; i += 4) {
            removes.add(remove("101", user("u", i)));
        }
        pushBackThenRecover(topic, records, removes, Reply.httpStatus(503).withBody("{\"error\":\"busy\"}"));
        // Every answer a 429 (without Retry-After, so no hold): down to 1 again, then back up.
        pushBackThenRecover(topic, records, adds("101", "v", 0, 1000),
                Reply.httpStatus(429).withBody("{\"error\":\"too many requests\"}"));
        harness.assertAllRunning(connector);

        assertThat(receiver.membership()).isEqualTo(ExpectedMembership.of(records).asMap());
        assertThat(receiver.acceptedCountByKey().values()).as("no page accepted twice").containsOnly(1L);
        assertThat(receiver.violations()).isEmpty();
        assertThat(DeliveryTally.metric(connector, 0, "RateLimitedAnswers")).isPositive();
        System.out.println("ADAPTIVE round trips p50=" + roundTrip("RoundTripP50Ms") + " ms p99="
                + roundTrip("RoundTripP99Ms") + " ms");
        assertThat(roundTrip("RoundTripP50Ms")).as("answers took at least their delay").isGreaterThanOrEqualTo(
                ANSWER_MS * 0.9);
    }

    /**
     * Sends {@code batch} while every answer is {@code pushBack} until the limit is down to 1, then answers success
     * until it grew again and everything is committed.
     */
    private void pushBackThenRecover(String topic, List<MembershipRecord> records, List<MembershipRecord> batch,
                                     Reply pushBack) {
        receiver.answerByDefault(pushBack);
        harness.produce(topic, batch);
        records.addAll(batch);
        ConnectHarness.await().until(() -> limit() == 1);
        receiver.answerByDefault(Reply.success().withDelay(ANSWER_MS));
        ConnectHarness.await().until(() -> limit() > 1);
        harness.awaitCommittedToEnd(connector, topic);
    }

    private double roundTrip(String attribute) throws Exception {
        return (Double) java.lang.management.ManagementFactory.getPlatformMBeanServer().getAttribute(
                io.github.cohortsync.connect.metrics.TaskMetrics.objectName(connector, "0"), attribute);
    }

    @Test
    void aFullSyncSendsPageOneFirstItsMiddlePagesAtOnceAndItsLastPageLast() throws Exception {
        String topic = ConnectHarness.uniqueName("adaptive-snapshot");
        harness.connect().kafka().createTopic(topic, 1, 1, Map.of("cleanup.policy", "compact"));
        List<MembershipRecord> records = new ArrayList<>();
        records.addAll(adds("101", "a", 0, 1050));
        records.addAll(adds("202", "b", 0, 2000));
        records.addAll(adds("303", "c", 0, 50));
        harness.produce(topic, records);
        receiver.answerByDefault(Reply.success().withDelay(20));
        var config = ConnectorConfig.webhook(topic, receiver.url())
                .fullSyncs(harness.connect().kafka().bootstrapServers())
                .with("sync.max.in.flight.requests", "8")
                .with("batch.max.size", "100")
                .build();

        harness.startConnector(connector, config, 1);
        harness.awaitCommittedToEnd(connector, topic);

        // The receiver replaces a cohort on page 1: a page 1 arriving after a middle page would lose that page.
        assertThat(receiver.membership()).isEqualTo(ExpectedMembership.of(records).asMap());
        List<Delivery> accepted = receiver.accepted();
        assertThat(accepted).extracting(Delivery::action).containsOnly("members");
        Map<String, List<Delivery>> bySession = accepted.stream()
                .collect(Collectors.groupingBy(Delivery::sessionId, LinkedHashMap::new, Collectors.toList()));
        assertThat(bySession).hasSize(3);
        int outOfOrder = 0;
        for (List<Delivery> session : bySession.values()) {
            int total = session.get(0).totalPages();
            assertThat(session).hasSize(total);
            assertThat(session.get(0).pageCount()).as("page 1 arrives first").isEqualTo(1);
            assertThat(session.get(total - 1).pageCount()).as("the last page arrives last").isEqualTo(total);
            int first = session.get(0).index();
            int last = session.get(total - 1).index();
            assertThat(accepted).filteredOn(d -> d.index() > first && d.index() < last)
                    .as("sessions do not interleave").allMatch(d -> d.sessionId().equals(session.get(0).sessionId()));
            for (int i = 1; i < session.size(); i++) {
                outOfOrder += session.get(i).pageCount() < session.get(i - 1).pageCount() ? 1 : 0;
            }
        }
        System.out.println("ADAPTIVE-SNAPSHOT middle pages that overtook an earlier one: " + outOfOrder);
        assertThat(receiver.pagingProblems()).isEmpty();
        assertThat(receiver.violations()).isEmpty();
        assertThat(DeliveryTally.metric(connector, 0, "SnapshotsCompleted")).isEqualTo(1);
    }

    @Test
    void underALimitThatKeepsMovingNothingIsLostOrReorderedPerMember() throws Exception {
        String topic = harness.createTopic("adaptive-moving", 1);
        // Bursts of 503s and 429s between runs of successes, over and over: the limit falls and grows again.
        List<Reply> script = new ArrayList<>();
        for (int burst = 0; burst < 30; burst++) {
            for (int i = 0; i < 12; i++) {
                script.add(Reply.success().withDelay(20));
            }
            for (int i = 0; i < 4; i++) {
                script.add(Reply.httpStatus(burst % 2 == 0 ? 503 : 429).withBody("{\"error\":\"busy\"}"));
            }
        }
        receiver.enqueue(script.toArray(new Reply[0]));
        receiver.answerByDefault(Reply.success().withDelay(20));
        var config = ConnectorConfig.webhook(topic, receiver.url())
                .with("sync.max.in.flight.requests", "12")
                .with("batch.max.size", "10")
                .build();
        harness.startConnector(connector, config, 1);

        List<MembershipRecord> records = new ArrayList<>();
        AtomicLong lowest = new AtomicLong(Long.MAX_VALUE);
        AtomicLong highest = new AtomicLong();
        for (int round = 0; round < 6; round++) {
            List<MembershipRecord> batch = new ArrayList<>();
            for (int i = 0; i < 300; i++) {
                String cohort = i % 2 == 0 ? "101" : "202";
                batch.add((i + round) % 3 == 0 ? remove(cohort, user("w", i)) : add(cohort, user("w", i)));
            }
            harness.produce(topic, batch);
            records.addAll(batch);
            harness.awaitCommittedToEnd(connector, topic);
            long now = limit();
            lowest.accumulateAndGet(now, Math::min);
            highest.accumulateAndGet(now, Math::max);
        }
        harness.assertAllRunning(connector);
        System.out.println("ADAPTIVE-MOVING limit seen between syncs: " + lowest + " to " + highest + ", 429s: "
                + DeliveryTally.metric(connector, 0, "RateLimitedAnswers") + ", retries: "
                + DeliveryTally.metric(connector, 0, "Retries"));

        assertThat(receiver.membership()).isEqualTo(ExpectedMembership.of(records).asMap());
        Map<String, List<String>> recorded = new HashMap<>();
        records.forEach(r -> recorded.computeIfAbsent(r.cohortId() + "/" + r.user(), k -> new ArrayList<>())
                .add(r.isAdd() ? "add_members" : "remove_members"));
        Map<String, List<String>> delivered = new HashMap<>();
        for (Delivery d : receiver.accepted()) {
            d.distinctIds().forEach(id -> delivered.computeIfAbsent(d.cohortId() + "/" + id, k -> new ArrayList<>())
                    .add(d.action()));
        }
        delivered.forEach((member, actions) -> assertThat(isSubsequence(actions, recorded.get(member)))
                .as("%s got %s, which is not its changes %s in order (netted)", member, actions,
                        recorded.get(member))
                .isTrue());
        assertThat(receiver.acceptedCountByKey().values()).as("no page accepted twice").containsOnly(1L);
        assertThat(receiver.violations()).isEmpty();
        assertThat(receiver.deliveries()).as("the bursts were answered").anyMatch(d -> d.replyCode() == 503)
                .anyMatch(d -> d.replyCode() == 429);
    }

    @Test
    void theRequestRateIsSplitAcrossTheTasks() throws Exception {
        String topic = harness.createTopic("adaptive-rate", 2);
        List<MembershipRecord> records = new ArrayList<>();
        for (int partition = 0; partition < 2; partition++) {
            for (int i = 0; i < 200; i++) {
                records.add(add("101", user("p" + partition + "-", i)).inPartition(partition));
            }
        }
        receiver.answerByDefault(Reply.success());
        var config = ConnectorConfig.webhook(topic, receiver.url())
                .tasks(2)
                .with("sync.max.in.flight.requests", "8")
                .with("batch.max.size", "10")
                .with("rate.limit.requests.per.second", "20")
                .build();
        harness.produce(topic, records);

        harness.startConnector(connector, config, 2);
        harness.awaitCommittedToEnd(connector, topic);

        for (int partition = 0; partition < 2; partition++) {
            // Each task reads one partition, whose members are named after it.
            String prefix = "p" + partition + "-";
            List<Delivery> calls = receiver.deliveries().stream()
                    .filter(d -> d.distinctIds().stream().allMatch(id -> id.startsWith(prefix))).toList();
            assertThat(calls).hasSizeGreaterThanOrEqualTo(20);
            long spanMs = (calls.get(calls.size() - 1).receivedNanos() - calls.get(0).receivedNanos()) / 1_000_000;
            System.out.println("ADAPTIVE-RATE the task of partition " + partition + " made " + calls.size()
                    + " calls in " + spanMs + " ms (20/s for the connector, 10/s per task)");
            // 10 a second per task (20 split across 2 tasks), one every 100 ms: 20 calls take at least 18 gaps, 1.8 s
            // (the first may use a permit left from before), less the first call's own latency (up to 0.6 s allowed
            // for a cold connection on a loaded machine). At 20/s per task they could take 0.9 s. A lower bound.
            assertThat(spanMs).as("the calls of one task, at most 10 a second").isGreaterThanOrEqualTo(1_200);
        }
        assertThat(receiver.membership()).isEqualTo(ExpectedMembership.of(records).asMap());
        assertThat(receiver.violations()).isEmpty();
    }

    /** True when {@code part} is {@code whole} with some elements left out, in the same order. */
    private static boolean isSubsequence(List<String> part, List<String> whole) {
        int at = 0;
        for (String element : part) {
            while (at < whole.size() && !whole.get(at).equals(element)) {
                at++;
            }
            if (at == whole.size()) {
                return false;
            }
            at++;
        }
        return true;
    }
}

package io.github.cohortsync.connect.it;

import static io.github.cohortsync.connect.it.MembershipRecord.add;
import static io.github.cohortsync.connect.it.MembershipRecord.user;
import static org.assertj.core.api.Assertions.assertThat;

import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.TreeSet;

import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.ConsumerRecords;
import org.apache.kafka.common.header.Header;
import org.junit.jupiter.api.Test;

import io.github.cohortsync.connect.it.standin.WebhookReceiver;
import io.github.cohortsync.connect.it.standin.WebhookReceiver.Delivery;
import io.github.cohortsync.connect.it.standin.WebhookReceiver.Reply;

/**
 * Split retries through the real worker, against a webhook receiver that refuses a whole request when any of its
 * members is in a bad set (as receivers that validate the whole body do): the page is split down to the members at
 * fault, which reach the dead letter queue, and everyone else is delivered; the extra requests stay within
 * 2·k·⌈log2(n)⌉ (a split is at most ⌈log2(n)⌉ halvings deep, each costing two requests). A 401 is never split.
 */
@ConnectCluster(name = "split-retries-it")
class SplitRetriesIT {
    private static final int PAGE = 1000;
    private static ConnectHarness harness;

    @PerTest
    private WebhookReceiver receiver;
    @ConnectorName
    private String connector;

    /** One page of 1000 members per cohort: cohort 1 with no bad member, cohort 2 with one, cohort 3 with three. */
    @Test
    void aPageOfAThousandIsSplitDownToItsBadMembersWithinTheBound() throws Exception {
        String topic = harness.createTopic("split", 1);
        String dlq = ConnectHarness.uniqueName("dlq");
        List<MembershipRecord> records = new ArrayList<>();
        for (String cohort : List.of("1", "2", "3")) {
            for (int i = 0; i < PAGE; i++) {
                records.add(add(cohort, user("c" + cohort, i)));
            }
        }
        Map<String, List<Integer>> badIndexes = Map.of("1", List.of(), "2", List.of(637), "3", List.of(3, 500, 998));
        Set<String> bad = Set.of(user("c2", 637), user("c3", 3), user("c3", 500), user("c3", 998));
        receiver.refuseRequestsHolding(bad);
        harness.produce(topic, records);
        // The sync starts when the buffer holds all 3000 changes, so each cohort goes as one page of 1000.
        Map<String, String> config = ConnectorConfig.webhook(topic, receiver.url()).deadLetterQueue(dlq)
                .syncIntervalMs(3_600_000).with("buffer.max.changes", "3000").build();

        harness.startConnector(connector, config, 1);
        harness.awaitCommittedToEnd(connector, topic);

        Map<String, Integer> requests = new TreeMap<>();
        for (Delivery delivery : receiver.deliveries()) {
            requests.merge(delivery.cohortId(), 1, Integer::sum);
        }
        for (String cohort : List.of("1", "2", "3")) {
            List<Delivery> first = receiver.deliveries().stream().filter(d -> d.cohortId().equals(cohort)).toList();
            assertThat(first.get(0).distinctIds()).as("cohort %s went as one page", cohort).hasSize(PAGE);
            int k = badIndexes.get(cohort).size();
            int extra = requests.get(cohort) - 1;
            assertThat(extra).as("extra requests for %d bad members of cohort %s", k, cohort)
                    .isLessThanOrEqualTo(2 * k * (int) Math.ceil(Math.log(PAGE) / Math.log(2)));
        }
        assertThat(requests.get("1")).as("no bad member: no extra request").isEqualTo(1);
        assertThat(requests.get("2") - 1).as("one bad member in 1000").isLessThanOrEqualTo(20);
        System.out.println("RELIABILITY split-retries: extra requests per page of 1000 with 0, 1, 3 bad members: "
                + (requests.get("1") - 1) + ", " + (requests.get("2") - 1) + ", " + (requests.get("3") - 1));

        Map<String, Set<String>> expected = new HashMap<>();
        for (MembershipRecord record : records) {
            expected.computeIfAbsent(record.cohortId(), c -> new TreeSet<>()).add(record.user());
        }
        expected.get("2").removeAll(bad);
        expected.get("3").removeAll(bad);
        assertThat(receiver.membership()).as("everyone else delivered").isEqualTo(expected);
        assertThat(receiver.accepted()).as("each member accepted once")
                .flatMap(Delivery::distinctIds).hasSize(3 * PAGE - bad.size()).doesNotHaveDuplicates();
        assertThat(receiver.pagingProblems()).isEmpty();
        assertThat(receiver.violations()).isEmpty();

        ConsumerRecords<byte[], byte[]> dead = harness.connect().kafka()
                .consume(bad.size(), ConnectHarness.TIMEOUT.toMillis(), dlq);
        Map<Long, String> reasons = new TreeMap<>();
        for (ConsumerRecord<byte[], byte[]> record : dead) {
            reasons.put(Long.parseLong(header(record, "__connect.errors.offset")),
                    header(record, "__connect.errors.exception.message"));
        }
        assertThat(reasons).as("the bad members' records, once each").containsOnlyKeys(1637L, 2003L, 2500L, 2998L);
        assertThat(dead.count()).isEqualTo(bad.size());
        assertThat(reasons.values()).allSatisfy(reason -> assertThat(reason)
                .contains("refused by the destination when sent alone", "HTTP 400", "Invalid payload"));
        harness.assertAllRunning(connector);
    }

    /**
     * A split's parts are calls like any other: under {@code rate.limit.requests.per.second=10} the page and its six
     * parts are spread over at least six tenths of a second (the rate limiter hands out one call per 100 ms cycle),
     * where without the cap on parts they all went within a few milliseconds of the page's refusal.
     */
    @Test
    void aSplitsPartsKeepToTheRequestRate() throws Exception {
        String topic = harness.createTopic("paced", 1);
        String dlq = ConnectHarness.uniqueName("dlq");
        List<MembershipRecord> records = new ArrayList<>();
        for (int i = 0; i < 8; i++) {
            records.add(add("5", user("c5", i)));
        }
        receiver.refuseRequestsHolding(Set.of(user("c5", 2)));
        harness.produce(topic, records);
        Map<String, String> config = ConnectorConfig.webhook(topic, receiver.url()).deadLetterQueue(dlq)
                .syncIntervalMs(3_600_000).with("buffer.max.changes", "8")
                .with("rate.limit.requests.per.second", "10").build();

        harness.startConnector(connector, config, 1);
        harness.awaitCommittedToEnd(connector, topic);

        List<Delivery> calls = receiver.deliveries();
        // 8 -> 4 + 4, 4 -> 2 + 2, 2 -> 1 + 1: the page and six parts.
        assertThat(calls).hasSize(7);
        assertThat(calls.get(0).distinctIds()).hasSize(8);
        long spanMs = (calls.get(6).receivedNanos() - calls.get(0).receivedNanos()) / 1_000_000;
        // Seven calls take seven of the limiter's 100 ms cycles; the first and last may sit at the cycles' far ends.
        assertThat(spanMs).as("ms from the page to its last part").isGreaterThanOrEqualTo(450);
        Set<String> expected = new TreeSet<>(records.stream().map(MembershipRecord::user).toList());
        expected.remove(user("c5", 2));
        assertThat(receiver.membership()).isEqualTo(Map.of("5", expected));
        harness.assertAllRunning(connector);
    }

    /** A 401 says nothing about the members: the task fails at once with the receiver's answer, nothing is split. */
    @Test
    void anUnauthorizedPageIsNeverSplit() throws Exception {
        String topic = harness.createTopic("unauthorized", 1);
        List<MembershipRecord> records = new ArrayList<>();
        for (int i = 0; i < PAGE; i++) {
            records.add(add("9", user("u", i)));
        }
        receiver.answerByDefault(Reply.httpStatus(401).withBody("{\"detail\": \"Invalid token.\"}"));
        harness.produce(topic, records);
        Map<String, String> config = ConnectorConfig.webhook(topic, receiver.url())
                .syncIntervalMs(3_600_000).with("buffer.max.changes", "1000").build();

        harness.startConnector(connector, config, 1);
        String trace = harness.awaitTaskFailed(connector);

        assertThat(trace).contains("HTTP 401", "Invalid token.", "check webhook.auth");
        assertThat(receiver.requestCount()).as("one request, not split").isEqualTo(1);
        assertThat(receiver.deliveries().get(0).distinctIds()).hasSize(PAGE);
        assertThat(harness.committedOffsets(connector, topic)).as("nothing committed").isEmpty();
    }

    private static String header(ConsumerRecord<byte[], byte[]> record, String name) {
        Header header = record.headers().lastHeader(name);
        return header == null ? null : new String(header.value(), StandardCharsets.UTF_8);
    }
}

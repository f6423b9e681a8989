package io.github.cohortsync.connect.it;

import static io.github.cohortsync.connect.it.MembershipRecord.add;
import static io.github.cohortsync.connect.it.MembershipRecord.remove;
import static io.github.cohortsync.connect.it.MembershipRecord.user;
import static org.assertj.core.api.Assertions.assertThat;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;

import org.junit.jupiter.api.Test;

import io.github.cohortsync.connect.it.standin.WebhookReceiver;
import io.github.cohortsync.connect.it.standin.WebhookReceiver.Delivery;
import io.github.cohortsync.connect.it.standin.WebhookReceiver.Reply;

/**
 * A 429 with Retry-After that one page gets holds every page of the task: through a real Connect worker, the webhook
 * with four pages in flight, a receiver that answers slowly (so pages are in flight together) and answers one
 * request 429 with Retry-After: 2.
 */
@ConnectCluster(name = "rate-limit-hold-it")
class RateLimitHoldIT {
    /** Slack for calls already leaving when the 429 went out, and for timing on a loaded machine. */
    private static final long TOLERANCE_MS = 250;
    private static final long SLOW_ANSWER_MS = 400;

    private static ConnectHarness harness;

    @PerTest
    private WebhookReceiver receiver;
    @ConnectorName
    private String connector;

    @Test
    void a429WithRetryAfterHoldsEveryPageInFlightAndNothingIsLostOrReordered() throws Exception {
        String topic = harness.createTopic("hold", 1);
        List<MembershipRecord> adds = new ArrayList<>();
        for (int i = 0; i < 1000; i++) {
            adds.add(add("101", user("u", i)));
        }
        harness.produce(topic, adds);
        // Three slow answers keep three pages in flight while the fourth request is answered 429.
        receiver.enqueue(Reply.success().withDelay(SLOW_ANSWER_MS), Reply.success().withDelay(SLOW_ANSWER_MS),
                Reply.success().withDelay(SLOW_ANSWER_MS),
                Reply.httpStatus(429).withRetryAfter("2").withBody("{\"error\":\"too many requests\"}"));
        receiver.answerByDefault(Reply.success().withDelay(SLOW_ANSWER_MS));
        var config = ConnectorConfig.webhook(topic, receiver.url())
                .with("sync.max.in.flight.requests", "4")
                .with("batch.max.size", "50")
                .build();

        harness.startConnector(connector, config, 1);
        harness.awaitCommittedToEnd(connector, topic);

        List<Delivery> all = receiver.deliveries();
        Delivery limited = all.stream().filter(d -> d.replyCode() == 429).findFirst().orElseThrow();
        assertThat(all).filteredOn(d -> d.replyCode() == 429).hasSize(1);
        long limitedAt = limited.receivedNanos();
        assertThat(all.subList(0, limited.index()))
                .as("three pages were in flight (sent, not yet answered) when the 429 went out")
                .hasSize(3)
                .allSatisfy(d -> assertThat(ms(limitedAt - d.receivedNanos())).isLessThan(SLOW_ANSWER_MS));
        assertThat(all).filteredOn(d -> d.receivedNanos() > limitedAt + TimeUnit.MILLISECONDS.toNanos(TOLERANCE_MS)
                        && d.receivedNanos() < limitedAt + TimeUnit.MILLISECONDS.toNanos(2000 - TOLERANCE_MS))
                .as("no request reached the receiver during the 2 s the 429 asked for")
                .isEmpty();
        Delivery firstAfter = all.stream().filter(d -> d.receivedNanos() > limitedAt).findFirst().orElseThrow(
                () -> new AssertionError("the sync did not go on after the hold"));
        System.out.println("RATE-LIMIT-HOLD first request after the 429 (Retry-After: 2) arrived "
                + ms(firstAfter.receivedNanos() - limitedAt) + " ms after it");

        // Then a second sync removes some members: per member, one add then one remove, each accepted once.
        List<MembershipRecord> removes = new ArrayList<>();
        for (int i = 0; i < 1000; i += 5) {
            removes.add(remove("101", user("u", i)));
        }
        harness.produce(topic, removes);
        harness.awaitCommittedToEnd(connector, topic);
        harness.assertAllRunning(connector);

        List<MembershipRecord> records = new ArrayList<>(adds);
        records.addAll(removes);
        assertThat(receiver.membership()).isEqualTo(ExpectedMembership.of(records).asMap());
        Map<String, List<String>> actionsByMember = new HashMap<>();
        for (Delivery d : receiver.accepted()) {
            d.distinctIds().forEach(id -> actionsByMember.computeIfAbsent(id, k -> new ArrayList<>()).add(d.action()));
        }
        assertThat(actionsByMember).hasSize(1000);
        for (int i = 0; i < 1000; i++) {
            String id = user("u", i);
            assertThat(actionsByMember.get(id)).as("what %s got, in order", id).containsExactlyElementsOf(
                    i % 5 == 0 ? List.of("add_members", "remove_members") : List.of("add_members"));
        }
        assertThat(receiver.acceptedCountByKey().values()).as("no page accepted twice").containsOnly(1L);
        assertThat(receiver.violations()).isEmpty();
        assertThat(DeliveryTally.metric(connector, 0, "RateLimitedAnswers")).isEqualTo(1);
        long heldMs = DeliveryTally.metric(connector, 0, "RateLimitHeldMs");
        System.out.println("RATE-LIMIT-HOLD RateLimitHeldMs=" + heldMs);
        assertThat(heldMs).as("the other pages were held").isGreaterThanOrEqualTo(1000);
    }

    private static long ms(long nanos) {
        return TimeUnit.NANOSECONDS.toMillis(nanos);
    }
}

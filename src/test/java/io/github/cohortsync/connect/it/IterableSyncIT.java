package io.github.cohortsync.connect.it;

import static io.github.cohortsync.connect.it.MembershipRecord.add;
import static io.github.cohortsync.connect.it.MembershipRecord.remove;
import static io.github.cohortsync.connect.it.MembershipRecord.tombstone;
import static io.github.cohortsync.connect.it.MembershipRecord.user;
import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.net.InetAddress;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Collection;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.TreeSet;

import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.ConsumerRecords;
import org.apache.kafka.common.header.Header;
import org.junit.jupiter.api.Test;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;

import mockwebserver3.Dispatcher;
import mockwebserver3.MockResponse;
import mockwebserver3.MockWebServer;
import mockwebserver3.RecordedRequest;

import io.github.cohortsync.connect.it.standin.IterableReceiver;

/**
 * End-to-end sync to a local stand-in for Iterable's list API, with two tasks racing to create the same lists:
 * interleaved adds and removes end as exactly the expected list membership, matched by $iterable_user_id or email.
 * Tombstones carry no email, so Iterable cannot match them: they are rejected to the DLQ, as is an invalid email.
 */
@ConnectCluster(name = "iterable-sync-it")
class IterableSyncIT {
    private static final String API_KEY = IterableReceiver.API_KEY;
    private static final ObjectMapper JSON = new ObjectMapper();
    private static ConnectHarness harness;

    /** Every record of a user goes to the same partition; every fifth user is matched by $iterable_user_id. */
    private static MembershipRecord ids(MembershipRecord record, int n) {
        record.inPartition(n % 2);
        return n % 5 == 0 ? record.with("properties", Map.of("$iterable_user_id", "it-" + record.user())) : record;
    }

    /** How the stand-in names a subscriber: by user id when the records carry one, else by email. */
    private static String subscriber(MembershipRecord record, int n) {
        return n % 5 == 0 ? "userId:it-" + record.user() : "email:" + MembershipRecord.email(record.user());
    }

    @Test
    void syncsInterleavedChangesAsExactlyTheExpectedListMembership() throws Exception {
        String topic = harness.createTopic("iterable-membership", 2);
        String dlq = ConnectHarness.uniqueName("iterable-dlq");
        String connector = ConnectHarness.uniqueName("iterable");
        Map<MembershipRecord, String> subscriberOf = new HashMap<>();
        List<MembershipRecord> a = new ArrayList<>();
        List<MembershipRecord> b = new ArrayList<>();
        for (int i = 0; i < 400; i++) {
            MembershipRecord r = ids(add("101", user("a", i)), i);
            subscriberOf.put(r, subscriber(r, i));
            a.add(r);
        }
        for (int i = 0; i < 200; i++) {
            MembershipRecord in = ids(add("202", user("b", i)), i);
            MembershipRecord out = ids(remove("202", user("b", i)), i);
            subscriberOf.put(in, subscriber(in, i));
            subscriberOf.put(out, subscriber(out, i));
            b.add(in);
            if (i % 4 == 0) {
                b.add(out);
            }
        }
        List<MembershipRecord> phase1 = new ArrayList<>(Interleave.randomly(21, a, b));
        MembershipRecord invalid = add("101", "bad-mail").with("email", "not-an-email").inPartition(0);
        phase1.add(invalid);

        try (IterableReceiver iterable = IterableReceiver.start()) {
            harness.produce(topic, phase1);
            Map<String, String> config = ConnectorConfig.iterable(topic, API_KEY, iterable.url())
                    .tasks(2)
                    .syncIntervalMs(1000)
                    .deadLetterQueue(dlq)
                    .build();
            harness.startConnector(connector, config, 2);
            harness.awaitCommittedToEnd(connector, topic);

            // Phase 2: distinct users per kind of change, so netting cannot hide a rejected tombstone.
            List<MembershipRecord> tombstones = new ArrayList<>();
            for (int i = 0; i < 60; i++) {
                tombstones.add(tombstone("101", user("a", i)).inPartition(i % 2));
            }
            List<MembershipRecord> leaves = new ArrayList<>();
            for (int i = 100; i < 250; i++) {
                MembershipRecord r = ids(remove("101", user("a", i)), i);
                subscriberOf.put(r, subscriber(r, i));
                leaves.add(r);
            }
            List<MembershipRecord> comebacks = new ArrayList<>();
            for (int i = 0; i < 200; i += 4) {
                MembershipRecord r = ids(add("202", user("b", i)), i);
                subscriberOf.put(r, subscriber(r, i));
                comebacks.add(r);
            }
            List<MembershipRecord> phase2 = Interleave.randomly(22, tombstones, leaves, comebacks);
            harness.produce(topic, phase2);
            harness.awaitCommittedToEnd(connector, topic);

            // Tombstones change nothing in Iterable: they are rejected.
            Map<String, Set<String>> expected = new TreeMap<>();
            List<MembershipRecord> all = new ArrayList<>(phase1);
            all.remove(invalid);
            all.addAll(phase2);
            for (MembershipRecord r : all) {
                if (r.valueJson() == null) {
                    continue;
                }
                String list = "mixpanel_" + MembershipRecord.cohortName(r.cohortId()) + "_" + r.cohortId();
                Set<String> members = expected.computeIfAbsent(list, l -> new TreeSet<>());
                if (r.isAdd()) {
                    members.add(subscriberOf.get(r));
                } else {
                    members.remove(subscriberOf.get(r));
                }
            }
            assertThat(iterable.membership()).isEqualTo(expected);
            assertThat(expected.values()).allSatisfy(members -> assertThat(members).isNotEmpty());
            assertThat(iterable.violations()).isEmpty();

            harness.connect().kafka().consume(61, ConnectHarness.TIMEOUT.toMillis(), dlq);
            ConsumerRecords<byte[], byte[]> dead = harness.connect().kafka()
                    .consumeAll(ConnectHarness.TIMEOUT.toMillis(), dlq);
            // The DLQ is at least once: a partition that moves between the two tasks before its offsets are
            // committed (the group settling at start) is read and reported again. Count each record once.
            Map<String, String> reasonByRecord = new TreeMap<>();
            for (ConsumerRecord<byte[], byte[]> record : dead) {
                reasonByRecord.put(header(record, "__connect.errors.partition") + "@"
                        + header(record, "__connect.errors.offset"),
                        header(record, "__connect.errors.exception.message"));
            }
            assertThat(reasonByRecord).hasSize(61);
            List<String> reasons = new ArrayList<>(reasonByRecord.values());
            assertThat(reasons).filteredOn(m -> m.contains("Iterable needs an email or $iterable_user_id"))
                    .hasSize(60);
            assertThat(reasons).filteredOn(m -> m.contains("Iterable reported the email of this member as invalid"))
                    .hasSize(1);
            assertThat(reasons).noneMatch(m -> m.contains("@") || m.contains("not-an-email"));
            harness.assertAllRunning(connector);
        } finally {
            harness.deleteConnectorQuietly(connector);
        }
    }

    /**
     * Issue 11, points 6 to 8, through the public surface: a stand-in that answers in the current spec's shape
     * (failedUpdates), refuses calls of more than 40 subscribers with BatchTooLarge, answers every ninth bulk call
     * 429 RateLimitExceeded, and checks every body against the Swagger's request schemas. Every member Iterable
     * names in any failedUpdates category lands in the DLQ with that category's reason; the others end as exactly
     * the expected list; the connector never fails.
     */
    @Test
    void everyFailedUpdateIsARejectionAndTooLargeOrThrottledCallsStillDeliver() throws Exception {
        String topic = harness.createTopic("iterable-failures", 2);
        String dlq = ConnectHarness.uniqueName("iterable-failures-dlq");
        String connector = ConnectHarness.uniqueName("iterable-failures");
        List<MembershipRecord> normal = new ArrayList<>();
        Map<MembershipRecord, String> subscriberOf = new HashMap<>();
        for (int i = 0; i < 300; i++) {
            MembershipRecord r = ids(add("303", user("c", i)), i);
            subscriberOf.put(r, subscriber(r, i));
            normal.add(r);
        }
        // Which failedUpdates field names each failing member, by the member's distinct_id.
        Map<String, String> fieldOf = new TreeMap<>();
        List<MembershipRecord> failing = new ArrayList<>();
        for (String category : List.of("invalid", "unknown", "forgotten", "conflict", "baddata")) {
            String field = switch (category) {
                case "unknown" -> "notFound";
                case "baddata" -> "invalidData";
                default -> category;
            };
            String mail = "f-" + category + "-mail";
            failing.add(add("303", mail).with("email", category.equals("invalid") ? "not-an-email"
                    : category + "-x@example.com").inPartition(0));
            fieldOf.put(mail, "failedUpdates." + field + "Emails");
            String id = "f-" + category + "-id";
            failing.add(add("303", id).with("properties", Map.of("$iterable_user_id",
                    category.equals("invalid") ? "it-trailing-space " : "it-" + category)).inPartition(1));
            fieldOf.put(id, "failedUpdates." + field + "UserIds");
        }

        try (IterableReceiver iterable = IterableReceiver.start().maxBatch(40).rateLimitEvery(9)) {
            harness.produce(topic, Interleave.randomly(31, normal, failing));
            Map<String, String> config = ConnectorConfig.iterable(topic, API_KEY, iterable.url())
                    .tasks(1)
                    .syncIntervalMs(1000)
                    .deadLetterQueue(dlq)
                    .with("batch.max.size", "100")
                    .build();
            harness.startConnector(connector, config, 1);
            harness.awaitCommittedToEnd(connector, topic);

            // Leaving: a hundred members, and a user Iterable never heard of (notFound on unsubscribe).
            List<MembershipRecord> leaves = new ArrayList<>();
            for (int i = 0; i < 100; i++) {
                MembershipRecord r = ids(remove("303", user("c", i)), i);
                subscriberOf.put(r, subscriber(r, i));
                leaves.add(r);
            }
            leaves.add(remove("303", "f-unknown2-mail").with("email", "unknown2@example.com").inPartition(0));
            fieldOf.put("f-unknown2-mail", "failedUpdates.notFoundEmails");
            harness.produce(topic, leaves);
            harness.awaitCommittedToEnd(connector, topic);

            Set<String> expected = new TreeSet<>();
            for (int i = 100; i < 300; i++) {
                expected.add(subscriberOf.get(normal.get(i)));
            }
            assertThat(iterable.membership()).containsOnlyKeys("mixpanel_" + MembershipRecord.cohortName("303")
                    + "_303").containsValue(expected);
            assertThat(iterable.violations()).as("every body passes the Swagger's schema and our rules").isEmpty();
            assertThat(iterable.batchTooLargeAnswers()).as("calls were split").isPositive();
            assertThat(iterable.rateLimitAnswers()).as("calls were throttled").isPositive();

            harness.connect().kafka().consume(fieldOf.size(), ConnectHarness.TIMEOUT.toMillis(), dlq);
            Map<String, String> reasonByUser = new TreeMap<>();
            for (ConsumerRecord<byte[], byte[]> record : harness.connect().kafka()
                    .consumeAll(ConnectHarness.TIMEOUT.toMillis(), dlq)) {
                String user = JSON.readTree(record.value()).path("distinct_id").asText();
                reasonByUser.put(user, header(record, "__connect.errors.exception.message"));
            }
            assertThat(reasonByUser).containsOnlyKeys(fieldOf.keySet());
            fieldOf.forEach((user, field) -> assertThat(reasonByUser.get(user)).as(user).contains("(" + field + ")"));
            assertThat(reasonByUser.values()).noneMatch(m -> m.contains("@") || m.contains("not-an-email"));
            harness.assertAllRunning(connector);
        } finally {
            harness.deleteConnectorQuietly(connector);
        }
    }

    /**
     * Issue 11, point 9: a first full sync of 20 cohorts mirrors 20 lists, one list export each, against a stand-in
     * that allows 5 exports per second (Iterable's 5 per minute, scaled down 60 times) and answers 429 beyond it.
     * With iterable.list.export.interval.ms=250 (the default, 12000, is the same pace at Iterable's scale) every
     * list ends equal to its cohort, no export is refused, and the task never fails.
     */
    @Test
    void aFullSyncOf20CohortsPacesItsListExportsAndMirrorsEveryList() throws Exception {
        String topic = ConnectHarness.uniqueName("iterable-mirror-20");
        harness.connect().kafka().createTopic(topic, 1, 1, Map.of("cleanup.policy", "compact"));
        String connector = ConnectHarness.uniqueName("iterable-mirror-20");
        List<MembershipRecord> records = new ArrayList<>();
        Map<String, Set<String>> expected = new TreeMap<>();
        for (int c = 0; c < 20; c++) {
            String cohort = Integer.toString(700 + c);
            Set<String> members = new TreeSet<>();
            for (int i = 0; i < 30; i++) {
                String user = user("m" + c, i);
                records.add(add(cohort, user));
                members.add("email:" + MembershipRecord.email(user));
            }
            expected.put("mixpanel_" + MembershipRecord.cohortName(cohort) + "_" + cohort, members);
        }
        harness.produce(topic, records);

        try (IterableReceiver iterable = IterableReceiver.start().exportLimit(5, 1_000)) {
            for (String list : expected.keySet()) {
                iterable.prefill(list, List.of("stranger-1@example.com", "stranger-2@example.com"));
            }
            Map<String, String> config = ConnectorConfig.iterable(topic, API_KEY, iterable.url())
                    .with("iterable.list.export.interval.ms", "250")
                    .fullSyncs(harness.connect().kafka().bootstrapServers())
                    .build();
            harness.startConnector(connector, config, 1);
            harness.awaitCommittedToEnd(connector, topic);

            assertThat(iterable.membership()).isEqualTo(expected);
            assertThat(iterable.exports()).isEqualTo(20);
            assertThat(iterable.exportRateLimitAnswers()).as("paced exports are never refused").isZero();
            assertThat(iterable.violations()).isEmpty();
            harness.assertAllRunning(connector);
        } finally {
            harness.deleteConnectorQuietly(connector);
        }
    }

    /**
     * The same 20 cohorts with no pacing at all (interval 0) against a stand-in that allows 5 exports per 2 s: the
     * refused exports are answered 429, honoured (Retry-After), retried, and the sync still completes exactly.
     */
    @Test
    void refusedListExportsAreRetriedAfterTheirRetryAfterUntilEveryListIsMirrored() throws Exception {
        String topic = ConnectHarness.uniqueName("iterable-mirror-429");
        harness.connect().kafka().createTopic(topic, 1, 1, Map.of("cleanup.policy", "compact"));
        String connector = ConnectHarness.uniqueName("iterable-mirror-429");
        List<MembershipRecord> records = new ArrayList<>();
        Map<String, Set<String>> expected = new TreeMap<>();
        for (int c = 0; c < 20; c++) {
            String cohort = Integer.toString(800 + c);
            String user = user("n" + c, 0);
            records.add(add(cohort, user));
            expected.put("mixpanel_" + MembershipRecord.cohortName(cohort) + "_" + cohort,
                    new TreeSet<>(Set.of("email:" + MembershipRecord.email(user))));
        }
        harness.produce(topic, records);

        try (IterableReceiver iterable = IterableReceiver.start().exportLimit(5, 2_000)) {
            for (String list : expected.keySet()) {
                iterable.prefill(list, List.of("stranger@example.com"));
            }
            Map<String, String> config = ConnectorConfig.iterable(topic, API_KEY, iterable.url())
                    .with("iterable.list.export.interval.ms", "0")
                    .fullSyncs(harness.connect().kafka().bootstrapServers())
                    .build();
            harness.startConnector(connector, config, 1);
            harness.awaitCommittedToEnd(connector, topic);

            assertThat(iterable.membership()).isEqualTo(expected);
            assertThat(iterable.exportRateLimitAnswers()).as("the unpaced exports were refused").isPositive();
            assertThat(iterable.violations()).isEmpty();
            harness.assertAllRunning(connector);
        } finally {
            harness.deleteConnectorQuietly(connector);
        }
    }

    private static String header(ConsumerRecord<byte[], byte[]> record, String name) {
        Header header = record.headers().lastHeader(name);
        return header == null ? null : new String(header.value(), StandardCharsets.UTF_8);
    }
}

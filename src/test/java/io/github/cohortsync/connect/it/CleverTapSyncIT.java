package io.github.cohortsync.connect.it;

import static io.github.cohortsync.connect.it.MembershipRecord.add;
import static io.github.cohortsync.connect.it.MembershipRecord.remove;
import static io.github.cohortsync.connect.it.MembershipRecord.tombstone;
import static io.github.cohortsync.connect.it.MembershipRecord.user;
import static org.assertj.core.api.Assertions.assertThat;

import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;

import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.ConsumerRecords;
import org.apache.kafka.common.header.Header;
import org.junit.jupiter.api.Test;

import io.github.cohortsync.connect.it.standin.CleverTapReceiver;

/** End-to-end sync to a local CleverTap stand-in through a real broker and worker. */
@ConnectCluster(name = "clevertap-sync-it")
class CleverTapSyncIT {
    private static ConnectHarness harness;

    /**
     * Two cohorts, interleaved adds, removes and tombstones in two phases, one throttled call: CleverTap ends with
     * exactly the last Partner Sync action per (identity, cohort) that the records imply, full pages of 500
     * members go as one call of at most 1000 records, users with $CleverTap_user_id are sent by that id, and
     * members whose records CleverTap leaves unprocessed go to the DLQ without their email or phone.
     */
    @Test
    void syncsTheLatestActionOfEveryUserInEveryCohort() throws Exception {
        String connector = ConnectHarness.uniqueName("clevertap");
        String topic = harness.createTopic("clevertap-membership", 1);
        String dlq = ConnectHarness.uniqueName("clevertap-dlq");
        try (CleverTapReceiver receiver = CleverTapReceiver.start("ACC-42", "ct-pass")) {
            receiver.throttleFirst(1);
            List<MembershipRecord> big = new ArrayList<>();
            for (int i = 0; i < 600; i++) {
                big.add(add("101", user("big", i)));
            }
            List<MembershipRecord> identified = new ArrayList<>();
            for (int i = 0; i < 40; i++) {
                identified.add(add("202", user("ct", i)).with("properties", Map.of("$CleverTap_user_id",
                        "CT-" + i)));
            }
            List<MembershipRecord> churn = new ArrayList<>();
            for (int i = 0; i < 30; i++) {
                churn.add(add("202", user("churn", i)));
                churn.add(remove("202", user("churn", i)));
            }
            List<MembershipRecord> refused = new ArrayList<>();
            for (int i = 0; i < 4; i++) {
                refused.add(add("202", user("bad", i)));
            }
            List<MembershipRecord> phase1 = Interleave.randomly(11, big, identified, churn, refused);
            harness.produce(topic, phase1);

            Map<String, String> config = ConnectorConfig.cleverTap(topic, "ACC-42", "ct-pass", receiver.url())
                    .syncIntervalMs(1500)
                    .deadLetterQueue(dlq)
                    .build();
            harness.startConnector(connector, config, 1);
            harness.awaitCommittedToEnd(connector, topic);

            List<MembershipRecord> leave = new ArrayList<>();
            for (int i = 0; i < 100; i++) {
                leave.add(tombstone("101", user("big", i)));
            }
            for (int i = 100; i < 150; i++) {
                leave.add(remove("101", user("big", i)));
            }
            for (int i = 0; i < 10; i++) {
                leave.add(add("101", user("big", i))); // back again after the tombstone
            }
            List<MembershipRecord> identifiedLeave = new ArrayList<>();
            for (int i = 0; i < 20; i++) {
                identifiedLeave.add(remove("202", user("ct", i)).with("properties", Map.of("$CleverTap_user_id",
                        "CT-" + i)));
            }
            List<MembershipRecord> phase2 = Interleave.randomly(12, leave, identifiedLeave);
            harness.produce(topic, phase2);
            harness.awaitCommittedToEnd(connector, topic);

            List<MembershipRecord> all = new ArrayList<>(phase1);
            all.addAll(phase2);
            Map<String, String> expected = expectedActions(all);
            expected.keySet().removeIf(key -> key.startsWith("bad-")); // refused by CleverTap
            assertThat(receiver.actions()).isEqualTo(expected);
            // The refused members (event and profile unprocessed) go to the DLQ once each, without email or phone.
            ConsumerRecords<byte[], byte[]> dead = harness.connect().kafka()
                    .consume(4, ConnectHarness.TIMEOUT.toMillis(), dlq);
            List<String> messages = new ArrayList<>();
            for (ConsumerRecord<byte[], byte[]> record : dead) {
                Header header = record.headers().lastHeader("__connect.errors.exception.message");
                messages.add(new String(header.value(), StandardCharsets.UTF_8));
            }
            assertThat(messages).hasSize(4).allSatisfy(m -> assertThat(m)
                    .contains("Identity not allowed", "code 524", "event record", "profile record")
                    .doesNotContain("@example.com").doesNotContain("+1555"));
            assertThat(receiver.violations()).isEmpty();
            assertThat(receiver.recordsPerCall()).allSatisfy(n -> assertThat(n).isLessThanOrEqualTo(1000));
            // The 600 adds of cohort 101 (event + profile each): a page of 500 (1000 records) and one of 100.
            assertThat(receiver.recordsPerCall()).contains(1000);
            assertThat(receiver.profiles().get("CT-3").path("Email").asText())
                    .isEqualTo(MembershipRecord.email(user("ct", 3)));
            assertThat(receiver.profiles().get(user("big", 200)).path("Phone").asText())
                    .isEqualTo(MembershipRecord.phone(user("big", 200)));
            harness.assertAllRunning(connector);
        } finally {
            harness.deleteConnectorQuietly(connector);
        }
    }

    /**
     * Issue 13: CleverTap allows 15 uploads in progress per account. Four tasks, each allowed 64 pages in flight at a
     * fixed concurrency, with uploads that take 100 ms: the connector's default rate.limit.concurrent.requests (15,
     * split 4, 4, 4, 3) keeps the account at or under 15, so the stand-in never answers "too many concurrent" (it
     * counts each such call as a violation), and every member arrives. Without the split the four tasks would have
     * up to 4 x 20 pages in flight.
     */
    @Test
    void fourTasksShareTheAccountsFifteenConcurrentUploads() throws Exception {
        String connector = ConnectHarness.uniqueName("clevertap-share");
        String topic = harness.createTopic("clevertap-share", 4);
        try (CleverTapReceiver receiver = CleverTapReceiver.start("ACC-7", "ct-pass")) {
            receiver.delayEachCall(100);
            List<MembershipRecord> records = new ArrayList<>();
            for (int partition = 0; partition < 4; partition++) {
                for (int i = 0; i < 200; i++) {
                    records.add(add("301", user("share" + partition + "-", i)).inPartition(partition));
                }
            }
            harness.produce(topic, records);

            Map<String, String> config = ConnectorConfig.cleverTap(topic, "ACC-7", "ct-pass", receiver.url())
                    .tasks(4)
                    .with("sync.max.in.flight.requests", "64")
                    .with("sync.adaptive.concurrency", "false")
                    .with("batch.max.size", "10")
                    .build();
            harness.startConnector(connector, config, 4);
            harness.awaitCommittedToEnd(connector, topic);

            assertThat(receiver.actions()).isEqualTo(expectedActions(records));
            assertThat(receiver.violations()).as("no upload over the account's 15 at once").isEmpty();
            assertThat(receiver.peakConcurrentUploads()).isLessThanOrEqualTo(15);
            System.out.println("CLEVERTAP-SHARE peak concurrent uploads " + receiver.peakConcurrentUploads()
                    + " of 15, " + receiver.requests() + " uploads");
            harness.assertAllRunning(connector);
        } finally {
            harness.deleteConnectorQuietly(connector);
        }
    }

    /**
     * Issue 11, point 12: a cohort whose name is over CleverTap's 512-byte property value limit and a member whose
     * email is over the profile limit are rejected before sending (the stand-in counts any such value reaching it
     * as a violation); a {@code partial} answer rejects exactly the members its {@code unprocessed} records name,
     * here an email CleverTap calls invalid (515) and the stand-in's refused identities; ts goes in epoch seconds;
     * and 429s far beyond retry.max.attempts only delay the sync: the connector never fails.
     */
    @Test
    void partialAnswersAndLimitsRejectExactlyTheirMembersAnd429IsOnlyBackoff() throws Exception {
        String connector = ConnectHarness.uniqueName("clevertap-limits");
        String topic = harness.createTopic("clevertap-limits", 1);
        String dlq = ConnectHarness.uniqueName("clevertap-limits-dlq");
        String longName = "Cohort ✓ ".repeat(60); // 600 UTF-8 bytes
        try (CleverTapReceiver receiver = CleverTapReceiver.start("ACC-42", "ct-pass")) {
            receiver.throttleFirst(6);
            List<MembershipRecord> fine = new ArrayList<>();
            for (int i = 0; i < 50; i++) {
                fine.add(add("301", user("fine", i)));
            }
            List<MembershipRecord> longCohort = new ArrayList<>();
            for (int i = 0; i < 5; i++) {
                longCohort.add(add("302", user("long", i)).with("cohort_name", longName));
            }
            List<MembershipRecord> refused = List.of(
                    add("301", "mail-invalid").with("email", "no-at-sign"),
                    add("301", "mail-huge").with("email", "x".repeat(520) + "@example.com"),
                    add("301", "bad-identity"));
            harness.produce(topic, Interleave.randomly(41, fine, longCohort, new ArrayList<>(refused)));

            Map<String, String> config = ConnectorConfig.cleverTap(topic, "ACC-42", "ct-pass", receiver.url())
                    .syncIntervalMs(500)
                    .deadLetterQueue(dlq)
                    .with("retry.max.attempts", "1")
                    .with("retry.backoff.initial.ms", "50")
                    .with("retry.backoff.max.ms", "100")
                    .build();
            harness.startConnector(connector, config, 1);
            harness.awaitCommittedToEnd(connector, topic);

            Map<String, String> expected = new TreeMap<>();
            fine.forEach(r -> expected.put(r.user() + "|301", "Added"));
            expected.put("mail-invalid|301", "Added"); // its event was processed; only its profile was not
            assertThat(receiver.actions()).isEqualTo(expected);
            assertThat(receiver.violations()).as("no over-limit value and no ts in milliseconds reached CleverTap")
                    .isEmpty();
            assertThat(receiver.requests()).as("the 6 throttled calls were retried").isGreaterThan(6);

            Map<String, String> reasonByUser = new TreeMap<>();
            for (ConsumerRecord<byte[], byte[]> record : harness.connect().kafka()
                    .consume(8, ConnectHarness.TIMEOUT.toMillis(), dlq)) {
                String user = new com.fasterxml.jackson.databind.ObjectMapper().readTree(record.value())
                        .path("distinct_id").asText();
                reasonByUser.put(user, new String(record.headers().lastHeader("__connect.errors.exception.message")
                        .value(), StandardCharsets.UTF_8));
            }
            assertThat(reasonByUser).containsOnlyKeys("mail-invalid", "mail-huge", "bad-identity",
                    user("long", 0), user("long", 1), user("long", 2), user("long", 3), user("long", 4));
            assertThat(reasonByUser.get("mail-invalid")).contains("profile record", "Email invalid", "code 515")
                    .doesNotContain("event record");
            assertThat(reasonByUser.get("mail-huge")).contains("over CleverTap's limit of 512 bytes");
            assertThat(reasonByUser.get("bad-identity")).contains("code 524");
            assertThat(reasonByUser.get(user("long", 0))).contains("Partner Segment Name", "512 bytes");
            assertThat(reasonByUser.values()).noneMatch(m -> m.contains("@") || m.contains("no-at-sign"));
            harness.assertAllRunning(connector);
        } finally {
            harness.deleteConnectorQuietly(connector);
        }
    }

    /** The last action per "identity|cohort": identity is $CleverTap_user_id when the record carried one. */
    private static Map<String, String> expectedActions(List<MembershipRecord> records) {
        Map<String, String> expected = new TreeMap<>();
        for (MembershipRecord r : records) {
            String identity = r.valueJson() != null && r.valueJson().contains("$CleverTap_user_id")
                    ? "CT-" + Integer.parseInt(r.user().substring(3)) : r.user();
            expected.put(identity + "|" + r.cohortId(), r.isAdd() ? "Added" : "Removed");
        }
        return expected;
    }
}

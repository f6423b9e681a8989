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
import java.util.Set;
import java.util.TreeMap;
import java.util.TreeSet;

import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.ConsumerRecords;
import org.apache.kafka.common.header.Header;
import org.junit.jupiter.api.Test;

import org.apache.log4j.Logger;

import io.github.cohortsync.connect.LogCapture;
import io.github.cohortsync.connect.it.standin.BrazeReceiver;

/** End-to-end sync to a local Braze stand-in through a real broker and worker. */
@ConnectCluster(name = "braze-sync-it")
class BrazeSyncIT {
    private static ConnectHarness harness;

    /**
     * Two cohorts, interleaved adds, removes and tombstones: each external_id ends with exactly the cohort names
     * the records imply, in requests of at most 75 objects. Members Braze cannot be told about (a tombstone has
     * no properties, so no Braze id) and members Braze refuses (an item error) go to the dead letter queue,
     * named by coordinates, never by email, and the task keeps running.
     */
    @Test
    void syncsTheCohortAttributeOfEveryUserExactly() throws Exception {
        String connector = ConnectHarness.uniqueName("braze");
        String topic = harness.createTopic("braze-membership", 1);
        String dlq = ConnectHarness.uniqueName("braze-dlq");
        try (BrazeReceiver receiver = BrazeReceiver.start("braze-key", "mixpanel_cohorts")) {
            List<MembershipRecord> cohortA = new ArrayList<>();
            List<MembershipRecord> cohortB = new ArrayList<>();
            for (int i = 0; i < 200; i++) {
                cohortA.add(withBrazeId(add("101", user("u", i)), i));
            }
            for (int i = 100; i < 180; i++) {
                // Identified by $user_id only: the fallback.
                cohortB.add(add("202", user("u", i)).with("properties", Map.of("$user_id", "ext-" + i)));
            }
            List<MembershipRecord> leave = new ArrayList<>();
            for (int i = 0; i < 40; i++) {
                leave.add(withBrazeId(remove("101", user("u", i)), i));
            }
            for (int i = 40; i < 50; i++) {
                leave.add(tombstone("101", user("u", i))); // rejected: no Braze id
            }
            for (int i = 0; i < 5; i++) {
                leave.add(withBrazeId(add("101", user("u", i)), i)); // back again
            }
            List<MembershipRecord> refused = new ArrayList<>();
            for (int i = 0; i < 3; i++) {
                refused.add(add("202", user("bad", i)).with("properties", Map.of("$braze_external_id", "bad-" + i)));
            }
            List<MembershipRecord> records = new ArrayList<>(Interleave.randomly(21, cohortA, cohortB, refused));
            harness.produce(topic, records);

            Map<String, String> config = ConnectorConfig.braze(topic, "braze-key", receiver.url())
                    .syncIntervalMs(1000)
                    .deadLetterQueue(dlq)
                    .with("braze.instance", "EU-01")
                    .build();
            harness.startConnector(connector, config, 1);
            harness.awaitCommittedToEnd(connector, topic);

            harness.produce(topic, leave);
            records.addAll(leave);
            harness.awaitCommittedToEnd(connector, topic);

            assertThat(receiver.attributes()).isEqualTo(expectedAttributes(records));
            assertThat(receiver.attributes().get("ext-45")).as("a tombstoned member stays: Braze never heard of it")
                    .containsExactly(MembershipRecord.cohortName("101"));
            assertThat(receiver.violations()).isEmpty();
            assertThat(receiver.objectsPerRequest()).allSatisfy(n -> assertThat(n).isLessThanOrEqualTo(75))
                    .contains(75);

            ConsumerRecords<byte[], byte[]> dead = harness.connect().kafka()
                    .consume(13, ConnectHarness.TIMEOUT.toMillis(), dlq);
            List<String> messages = new ArrayList<>();
            for (ConsumerRecord<byte[], byte[]> record : dead) {
                messages.add(header(record, "__connect.errors.exception.message"));
            }
            assertThat(messages).hasSize(13).noneMatch(m -> m.contains("@example.com"));
            assertThat(messages).filteredOn(m -> m.contains("no Braze user id")).hasSize(10);
            assertThat(messages).filteredOn(m -> m.contains("'external_id' is not valid")).hasSize(3);
            harness.assertAllRunning(connector);
        } finally {
            harness.deleteConnectorQuietly(connector);
        }
    }

    /**
     * braze.mode=cohort_import through the REST API: each cohort is named once, then its members are added and
     * removed by external_id in calls of at most 1000 ids, both keys in the body; tombstones (no external_id) go
     * to the dead letter queue, named by coordinates and never by email.
     */
    @Test
    void cohortImportKeepsEachBrazeCohortExactly() throws Exception {
        String connector = ConnectHarness.uniqueName("braze-import");
        String topic = harness.createTopic("braze-import-membership", 1);
        String dlq = ConnectHarness.uniqueName("braze-import-dlq");
        try (BrazeReceiver receiver = BrazeReceiver.startCohortImport("acme", "partner-key", "import-key")) {
            List<MembershipRecord> cohortA = new ArrayList<>();
            for (int i = 0; i < 2100; i++) {
                cohortA.add(withBrazeId(add("101", user("u", i)), i));
            }
            List<MembershipRecord> cohortB = new ArrayList<>();
            for (int i = 100; i < 180; i++) {
                cohortB.add(add("202", user("u", i)).with("properties", Map.of("$user_id", "ext-" + i)));
            }
            List<MembershipRecord> records = new ArrayList<>(Interleave.randomly(31, cohortA, cohortB));
            List<MembershipRecord> leave = new ArrayList<>();
            for (int i = 0; i < 40; i++) {
                leave.add(withBrazeId(remove("101", user("u", i)), i));
            }
            for (int i = 40; i < 50; i++) {
                leave.add(tombstone("101", user("u", i))); // rejected: no external_id
            }
            for (int i = 100; i < 110; i++) {
                leave.add(remove("202", user("u", i)).with("properties", Map.of("$user_id", "ext-" + i)));
            }
            for (int i = 0; i < 5; i++) {
                leave.add(withBrazeId(add("101", user("u", i)), i)); // back again
            }
            harness.produce(topic, records);

            Map<String, String> config = ConnectorConfig.brazeCohortImport(topic, "acme", "partner-key",
                    "import-key", receiver.url())
                    .syncIntervalMs(1000)
                    .deadLetterQueue(dlq)
                    .with("braze.instance", "EU-01")
                    .build();
            harness.startConnector(connector, config, 1);
            harness.awaitCommittedToEnd(connector, topic);

            harness.produce(topic, leave);
            records.addAll(leave);
            harness.awaitCommittedToEnd(connector, topic);

            assertThat(receiver.violations()).isEmpty();
            assertThat(receiver.cohortMembers()).isEqualTo(expectedCohortMembers(records));
            assertThat(receiver.cohortNames()).containsOnly(
                    Map.entry("101", MembershipRecord.cohortName("101")),
                    Map.entry("202", MembershipRecord.cohortName("202")));
            assertThat(receiver.namingCalls()).as("one task names each cohort once").hasSize(2);
            assertThat(receiver.objectsPerRequest()).allSatisfy(n -> assertThat(n).isLessThanOrEqualTo(1000))
                    .contains(1000);

            ConsumerRecords<byte[], byte[]> dead = harness.connect().kafka()
                    .consume(10, ConnectHarness.TIMEOUT.toMillis(), dlq);
            List<String> messages = new ArrayList<>();
            for (ConsumerRecord<byte[], byte[]> record : dead) {
                messages.add(header(record, "__connect.errors.exception.message"));
            }
            assertThat(messages).hasSize(10).allMatch(m -> m.contains("no Braze user id"))
                    .noneMatch(m -> m.contains("@example.com"));
            harness.assertAllRunning(connector);
        } finally {
            harness.deleteConnectorQuietly(connector);
        }
    }

    /**
     * A Data Import Key Braze does not know: the task fails with a hint naming the keys to check, without the key,
     * and commits nothing past the undelivered change.
     */
    @Test
    void aWrongDataImportKeyFailsTheTaskWithAHint() throws Exception {
        String connector = ConnectHarness.uniqueName("braze-wrong-key");
        String topic = harness.createTopic("braze-wrong-key", 1);
        try (BrazeReceiver receiver = BrazeReceiver.startCohortImport("acme", "partner-key", "import-key")) {
            harness.produce(topic, withBrazeId(add("101", user("u", 1)), 1));
            Map<String, String> config = ConnectorConfig.brazeCohortImport(topic, "acme", "partner-key",
                    "not-the-import-key", receiver.url())
                    .syncIntervalMs(500)
                    .build();
            harness.startConnector(connector, config, 1);

            String trace = harness.awaitTaskFailed(connector);

            assertThat(trace).contains("HTTP 401", "check braze.partner.api.key", "braze.data.import.key")
                    .doesNotContain("not-the-import-key");
            assertThat(harness.committedTotal(connector, topic)).isZero();
            assertThat(receiver.cohortMembers()).isEmpty();
        } finally {
            harness.deleteConnectorQuietly(connector);
        }
    }

    /**
     * Braze's documented 401 "Partner not enabled for client with client secret: <client secret>" echoes the Data
     * Import Key: the task fails, and neither its REST status nor any log line carries the key.
     */
    @Test
    void theEchoedClientSecretReachesNeitherTheRestStatusNorTheLogs() throws Exception {
        String connector = ConnectHarness.uniqueName("braze-not-enabled");
        String topic = harness.createTopic("braze-not-enabled", 1);
        String secret = "data-import-7f3a9c21-e5d8";
        LogCapture logs = new LogCapture();
        Logger.getRootLogger().addAppender(logs);
        try (BrazeReceiver receiver = BrazeReceiver.startCohortImport("acme", "partner-key", secret)) {
            harness.produce(topic, withBrazeId(add("101", user("u", 1)), 1));
            Map<String, String> config = ConnectorConfig.brazeCohortImport(topic, "acme", "partner-key",
                    secret, receiver.partnerNotEnabled().url())
                    .syncIntervalMs(500)
                    .build();
            harness.startConnector(connector, config, 1);

            String trace = harness.awaitTaskFailed(connector);

            assertThat(trace).contains("HTTP 401", "Partner not enabled for client with client secret: <secret>",
                    "check braze.partner.api.key").doesNotContain(secret).doesNotContain("7f3a9c21");
            assertThat(harness.committedTotal(connector, topic)).isZero();
            assertThat(receiver.violations()).isEmpty();
            assertThat(logs.lines).as("log lines of the run").anyMatch(l -> l != null && l.contains("HTTP 401"))
                    .noneMatch(l -> l != null && l.contains("7f3a9c21"));
        } finally {
            Logger.getRootLogger().removeAppender(logs);
            harness.deleteConnectorQuietly(connector);
        }
    }

    /**
     * An account that takes at most 50 objects per /users/track request answers the default 75 with "400 Max Input
     * Length Exceeded": requests are split and every attribute still arrives, without a failure. Twenty users are
     * put in four cohorts with braze.attribute.max.length=3: JMX counts exactly those twenty.
     */
    @Test
    void anAccountLimitedTo50ObjectsGetsSplitRequestsAndEveryAttribute() throws Exception {
        String connector = ConnectHarness.uniqueName("braze-50");
        String topic = harness.createTopic("braze-50", 1);
        try (BrazeReceiver receiver = BrazeReceiver.start("braze-key", "mixpanel_cohorts").accountMaxObjects(50)) {
            List<MembershipRecord> records = new ArrayList<>();
            for (int i = 0; i < 300; i++) {
                records.add(withBrazeId(add("101", user("u", i)), i));
            }
            for (String cohort : List.of("102", "103", "104")) {
                for (int i = 0; i < 20; i++) {
                    records.add(withBrazeId(add(cohort, user("u", i)), i));
                }
            }
            harness.produce(topic, records);
            Map<String, String> config = ConnectorConfig.braze(topic, "braze-key", receiver.url())
                    .syncIntervalMs(1000)
                    .with("braze.attribute.max.length", "3")
                    .build();
            harness.startConnector(connector, config, 1);
            harness.awaitCommittedToEnd(connector, topic);

            assertThat(receiver.attributes()).isEqualTo(expectedAttributes(records));
            assertThat(receiver.tooManyAnswers()).isPositive();
            javax.management.ObjectName braze = new javax.management.ObjectName(
                    "kafka.connect.cohortsync:type=braze-metrics,connector=" + javax.management.ObjectName.quote(
                            connector) + ",task=" + javax.management.ObjectName.quote("0"));
            assertThat(java.lang.management.ManagementFactory.getPlatformMBeanServer()
                    .getAttribute(braze, "UsersOverAttributeMaxLength")).isEqualTo(20L);
            assertThat(receiver.violations()).isEmpty();
            harness.assertAllRunning(connector);
        } finally {
            harness.deleteConnectorQuietly(connector);
        }
    }

    /** External ids per cohort id: tombstones (no id) leave Braze unchanged. */
    private static Map<String, Set<String>> expectedCohortMembers(List<MembershipRecord> records) {
        Map<String, Set<String>> expected = new TreeMap<>();
        for (MembershipRecord r : records) {
            if (r.valueJson() == null) {
                continue;
            }
            String id = "ext-" + Integer.parseInt(r.user().substring(2));
            Set<String> members = expected.computeIfAbsent(r.cohortId(), k -> new TreeSet<>());
            if (r.isAdd()) {
                members.add(id);
            } else {
                members.remove(id);
            }
        }
        expected.values().removeIf(Set::isEmpty);
        return expected;
    }

    private static MembershipRecord withBrazeId(MembershipRecord record, int i) {
        return record.with("properties", Map.of("$braze_external_id", "ext-" + i));
    }

    /** Cohort names per external_id: tombstones (no id) and refused ids leave Braze unchanged. */
    private static Map<String, Set<String>> expectedAttributes(List<MembershipRecord> records) {
        Map<String, Set<String>> expected = new TreeMap<>();
        for (MembershipRecord r : records) {
            if (r.valueJson() == null || r.user().startsWith("bad-")) {
                continue;
            }
            String id = "ext-" + Integer.parseInt(r.user().substring(2));
            Set<String> names = expected.computeIfAbsent(id, k -> new TreeSet<>());
            if (r.isAdd()) {
                names.add(MembershipRecord.cohortName(r.cohortId()));
            } else {
                names.remove(MembershipRecord.cohortName(r.cohortId()));
            }
        }
        expected.values().removeIf(Set::isEmpty);
        return expected;
    }

    private static String header(ConsumerRecord<byte[], byte[]> record, String name) {
        Header header = record.headers().lastHeader(name);
        return header == null ? null : new String(header.value(), StandardCharsets.UTF_8);
    }
}

package io.github.cohortsync.connect.it;

import static io.github.cohortsync.connect.it.MembershipRecord.add;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.lang.management.ManagementFactory;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.atomic.AtomicBoolean;

import javax.management.MBeanServer;

import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.connect.errors.ConnectException;
import org.apache.log4j.Logger;
import org.junit.jupiter.api.Test;

import io.github.cohortsync.connect.LogCapture;
import io.github.cohortsync.connect.metrics.TaskMetrics;
import io.github.cohortsync.connect.sync.snapshot.AdminOffsetsLookup;
import io.github.cohortsync.connect.sync.snapshot.TopicFacts;
import io.github.cohortsync.connect.it.standin.WebhookReceiver;

/**
 * The warnings derived from a real broker's topic facts: a compacted topic that keeps tombstones for less than the
 * lag budget, and a cohort whose full sync one task sends from only part of the topic's partitions (another member
 * of the connector's consumer group owns the rest, as another task would).
 */
@ConnectCluster(name = "topic-checks-it")
class TopicChecksIT {
    private static final MBeanServer JMX = ManagementFactory.getPlatformMBeanServer();
    private static ConnectHarness harness;

    @Test
    void theAdminLookupReadsPartitionsCleanupPolicyAndTombstoneRetention() {
        String compacted = ConnectHarness.uniqueName("facts-compacted");
        harness.connect().kafka().createTopic(compacted, 3, 1,
                Map.of("cleanup.policy", "compact", "delete.retention.ms", "3600000"));
        String plain = harness.createTopic("facts-plain", 2);
        try (AdminOffsetsLookup lookup = AdminOffsetsLookup.create(
                Map.of("bootstrap.servers", harness.connect().kafka().bootstrapServers()), "facts",
                Duration.ofSeconds(10))) {
            assertThat(lookup.topicFacts(List.of(compacted, plain))).containsOnly(
                    Map.entry(compacted, new TopicFacts(compacted, 3, "compact", 3_600_000L)),
                    // The broker's defaults: delete, and 24 h.
                    Map.entry(plain, new TopicFacts(plain, 2, "delete", 86_400_000L)));
            assertThatThrownBy(() -> lookup.topicFacts(List.of("no-such-topic")))
                    .isInstanceOf(ConnectException.class)
                    .hasMessageContaining("Could not describe topics [no-such-topic]");
        }
    }

    @Test
    void warnsOfShortTombstoneRetentionAndOfACohortWhoseFullSyncIsSplit() throws Exception {
        String topic = ConnectHarness.uniqueName("split-membership");
        harness.connect().kafka().createTopic(topic, 4, 1,
                Map.of("cleanup.policy", "compact", "delete.retention.ms", "3600000"));
        String connector = ConnectHarness.uniqueName("split");
        List<MembershipRecord> records = new ArrayList<>();
        for (int i = 0; i < 40; i++) {
            records.add(add("101", MembershipRecord.user("spread", i)).inPartition(i % 4));
        }
        for (int i = 0; i < 10; i++) {
            records.add(add("202", MembershipRecord.user("one", i)).inPartition(2));
        }
        harness.produce(topic, records);

        LogCapture capture = new LogCapture();
        Logger.getRootLogger().addAppender(capture);
        AtomicBoolean stop = new AtomicBoolean();
        // Another member of the connector's group, as a second task on another worker would be.
        Thread other = new Thread(() -> {
            try (KafkaConsumer<byte[], byte[]> consumer = harness.connect().kafka().createConsumer(Map.of(
                    ConsumerConfig.GROUP_ID_CONFIG, "connect-" + connector,
                    ConsumerConfig.ENABLE_AUTO_COMMIT_CONFIG, false))) {
                consumer.subscribe(Set.of(topic));
                while (!stop.get()) {
                    consumer.poll(Duration.ofMillis(100));
                }
            }
        }, "other-group-member");
        WebhookReceiver receiver = WebhookReceiver.start();
        try {
            other.start();
            ConnectHarness.await().until(() -> harness.admin().describeConsumerGroups(Set.of("connect-" + connector))
                    .all().get().get("connect-" + connector).members().size() == 1);
            Map<String, String> config = ConnectorConfig.webhook(topic, receiver.url())
                    .fullSyncs(harness.connect().kafka().bootstrapServers())
                    .build();
            harness.startConnector(connector, config, 1);

            ConnectHarness.await().until(() -> metric(connector, "SnapshotsCompleted") >= 1);
            assertThat(metric(connector, "SplitFullSyncCohorts")).isEqualTo(1);
            List<String> lines;
            synchronized (capture.lines) {
                lines = new ArrayList<>(capture.lines);
            }
            assertThat(lines).filteredOn(l -> l.contains("full sync ('members' session) of cohort"))
                    .singleElement().asString().contains("cohort 101 ").contains("2 of the 4 partitions of " + topic);
            assertThat(lines).filteredOn(l -> l.contains("Topic " + topic + " is compacted and keeps removals"))
                    .singleElement().asString().contains("delete.retention.ms=3600000 (1 h)");
            harness.assertAllRunning(connector);
        } finally {
            stop.set(true);
            other.join(10_000);
            Logger.getRootLogger().removeAppender(capture);
            harness.deleteConnectorQuietly(connector);
            receiver.close();
        }
    }

    private static long metric(String connector, String attribute) throws Exception {
        return (Long) JMX.getAttribute(TaskMetrics.objectName(connector, "0"), attribute);
    }
}

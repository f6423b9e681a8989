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
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;

import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.ConsumerRecords;
import org.apache.kafka.common.header.Header;
import org.junit.jupiter.api.Test;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;

import mockwebserver3.Dispatcher;
import mockwebserver3.MockResponse;
import mockwebserver3.MockWebServer;
import mockwebserver3.RecordedRequest;
import okhttp3.Credentials;

import io.github.cohortsync.connect.it.standin.SegmentReceiver;

/**
 * End-to-end sync to a local stand-in for Segment's Tracking API: interleaved adds, removes and tombstones of two
 * cohorts end as exactly the expected trait value per user, and an oversized message goes to the dead letter queue.
 */
@ConnectCluster(name = "segment-sync-it")
class SegmentSyncIT {
    private static final String WRITE_KEY = SegmentReceiver.WRITE_KEY;
    private static ConnectHarness harness;

    @Test
    void syncsInterleavedChangesAsExactlyTheExpectedTraits() throws Exception {
        String topic = harness.createTopic("segment-membership", 1);
        String dlq = ConnectHarness.uniqueName("segment-dlq");
        String connector = ConnectHarness.uniqueName("segment");
        List<MembershipRecord> phase1 = new ArrayList<>();
        List<MembershipRecord> a = new ArrayList<>();
        List<MembershipRecord> b = new ArrayList<>();
        for (int i = 0; i < 600; i++) {
            a.add(add("101", user("a", i)));
        }
        for (int i = 0; i < 300; i++) {
            b.add(add("202", user("b", i)));
            b.add(remove("202", user("b", i)).with("action", i % 3 == 0 ? "remove" : "add"));
        }
        phase1.addAll(Interleave.randomly(11, a, b));
        // Its identify message is over Segment's 32 KB: rejected, reported, never sent.
        String huge = "huge-" + "x".repeat(40_000);
        phase1.add(add("101", huge));

        try (SegmentReceiver segment = SegmentReceiver.start()) {
            harness.produce(topic, phase1);
            Map<String, String> config = ConnectorConfig.segment(topic, WRITE_KEY, segment.url())
                    .syncIntervalMs(1000)
                    .deadLetterQueue(dlq)
                    .build();
            harness.startConnector(connector, config, 1);
            harness.awaitCommittedToEnd(connector, topic);

            // Phase 2 while running: leaves, tombstones, comebacks.
            List<MembershipRecord> leave = new ArrayList<>();
            for (int i = 0; i < 200; i++) {
                leave.add(i % 2 == 0 ? remove("101", user("a", i)) : tombstone("101", user("a", i)));
            }
            for (int i = 0; i < 50; i++) {
                leave.add(add("101", user("a", i)));
            }
            List<MembershipRecord> churn = new ArrayList<>();
            for (int i = 0; i < 100; i++) {
                churn.add(tombstone("202", user("b", i)));
                churn.add(add("202", user("c", i)));
            }
            List<MembershipRecord> phase2 = Interleave.randomly(12, leave, churn);
            harness.produce(topic, phase2);
            harness.awaitCommittedToEnd(connector, topic);

            List<MembershipRecord> all = new ArrayList<>(phase1);
            all.remove(all.size() - 1);
            all.addAll(phase2);
            assertThat(segment.traits()).isEqualTo(expectedTraits(all));
            assertThat(segment.violations()).isEmpty();
            assertThat(segment.userIds()).doesNotContain(huge);

            ConsumerRecords<byte[], byte[]> dead = harness.connect().kafka().consume(1,
                    ConnectHarness.TIMEOUT.toMillis(), dlq);
            assertThat(dead.count()).isEqualTo(1);
            ConsumerRecord<byte[], byte[]> rejected = dead.iterator().next();
            assertThat(header(rejected, "__connect.errors.offset")).isEqualTo(String.valueOf(phase1.size() - 1));
            assertThat(header(rejected, "__connect.errors.exception.message"))
                    .contains("over Segment's limit of 32000 bytes per message");
            harness.assertAllRunning(connector);
        } finally {
            harness.deleteConnectorQuietly(connector);
        }
    }

    /** Per trait ("Mixpanel - <cohort name>"), per user: true when the user's latest record is an add. */
    private static Map<String, Map<String, Boolean>> expectedTraits(List<MembershipRecord> records) {
        Map<String, Map<String, Boolean>> traits = new TreeMap<>();
        for (MembershipRecord r : records) {
            traits.computeIfAbsent("Mixpanel - " + MembershipRecord.cohortName(r.cohortId()), t -> new TreeMap<>())
                    .put(r.user(), r.isAdd());
        }
        return traits;
    }

    private static String header(ConsumerRecord<byte[], byte[]> record, String name) {
        Header header = record.headers().lastHeader(name);
        return header == null ? null : new String(header.value(), StandardCharsets.UTF_8);
    }
}

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
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;

import mockwebserver3.Dispatcher;
import mockwebserver3.MockResponse;
import mockwebserver3.MockWebServer;
import mockwebserver3.RecordedRequest;
import okhttp3.Credentials;

/**
 * End-to-end sync to a local stand-in for Segment's Tracking API: interleaved adds, removes and tombstones of two
 * cohorts end as exactly the expected trait value per user, and an oversized message goes to the dead letter queue.
 */
class SegmentSyncIT {
    private static final String WRITE_KEY = "segment-wk-s3cret";
    private static ConnectHarness harness;

    @BeforeAll
    static void startCluster() {
        harness = ConnectHarness.start("segment-sync-it", 1);
    }

    @AfterAll
    static void stopCluster() {
        if (harness != null) {
            harness.close();
        }
    }

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

        try (SegmentStandIn segment = SegmentStandIn.start()) {
            harness.produce(topic, phase1);
            Map<String, String> config = ConnectHarness.webhookConnectorConfig(topic, "http://unused.invalid");
            config.remove("webhook.url");
            config.put("destination", "segment");
            config.put("segment.write.key", WRITE_KEY);
            config.put("segment.endpoint", segment.url());
            config.put("sync.interval.ms", "1000");
            config.put("errors.tolerance", "all");
            config.put("errors.deadletterqueue.topic.name", dlq);
            config.put("errors.deadletterqueue.topic.replication.factor", "1");
            config.put("errors.deadletterqueue.context.headers.enable", "true");
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

    /**
     * Plays Segment's /v1/batch: checks auth, shape and limits, deduplicates on messageId, and keeps the latest
     * value of each trait per user. Rules, each a violation: every message passes {@code @segment/analytics-core}'s
     * assertions (segmentio/analytics-next, packages/core/src/validation/assertions.ts: {@code type} a string,
     * {@code messageId} a string, {@code traits} a plain object for identify, a user identity that is a string) with
     * a non-empty userId (ours: a blank id matches nobody); messageId at most 100 characters (Segment support, per
     * segmentio/segment-docs issue 5924); at most 500 KB per request, 32 KB per message and 2500 messages per
     * request (segment-docs, sources/catalog/libraries/server/http-api: over 2500 the answer is still 200 but the
     * events are dropped, which this stand-in plays too).
     */
    static final class SegmentStandIn extends Dispatcher implements AutoCloseable {
        private static final ObjectMapper JSON = new ObjectMapper();
        private final MockWebServer server = new MockWebServer();
        private final Map<String, Map<String, Boolean>> traits = new TreeMap<>();
        private final Set<String> messageIds = new HashSet<>();
        private final Set<String> userIds = new HashSet<>();
        private final List<String> violations = new ArrayList<>();

        static SegmentStandIn start() throws IOException {
            SegmentStandIn standIn = new SegmentStandIn();
            standIn.server.setDispatcher(standIn);
            standIn.server.start(InetAddress.getByName("127.0.0.1"), 0);
            return standIn;
        }

        String url() {
            return "http://127.0.0.1:" + server.getPort();
        }

        @Override
        public MockResponse dispatch(RecordedRequest request) {
            synchronized (this) {
                if (!"POST".equals(request.getMethod()) || !"/v1/batch".equals(request.getUrl().encodedPath())) {
                    violations.add("unexpected " + request.getMethod() + " " + request.getUrl());
                    return new MockResponse.Builder().code(404).build();
                }
                if (!Credentials.basic(WRITE_KEY, "").equals(request.getHeaders().get("Authorization"))) {
                    violations.add("wrong Authorization");
                    return new MockResponse.Builder().code(401).body("{\"error\":\"bad write key\"}").build();
                }
                byte[] body = request.getBody() == null ? new byte[0] : request.getBody().toByteArray();
                if (body.length > 500_000) {
                    violations.add("request of " + body.length + " bytes");
                    return new MockResponse.Builder().code(400).build();
                }
                try {
                    JsonNode json = JSON.readTree(body);
                    if (!json.path("sentAt").isTextual()) {
                        violations.add("no sentAt");
                    }
                    if (json.path("batch").size() > 2500) {
                        // Segment answers 200 and drops the events.
                        violations.add("request of " + json.path("batch").size() + " messages");
                        return new MockResponse.Builder().code(200).body("{\"success\":true}").build();
                    }
                    for (JsonNode message : json.path("batch")) {
                        if (!message.path("type").isTextual() || !message.path("messageId").isTextual()
                                || message.path("messageId").asText().length() >= 100
                                || !message.path("traits").isObject()
                                || message.path("userId").asText("").isBlank()) {
                            violations.add("message fails analytics-core's assertions: " + message.path("messageId"));
                        }
                        if (!"identify".equals(message.path("type").asText())
                                || !message.path("userId").isTextual() || !message.path("timestamp").isTextual()
                                || message.path("traits").size() != 1
                                || JSON.writeValueAsBytes(message).length > 32_000) {
                            violations.add("bad message " + message.path("messageId"));
                        }
                        if (!messageIds.add(message.path("messageId").asText())) {
                            continue; // Segment deduplicates on messageId
                        }
                        String userId = message.path("userId").asText();
                        userIds.add(userId);
                        message.path("traits").fields().forEachRemaining(trait ->
                                traits.computeIfAbsent(trait.getKey(), t -> new TreeMap<>())
                                        .put(userId, trait.getValue().asBoolean()));
                    }
                } catch (IOException e) {
                    violations.add("unparsable body");
                    return new MockResponse.Builder().code(400).build();
                }
                return new MockResponse.Builder().code(200).body("{\"success\":true}").build();
            }
        }

        synchronized Map<String, Map<String, Boolean>> traits() {
            Map<String, Map<String, Boolean>> copy = new TreeMap<>();
            traits.forEach((trait, users) -> copy.put(trait, new TreeMap<>(users)));
            return copy;
        }

        synchronized Set<String> userIds() {
            return new HashSet<>(userIds);
        }

        synchronized List<String> violations() {
            return new ArrayList<>(violations);
        }

        @Override
        public void close() {
            server.close();
        }
    }
}

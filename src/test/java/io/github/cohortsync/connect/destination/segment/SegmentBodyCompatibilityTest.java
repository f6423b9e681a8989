package io.github.cohortsync.connect.destination.segment;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.time.Clock;
import java.time.Instant;
import java.time.ZoneOffset;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.TimeUnit;

import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

import com.fasterxml.jackson.core.JsonFactory;
import com.fasterxml.jackson.core.JsonGenerator;

import io.github.cohortsync.connect.destination.DeliveryResult;
import io.github.cohortsync.connect.destination.Page;
import io.github.cohortsync.connect.destination.PageAction;
import io.github.cohortsync.connect.destination.Rejection;
import io.github.cohortsync.connect.http.HttpClients;
import io.github.cohortsync.connect.record.Action;
import io.github.cohortsync.connect.record.CohortRef;
import io.github.cohortsync.connect.record.MembershipChange;
import mockwebserver3.MockResponse;
import mockwebserver3.MockWebServer;
import mockwebserver3.RecordedRequest;
import okhttp3.Headers;

/**
 * Pins Segment's request bodies byte for byte to what the code before the lean body (commit 916822f) sent: one
 * {@code JsonGenerator} and byte array per {@code identify}, a name-based UUID per message, the same batch-splitting
 * rules. {@link Legacy} is that code, copied unchanged, and computes the expected bodies and rejections; the
 * destination under test sends the same pages to a real HTTP server on loopback.
 */
class SegmentBodyCompatibilityTest {
    /** With milliseconds, so that sentAt's fraction is pinned too. */
    private static final Clock CLOCK = Clock.fixed(Instant.parse("2026-11-25T10:00:00.120Z"), ZoneOffset.UTC);
    private static final String CONNECTOR = "cohorts-to-segment-é";
    private static final String TEMPLATE = "Mixpanel - ${cohort_name} (${cohort_id})";
    private static final CohortRef COHORT = new CohortRef("1234", "Power \"users\" ⚡ \\ 😀 \u0001\t", null, "p-9");

    private final MockWebServer server = new MockWebServer();
    private SegmentDestination segment;
    private Legacy legacy;

    @BeforeEach
    void start() throws IOException {
        server.start();
        segment = new SegmentDestination(HttpClients.create(5_000), server.url("/").toString(), "wk",
                "distinct_id", TEMPLATE, CONNECTOR, CLOCK);
        legacy = new Legacy(segment, TEMPLATE, CONNECTOR, CLOCK);
    }

    @AfterEach
    void stop() {
        segment.close();
        server.close();
    }

    private static MembershipChange member(String userId, long timestampMillis, String topic, int partition,
                                           long offset) {
        return new MembershipChange(COHORT, userId, Action.ADD, null, null, null, null, Map.of(), timestampMillis,
                topic, partition, offset);
    }

    private static Page page(PageAction action, List<MembershipChange> members) {
        return new Page(COHORT, action, "session-1", 1, 1, members);
    }

    /** Sends the page and checks every request body and every rejection against the old code's. */
    private void sendsWhatTheOldCodeSent(Page page) throws Exception {
        Legacy.Output expected = legacy.send(page);
        int before = server.getRequestCount();
        for (int i = 0; i < expected.bodies().size(); i++) {
            server.enqueue(new MockResponse(200, Headers.of("Content-Type", "application/json"), "{\"success\":true}"));
        }

        DeliveryResult result = segment.send(page);

        assertThat(server.getRequestCount() - before).isEqualTo(expected.bodies().size());
        for (byte[] body : expected.bodies()) {
            RecordedRequest request = server.takeRequest(5, TimeUnit.SECONDS);
            byte[] sent = request.getBody().toByteArray();
            assertThat(sent.length).isEqualTo(body.length);
            assertThat(sent).isEqualTo(body);
        }
        assertThat(result.rejections()).hasSameSizeAs(expected.rejections());
        for (int i = 0; i < expected.rejections().size(); i++) {
            assertThat(result.rejections().get(i).member()).isSameAs(expected.rejections().get(i).member());
            assertThat(result.rejections().get(i).reason()).isEqualTo(expected.rejections().get(i).reason());
        }
    }

    @Test
    void trickyValuesAreSentExactlyAsBefore() throws Exception {
        String[] userIds = {"plain", "quote\" back\\slash /solidus", "ctl \u0000\u0001\b\f\n\r\t\u001f\u007f end",
            "é ü ß ñ", "中文テスト", "emoji 😀 and flag 🇫🇷", "unpaired \uD800 high", "unpaired \uDC00 low",
            "line sep \u2028\u2029", "</script>", "12345", " padded "};
        long[] timestamps = {0L, 1_700_000_000_000L, 1_700_000_000_123L, 1_700_000_000_001L, 1_700_000_000_010L,
            1_700_000_000_100L, -1L, -86_400_000L, -62_167_219_200_000L, -62_167_219_200_001L, 253_402_300_799_999L,
            253_402_300_800_000L, 951_782_400_000L, 1_709_164_800_999L, -2_203_891_200_000L, 4_107_542_400_000L,
            Long.MIN_VALUE, Long.MAX_VALUE, 1_764_064_800_000L};
        String[] topics = {"cohort-membership", "t", "topic.with_dots-and-dashes", "tøpic-ünïcode", ""};
        int[] partitions = {0, 3, 7, 12, 2_147_483_647, -1};
        long[] offsets = {0L, 41L, 9_999_999_999L, Long.MAX_VALUE, 1L, -1L, Long.MIN_VALUE};
        List<MembershipChange> members = new ArrayList<>();
        for (int i = 0; i < 120; i++) {
            members.add(member(userIds[i % userIds.length], timestamps[i % timestamps.length],
                    topics[i % topics.length], partitions[i % partitions.length], offsets[i % offsets.length] + i / 7));
        }
        members.add(member(null, 0L, "t", 0, 5));
        members.add(member("  ", 0L, "t", 0, 6));

        sendsWhatTheOldCodeSent(page(PageAction.ADD_MEMBERS, members));
        sendsWhatTheOldCodeSent(page(PageAction.REMOVE_MEMBERS, members));
    }

    @Test
    void aPageThatSplitsAtTheRequestLimitIsSplitExactlyAsBefore() throws Exception {
        List<MembershipChange> members = new ArrayList<>();
        // Requests filled to exactly 500,000 bytes, then one byte over (that member starts the next request);
        // messages of exactly 32,000 bytes (sent) and 32,001 (rejected); escapes that take 6 bytes per character.
        int requestBytes = Legacy.ENVELOPE_BYTES;
        boolean empty = true;
        int offset = 0;
        int[] targets = {499_999, 500_000, 500_001, 500_000};
        int target = 0;
        while (target < targets.length) {
            int room = targets[target] - requestBytes - (empty ? 0 : 1);
            // A full request (room < 1,000) takes a filler too: it starts the next request.
            String filler = room > 30_000 || room < 1_000 ? "x".repeat(2_900 + offset % 200) : null;
            MembershipChange next;
            if (filler != null) {
                next = member("user-" + offset + "-" + filler, 1_700_000_000_000L + offset, "cohort-membership",
                        offset % 4, offset);
            } else {
                next = sized("user-" + offset + "-", room, offset);
                target++;
            }
            members.add(next);
            offset++;
            int length = legacy.identify(next).length;
            if (!empty && requestBytes + 1 + length > SegmentDestination.MAX_REQUEST_BYTES) {
                requestBytes = Legacy.ENVELOPE_BYTES + length;
            } else {
                requestBytes += (empty ? 0 : 1) + length;
            }
            empty = false;
        }
        members.add(sized("exactly-the-message-limit-", SegmentDestination.MAX_MESSAGE_BYTES, offset++));
        members.add(sized("one-over-the-message-limit-", SegmentDestination.MAX_MESSAGE_BYTES + 1, offset++));
        members.add(member("ctl-\u0001".repeat(3_000), 1L, "t", 0, offset++));
        members.add(member("é😀".repeat(2_000), 2L, "t", 0, offset++));
        members.add(member(null, 3L, "t", 0, offset++));
        members.add(member("last", 4L, "t", 0, offset));

        Legacy.Output expected = legacy.send(page(PageAction.ADD_MEMBERS, members));
        assertThat(expected.bodies()).hasSizeGreaterThanOrEqualTo(4);
        // Counted with 30 bytes for sentAt, which takes 24 here: a request counted at exactly the limit.
        int sentAtSlack = 30 - CLOCK.instant().toString().length();
        assertThat(expected.bodies()).anySatisfy(body -> assertThat(body).hasSize(500_000 - sentAtSlack));
        assertThat(expected.rejections()).hasSize(2);
        sendsWhatTheOldCodeSent(page(PageAction.ADD_MEMBERS, members));
    }

    /** A member whose identify message is exactly {@code bytes} long (as the old code wrote it). */
    private MembershipChange sized(String prefix, int bytes, int offset) {
        MembershipChange probe = member(prefix, 1_700_000_000_000L + offset, "cohort-membership", offset % 4, offset);
        int padding = bytes - legacy.identify(probe).length;
        MembershipChange sized = member(prefix + "p".repeat(padding), 1_700_000_000_000L + offset,
                "cohort-membership", offset % 4, offset);
        assertThat(legacy.identify(sized)).hasSize(bytes);
        return sized;
    }

    @Test
    void messageIdsKeepTheirValues() {
        // The values the code before the lean body computed (UUID.nameUUIDFromBytes of "connector\ntopic\n
        // partition\noffset"): Segment deduplicates on them, so a change resent after an upgrade stays one event.
        assertThat(segment.messageId(member("u", 0L, "cohort-membership", 3, 41)))
                .isEqualTo("df9f7a9c-a652-38fe-aeda-cf8277b46e56")
                .isEqualTo(legacy.messageId(member("u", 0L, "cohort-membership", 3, 41)));
        SegmentDestination plain = new SegmentDestination(HttpClients.create(1_000), server.url("/").toString(), "wk",
                "distinct_id", TEMPLATE, "cohorts-to-segment", CLOCK);
        assertThat(plain.messageId(member("u", 0L, "cohort-membership", 3, 41)))
                .isEqualTo("1f0a5675-7ae6-302f-9d00-ba39c6f98736");
        plain.close();
    }

    /** The body-building code of SegmentDestination at commit 916822f, unchanged but for names. */
    static final class Legacy {
        static final int ENVELOPE_BYTES = "{\"batch\":[],\"sentAt\":\"\"}".length() + 30;
        private static final JsonFactory JSON_FACTORY = new JsonFactory();

        record Output(List<byte[]> bodies, List<Rejection> rejections) {
        }

        private final SegmentDestination userIds;
        private final io.github.cohortsync.connect.destination.CohortNameTemplate traitName;
        private final String connectorName;
        private final Clock clock;
        private String trait;
        private boolean value;

        Legacy(SegmentDestination userIds, String template, String connectorName, Clock clock) {
            this.userIds = userIds;
            this.traitName = new io.github.cohortsync.connect.destination.CohortNameTemplate(template);
            this.connectorName = connectorName;
            this.clock = clock;
            // For identify() called before send(), to size members: an add to COHORT.
            this.trait = traitName.render(COHORT);
            this.value = true;
        }

        Output send(Page page) {
            List<Rejection> rejections = new ArrayList<>();
            trait = traitName.render(page.cohort());
            value = page.action() != PageAction.REMOVE_MEMBERS;
            List<List<byte[]>> requests = new ArrayList<>();
            List<byte[]> current = new ArrayList<>();
            int currentBytes = ENVELOPE_BYTES;
            for (MembershipChange change : page.members()) {
                String userId = userIds.userId(change);
                if (userId == null) {
                    rejections.add(new Rejection(change, "Segment needs a userId, but the member has no value in"
                            + " the field 'distinct_id' (segment.user.id.field)"));
                    continue;
                }
                byte[] message = identify(change);
                if (message.length > SegmentDestination.MAX_MESSAGE_BYTES) {
                    rejections.add(new Rejection(change, "the identify message is " + message.length
                            + " bytes, over Segment's limit of " + SegmentDestination.MAX_MESSAGE_BYTES
                            + " bytes per message"));
                    continue;
                }
                if (!current.isEmpty() && currentBytes + 1 + message.length > SegmentDestination.MAX_REQUEST_BYTES) {
                    requests.add(current);
                    current = new ArrayList<>();
                    currentBytes = ENVELOPE_BYTES;
                }
                currentBytes += (current.isEmpty() ? 0 : 1) + message.length;
                current.add(message);
            }
            if (!current.isEmpty()) {
                requests.add(current);
            }
            List<byte[]> bodies = new ArrayList<>();
            for (List<byte[]> request : requests) {
                bodies.add(batch(request));
            }
            return new Output(bodies, rejections);
        }

        String messageId(MembershipChange change) {
            String coordinates = connectorName + "\n" + change.topic() + "\n" + change.partition() + "\n"
                    + change.offset();
            return UUID.nameUUIDFromBytes(coordinates.getBytes(StandardCharsets.UTF_8)).toString();
        }

        byte[] identify(MembershipChange change) {
            String userId = userIds.userId(change);
            ByteArrayOutputStream bytes = new ByteArrayOutputStream(200);
            try (JsonGenerator json = JSON_FACTORY.createGenerator(bytes)) {
                json.writeStartObject();
                json.writeStringField("type", "identify");
                json.writeStringField("userId", userId);
                json.writeObjectFieldStart("traits");
                json.writeBooleanField(trait, value);
                json.writeEndObject();
                json.writeStringField("messageId", messageId(change));
                json.writeStringField("timestamp", Instant.ofEpochMilli(change.timestampMillis()).toString());
                json.writeEndObject();
            } catch (IOException e) {
                throw new IllegalStateException("Could not write a Segment identify call as JSON", e);
            }
            return bytes.toByteArray();
        }

        private byte[] batch(List<byte[]> messages) {
            ByteArrayOutputStream bytes = new ByteArrayOutputStream(SegmentDestination.MAX_REQUEST_BYTES / 4);
            bytes.writeBytes("{\"batch\":[".getBytes(StandardCharsets.UTF_8));
            for (int i = 0; i < messages.size(); i++) {
                if (i > 0) {
                    bytes.write(',');
                }
                bytes.writeBytes(messages.get(i));
            }
            bytes.writeBytes(("],\"sentAt\":\"" + clock.instant() + "\"}").getBytes(StandardCharsets.UTF_8));
            return bytes.toByteArray();
        }
    }
}

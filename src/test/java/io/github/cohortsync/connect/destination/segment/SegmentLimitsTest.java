package io.github.cohortsync.connect.destination.segment;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;

import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;

import io.github.cohortsync.connect.config.DestinationType;
import io.github.cohortsync.connect.destination.Page;
import io.github.cohortsync.connect.destination.PageAction;
import io.github.cohortsync.connect.http.HttpClients;
import io.github.cohortsync.connect.record.Action;
import io.github.cohortsync.connect.record.CohortRef;
import io.github.cohortsync.connect.record.MembershipChange;
import mockwebserver3.MockResponse;
import mockwebserver3.MockWebServer;
import mockwebserver3.RecordedRequest;

/**
 * Pins Segment's published limits (segment-docs, sources/catalog/libraries/server/http-api: 500 KB per batch
 * request, 32 KB per message, 2500 messages per request) and {@code @segment/analytics-core}'s assertions on every
 * message (type a string, messageId a string, identify traits an object, a string user id; messageId under 100
 * characters per segmentio/segment-docs issue 5924), on the largest pages the connector can send.
 */
class SegmentLimitsTest {
    private static final ObjectMapper JSON = new ObjectMapper();
    private static final CohortRef COHORT = new CohortRef("77", "Big ✓", null, "p-1");

    private final MockWebServer server = new MockWebServer();
    private SegmentDestination segment;

    @BeforeEach
    void start() throws IOException {
        server.start();
        segment = new SegmentDestination(HttpClients.create(5_000), server.url("/").toString(), "wk", "distinct_id",
                "Mixpanel - ${cohort_name} (${cohort_id})", "segment-limits", java.time.Clock.systemUTC());
    }

    @AfterEach
    void stop() {
        segment.close();
        server.close();
    }

    @Test
    void theConstantsStayWithinSegmentsPublishedLimits() {
        assertThat(SegmentDestination.MAX_REQUEST_BYTES).isLessThanOrEqualTo(500_000);
        assertThat(SegmentDestination.MAX_MESSAGE_BYTES).isLessThanOrEqualTo(32_000);
        // A page is at most batch.max.size members, validated against this: one message each, so never over 2500.
        assertThat(DestinationType.of("segment").maxBatchSize()).isLessThanOrEqualTo(2500);
    }

    /** The largest page, with user ids long enough to need several requests: every request and message fits. */
    @Test
    void theLargestPageGoesInRequestsWithinEveryLimitAndEveryMessagePassesTheAssertions() throws Exception {
        int members = DestinationType.of("segment").maxBatchSize();
        List<MembershipChange> changes = new ArrayList<>();
        for (int i = 0; i < members; i++) {
            String userId = String.format("%05d-", i) + "u".repeat(1_500);
            changes.add(new MembershipChange(COHORT, userId, Action.ADD, null, null, null, null, Map.of(),
                    1_700_000_000_000L + i, "topic", 0, i));
        }
        for (int i = 0; i < 10; i++) {
            server.enqueue(new MockResponse.Builder().code(200).body("{\"success\":true}").build());
        }

        assertThat(segment.send(new Page(COHORT, PageAction.ADD_MEMBERS, "s", 1, 1, changes)).rejections())
                .isEmpty();

        int messages = 0;
        int requests = server.getRequestCount();
        assertThat(requests).as("over 500 KB of messages need several requests").isGreaterThan(1);
        for (int r = 0; r < requests; r++) {
            RecordedRequest request = server.takeRequest(5, TimeUnit.SECONDS);
            byte[] body = request.getBody().toByteArray();
            assertThat(body.length).isLessThanOrEqualTo(500_000);
            JsonNode batch = JSON.readTree(body).path("batch");
            assertThat(batch.size()).isBetween(1, 2500);
            for (JsonNode message : batch) {
                assertThat(JSON.writeValueAsString(message).getBytes(StandardCharsets.UTF_8).length)
                        .isLessThanOrEqualTo(32_000);
                assertThat(message.path("type").isTextual()).isTrue();
                assertThat(message.path("messageId").isTextual()).isTrue();
                assertThat(message.path("messageId").asText()).hasSizeLessThan(100);
                assertThat(message.path("traits").isObject()).isTrue();
                assertThat(message.path("userId").asText()).isNotBlank();
            }
            messages += batch.size();
        }
        assertThat(messages).isEqualTo(members);
    }
}

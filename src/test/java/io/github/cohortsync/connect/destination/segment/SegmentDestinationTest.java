package io.github.cohortsync.connect.destination.segment;

import static io.github.cohortsync.connect.Records.change;
import static io.github.cohortsync.connect.Records.tombstone;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.io.IOException;
import java.time.Clock;
import java.time.Instant;
import java.time.ZoneOffset;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.TimeUnit;

import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;

import io.github.cohortsync.connect.delivery.PermanentDeliveryException;
import io.github.cohortsync.connect.delivery.TransientDeliveryException;
import io.github.cohortsync.connect.destination.DeliveryResult;
import io.github.cohortsync.connect.destination.Page;
import io.github.cohortsync.connect.destination.PageAction;
import io.github.cohortsync.connect.destination.Rejection;
import io.github.cohortsync.connect.http.HttpClients;
import io.github.cohortsync.connect.record.CohortRef;
import io.github.cohortsync.connect.record.MembershipChange;
import io.github.cohortsync.connect.record.RecordParser;
import mockwebserver3.MockResponse;
import mockwebserver3.MockWebServer;
import mockwebserver3.RecordedRequest;
import okhttp3.Headers;

class SegmentDestinationTest {
    private static final ObjectMapper JSON = new ObjectMapper();
    private static final CohortRef COHORT = new CohortRef("1234", "Power users ⚡", "Bought twice", "p-9");
    private static final Clock CLOCK = Clock.fixed(Instant.parse("2026-11-25T10:00:00Z"), ZoneOffset.UTC);
    private static final String WRITE_KEY = "wk-s3cret";

    private final MockWebServer server = new MockWebServer();
    private final RecordParser parser = new RecordParser();
    private SegmentDestination segment;

    @BeforeEach
    void start() throws IOException {
        server.start();
        segment = destination("distinct_id", "Mixpanel - ${cohort_name}");
    }

    @AfterEach
    void stop() {
        segment.close();
        server.close();
    }

    private SegmentDestination destination(String userIdField, String template) {
        return new SegmentDestination(HttpClients.create(2_000), server.url("/").toString(), WRITE_KEY,
                userIdField, template, "cohorts-to-segment", CLOCK);
    }

    private static Page page(PageAction action, MembershipChange... members) {
        return page(action, List.of(members));
    }

    private static Page page(PageAction action, List<MembershipChange> members) {
        return new Page(COHORT, action, "session-1", 1, 1, members);
    }

    private MembershipChange member(String id, long offset) {
        return parser.parse(change(1234, id).with("email", id + "@example.com")
                .with("timestamp", "2026-11-24T08:30:00Z")
                .with("properties", Map.of("$user_id", "crm-" + id, "plan", "pro")).at(3, offset).build());
    }

    private static MockResponse ok() {
        return new MockResponse(200, Headers.of("Content-Type", "application/json"), "{\"success\": true}");
    }

    private static MockResponse answer(int code, String body) {
        return new MockResponse(code, Headers.of("Content-Type", "application/json"), body);
    }

    @Test
    void postsOneBatchOfIdentifyCallsSettingTheCohortTrait() throws Exception {
        server.enqueue(ok());
        MembershipChange ada = member("user-1", 41);

        DeliveryResult result = segment.send(page(PageAction.ADD_MEMBERS, ada));

        assertThat(result.rejections()).isEmpty();
        RecordedRequest request = server.takeRequest(5, TimeUnit.SECONDS);
        assertThat(request.getMethod()).isEqualTo("POST");
        assertThat(request.getUrl().encodedPath()).isEqualTo("/v1/batch");
        assertThat(request.getHeaders().get("Content-Type")).startsWith("application/json");
        // Basic base64("wk-s3cret:"): the write key as user name, an empty password.
        assertThat(request.getHeaders().get("Authorization")).isEqualTo("Basic d2stczNjcmV0Og==");
        JsonNode expected = JSON.readTree("""
                {"batch": [{"type": "identify", "userId": "user-1",
                            "traits": {"Mixpanel - Power users ⚡": true},
                            "messageId": "%s",
                            "timestamp": "2026-11-24T08:30:00Z"}],
                 "sentAt": "2026-11-25T10:00:00Z"}""".formatted(segment.messageId(ada)));
        assertThat(JSON.readTree(request.getBody().utf8())).isEqualTo(expected);
    }

    @Test
    void removesSetTheTraitToFalseIncludingTombstones() throws Exception {
        server.enqueue(ok());

        segment.send(page(PageAction.REMOVE_MEMBERS, member("user-1", 1),
                parser.parse(tombstone(1234, "gone").at(0, 9).build())));

        JsonNode batch = JSON.readTree(server.takeRequest(5, TimeUnit.SECONDS).getBody().utf8()).path("batch");
        assertThat(batch).hasSize(2);
        assertThat(batch.get(0).path("traits").path("Mixpanel - Power users ⚡").asBoolean(true)).isFalse();
        assertThat(batch.get(1).path("userId").asText()).isEqualTo("gone");
        assertThat(batch.get(1).path("traits").path("Mixpanel - Power users ⚡").isBoolean()).isTrue();
        assertThat(batch.get(1).path("traits").path("Mixpanel - Power users ⚡").asBoolean(true)).isFalse();
    }

    @Test
    void messageIdsAreStablePerRecordAndDifferAcrossRecordsAndConnectors() {
        MembershipChange a = member("user-1", 41);
        SegmentDestination other = destination("distinct_id", "x");
        assertThat(segment.messageId(a)).isEqualTo(segment.messageId(member("user-1", 41)))
                .isEqualTo(other.messageId(a)).matches("[0-9a-f-]{36}");
        assertThat(segment.messageId(a)).isNotEqualTo(segment.messageId(member("user-1", 42)));
        SegmentDestination renamed = new SegmentDestination(HttpClients.create(2_000), server.url("/").toString(),
                WRITE_KEY, "distinct_id", "x", "another-connector", CLOCK);
        assertThat(renamed.messageId(a)).isNotEqualTo(segment.messageId(a));
        other.close();
        renamed.close();
    }

    @Test
    void theUserIdComesFromTheConfiguredFieldOrProperty() throws Exception {
        segment.close();
        segment = destination("$user_id", "In ${cohort_id} of ${project_id}");
        server.enqueue(ok());
        MembershipChange withoutId = parser.parse(change(1234, "anon").at(0, 5).build());

        DeliveryResult result = segment.send(page(PageAction.ADD_MEMBERS, member("user-1", 1), withoutId));

        JsonNode message = JSON.readTree(server.takeRequest(5, TimeUnit.SECONDS).getBody().utf8()).path("batch")
                .get(0);
        assertThat(message.path("userId").asText()).isEqualTo("crm-user-1");
        assertThat(message.path("traits").path("In 1234 of p-9").asBoolean()).isTrue();
        assertThat(result.rejections()).singleElement().satisfies(r -> {
            assertThat(r.member()).isSameAs(withoutId);
            assertThat(r.reason()).contains("no value in the field '$user_id'");
        });
    }

    @Test
    void aPageWhoseMembersAreAllRejectedMakesNoCall() throws Exception {
        segment.close();
        segment = destination("email", "Mixpanel - ${cohort_name}");
        MembershipChange noEmail = parser.parse(change(1234, "anon").build());

        DeliveryResult result = segment.send(page(PageAction.ADD_MEMBERS, noEmail));

        assertThat(result.rejections()).hasSize(1);
        assertThat(server.getRequestCount()).isZero();
    }

    @Test
    void anUnknownCohortNameRejectsTheMembersInsteadOfInventingATrait() throws Exception {
        Page namelessCohort = new Page(new CohortRef("77", null, null, null), PageAction.REMOVE_MEMBERS, "s", 1, 1,
                List.of(parser.parse(tombstone(77, "gone").build())));

        DeliveryResult result = segment.send(namelessCohort);

        assertThat(result.rejections()).singleElement().extracting(Rejection::reason).asString()
                .contains("name is unknown").contains("no name of it is remembered");
        assertThat(server.getRequestCount()).isZero();
    }

    @Test
    void pagesOverFiveHundredKilobytesAreSplitIntoSeveralRequestsUnderTheLimit() throws Exception {
        // ~3 KB per message: 1000 messages make ~3 MB, so at least 7 requests.
        String padding = "x".repeat(3_000);
        List<MembershipChange> members = new ArrayList<>();
        for (int i = 0; i < 1000; i++) {
            members.add(parser.parse(change(1234, String.format("user-%04d-%s", i, padding)).at(0, i).build()));
        }
        for (int i = 0; i < 10; i++) {
            server.enqueue(ok());
        }

        DeliveryResult result = segment.send(page(PageAction.ADD_MEMBERS, members));

        assertThat(result.rejections()).isEmpty();
        int requests = server.getRequestCount();
        assertThat(requests).isBetween(7, 10);
        Set<String> userIds = new HashSet<>();
        for (int i = 0; i < requests; i++) {
            RecordedRequest request = server.takeRequest(5, TimeUnit.SECONDS);
            byte[] body = request.getBody().toByteArray();
            assertThat(body.length).isLessThanOrEqualTo(SegmentDestination.MAX_REQUEST_BYTES);
            JSON.readTree(body).path("batch").forEach(m -> userIds.add(m.path("userId").asText()));
        }
        assertThat(userIds).hasSize(1000);
    }

    @Test
    void aMessageOverThirtyTwoKilobytesIsRejectedAndTheOthersSent() throws Exception {
        server.enqueue(ok());
        MembershipChange huge = parser.parse(change(1234, "u-" + "é".repeat(20_000)).at(0, 1).build());

        DeliveryResult result = segment.send(page(PageAction.ADD_MEMBERS, huge, member("user-1", 2)));

        assertThat(result.rejections()).singleElement().satisfies(r -> {
            assertThat(r.member()).isSameAs(huge);
            assertThat(r.reason()).contains("over Segment's limit of 32000 bytes per message")
                    .doesNotContain("ééé");
        });
        JsonNode batch = JSON.readTree(server.takeRequest(5, TimeUnit.SECONDS).getBody().utf8()).path("batch");
        assertThat(batch).hasSize(1);
        assertThat(batch.get(0).path("userId").asText()).isEqualTo("user-1");
    }

    @Test
    void authenticationFailuresArePermanentWithAHintAndNoKey() {
        server.enqueue(answer(401, "{\"error\": \"invalid write key\"}"));
        server.enqueue(answer(403, ""));

        assertThatThrownBy(() -> segment.send(page(PageAction.ADD_MEMBERS, member("user-1", 1))))
                .isInstanceOf(PermanentDeliveryException.class)
                .hasMessageContaining("HTTP 401")
                .hasMessageContaining("check segment.write.key")
                .hasMessageContaining("add_members page 1/1 of cohort 1234")
                .hasMessageNotContaining(WRITE_KEY).hasMessageNotContaining("d2stczNjcmV0");
        assertThatThrownBy(() -> segment.send(page(PageAction.ADD_MEMBERS, member("user-1", 1))))
                .isInstanceOf(PermanentDeliveryException.class).hasMessageContaining("HTTP 403")
                .hasMessageContaining("check segment.write.key");
    }

    @Test
    void aBadRequestIsPermanent() {
        server.enqueue(answer(400, "{\"error\": \"batch too large\"}"));

        assertThatThrownBy(() -> segment.send(page(PageAction.ADD_MEMBERS, member("user-1", 1))))
                .isInstanceOf(PermanentDeliveryException.class)
                .hasMessageContaining("HTTP 400: {\"error\": \"batch too large\"}");
    }

    @Test
    void throttlingAndServerErrorsAreTransient() {
        server.enqueue(new MockResponse(429, Headers.of("Retry-After", "3"), ""));
        server.enqueue(answer(502, "bad gateway"));

        assertThatThrownBy(() -> segment.send(page(PageAction.ADD_MEMBERS, member("user-1", 1))))
                .isInstanceOfSatisfying(TransientDeliveryException.class,
                        e -> assertThat(e.retryAfterMillis()).isEqualTo(3_000));
        assertThatThrownBy(() -> segment.send(page(PageAction.ADD_MEMBERS, member("user-1", 1))))
                .isInstanceOfSatisfying(TransientDeliveryException.class,
                        e -> assertThat(e.retryAfterMillis()).isEqualTo(-1))
                .hasMessageContaining("HTTP 502");
    }

    @Test
    void aRefusedConnectionIsTransient() {
        String url = server.url("/").toString();
        server.close();
        SegmentDestination unreachable = new SegmentDestination(HttpClients.create(500), url, WRITE_KEY,
                "distinct_id", "t", "c", CLOCK);

        assertThatThrownBy(() -> unreachable.send(page(PageAction.ADD_MEMBERS, member("user-1", 1))))
                .isInstanceOf(TransientDeliveryException.class);
        unreachable.close();
    }

    @Test
    void regionsMapToTheirHosts() {
        assertThat(SegmentDestination.regionHost("us")).isEqualTo("https://api.segment.io");
        assertThat(SegmentDestination.regionHost("EU")).isEqualTo("https://events.eu1.segmentapis.com");
        assertThatThrownBy(() -> SegmentDestination.regionHost("apac"))
                .hasMessageContaining("valid regions: us, eu");
    }

    @Test
    void theEndpointMayCarryABasePath() throws Exception {
        segment.close();
        segment = new SegmentDestination(HttpClients.create(2_000), server.url("/proxy/segment/").toString(),
                WRITE_KEY, "distinct_id", "t", "c", CLOCK);
        server.enqueue(ok());

        segment.send(page(PageAction.ADD_MEMBERS, member("user-1", 1)));

        assertThat(server.takeRequest(5, TimeUnit.SECONDS).getUrl().encodedPath())
                .isEqualTo("/proxy/segment/v1/batch");
    }
}

package io.github.cohortsync.connect.destination.webhook;

import static io.github.cohortsync.connect.Records.change;
import static io.github.cohortsync.connect.Records.tombstone;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.io.IOException;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;

import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;

import io.github.cohortsync.connect.destination.DeliveryResult;
import io.github.cohortsync.connect.destination.Page;
import io.github.cohortsync.connect.destination.PageAction;
import io.github.cohortsync.connect.destination.PermanentDeliveryException;
import io.github.cohortsync.connect.destination.TransientDeliveryException;
import io.github.cohortsync.connect.http.HttpClients;
import io.github.cohortsync.connect.record.CohortRef;
import io.github.cohortsync.connect.record.MembershipChange;
import io.github.cohortsync.connect.record.RecordParser;
import mockwebserver3.MockResponse;
import mockwebserver3.MockWebServer;
import mockwebserver3.RecordedRequest;
import mockwebserver3.SocketEffect;
import okhttp3.Headers;

class WebhookDestinationTest {
    private static final ObjectMapper JSON = new ObjectMapper();
    private static final CohortRef COHORT = new CohortRef("1234", "Power users ⚡", "Bought twice", "p-9");

    private final MockWebServer server = new MockWebServer();
    private final RecordParser parser = new RecordParser();
    private WebhookDestination webhook;

    @BeforeEach
    void start() throws IOException {
        server.start();
        webhook = destination(null, null, 2_000);
    }

    @AfterEach
    void stop() {
        webhook.close();
        server.close();
    }

    private WebhookDestination destination(String user, String password, int timeoutMs) {
        return new WebhookDestination(HttpClients.create(timeoutMs), server.url("/hooks/cohorts?token=s3cret").toString(),
                user, password, List.of("plan", "$braze_external_id", "nested"));
    }

    private Page page(PageAction action, int number, int total, MembershipChange... members) {
        return new Page(COHORT, action, "session-1", number, total, List.of(members));
    }

    private MembershipChange ada() {
        return parser.parse(change(1234, "user-1").with("email", "ada@example.com").with("first_name", "Ada")
                .with("last_name", "Lovelace").with("phone_number", "+15550100")
                .with("properties", Map.of("plan", "pro", "ignored", "x", "nested", Map.of("a", List.of(1, 2))))
                .build());
    }

    private static MockResponse answer(int code, String body) {
        return new MockResponse(code, Headers.of("Content-Type", "application/json"), body);
    }

    private static MockResponse success(String action) {
        return answer(200, "{\"action\": \"" + action + "\", \"status\": \"success\"}");
    }

    @Test
    void postsOnePageInTheDocumentedShape() throws Exception {
        server.enqueue(success("add_members"));

        DeliveryResult result = webhook.send(page(PageAction.ADD_MEMBERS, 2, 3, ada()));

        assertThat(result.rejections()).isEmpty();
        RecordedRequest request = server.takeRequest(5, TimeUnit.SECONDS);
        assertThat(request.getMethod()).isEqualTo("POST");
        assertThat(request.getUrl().encodedPath()).isEqualTo("/hooks/cohorts");
        assertThat(request.getUrl().queryParameter("token")).isEqualTo("s3cret");
        assertThat(request.getHeaders().get("Content-Type")).startsWith("application/json");
        assertThat(request.getHeaders().get("Idempotency-Key")).isEqualTo("session-1-add_members-2");
        assertThat(request.getHeaders().get("Authorization")).isNull();
        JsonNode body = JSON.readTree(request.getBody().utf8());
        JsonNode expected = JSON.readTree("""
                {"action": "add_members",
                 "parameters": {
                   "mixpanel_project_id": "p-9",
                   "mixpanel_cohort_id": "1234",
                   "mixpanel_cohort_name": "Power users ⚡",
                   "mixpanel_cohort_description": "Bought twice",
                   "mixpanel_session_id": "session-1",
                   "page_info": {"total_pages": 3, "page_count": 2},
                   "members": [{"email": "ada@example.com", "mixpanel_distinct_id": "user-1",
                                "first_name": "Ada", "last_name": "Lovelace", "phone_number": "+15550100",
                                "plan": "pro", "nested": {"a": [1, 2]}}]}}""");
        assertThat(body).isEqualTo(expected);
    }

    @Test
    void sendsRemovesOfTombstonesWithNullProfileFields() throws Exception {
        server.enqueue(success("remove_members"));

        webhook.send(page(PageAction.REMOVE_MEMBERS, 1, 1, parser.parse(tombstone(1234, "gone").build())));

        JsonNode member = JSON.readTree(server.takeRequest(5, TimeUnit.SECONDS).getBody().utf8())
                .path("parameters").path("members").get(0);
        assertThat(member.path("mixpanel_distinct_id").asText()).isEqualTo("gone");
        assertThat(member.has("email")).isTrue();
        assertThat(member.path("email").isNull()).isTrue();
    }

    @Test
    void sendsBasicAuthWhenConfigured() throws Exception {
        webhook.close();
        webhook = destination("mixpanel", "pa55", 2_000);
        server.enqueue(success("add_members"));

        webhook.send(page(PageAction.ADD_MEMBERS, 1, 1, ada()));

        assertThat(server.takeRequest(5, TimeUnit.SECONDS).getHeaders().get("Authorization"))
                .isEqualTo("Basic bWl4cGFuZWw6cGE1NQ==");
    }

    @Test
    void aFailureAnswerIsPermanentWithTheReceiversMessageAndCode() {
        server.enqueue(answer(200, "{\"action\": \"add_members\", \"status\": \"failure\","
                + " \"error\": {\"message\": \"list is archived\", \"code\": 4201}}"));

        assertThatThrownBy(() -> webhook.send(page(PageAction.ADD_MEMBERS, 1, 1, ada())))
                .isInstanceOf(PermanentDeliveryException.class)
                .hasMessageContaining("status failure: list is archived (code 4201)")
                .hasMessageContaining("add_members page 1/1 of cohort 1234")
                .hasMessageNotContaining("s3cret");
    }

    @Test
    void anAnswerForAnotherActionIsPermanent() {
        server.enqueue(success("remove_members"));

        assertThatThrownBy(() -> webhook.send(page(PageAction.ADD_MEMBERS, 1, 1, ada())))
                .isInstanceOf(PermanentDeliveryException.class)
                .hasMessageContaining("answer for action 'remove_members' instead of 'add_members'");
    }

    @Test
    void anUnparsableOrEmptyAnswerIsPermanent() {
        server.enqueue(answer(200, "OK"));
        server.enqueue(answer(200, ""));
        server.enqueue(answer(200, "{\"action\": \"add_members\"}"));

        assertThatThrownBy(() -> webhook.send(page(PageAction.ADD_MEMBERS, 1, 1, ada())))
                .isInstanceOf(PermanentDeliveryException.class).hasMessageContaining("not a JSON object");
        assertThatThrownBy(() -> webhook.send(page(PageAction.ADD_MEMBERS, 1, 1, ada())))
                .isInstanceOf(PermanentDeliveryException.class).hasMessageContaining("the body was empty");
        assertThatThrownBy(() -> webhook.send(page(PageAction.ADD_MEMBERS, 1, 1, ada())))
                .isInstanceOf(PermanentDeliveryException.class).hasMessageContaining("status 'null'");
    }

    @Test
    void authenticationFailuresArePermanentWithAHint() {
        server.enqueue(answer(401, "{\"error\": \"bad credentials\"}"));
        server.enqueue(answer(403, "forbidden"));

        assertThatThrownBy(() -> webhook.send(page(PageAction.ADD_MEMBERS, 1, 1, ada())))
                .isInstanceOf(PermanentDeliveryException.class)
                .hasMessageContaining("HTTP 401: {\"error\": \"bad credentials\"}")
                .hasMessageContaining("check webhook.auth.username and webhook.auth.password")
                .hasMessageNotContaining("s3cret");
        assertThatThrownBy(() -> webhook.send(page(PageAction.ADD_MEMBERS, 1, 1, ada())))
                .isInstanceOf(PermanentDeliveryException.class).hasMessageContaining("HTTP 403");
    }

    @Test
    void answersThatEchoPersonalDataAreMaskedInErrors() {
        server.enqueue(answer(400, "{\"error\": \"bad member ada@example.com, +1 555 010 0199\"}"));
        server.enqueue(answer(200, "{\"action\": \"add_members\", \"status\": \"failure\","
                + " \"error\": {\"message\": \"unknown ada@example.com\", \"code\": 7}}"));

        assertThatThrownBy(() -> webhook.send(page(PageAction.ADD_MEMBERS, 1, 1, ada())))
                .hasMessageContaining("<email>").hasMessageNotContaining("ada@example.com")
                .hasMessageNotContaining("555 010 0199");
        assertThatThrownBy(() -> webhook.send(page(PageAction.ADD_MEMBERS, 1, 1, ada())))
                .hasMessageContaining("unknown <email>").hasMessageNotContaining("ada@example.com");
    }

    @Test
    void badRequestAndNotFoundArePermanent() {
        server.enqueue(answer(400, "bad"));
        server.enqueue(answer(404, ""));

        assertThatThrownBy(() -> webhook.send(page(PageAction.ADD_MEMBERS, 1, 1, ada())))
                .isInstanceOf(PermanentDeliveryException.class).hasMessageContaining("HTTP 400: bad");
        assertThatThrownBy(() -> webhook.send(page(PageAction.ADD_MEMBERS, 1, 1, ada())))
                .isInstanceOf(PermanentDeliveryException.class).hasMessageContaining("HTTP 404")
                .hasMessageContaining("check that the URL is right");
    }

    @Test
    void serverErrorsAndThrottlingAreTransientAndCarryRetryAfter() {
        server.enqueue(answer(503, "down"));
        server.enqueue(new MockResponse(429, Headers.of("Retry-After", "7"), ""));

        assertThatThrownBy(() -> webhook.send(page(PageAction.ADD_MEMBERS, 1, 1, ada())))
                .isInstanceOfSatisfying(TransientDeliveryException.class,
                        e -> assertThat(e.retryAfterMillis()).isEqualTo(-1))
                .hasMessageContaining("HTTP 503: down");
        assertThatThrownBy(() -> webhook.send(page(PageAction.ADD_MEMBERS, 1, 1, ada())))
                .isInstanceOfSatisfying(TransientDeliveryException.class,
                        e -> assertThat(e.retryAfterMillis()).isEqualTo(7_000));
    }

    @Test
    void aResetConnectionIsTransient() {
        server.enqueue(new MockResponse.Builder().onRequestStart(new SocketEffect.CloseSocket()).build());

        assertThatThrownBy(() -> webhook.send(page(PageAction.ADD_MEMBERS, 1, 1, ada())))
                .isInstanceOf(TransientDeliveryException.class);
    }

    @Test
    void aReceiverThatNeverAnswersTimesOutAsTransient() {
        webhook.close();
        webhook = destination(null, null, 300);
        server.enqueue(new MockResponse.Builder().headersDelay(2, TimeUnit.SECONDS).body("{}").build());

        assertThatThrownBy(() -> webhook.send(page(PageAction.ADD_MEMBERS, 1, 1, ada())))
                .isInstanceOf(TransientDeliveryException.class)
                .hasCauseInstanceOf(java.io.InterruptedIOException.class);
    }

    @Test
    void aRefusedConnectionIsTransient() throws Exception {
        String url = server.url("/").toString();
        server.close();
        WebhookDestination unreachable = new WebhookDestination(HttpClients.create(500), url, null, null, List.of());

        assertThatThrownBy(() -> unreachable.send(page(PageAction.ADD_MEMBERS, 1, 1, ada())))
                .isInstanceOf(TransientDeliveryException.class);
        unreachable.close();
    }

    @Test
    void reusesOneConnectionForConsecutivePages() throws Exception {
        for (int i = 0; i < 3; i++) {
            server.enqueue(success("add_members"));
        }
        for (int i = 1; i <= 3; i++) {
            webhook.send(page(PageAction.ADD_MEMBERS, i, 3, ada()));
        }

        for (int i = 0; i < 3; i++) {
            RecordedRequest request = server.takeRequest(5, TimeUnit.SECONDS);
            assertThat(request.getConnectionIndex()).as("request %d", i).isZero();
            assertThat(request.getExchangeIndex()).isEqualTo(i);
        }
    }
}

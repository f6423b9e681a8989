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

import io.github.cohortsync.connect.delivery.ContentRejectedException;
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
        assertThat(request.getHeaders().get("Idempotency-Key")).matches("add_members-[0-9a-f]{32}")
                .isEqualTo(page(PageAction.ADD_MEMBERS, 2, 3, ada()).idempotencyKey());
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

    /**
     * What the page carries may cause 400, 413 and 422 (as HTTP statuses or the envelope's code): those refusals are
     * split; 401, 403 and 404 (cohort not found) and other codes are about the receiver, and fail the task.
     */
    @Test
    void contentRefusalsAreSplittableAndSystemicOnesAreNot() {
        server.enqueue(answer(400, "{\"action\": \"add_members\", \"status\": \"failure\","
                + " \"error\": {\"message\": \"Invalid payload.\", \"code\": 400}}"));
        server.enqueue(answer(413, "too large"));
        server.enqueue(answer(200, "{\"action\": \"add_members\", \"status\": \"failure\","
                + " \"error\": {\"message\": \"bad member\", \"code\": \"422\"}}"));
        server.enqueue(answer(404, "{\"action\": \"add_members\", \"status\": \"failure\","
                + " \"error\": {\"message\": \"Cohort not found.\", \"code\": 404}}"));
        server.enqueue(answer(200, "{\"action\": \"add_members\", \"status\": \"failure\","
                + " \"error\": {\"message\": \"Cohort not found.\", \"code\": 404}}"));
        server.enqueue(answer(401, "no"));

        for (int i = 0; i < 3; i++) {
            assertThatThrownBy(() -> webhook.send(page(PageAction.ADD_MEMBERS, 1, 1, ada())))
                    .isInstanceOf(ContentRejectedException.class);
        }
        for (int i = 0; i < 3; i++) {
            assertThatThrownBy(() -> webhook.send(page(PageAction.ADD_MEMBERS, 1, 1, ada())))
                    .isInstanceOf(PermanentDeliveryException.class).isNotInstanceOf(ContentRejectedException.class);
        }
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

    // ---- Conformance with real receivers (docs/compatibility.md, section Webhook) ----

    private static Page pageOf(CohortRef cohort, PageAction action, MembershipChange... members) {
        return new Page(cohort, action, "session-1", 1, 1, List.of(members));
    }

    private JsonNode sentParameters() throws Exception {
        return JSON.readTree(server.takeRequest(5, TimeUnit.SECONDS).getBody().utf8()).path("parameters");
    }

    @Test
    void aCohortWithoutNameOrProjectIsSentWithTheDocumentedFallbacks() throws Exception {
        server.enqueue(success("remove_members"));
        server.enqueue(success("remove_members"));

        webhook.send(pageOf(new CohortRef("77", null, null, null), PageAction.REMOVE_MEMBERS,
                parser.parse(tombstone(77, "gone").build())));
        webhook.send(pageOf(new CohortRef("77", "  ", null, " "), PageAction.REMOVE_MEMBERS,
                parser.parse(tombstone(77, "gone").build())));

        for (int i = 0; i < 2; i++) {
            JsonNode parameters = sentParameters();
            assertThat(parameters.path("mixpanel_cohort_name").asText()).isEqualTo("Cohort 77");
            assertThat(parameters.path("mixpanel_project_id").asText())
                    .isEqualTo(WebhookDestination.DEFAULT_PROJECT_ID).isEqualTo("0");
            assertThat(parameters.path("mixpanel_cohort_description").isNull()).isTrue();
        }
    }

    @Test
    void aNameOver2000CharactersIsCutAtACharacterBoundary() throws Exception {
        server.enqueue(success("add_members"));
        // 1999 characters, then a character outside the BMP (two chars in Java) at position 2000, then more.
        String name = "n".repeat(1999) + "😀" + "tail";

        webhook.send(pageOf(new CohortRef("1234", name, null, "p"), PageAction.ADD_MEMBERS, ada()));

        String sent = sentParameters().path("mixpanel_cohort_name").asText();
        assertThat(sent.codePointCount(0, sent.length())).isEqualTo(2000);
        assertThat(sent).isEqualTo("n".repeat(1999) + "😀");
        assertThat(WebhookDestination.cohortName(pageOf(new CohortRef("1", "n".repeat(2000), null, null),
                PageAction.ADD_MEMBERS))).hasSize(2000);
    }

    @Test
    void aDistinctIdOver1024Utf8BytesIsRejectedAndTheRestOfThePageSent() throws Exception {
        server.enqueue(success("add_members"));
        // 512 two-byte characters: exactly 1024 bytes, accepted; one more byte is over.
        MembershipChange atLimit = parser.parse(change(1234, "é".repeat(512)).at(0, 1).build());
        MembershipChange overLimit = parser.parse(change(1234, "é".repeat(512) + "x").at(0, 2).build());
        MembershipChange overByEmoji = parser.parse(change(1234, "😀".repeat(256) + "x").at(0, 3).build());

        DeliveryResult result = webhook.send(page(PageAction.ADD_MEMBERS, 1, 1, atLimit, overLimit, ada(),
                overByEmoji));

        assertThat(result.rejections()).extracting(Rejection::member).containsExactly(overLimit, overByEmoji);
        assertThat(result.rejections()).extracting(Rejection::reason)
                .containsExactly("the distinct id is 1025 UTF-8 bytes, over the 1024 receivers of the Mixpanel"
                                + " webhook format accept",
                        "the distinct id is 1025 UTF-8 bytes, over the 1024 receivers of the Mixpanel webhook"
                                + " format accept");
        RecordedRequest request = server.takeRequest(5, TimeUnit.SECONDS);
        JsonNode members = JSON.readTree(request.getBody().utf8()).path("parameters").path("members");
        assertThat(members).extracting(m -> m.path("mixpanel_distinct_id").asText())
                .containsExactly("é".repeat(512), "user-1");
        assertThat(request.getHeaders().get("Idempotency-Key"))
                .as("the key is the one of what was sent")
                .isEqualTo(page(PageAction.ADD_MEMBERS, 1, 1, atLimit, ada()).idempotencyKey());
    }

    @Test
    void aPageWhoseMembersAreAllRejectedStillGoesEmptyToKeepItsPlaceInTheSession() throws Exception {
        server.enqueue(success("members"));
        MembershipChange tooLong = parser.parse(change(1234, "x".repeat(1025)).build());

        DeliveryResult result = webhook.send(page(PageAction.MEMBERS, 1, 2, tooLong));

        assertThat(result.rejections()).extracting(Rejection::member).containsExactly(tooLong);
        JsonNode parameters = sentParameters();
        assertThat(parameters.path("members").isArray()).isTrue();
        assertThat(parameters.path("members")).isEmpty();
        assertThat(parameters.path("page_info").path("page_count").asInt()).isEqualTo(1);
    }

    @Test
    void everyMemberOfACohortWhoseIdIsOver255CharactersIsRejectedAndNothingOfItSent() throws Exception {
        String longId = "c".repeat(256);
        MembershipChange member = parser.parse(change(longId, "user-1").build());
        CohortRef cohort = new CohortRef(longId, "Long", null, "p");

        DeliveryResult result = webhook.send(pageOf(cohort, PageAction.ADD_MEMBERS, member));

        assertThat(result.rejections()).singleElement().satisfies(r -> assertThat(r.reason())
                .isEqualTo("the cohort id is 256 characters, over the 255 receivers of the Mixpanel webhook format"
                        + " accept"));
        assertThat(server.getRequestCount()).as("receivers refuse the cohort id itself").isZero();
        assertThat(WebhookDestination.rejections(pageOf(new CohortRef("c".repeat(255), "ok", null, "p"),
                PageAction.ADD_MEMBERS, member))).isEmpty();
    }

    @Test
    void any2xxWithStatusSuccessIsSuccess() throws Exception {
        server.enqueue(answer(201, "{\"action\": \"add_members\", \"status\": \"success\"}"));
        server.enqueue(answer(202, "{\"action\": \"add_members\", \"status\": \"success\"}"));

        assertThat(webhook.send(page(PageAction.ADD_MEMBERS, 1, 1, ada())).rejections()).isEmpty();
        assertThat(webhook.send(page(PageAction.ADD_MEMBERS, 1, 1, ada())).rejections()).isEmpty();
    }

    @Test
    void a2xxFailureFollowsItsErrorCode() {
        server.enqueue(new MockResponse(200, Headers.of("Content-Type", "application/json", "Retry-After", "3"),
                "{\"action\": \"add_members\", \"status\": \"failure\","
                        + " \"error\": {\"message\": \"slow down\", \"code\": 429}}"));
        server.enqueue(answer(201, "{\"action\": \"add_members\", \"status\": \"failure\","
                + " \"error\": {\"message\": \"database down\", \"code\": \"503\"}}"));
        server.enqueue(answer(200, "{\"action\": \"add_members\", \"status\": \"failure\","
                + " \"error\": {\"message\": \"Cohort not found.\", \"code\": 404}}"));
        server.enqueue(answer(200, "{\"action\": \"add_members\", \"status\": \"failure\","
                + " \"error\": {\"message\": \"Invalid payload\", \"code\": \"400\"}}"));
        server.enqueue(answer(200, "{\"action\": \"add_members\", \"status\": \"failure\","
                + " \"error\": {\"message\": \"oops\"}}"));
        // The envelope's wait is read as any answer's: without Retry-After, X-RateLimit-Reset (seconds here).
        server.enqueue(new MockResponse(200, Headers.of("Content-Type", "application/json", "X-RateLimit-Reset", "5"),
                "{\"action\": \"add_members\", \"status\": \"failure\", \"error\": {\"code\": 429}}"));

        assertThatThrownBy(() -> webhook.send(page(PageAction.ADD_MEMBERS, 1, 1, ada())))
                .isInstanceOfSatisfying(TransientDeliveryException.class,
                        e -> assertThat(e).extracting(TransientDeliveryException::retryAfterMillis,
                                TransientDeliveryException::status).containsExactly(3_000L, 429))
                .hasMessageContaining("status failure: slow down (code 429)");
        assertThatThrownBy(() -> webhook.send(page(PageAction.ADD_MEMBERS, 1, 1, ada())))
                .isInstanceOf(TransientDeliveryException.class).hasMessageContaining("database down (code 503)");
        assertThatThrownBy(() -> webhook.send(page(PageAction.ADD_MEMBERS, 1, 1, ada())))
                .isInstanceOf(PermanentDeliveryException.class).hasMessageContaining("Cohort not found. (code 404)");
        assertThatThrownBy(() -> webhook.send(page(PageAction.ADD_MEMBERS, 1, 1, ada())))
                .isInstanceOf(PermanentDeliveryException.class).hasMessageContaining("(code 400)");
        assertThatThrownBy(() -> webhook.send(page(PageAction.ADD_MEMBERS, 1, 1, ada())))
                .isInstanceOf(PermanentDeliveryException.class).hasMessageContaining("oops (code none)");
        assertThatThrownBy(() -> webhook.send(page(PageAction.ADD_MEMBERS, 1, 1, ada())))
                .isInstanceOfSatisfying(TransientDeliveryException.class,
                        e -> assertThat(e.retryAfterMillis()).isEqualTo(5_000));
    }

    @Test
    void a401WhoseBodyIsNotTheEnvelopeIsPermanentWithItsTextMasked() {
        webhook.close();
        webhook = destination("mixpanel", "pa55word", 2_000);
        server.enqueue(answer(401, "<html>Unauthorized: Basic bWl4cGFuZWw6cGE1NXdvcmQ= (pa55word) for"
                + " ada@example.com</html>"));
        server.enqueue(answer(403, "{\"detail\": \"Invalid cohort sync key.\"}"));

        assertThatThrownBy(() -> webhook.send(page(PageAction.ADD_MEMBERS, 1, 1, ada())))
                .isInstanceOf(PermanentDeliveryException.class)
                .hasMessageContaining("HTTP 401: <html>Unauthorized: Basic <secret> (<secret>) for <email></html>")
                .hasMessageContaining("check webhook.auth.username and webhook.auth.password")
                .hasMessageNotContaining("pa55word").hasMessageNotContaining("bWl4cGFuZWw6cGE1NXdvcmQ=")
                .hasMessageNotContaining("ada@example.com");
        assertThatThrownBy(() -> webhook.send(page(PageAction.ADD_MEMBERS, 1, 1, ada())))
                .isInstanceOf(PermanentDeliveryException.class)
                .hasMessageContaining("HTTP 403: {\"detail\": \"Invalid cohort sync key.\"}");
    }

    @Test
    void theIdempotencyKeyIsAFunctionOfThePagesContentNotOfItsSession() {
        MembershipChange a = parser.parse(change(1234, "a").at(0, 10).build());
        MembershipChange b = parser.parse(change(1234, "b").at(1, 11).build());
        Page first = new Page(COHORT, PageAction.ADD_MEMBERS, "session-1", 1, 2, List.of(a, b));

        assertThat(new Page(COHORT, PageAction.ADD_MEMBERS, "session-2", 2, 3, List.of(b, a)).idempotencyKey())
                .as("another session, page number and member order").isEqualTo(first.idempotencyKey());
        assertThat(new Page(new CohortRef("1234", "Renamed", null, null), PageAction.ADD_MEMBERS, "s", 1, 1,
                List.of(a, b)).idempotencyKey()).as("the cohort's descriptive fields").isEqualTo(first.idempotencyKey());
        assertThat(List.of(
                new Page(COHORT, PageAction.REMOVE_MEMBERS, "session-1", 1, 2, List.of(a, b)),
                new Page(COHORT, PageAction.ADD_MEMBERS, "session-1", 1, 2, List.of(a)),
                new Page(COHORT, PageAction.ADD_MEMBERS, "session-1", 1, 2,
                        List.of(a, parser.parse(change(1234, "b").at(1, 12).build()))),
                new Page(COHORT, PageAction.ADD_MEMBERS, "session-1", 1, 2,
                        List.of(a, parser.parse(change(1234, "b2").at(1, 11).build()))),
                new Page(new CohortRef("1235", null, null, null), PageAction.ADD_MEMBERS, "session-1", 1, 2,
                        List.of(a, b))))
                .extracting(Page::idempotencyKey).doesNotContain(first.idempotencyKey()).doesNotHaveDuplicates();
        // A full sync's page 1 means "replace": its position is part of the key.
        assertThat(new Page(COHORT, PageAction.MEMBERS, "s", 1, 2, List.of(a)).idempotencyKey())
                .isNotEqualTo(new Page(COHORT, PageAction.MEMBERS, "s", 2, 2, List.of(a)).idempotencyKey())
                .isEqualTo(new Page(COHORT, PageAction.MEMBERS, "other", 1, 2, List.of(a)).idempotencyKey());
    }
}

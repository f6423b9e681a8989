package io.github.cohortsync.connect.destination.braze;

import static io.github.cohortsync.connect.Records.change;
import static io.github.cohortsync.connect.Records.tombstone;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.io.IOException;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;

import static org.awaitility.Awaitility.await;
import java.time.Duration;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicReference;
import mockwebserver3.Dispatcher;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;

import io.github.cohortsync.connect.delivery.PermanentDeliveryException;
import io.github.cohortsync.connect.delivery.TransientDeliveryException;
import io.github.cohortsync.connect.destination.DeliveryResult;
import io.github.cohortsync.connect.destination.Page;
import io.github.cohortsync.connect.destination.PageAction;
import io.github.cohortsync.connect.destination.TrickyJson;
import io.github.cohortsync.connect.http.HttpClients;
import io.github.cohortsync.connect.record.CohortRef;
import io.github.cohortsync.connect.record.MembershipChange;
import io.github.cohortsync.connect.record.RecordParser;
import mockwebserver3.MockResponse;
import mockwebserver3.MockWebServer;
import mockwebserver3.RecordedRequest;
import okhttp3.Headers;

class BrazeCohortImportTest {
    private static final ObjectMapper JSON = new ObjectMapper();
    private static final CohortRef COHORT = new CohortRef("1001", "Power users", null, "p-9");
    private static final String PARTNER_KEY = "partner-k3y-s3cret";
    private static final String IMPORT_KEY = "import-k3y-s3cret";

    private final MockWebServer server = new MockWebServer();
    private final RecordParser parser = new RecordParser();
    private BrazeCohortImport braze;

    @BeforeEach
    void start() throws IOException {
        server.start();
        braze = new BrazeCohortImport(HttpClients.create(2_000), server.url("/braze").toString(), "acme",
                PARTNER_KEY, IMPORT_KEY, "$braze_external_id");
    }

    @AfterEach
    void stop() {
        braze.close();
        server.close();
    }

    private static Page page(CohortRef cohort, PageAction action, List<MembershipChange> members) {
        return new Page(cohort, action, "session-1", 1, 1, members);
    }

    private static Page page(PageAction action, MembershipChange... members) {
        return page(COHORT, action, List.of(members));
    }

    private MembershipChange withId(String user, String externalId) {
        return parser.parse(change(1001, user).with("email", user + "@example.com")
                .with("properties", Map.of("$braze_external_id", externalId)).build());
    }

    private static MockResponse answer(int code, String body) {
        return new MockResponse(code, Headers.of("Content-Type", "application/json"), body);
    }

    private static MockResponse success() {
        return answer(201, "{\"message\": \"success\"}");
    }

    private RecordedRequest take() throws InterruptedException {
        return server.takeRequest(5, TimeUnit.SECONDS);
    }

    private static JsonNode body(RecordedRequest request) throws IOException {
        return JSON.readTree(request.getBody().utf8());
    }

    @Test
    void namesTheCohortOnceThenAddsItsMembersByExternalId() throws Exception {
        server.enqueue(success());
        server.enqueue(success());
        server.enqueue(success());
        MembershipChange alice = parser.parse(change(1001, "alice").with("email", "alice@example.com")
                .with("properties", Map.of("$user_id", "u-1")).build());

        DeliveryResult result = braze.send(page(PageAction.ADD_MEMBERS, alice, withId("carol", "ext-3")));

        assertThat(result.rejections()).isEmpty();
        RecordedRequest naming = take();
        assertThat(naming.getMethod()).isEqualTo("POST");
        assertThat(naming.getUrl().encodedPath()).isEqualTo("/braze/partners/acme/cohorts");
        assertThat(naming.getHeaders().get("Authorization")).as("both keys travel in the body").isNull();
        assertThat(naming.getHeaders().get("Content-Type")).isEqualTo("application/json; charset=utf-8");
        assertThat(body(naming)).isEqualTo(JSON.readTree("""
                {"partner_api_key": "partner-k3y-s3cret", "client_secret": "import-k3y-s3cret",
                 "cohort_id": "1001", "name": "Power users", "created_at": "2023-11-14T22:13:20Z"}"""));
        RecordedRequest users = take();
        assertThat(users.getUrl().encodedPath()).isEqualTo("/braze/partners/acme/cohorts/users");
        assertThat(body(users)).isEqualTo(JSON.readTree("""
                {"partner_api_key": "partner-k3y-s3cret", "client_secret": "import-k3y-s3cret",
                 "cohort_id": "1001",
                 "cohort_changes": [{"user_ids": ["u-1", "ext-3"], "should_remove": false}]}"""));

        braze.send(page(PageAction.ADD_MEMBERS, withId("dave", "ext-4")));
        assertThat(take().getUrl().encodedPath()).as("a cohort already named is not named again")
                .isEqualTo("/braze/partners/acme/cohorts/users");
        assertThat(server.getRequestCount()).isEqualTo(3);
    }

    @Test
    void removalsSetShouldRemoveAndARenameNamesTheCohortAgain() throws Exception {
        for (int i = 0; i < 4; i++) {
            server.enqueue(success());
        }
        braze.send(page(PageAction.REMOVE_MEMBERS, withId("bob", "ext-2")));
        take();
        assertThat(body(take()).path("cohort_changes")).isEqualTo(JSON.readTree("""
                [{"user_ids": ["ext-2"], "should_remove": true}]"""));

        CohortRef renamed = new CohortRef("1001", "Very power users", null, "p-9");
        braze.send(page(renamed, PageAction.ADD_MEMBERS, List.of(withId("bob", "ext-2"))));
        RecordedRequest naming = take();
        assertThat(naming.getUrl().encodedPath()).isEqualTo("/braze/partners/acme/cohorts");
        assertThat(body(naming).path("name").asText()).isEqualTo("Very power users");
    }

    @Test
    void aCohortKnownOnlyFromTombstonesIsChangedByIdWithoutNamingIt() throws Exception {
        server.enqueue(success());
        CohortRef unnamed = new CohortRef("1001", null, null, null);

        DeliveryResult result = braze.send(page(unnamed, PageAction.REMOVE_MEMBERS, List.of(withId("bob", "ext-2"))));

        assertThat(result.rejections()).isEmpty();
        RecordedRequest users = take();
        assertThat(users.getUrl().encodedPath()).isEqualTo("/braze/partners/acme/cohorts/users");
        assertThat(body(users).path("cohort_id").asText()).isEqualTo("1001");
        assertThat(server.getRequestCount()).isEqualTo(1);
    }

    @Test
    void aMemberWithoutAnExternalIdIsRejectedAndNotSent() throws Exception {
        server.enqueue(success());
        server.enqueue(success());
        MembershipChange gone = parser.parse(tombstone(1001, "gone").build());

        DeliveryResult result = braze.send(page(PageAction.REMOVE_MEMBERS, gone, withId("bob", "ext-2")));

        assertThat(result.rejections()).singleElement().satisfies(r -> {
            assertThat(r.member()).isEqualTo(gone);
            assertThat(r.reason()).contains("no Braze user id").contains("tombstone");
        });
        take();
        assertThat(body(take()).path("cohort_changes").get(0).path("user_ids")).hasSize(1);
    }

    @Test
    void aPageWithoutAnyExternalIdMakesNoCall() throws Exception {
        DeliveryResult result = braze.send(page(PageAction.REMOVE_MEMBERS, parser.parse(tombstone(1001, "x").build())));

        assertThat(result.rejections()).hasSize(1);
        assertThat(server.getRequestCount()).isZero();
    }

    @Test
    void aFullPageIs1000UserIdsInOneRequest() throws Exception {
        List<MembershipChange> members = new ArrayList<>();
        for (int i = 0; i < BrazeCohortImport.MAX_USER_IDS_PER_REQUEST; i++) {
            members.add(withId("u-" + i, "ext-" + i));
        }
        server.enqueue(success());
        server.enqueue(success());

        braze.send(page(COHORT, PageAction.ADD_MEMBERS, members));

        take();
        assertThat(body(take()).path("cohort_changes").get(0).path("user_ids")).hasSize(1000);
        members.add(withId("u-1000", "ext-1000"));
        assertThatThrownBy(() -> braze.send(page(COHORT, PageAction.ADD_MEMBERS, members)))
                .isInstanceOf(IllegalArgumentException.class);
    }

    @Test
    void authenticationFailuresArePermanentWithAHintAndNeitherKey() {
        server.enqueue(answer(401, "{\"message\": \"Partner not enabled for client with client secret: "
                + IMPORT_KEY + "\"}"));
        server.enqueue(answer(403, "{\"message\": \"Invalid Partner API key " + PARTNER_KEY + "\"}"));

        assertThatThrownBy(() -> braze.send(page(PageAction.ADD_MEMBERS, withId("bob", "ext-2"))))
                .isInstanceOf(PermanentDeliveryException.class)
                .hasMessageContaining("HTTP 401")
                .hasMessageContaining("/partners/acme/cohorts")
                .hasMessageContaining("check braze.partner.api.key")
                .hasMessageContaining("braze.data.import.key")
                .hasMessageNotContaining(IMPORT_KEY);
        assertThatThrownBy(() -> braze.send(page(PageAction.ADD_MEMBERS, withId("bob", "ext-2"))))
                .isInstanceOf(PermanentDeliveryException.class)
                .hasMessageContaining("HTTP 403")
                .hasMessageContaining("check braze.partner.api.key")
                .hasMessageNotContaining(PARTNER_KEY);
    }

    /** The echoed secret is masked as JSON escapes it, and before long answers are shortened (no half key). */
    @Test
    void anEchoedSecretIsMaskedEscapedOrDeepInALongAnswer() throws Exception {
        String slashKey = "qz7/wv\"k3y";
        BrazeCohortImport escaping = new BrazeCohortImport(HttpClients.create(2_000), server.url("/braze").toString(),
                "acme", PARTNER_KEY, slashKey, "$braze_external_id");
        try {
            server.enqueue(answer(401, "{\"message\": \"Partner not enabled for client with client secret: "
                    + "qz7\\/wv\\\"k3y\"}"));
            server.enqueue(answer(401, "{\"message\": \"" + "x".repeat(290) + " client secret: " + IMPORT_KEY
                    + "\"}"));

            assertThatThrownBy(() -> escaping.send(page(PageAction.ADD_MEMBERS, withId("bob", "ext-2"))))
                    .isInstanceOf(PermanentDeliveryException.class).hasMessageContaining("<secret>")
                    .hasMessageNotContaining("qz7").hasMessageNotContaining("wv");
            assertThatThrownBy(() -> braze.send(page(PageAction.ADD_MEMBERS, withId("bob", "ext-2"))))
                    .isInstanceOf(PermanentDeliveryException.class)
                    .hasMessageNotContaining("import-k3y").hasMessageNotContaining("import-");
        } finally {
            escaping.close();
        }
    }

    /** Braze answers 400 to a name that is not a non-empty string: a blank name is replaced, never sent. */
    @Test
    void aBlankCohortNameIsNeverSent() throws Exception {
        server.enqueue(success());
        server.enqueue(success());

        braze.send(page(new CohortRef("1001", "   ", null, "p-9"), PageAction.ADD_MEMBERS,
                List.of(withId("ada", "ext-1"))));

        assertThat(body(take()).path("name").asText()).isEqualTo("Mixpanel cohort 1001");
    }

    @Test
    void badRequestsArePermanent() throws Exception {
        server.enqueue(success());
        server.enqueue(answer(400, "{\"message\": \"Only 1,000 user_ids, device_ids, and aliases are allowed per"
                + " request\"}"));

        assertThatThrownBy(() -> braze.send(page(PageAction.ADD_MEMBERS, withId("bob", "ext-2"))))
                .isInstanceOf(PermanentDeliveryException.class)
                .hasMessageContaining("HTTP 400")
                .hasMessageContaining("/partners/acme/cohorts/users with add_members page 1/1 of cohort 1001");
    }

    @Test
    void throttlingAndServerErrorsAreTransientAndARetryDoesNotNameTheCohortTwice() throws Exception {
        server.enqueue(new MockResponse(429, Headers.of("Retry-After", "3"), ""));
        server.enqueue(success());
        server.enqueue(answer(503, "{\"message\": \"unavailable\"}"));
        server.enqueue(success());

        assertThatThrownBy(() -> braze.send(page(PageAction.ADD_MEMBERS, withId("bob", "ext-2"))))
                .isInstanceOfSatisfying(TransientDeliveryException.class,
                        e -> assertThat(e.retryAfterMillis()).isEqualTo(3_000));
        assertThatThrownBy(() -> braze.send(page(PageAction.ADD_MEMBERS, withId("bob", "ext-2"))))
                .isInstanceOf(TransientDeliveryException.class).hasMessageContaining("HTTP 503");
        assertThat(braze.send(page(PageAction.ADD_MEMBERS, withId("bob", "ext-2"))).rejections()).isEmpty();

        List<String> paths = new ArrayList<>();
        for (int i = 0; i < 4; i++) {
            paths.add(take().getUrl().encodedPath());
        }
        assertThat(paths).containsExactly("/braze/partners/acme/cohorts", "/braze/partners/acme/cohorts",
                "/braze/partners/acme/cohorts/users", "/braze/partners/acme/cohorts/users");
    }

    @Test
    void aRefusedConnectionIsTransient() {
        String url = server.url("/").toString();
        server.close();
        BrazeCohortImport unreachable = new BrazeCohortImport(HttpClients.create(500), url, "acme", PARTNER_KEY,
                IMPORT_KEY, "$braze_external_id");

        assertThatThrownBy(() -> unreachable.send(page(PageAction.ADD_MEMBERS, withId("bob", "ext-2"))))
                .isInstanceOf(TransientDeliveryException.class).hasMessageContaining("/partners/acme/cohorts");
        unreachable.close();
    }

    /**
     * The bodies are the JSON the tree-building code produced (byte for byte through Jackson's UTF-8 writer; as
     * JSON, the same as the trees' text it sent), with values that need escaping in the ids and the cohort's name,
     * a numeric id and a member rejected before the call.
     */
    @Test
    void streamedBodiesAreTheJsonOfTheTreesTheyReplacedWithTrickyValues() throws Exception {
        CohortRef cohort = new CohortRef("1001", TrickyJson.text(9), null, "p-9");
        List<MembershipChange> members = List.of(
                withId("u-0", TrickyJson.text(0)),
                parser.parse(tombstone(1001, "u-1").build()),
                parser.parse(change(1001, "u-2").with("timestamp", 1_700_000_000_123L)
                        .with("properties", Map.of("$braze_external_id", 12_345_678_901_234L)).build()));
        server.enqueue(success());
        server.enqueue(success());
        server.enqueue(success());

        for (PageAction action : List.of(PageAction.ADD_MEMBERS, PageAction.REMOVE_MEMBERS)) {
            DeliveryResult result = braze.send(page(cohort, action, members));
            assertThat(result.rejections()).extracting(r -> r.member()).containsExactly(members.get(1));
        }

        ObjectNode naming = keys().put("name", TrickyJson.text(9)).put("created_at", java.time.Instant.ofEpochMilli(
                members.stream().mapToLong(MembershipChange::timestampMillis).min().orElseThrow()).toString());
        TrickyJson.assertSameJson(take().getBody().toByteArray(), naming);
        for (boolean remove : new boolean[] {false, true}) {
            ObjectNode reference = keys();
            ObjectNode change = reference.putArray("cohort_changes").addObject();
            change.putArray("user_ids").add(TrickyJson.text(0)).add("12345678901234");
            change.put("should_remove", remove);
            byte[] body = take().getBody().toByteArray();
            TrickyJson.assertSameJson(body, reference);
            assertThat(body(body).at("/cohort_changes/0/user_ids/0").asText()).isEqualTo(TrickyJson.text(0));
        }
    }

    private static ObjectNode keys() {
        return JSON.createObjectNode().put("partner_api_key", PARTNER_KEY).put("client_secret", IMPORT_KEY)
                .put("cohort_id", "1001");
    }

    private static JsonNode body(byte[] body) throws IOException {
        return JSON.readTree(body);
    }

    @Test
    void concurrentPagesOfANewCohortNameItOnce() throws Exception {
        CountDownLatch hold = new CountDownLatch(1);
        AtomicInteger namings = new AtomicInteger();
        AtomicInteger changes = new AtomicInteger();
        server.setDispatcher(new Dispatcher() {
            @Override
            public MockResponse dispatch(RecordedRequest request) throws InterruptedException {
                String path = request.getUrl().encodedPath();
                if (path.equals("/braze/partners/acme/cohorts")) {
                    namings.incrementAndGet();
                    hold.await(20, TimeUnit.SECONDS);
                    return success();
                }
                if (path.equals("/braze/partners/acme/cohorts/users")) {
                    changes.incrementAndGet();
                    return success();
                }
                return answer(404, "{}");
            }
        });
        ExecutorService senders = Executors.newFixedThreadPool(2);
        try {
            Future<DeliveryResult> first = senders.submit(() -> braze.send(page(PageAction.ADD_MEMBERS,
                    withId("ada", "ext-ada"))));
            await().atMost(Duration.ofSeconds(20)).until(() -> namings.get() == 1);
            AtomicReference<Thread> waiting = new AtomicReference<>();
            Future<DeliveryResult> second = senders.submit(() -> {
                waiting.set(Thread.currentThread());
                return braze.send(page(PageAction.ADD_MEMBERS, withId("bob", "ext-bob")));
            });
            // The second page waits for the cohort to be named instead of naming it again.
            await().atMost(Duration.ofSeconds(20))
                    .until(() -> waiting.get() != null && waiting.get().getState() == Thread.State.WAITING);
            hold.countDown();

            assertThat(first.get(20, TimeUnit.SECONDS).rejections()).isEmpty();
            assertThat(second.get(20, TimeUnit.SECONDS).rejections()).isEmpty();
        } finally {
            hold.countDown();
            senders.shutdownNow();
        }
        assertThat(namings.get()).as("the cohort is named once").isEqualTo(1);
        assertThat(changes.get()).isEqualTo(2);
    }
}

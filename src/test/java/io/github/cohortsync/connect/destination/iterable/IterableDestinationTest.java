package io.github.cohortsync.connect.destination.iterable;

import static io.github.cohortsync.connect.Records.change;
import static io.github.cohortsync.connect.Records.tombstone;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.io.IOException;
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
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;

import io.github.cohortsync.connect.delivery.ContentRejectedException;
import io.github.cohortsync.connect.delivery.PermanentDeliveryException;
import io.github.cohortsync.connect.delivery.TransientDeliveryException;
import io.github.cohortsync.connect.destination.DeliveryResult;
import io.github.cohortsync.connect.destination.Page;
import io.github.cohortsync.connect.destination.PageAction;
import io.github.cohortsync.connect.destination.Rejection;
import io.github.cohortsync.connect.destination.TrickyJson;
import io.github.cohortsync.connect.http.HttpClients;
import io.github.cohortsync.connect.record.CohortRef;
import io.github.cohortsync.connect.record.MembershipChange;
import io.github.cohortsync.connect.record.RecordParser;
import mockwebserver3.MockResponse;
import mockwebserver3.MockWebServer;
import mockwebserver3.RecordedRequest;
import okhttp3.Headers;

class IterableDestinationTest {
    private static final ObjectMapper JSON = new ObjectMapper();
    private static final CohortRef COHORT = new CohortRef("1234", "Power users", "Bought twice", "p-9");
    private static final String API_KEY = "it-s3cret-key";
    private static final String LIST = "mixpanel_Power users_1234";
    private static final String LISTS = "{\"lists\": [{\"id\": 7, \"name\": \"other\"}, {\"id\": 42, \"name\": \""
            + LIST + "\", \"listType\": \"Standard\"}]}";

    private final MockWebServer server = new MockWebServer();
    private final RecordParser parser = new RecordParser();
    private IterableDestination iterable;

    @BeforeEach
    void start() throws IOException {
        server.start();
        iterable = new IterableDestination(HttpClients.create(2_000), server.url("/").toString(), API_KEY,
                "mixpanel_${cohort_name}_${cohort_id}");
    }

    @AfterEach
    void stop() {
        iterable.close();
        server.close();
    }

    private static Page page(PageAction action, MembershipChange... members) {
        return new Page(COHORT, action, "session-1", 1, 1, List.of(members));
    }

    private MembershipChange byEmail(String id) {
        return parser.parse(change(1234, id).with("email", id + "@example.com").build());
    }

    private MembershipChange byUserId(String id) {
        return parser.parse(change(1234, id).with("email", id + "@example.com")
                .with("properties", Map.of("$iterable_user_id", "it-" + id)).build());
    }

    private static MockResponse json(int code, String body) {
        return new MockResponse(code, Headers.of("Content-Type", "application/json"), body);
    }

    private static MockResponse bulkOk(int count) {
        return json(200, "{\"successCount\": " + count + ", \"failCount\": 0, \"invalidEmails\": [],"
                + " \"invalidUserIds\": []}");
    }

    private RecordedRequest next() throws InterruptedException {
        return server.takeRequest(5, TimeUnit.SECONDS);
    }

    @Test
    void subscribesAddsToTheListFoundByNameMatchingByUserIdOrEmail() throws Exception {
        server.enqueue(json(200, LISTS));
        server.enqueue(bulkOk(2));

        DeliveryResult result = iterable.send(page(PageAction.ADD_MEMBERS, byEmail("ada"), byUserId("bob")));

        assertThat(result.rejections()).isEmpty();
        RecordedRequest lists = next();
        assertThat(lists.getMethod()).isEqualTo("GET");
        assertThat(lists.getUrl().encodedPath()).isEqualTo("/api/lists");
        assertThat(lists.getHeaders().get("Api-Key")).isEqualTo(API_KEY);
        RecordedRequest subscribe = next();
        assertThat(subscribe.getMethod()).isEqualTo("POST");
        assertThat(subscribe.getUrl().encodedPath()).isEqualTo("/api/lists/subscribe");
        assertThat(subscribe.getHeaders().get("Api-Key")).isEqualTo(API_KEY);
        assertThat(subscribe.getHeaders().get("Content-Type")).startsWith("application/json");
        assertThat(JSON.readTree(subscribe.getBody().utf8())).isEqualTo(JSON.readTree("""
                {"listId": 42, "subscribers": [
                  {"email": "ada@example.com"},
                  {"userId": "it-bob", "preferUserId": true}]}"""));
    }

    @Test
    void unsubscribesRemovesAndLooksTheListUpOnceForTwoPages() throws Exception {
        server.enqueue(json(200, LISTS));
        server.enqueue(bulkOk(1));
        server.enqueue(bulkOk(1));

        iterable.send(page(PageAction.REMOVE_MEMBERS, byEmail("ada")));
        iterable.send(page(PageAction.ADD_MEMBERS, byUserId("bob")));

        assertThat(server.getRequestCount()).isEqualTo(3);
        assertThat(next().getUrl().encodedPath()).isEqualTo("/api/lists");
        RecordedRequest unsubscribe = next();
        assertThat(unsubscribe.getUrl().encodedPath()).isEqualTo("/api/lists/unsubscribe");
        assertThat(JSON.readTree(unsubscribe.getBody().utf8())).isEqualTo(JSON.readTree("""
                {"listId": 42, "subscribers": [{"email": "ada@example.com"}]}"""));
        assertThat(next().getUrl().encodedPath()).isEqualTo("/api/lists/subscribe");
    }

    @Test
    void aMissingListIsCreatedAndTheLowestIdWithItsNameUsed() throws Exception {
        server.enqueue(json(200, "{\"lists\": [{\"id\": 7, \"name\": \"other\"}]}"));
        server.enqueue(json(200, "{\"listId\": 90}"));
        // Another task created the same list a moment earlier: both settle on 88.
        server.enqueue(json(200, "{\"lists\": [{\"id\": 90, \"name\": \"" + LIST + "\"}, {\"id\": 88, \"name\": \""
                + LIST + "\"}]}"));
        server.enqueue(bulkOk(1));
        server.enqueue(bulkOk(1));

        iterable.send(page(PageAction.ADD_MEMBERS, byEmail("ada")));
        iterable.send(page(PageAction.ADD_MEMBERS, byEmail("eve")));

        assertThat(next().getMethod()).isEqualTo("GET");
        RecordedRequest create = next();
        assertThat(create.getMethod()).isEqualTo("POST");
        assertThat(create.getUrl().encodedPath()).isEqualTo("/api/lists");
        assertThat(JSON.readTree(create.getBody().utf8())).isEqualTo(JSON.readTree("{\"name\": \"" + LIST + "\"}"));
        assertThat(next().getMethod()).isEqualTo("GET");
        assertThat(JSON.readTree(next().getBody().utf8()).path("listId").asLong()).isEqualTo(88);
        assertThat(JSON.readTree(next().getBody().utf8()).path("listId").asLong()).isEqualTo(88);
        assertThat(server.getRequestCount()).isEqualTo(5);
    }

    @Test
    void removesFromAListThatDoesNotExistSendNothingAndCreateNothing() throws Exception {
        server.enqueue(json(200, "{\"lists\": []}"));

        DeliveryResult result = iterable.send(page(PageAction.REMOVE_MEMBERS, byEmail("ada")));

        assertThat(result.rejections()).isEmpty();
        assertThat(server.getRequestCount()).isEqualTo(1);
    }

    @Test
    void membersWithoutEmailOrUserIdAreRejectedAndTheOthersSent() throws Exception {
        server.enqueue(json(200, LISTS));
        server.enqueue(bulkOk(1));
        MembershipChange anonymous = parser.parse(change(1234, "anon").build());
        MembershipChange tombstoned = parser.parse(tombstone(1234, "gone").build());

        DeliveryResult result = iterable.send(page(PageAction.REMOVE_MEMBERS, anonymous, byEmail("ada"), tombstoned));

        assertThat(result.rejections()).extracting(Rejection::member).containsExactly(anonymous, tombstoned);
        assertThat(result.rejections()).extracting(Rejection::reason)
                .containsOnly("Iterable needs an email or $iterable_user_id");
        next();
        assertThat(JSON.readTree(next().getBody().utf8()).path("subscribers")).hasSize(1);
    }

    @Test
    void aPageWithNobodyToSendMakesNoCall() throws Exception {
        DeliveryResult result = iterable.send(page(PageAction.ADD_MEMBERS, parser.parse(change(1234, "anon").build())));

        assertThat(result.rejections()).hasSize(1);
        assertThat(server.getRequestCount()).isZero();
    }

    @Test
    void invalidAndNotFoundMembersInTheAnswerAreRejectedWithoutTheirEmail() throws Exception {
        server.enqueue(json(200, LISTS));
        server.enqueue(json(200, """
                {"successCount": 1, "failCount": 4,
                 "invalidEmails": ["ADA@example.com"], "invalidUserIds": ["it-bob"],
                 "notFoundEmails": ["cy@example.com"], "notFoundUserIds": ["it-dan", "it-unknown"]}"""));
        MembershipChange ada = byEmail("ada");
        MembershipChange bob = byUserId("bob");
        MembershipChange cy = byEmail("cy");
        MembershipChange dan = byUserId("dan");
        MembershipChange eve = byEmail("eve");

        DeliveryResult result = iterable.send(page(PageAction.ADD_MEMBERS, ada, bob, cy, dan, eve));

        assertThat(result.rejections()).extracting(Rejection::member).containsExactly(ada, bob, cy, dan);
        assertThat(result.rejections()).extracting(Rejection::reason).containsExactly(
                "Iterable reported the email of this member as invalid (invalidEmails)",
                "Iterable reported the $iterable_user_id of this member as invalid (invalidUserIds)",
                "Iterable found no user with the email of this member (notFoundEmails)",
                "Iterable found no user with the $iterable_user_id of this member (notFoundUserIds)");
    }

    /**
     * The current answer names members inside failedUpdates (Iterable's Swagger, FailedUserUpdates): every category
     * rejects exactly its members, by email or by user id, and the deprecated top-level field that repeats a member
     * does not change its reason.
     */
    @Test
    void everyFailedUpdatesCategoryRejectsItsMembersWithItsReason() throws Exception {
        String[] categories = {"invalid", "notFound", "forgotten", "conflict", "invalidData"};
        List<MembershipChange> members = new java.util.ArrayList<>();
        ObjectNode failed = JSON.createObjectNode();
        for (String category : categories) {
            MembershipChange byMail = byEmail(category + "-mail");
            MembershipChange byId = byUserId(category + "-id");
            members.add(byMail);
            members.add(byId);
            failed.putArray(category + "Emails").add(category.toUpperCase() + "-mail@example.com");
            failed.putArray(category + "UserIds").add("it-" + category + "-id");
        }
        MembershipChange fine = byEmail("fine");
        members.add(fine);
        ObjectNode answer = JSON.createObjectNode().put("successCount", 1).put("failCount", 10);
        answer.set("failedUpdates", failed);
        answer.putArray("invalidEmails").add("notFound-mail@example.com");
        server.enqueue(json(200, LISTS));
        server.enqueue(json(200, answer.toString()));

        DeliveryResult result = iterable.send(new Page(COHORT, PageAction.ADD_MEMBERS, "session-1", 1, 1, members));

        assertThat(result.rejections()).hasSize(10).extracting(Rejection::member).doesNotContain(fine)
                .containsExactlyInAnyOrderElementsOf(members.subList(0, 10));
        for (String category : categories) {
            assertThat(result.rejections()).filteredOn(r -> r.reason().contains("(failedUpdates." + category
                    + "Emails)")).singleElement().extracting(Rejection::member)
                    .isEqualTo(members.get(2 * List.of(categories).indexOf(category)));
            assertThat(result.rejections()).filteredOn(r -> r.reason().contains("(failedUpdates." + category
                    + "UserIds)")).singleElement().extracting(Rejection::member)
                    .isEqualTo(members.get(2 * List.of(categories).indexOf(category) + 1));
        }
        assertThat(result.rejections()).extracting(Rejection::reason).noneMatch(r -> r.contains("@"))
                .anyMatch(r -> r.contains("forgotten (GDPR)"));
    }

    /** Its wait is read as any answer's: Retry-After, else X-RateLimit-Reset (seconds here). */
    @ParameterizedTest(name = "wait in {0}")
    @ValueSource(strings = {"Retry-After", "X-RateLimit-Reset"})
    void aRateLimitExceededCodeIsTransientWhateverItsStatus(String waitHeader) {
        server.enqueue(json(200, LISTS));
        server.enqueue(new MockResponse(400, Headers.of("Content-Type", "application/json", waitHeader, "7"),
                "{\"code\": \"RateLimitExceeded\", \"msg\": \"Too many requests\"}"));

        assertThatThrownBy(() -> iterable.send(page(PageAction.ADD_MEMBERS, byEmail("ada"))))
                .isInstanceOfSatisfying(TransientDeliveryException.class,
                        e -> assertThat(e).extracting(TransientDeliveryException::retryAfterMillis,
                                TransientDeliveryException::status).containsExactly(7_000L, 400))
                .hasMessageContaining("RateLimitExceeded");
    }

    /** BatchTooLarge: the call is split in halves, each sent again; later calls hold half the smallest refused. */
    @Test
    void aBatchTooLargeAnswerSplitsTheCallInHalvesAndLaterCallsStaySmall() throws Exception {
        AtomicInteger largest = new AtomicInteger();
        server.setDispatcher(new Dispatcher() {
            @Override
            public MockResponse dispatch(RecordedRequest request) {
                if (request.getMethod().equals("GET")) {
                    return json(200, LISTS);
                }
                try {
                    int size = JSON.readTree(request.getBody().utf8()).path("subscribers").size();
                    largest.accumulateAndGet(size, Math::max);
                    return size > 2 ? json(413, "{\"code\": \"BatchTooLarge\", \"msg\": \"Batch too large\"}")
                            : bulkOk(size);
                } catch (IOException e) {
                    return json(500, "{}");
                }
            }
        });
        MembershipChange[] five = {byEmail("a"), byEmail("b"), byEmail("c"), byEmail("d"), byEmail("e")};

        assertThat(iterable.send(page(PageAction.ADD_MEMBERS, five)).rejections()).isEmpty();
        int afterFirst = server.getRequestCount();
        assertThat(iterable.send(page(PageAction.REMOVE_MEMBERS, five)).rejections()).isEmpty();

        List<Integer> sizes = new java.util.ArrayList<>();
        List<String> paths = new java.util.ArrayList<>();
        for (int i = 0; i < server.getRequestCount(); i++) {
            RecordedRequest request = next();
            paths.add(request.getUrl().encodedPath());
            if (request.getMethod().equals("POST")) {
                sizes.add(JSON.readTree(request.getBody().utf8()).path("subscribers").size());
            }
        }
        // 5 refused -> 2 + 3, 3 refused -> 1 + 2; then calls of at most 1, half the smallest refused.
        assertThat(sizes.subList(0, afterFirst - 1)).containsExactly(5, 2, 3, 1, 2);
        assertThat(sizes.subList(afterFirst - 1, sizes.size())).containsExactly(1, 1, 1, 1, 1);
        assertThat(paths).filteredOn(p -> p.endsWith("unsubscribe")).hasSize(5);
    }

    @Test
    void aBatchTooLargeAnswerToASingleSubscriberIsPermanent() {
        server.enqueue(json(200, LISTS));
        server.enqueue(json(400, "{\"code\": \"BatchTooLarge\", \"msg\": \"Batch too large\"}"));

        assertThatThrownBy(() -> iterable.send(page(PageAction.ADD_MEMBERS, byEmail("ada"))))
                .isInstanceOf(PermanentDeliveryException.class).hasMessageContaining("BatchTooLarge");
    }

    /** A list id Iterable does not know: BadParams with a 400 is permanent, as for any other bad parameter. */
    @Test
    void aBadListIdIsPermanent() {
        server.enqueue(json(200, LISTS));
        server.enqueue(json(400, "{\"code\": \"BadParams\", \"msg\": \"List 42 does not exist\"}"));

        assertThatThrownBy(() -> iterable.send(page(PageAction.REMOVE_MEMBERS, byEmail("ada"))))
                .isInstanceOf(PermanentDeliveryException.class).hasMessageContaining("BadParams")
                .hasMessageContaining("HTTP 400").isNotInstanceOf(ContentRejectedException.class);
    }

    /** BadParams that does not name the list, to a subscribe call: a subscriber may be the cause, so it is split. */
    @Test
    void otherBadParamsToASubscribeCallAreAContentRefusal() {
        server.enqueue(json(200, LISTS));
        server.enqueue(json(400, "{\"code\": \"BadParams\", \"msg\": \"Invalid userId\"}"));

        assertThatThrownBy(() -> iterable.send(page(PageAction.ADD_MEMBERS, byEmail("ada"), byUserId("bob"))))
                .isInstanceOf(ContentRejectedException.class).hasMessageContaining("BadParams");
    }

    /** A refusal of the list lookup is no subscriber's fault: never split, even as a 400. */
    @Test
    void aRefusedListLookupIsNotAContentRefusal() {
        server.enqueue(json(400, "{\"code\": \"InvalidParams\", \"msg\": \"nope\"}"));

        assertThatThrownBy(() -> iterable.send(page(PageAction.ADD_MEMBERS, byEmail("ada"))))
                .isInstanceOf(PermanentDeliveryException.class).isNotInstanceOf(ContentRejectedException.class);
    }

    /** Unsubscribers carry an email or a userId and nothing else; channelUnsubscribe is never sent. */
    @Test
    void unsubscribersCarryOnlyTheirIdentifier() throws Exception {
        server.enqueue(json(200, LISTS));
        server.enqueue(bulkOk(2));

        iterable.send(page(PageAction.REMOVE_MEMBERS, byEmail("ada"), byUserId("bob")));

        next();
        assertThat(JSON.readTree(next().getBody().utf8())).isEqualTo(JSON.readTree("""
                {"listId": 42, "subscribers": [{"email": "ada@example.com"}, {"userId": "it-bob"}]}"""));
    }

    @Test
    void authenticationFailuresArePermanentWithAHintAndNoKey() {
        server.enqueue(json(401, "{\"msg\": \"Invalid API key\", \"code\": \"BadApiKey\"}"));
        server.enqueue(json(403, "{\"code\": \"Forbidden\"}"));

        assertThatThrownBy(() -> iterable.send(page(PageAction.ADD_MEMBERS, byEmail("ada"))))
                .isInstanceOf(PermanentDeliveryException.class)
                .hasMessageContaining("HTTP 401").hasMessageContaining("BadApiKey")
                .hasMessageContaining("check iterable.api.key")
                .hasMessageNotContaining(API_KEY);
        assertThatThrownBy(() -> iterable.send(page(PageAction.ADD_MEMBERS, byEmail("ada"))))
                .isInstanceOf(PermanentDeliveryException.class).hasMessageContaining("HTTP 403")
                .hasMessageContaining("check iterable.api.key");
    }

    @Test
    void aBadRequestIsPermanentAndItsMessageCarriesNoEmail() {
        server.enqueue(json(200, LISTS));
        server.enqueue(json(400, "{\"msg\": \"Invalid email: ada@example.com\", \"code\": \"BadParams\"}"));

        assertThatThrownBy(() -> iterable.send(page(PageAction.ADD_MEMBERS, byEmail("ada"))))
                .isInstanceOf(PermanentDeliveryException.class)
                .hasMessageContaining("HTTP 400").hasMessageContaining("BadParams")
                .hasMessageContaining("Invalid email: <email>")
                .hasMessageNotContaining("ada@example.com");
    }

    @Test
    void throttlingAndServerErrorsAreTransient() {
        server.enqueue(new MockResponse(429, Headers.of("Retry-After", "4"), ""));
        server.enqueue(json(200, LISTS));
        server.enqueue(json(503, "unavailable"));

        assertThatThrownBy(() -> iterable.send(page(PageAction.ADD_MEMBERS, byEmail("ada"))))
                .isInstanceOfSatisfying(TransientDeliveryException.class,
                        e -> assertThat(e.retryAfterMillis()).isEqualTo(4_000));
        assertThatThrownBy(() -> iterable.send(page(PageAction.ADD_MEMBERS, byEmail("ada"))))
                .isInstanceOf(TransientDeliveryException.class).hasMessageContaining("HTTP 503");
    }

    @Test
    void anUnparsableAnswerIsPermanent() {
        server.enqueue(json(200, "<html>maintenance</html>"));

        assertThatThrownBy(() -> iterable.send(page(PageAction.ADD_MEMBERS, byEmail("ada"))))
                .isInstanceOf(PermanentDeliveryException.class).hasMessageContaining("not JSON");
    }

    /** A cohort met only through removals (name unknown) still finds its list: the one named like mixpanel_*_1234. */
    @Test
    void aCohortWhoseNameIsUnknownFindsItsListByTheRestOfTheName() throws Exception {
        server.enqueue(json(200, "{\"lists\": [{\"id\": 9, \"name\": \"mixpanel_Old name_11234\"},"
                + " {\"id\": 42, \"name\": \"mixpanel_Old name_1234\"}, {\"id\": 50, \"name\": \"other_1234\"}]}"));
        server.enqueue(bulkOk(1));
        server.enqueue(bulkOk(1));
        CohortRef nameless = new CohortRef("1234", null, null, "p-9");

        iterable.send(new Page(nameless, PageAction.REMOVE_MEMBERS, "s", 1, 1, List.of(byEmail("ada"))));
        iterable.send(new Page(nameless, PageAction.ADD_MEMBERS, "s", 1, 1, List.of(byEmail("bob"))));

        assertThat(next().getUrl().encodedPath()).isEqualTo("/api/lists");
        assertThat(JSON.readTree(next().getBody().utf8()).path("listId").asLong()).isEqualTo(42);
        RecordedRequest subscribe = next();
        assertThat(subscribe.getUrl().encodedPath()).isEqualTo("/api/lists/subscribe");
        assertThat(JSON.readTree(subscribe.getBody().utf8()).path("listId").asLong()).isEqualTo(42);
    }

    @Test
    void aCohortWhoseNameIsUnknownAndHasNoListRejectsItsAddsAndSendsNoRemoves() throws Exception {
        server.enqueue(json(200, LISTS));
        server.enqueue(json(200, LISTS));
        CohortRef nameless = new CohortRef("999", null, null, "p-9");

        assertThat(iterable.send(new Page(nameless, PageAction.ADD_MEMBERS, "s", 1, 1, List.of(byEmail("ada"))))
                .rejections()).singleElement().extracting(Rejection::reason).asString()
                .contains("no Iterable list", "999");
        assertThat(iterable.send(new Page(nameless, PageAction.REMOVE_MEMBERS, "s", 1, 1, List.of(byEmail("ada"))))
                .rejections()).isEmpty();
        assertThat(server.getRequestCount()).as("two list lookups, no subscribe").isEqualTo(2);
    }

    @Test
    void anUnknownCohortNameRejectsTheMembersWhenTheTemplateCannotFindTheList() throws Exception {
        Page nameless = new Page(new CohortRef("77", null, null, null), PageAction.REMOVE_MEMBERS, "s", 1, 1,
                List.of(byEmail("ada")));
        // No ${cohort_id} after the name: lists of different cohorts cannot be told apart without it.
        IterableDestination byNameOnly = new IterableDestination(HttpClients.create(2_000),
                server.url("/").toString(), API_KEY, "cohort ${cohort_name}");
        try {
            assertThat(byNameOnly.send(nameless).rejections()).singleElement().extracting(Rejection::reason)
                    .asString().contains("name is unknown").contains("no name of it is remembered");
            assertThat(server.getRequestCount()).isZero();
        } finally {
            byNameOnly.close();
        }
    }

    @Test
    void aRefusedConnectionIsTransient() {
        String url = server.url("/").toString();
        server.close();
        IterableDestination unreachable = new IterableDestination(HttpClients.create(500), url, API_KEY,
                "mixpanel_${cohort_name}_${cohort_id}");

        assertThatThrownBy(() -> unreachable.send(page(PageAction.ADD_MEMBERS, byEmail("ada"))))
                .isInstanceOf(TransientDeliveryException.class);
        unreachable.close();
    }

    @Test
    void regionsMapToTheirHosts() {
        assertThat(IterableDestination.regionHost("us")).isEqualTo("https://api.iterable.com");
        assertThat(IterableDestination.regionHost("eu")).isEqualTo("https://api.eu.iterable.com");
        assertThatThrownBy(() -> IterableDestination.regionHost("apac")).hasMessageContaining("us, eu");
    }

    /**
     * The bodies are the JSON the tree-building code produced (byte for byte), with values that need escaping, a
     * numeric user id, a list id beyond a double's exact range and a member that is rejected before the call.
     */
    @Test
    void streamedBodiesAreTheJsonOfTheTreesTheyReplacedWithTrickyValues() throws Exception {
        CohortRef cohort = new CohortRef("1234", TrickyJson.text(9), null, "p-9");
        String list = "mixpanel_" + TrickyJson.text(9) + "_1234";
        long listId = 9_007_199_254_740_993L;
        ObjectNode lists = JSON.createObjectNode();
        lists.putArray("lists").addObject().put("id", listId).put("name", list);
        server.enqueue(json(200, "{\"lists\": []}"));
        server.enqueue(json(200, "{\"listId\": " + listId + "}"));
        server.enqueue(json(200, lists.toString()));
        server.enqueue(bulkOk(3));
        server.enqueue(bulkOk(3));
        List<MembershipChange> members = List.of(
                parser.parse(change(1234, "u-0").with("email", TrickyJson.text(0)).build()),
                parser.parse(change(1234, "u-1").with("email", TrickyJson.text(1))
                        .with("properties", Map.of("$iterable_user_id", TrickyJson.text(11))).build()),
                parser.parse(change(1234, "u-2").with("properties",
                        Map.of("$iterable_user_id", 12_345_678_901_234_567L)).build()),
                parser.parse(change(1234, "u-3").build()));

        for (PageAction action : List.of(PageAction.ADD_MEMBERS, PageAction.REMOVE_MEMBERS)) {
            DeliveryResult result = iterable.send(new Page(cohort, action, "session-1", 1, 1, members));
            assertThat(result.rejections()).extracting(Rejection::member).containsExactly(members.get(3));
        }

        assertThat(next().getMethod()).isEqualTo("GET");
        ObjectNode create = JSON.createObjectNode().put("name", list);
        TrickyJson.assertSameJson(next().getBody().toByteArray(), create);
        assertThat(next().getMethod()).isEqualTo("GET");
        for (boolean subscribe : new boolean[] {true, false}) {
            ObjectNode reference = JSON.createObjectNode();
            ArrayNode subscribers = JSON.createArrayNode();
            subscribers.addObject().put("email", TrickyJson.text(0));
            ObjectNode byId = subscribers.addObject().put("userId", TrickyJson.text(11));
            ObjectNode numeric = subscribers.addObject().put("userId", "12345678901234567");
            if (subscribe) {
                byId.put("preferUserId", true);
                numeric.put("preferUserId", true);
            }
            reference.put("listId", listId);
            reference.set("subscribers", subscribers);
            RecordedRequest call = next();
            assertThat(call.getUrl().encodedPath()).isEqualTo(subscribe ? "/api/lists/subscribe"
                    : "/api/lists/unsubscribe");
            assertThat(call.getHeaders().get("Content-Type")).isEqualTo("application/json");
            byte[] body = call.getBody().toByteArray();
            TrickyJson.assertSameJson(body, reference);
            assertThat(JSON.readTree(body).at("/subscribers/0/email").asText()).isEqualTo(TrickyJson.text(0));
        }
    }

    @Test
    void concurrentPagesOfANewListCreateItOnce() throws Exception {
        CountDownLatch hold = new CountDownLatch(1);
        AtomicInteger lookups = new AtomicInteger();
        AtomicInteger creates = new AtomicInteger();
        List<String> subscribedTo = new CopyOnWriteArrayList<>();
        server.setDispatcher(new Dispatcher() {
            @Override
            public MockResponse dispatch(RecordedRequest request) throws InterruptedException {
                String path = request.getUrl().encodedPath();
                if ("GET".equals(request.getMethod()) && path.equals("/api/lists")) {
                    lookups.incrementAndGet();
                    hold.await(20, TimeUnit.SECONDS);
                    return json(200, creates.get() == 0 ? "{\"lists\": []}"
                            : "{\"lists\": [{\"id\": 99, \"name\": \"" + LIST + "\"}]}");
                }
                if (path.equals("/api/lists")) {
                    creates.incrementAndGet();
                    return json(200, "{\"listId\": 99}");
                }
                if (path.equals("/api/lists/subscribe")) {
                    try {
                        subscribedTo.add(JSON.readTree(request.getBody().utf8()).path("listId").asText());
                    } catch (IOException e) {
                        return json(400, "{}");
                    }
                    return bulkOk(1);
                }
                return json(404, "{}");
            }
        });
        ExecutorService senders = Executors.newFixedThreadPool(2);
        try {
            Future<DeliveryResult> first = senders.submit(() -> iterable.send(page(PageAction.ADD_MEMBERS,
                    byEmail("ada"))));
            await().atMost(Duration.ofSeconds(20)).until(() -> lookups.get() == 1);
            AtomicReference<Thread> waiting = new AtomicReference<>();
            Future<DeliveryResult> second = senders.submit(() -> {
                waiting.set(Thread.currentThread());
                return iterable.send(page(PageAction.ADD_MEMBERS, byEmail("bob")));
            });
            // The second page waits for the first one's lookup instead of looking up (and creating) on its own.
            await().atMost(Duration.ofSeconds(20))
                    .until(() -> waiting.get() != null && waiting.get().getState() == Thread.State.WAITING);
            hold.countDown();

            assertThat(first.get(20, TimeUnit.SECONDS).rejections()).isEmpty();
            assertThat(second.get(20, TimeUnit.SECONDS).rejections()).isEmpty();
        } finally {
            hold.countDown();
            senders.shutdownNow();
        }
        assertThat(creates.get()).as("the list is created once").isEqualTo(1);
        assertThat(lookups.get()).as("looked up before and after creating it, then cached").isEqualTo(2);
        assertThat(subscribedTo).containsExactly("99", "99");
    }
}

package io.github.cohortsync.connect.destination.braze;

import static io.github.cohortsync.connect.Records.change;
import static io.github.cohortsync.connect.Records.tombstone;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.tuple;

import java.io.IOException;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;

import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

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
import io.github.cohortsync.connect.destination.TrickyJson;
import io.github.cohortsync.connect.http.HttpClients;
import io.github.cohortsync.connect.record.CohortRef;
import io.github.cohortsync.connect.record.MembershipChange;
import io.github.cohortsync.connect.record.RecordParser;
import mockwebserver3.MockResponse;
import mockwebserver3.MockWebServer;
import mockwebserver3.RecordedRequest;
import okhttp3.Headers;

class BrazeDestinationTest {
    private static final ObjectMapper JSON = new ObjectMapper();
    private static final CohortRef COHORT = new CohortRef("1234", "Power users ⚡", null, "p-9");
    private static final String API_KEY = "braze-k3y-s3cret";

    private final MockWebServer server = new MockWebServer();
    private final RecordParser parser = new RecordParser();
    private BrazeDestination braze;

    @BeforeEach
    void start() throws IOException {
        server.start();
        braze = destination("mixpanel_cohorts", "$braze_external_id", true);
    }

    @AfterEach
    void stop() {
        braze.close();
        server.close();
    }

    private BrazeDestination destination(String attribute, String idField, boolean existingOnly) {
        return new BrazeDestination(HttpClients.create(2_000), server.url("/braze").toString(), API_KEY, attribute,
                idField, existingOnly);
    }

    private static Page page(PageAction action, List<MembershipChange> members) {
        return new Page(COHORT, action, "session-1", 1, 1, members);
    }

    private static Page page(PageAction action, MembershipChange... members) {
        return page(action, List.of(members));
    }

    private MembershipChange withId(String user, String externalId) {
        return parser.parse(change(1234, user).with("email", user + "@example.com")
                .with("properties", Map.of("$braze_external_id", externalId)).build());
    }

    private MembershipChange withUserId(String user, String userId) {
        return parser.parse(change(1234, user).with("properties", Map.of("$user_id", userId)).build());
    }

    private static MockResponse answer(int code, String body) {
        return new MockResponse(code, Headers.of("Content-Type", "application/json"), body);
    }

    private static MockResponse success() {
        return answer(201, "{\"message\": \"success\", \"attributes_processed\": 1}");
    }

    private RecordedRequest take() throws InterruptedException {
        return server.takeRequest(5, TimeUnit.SECONDS);
    }

    @Test
    void addsTheCohortNameToTheArrayAttributeOfEachMember() throws Exception {
        server.enqueue(success());

        DeliveryResult result = braze.send(page(PageAction.ADD_MEMBERS, withId("user-1", "ext-1"),
                withUserId("user-2", "uid-2")));

        assertThat(result.rejections()).isEmpty();
        RecordedRequest request = take();
        assertThat(request.getMethod()).isEqualTo("POST");
        assertThat(request.getUrl().encodedPath()).isEqualTo("/braze/users/track");
        assertThat(request.getHeaders().get("Authorization")).isEqualTo("Bearer " + API_KEY);
        assertThat(request.getHeaders().get("Content-Type")).isEqualTo("application/json; charset=utf-8");
        assertThat(JSON.readTree(request.getBody().utf8())).isEqualTo(JSON.readTree("""
                {"attributes": [
                  {"external_id": "ext-1", "_update_existing_only": true,
                   "mixpanel_cohorts": {"add": ["Power users ⚡"]}},
                  {"external_id": "uid-2", "_update_existing_only": true,
                   "mixpanel_cohorts": {"add": ["Power users ⚡"]}}
                ]}"""));
    }

    @Test
    void removesUseRemoveAndTheConfiguredAttributeFieldAndFlag() throws Exception {
        braze.close();
        braze = destination("segments", "crm_id", false);
        server.enqueue(success());
        MembershipChange member = parser.parse(change(1234, "user-3").remove()
                .with("properties", Map.of("crm_id", 42, "$braze_external_id", "not-this")).build());

        braze.send(page(PageAction.REMOVE_MEMBERS, member));

        assertThat(JSON.readTree(take().getBody().utf8())).isEqualTo(JSON.readTree("""
                {"attributes": [{"external_id": "42", "_update_existing_only": false,
                                 "segments": {"remove": ["Power users ⚡"]}}]}"""));
    }

    @Test
    void aMemberWithoutABrazeIdIsRejectedAndNotSent() throws Exception {
        server.enqueue(success());
        MembershipChange gone = parser.parse(tombstone(1234, "gone").build());

        DeliveryResult result = braze.send(page(PageAction.REMOVE_MEMBERS, gone, withId("user-1", "ext-1")));

        assertThat(result.rejections()).singleElement().satisfies(r -> {
            assertThat(r.member()).isEqualTo(gone);
            assertThat(r.reason()).contains("no Braze user id");
        });
        assertThat(JSON.readTree(take().getBody().utf8()).path("attributes")).hasSize(1);
    }

    @Test
    void aCohortNameOverBrazesValueLimitRejectsTheMembersWithoutACall() throws Exception {
        MembershipChange member = withId("user-1", "ext-1");
        String limit = "✓".repeat(BrazeDestination.MAX_VALUE_CHARACTERS);
        server.enqueue(success());

        DeliveryResult atLimit = braze.send(new Page(new CohortRef("9", limit, null, null), PageAction.ADD_MEMBERS,
                "s", 1, 1, List.of(member)));
        DeliveryResult over = braze.send(new Page(new CohortRef("9", limit + "x", null, null), PageAction.ADD_MEMBERS,
                "s", 1, 1, List.of(member)));

        assertThat(atLimit.rejections()).isEmpty();
        assertThat(over.rejections()).singleElement().satisfies(r -> assertThat(r.reason())
                .contains("256 characters, over Braze's limit of 255"));
        assertThat(server.getRequestCount()).isEqualTo(1);
    }

    @Test
    void aPageOfMembersWithoutIdsMakesNoCall() throws Exception {
        DeliveryResult result = braze.send(page(PageAction.ADD_MEMBERS, parser.parse(change(1234, "anon").build())));

        assertThat(result.rejections()).hasSize(1);
        assertThat(server.getRequestCount()).isZero();
    }

    @Test
    void aFullPageIs75AttributeObjectsInOneRequest() throws Exception {
        List<MembershipChange> members = new ArrayList<>();
        for (int i = 0; i < BrazeDestination.MAX_ATTRIBUTES_PER_REQUEST; i++) {
            members.add(withId("u-" + i, "ext-" + i));
        }
        server.enqueue(success());

        braze.send(page(PageAction.ADD_MEMBERS, members));

        assertThat(JSON.readTree(take().getBody().utf8()).path("attributes")).hasSize(75);
        assertThat(server.getRequestCount()).isEqualTo(1);
        members.add(withId("u-75", "ext-75"));
        assertThatThrownBy(() -> braze.send(page(PageAction.ADD_MEMBERS, members)))
                .isInstanceOf(IllegalArgumentException.class);
    }

    /**
     * An account that takes fewer objects per request (50 on some plans) answers "400 Max Input Length Exceeded"
     * (braze-docs errors.md): the request is split in halves, each sent again, and later requests stay at the half.
     */
    @Test
    void tooManyObjectsSplitsTheRequestAndLaterRequestsStaySmall() throws Exception {
        server.setDispatcher(new mockwebserver3.Dispatcher() {
            @Override
            public MockResponse dispatch(RecordedRequest request) {
                try {
                    int objects = JSON.readTree(request.getBody().utf8()).path("attributes").size();
                    return objects > 50 ? answer(400, "{\"message\": \"Max Input Length Exceeded\"}") : success();
                } catch (IOException e) {
                    return answer(500, "{}");
                }
            }
        });
        List<MembershipChange> members = new java.util.ArrayList<>();
        for (int i = 0; i < 75; i++) {
            members.add(withId("user-" + i, "ext-" + i));
        }

        assertThat(braze.send(page(PageAction.ADD_MEMBERS, members)).rejections()).isEmpty();
        assertThat(braze.send(page(PageAction.REMOVE_MEMBERS, members)).rejections()).isEmpty();

        List<Integer> sizes = new java.util.ArrayList<>();
        java.util.Set<String> removed = new java.util.TreeSet<>();
        for (int i = server.getRequestCount(); i > 0; i--) {
            JsonNode attributes = JSON.readTree(take().getBody().utf8()).path("attributes");
            sizes.add(attributes.size());
            attributes.forEach(a -> {
                if (a.path("mixpanel_cohorts").has("remove")) {
                    removed.add(a.path("external_id").asText());
                }
            });
        }
        assertThat(sizes).containsExactly(75, 37, 38, 37, 37, 1);
        assertThat(removed).hasSize(75);
    }

    @Test
    void tooManyObjectsForASingleObjectIsPermanentAndAContentRefusal() {
        server.enqueue(answer(400, "{\"message\": \"Max Input Length Exceeded\"}"));

        // A content refusal: the sync's split retries reject that member alone (SplittingDestination).
        assertThatThrownBy(() -> braze.send(page(PageAction.ADD_MEMBERS, withId("user-1", "ext-1"))))
                .isInstanceOf(ContentRejectedException.class).hasMessageContaining("Max Input Length Exceeded");
    }

    /**
     * Braze keeps an array attribute to its maximum length (25 by default) and silently drops the oldest values: the
     * destination counts users it put in more cohorts than braze.attribute.max.length, warns once per cohort sync
     * with their external ids only, and stops counting a user who leaves or whom Braze refused.
     */
    @Test
    void usersPutInMoreCohortsThanTheAttributeKeepsAreCountedAndWarnedByIdOnce() throws Exception {
        BrazeDestination counting = new BrazeDestination(HttpClients.create(2_000), server.url("/braze").toString(),
                API_KEY, "mixpanel_cohorts", "$braze_external_id", true, 2);
        org.apache.log4j.Logger root = org.apache.log4j.Logger.getRootLogger();
        io.github.cohortsync.connect.LogCapture logs = new io.github.cohortsync.connect.LogCapture();
        root.addAppender(logs);
        try {
            for (int i = 0; i < 6; i++) {
                server.enqueue(success());
            }
            server.enqueue(answer(201, "{\"message\": \"success\", \"errors\": [{\"type\": \"bad id\","
                    + " \"input_array\": \"attributes\", \"index\": 0}]}"));
            MembershipChange ada = withId("user-1", "ext-ada");
            MembershipChange bob = withId("user-2", "ext-bob");
            for (String cohort : List.of("1", "2", "3")) {
                CohortRef ref = new CohortRef(cohort, "Cohort " + cohort, null, "p-9");
                counting.send(new Page(ref, PageAction.ADD_MEMBERS, "session-" + cohort, 1, 2, List.of(ada)));
                counting.send(new Page(ref, PageAction.ADD_MEMBERS, "session-" + cohort, 2, 2, List.of(ada)));
            }
            assertThat(counting.usersOverAttributeMaxLength()).isEqualTo(1);
            // Bob's third cohort is refused by Braze: he is not counted in it.
            counting.send(new Page(new CohortRef("3", "Cohort 3", null, "p-9"), PageAction.ADD_MEMBERS, "s-b", 1, 1,
                    List.of(bob)));
            assertThat(counting.usersOverAttributeMaxLength()).isEqualTo(1);

            assertThat(logs.lines).filteredOn(l -> l != null && l.contains("braze.attribute.max.length"))
                    .singleElement().satisfies(l -> assertThat(l).contains("ext-ada", "more than 2 cohorts")
                            .doesNotContain("@example.com"));

            server.enqueue(success());
            counting.send(new Page(new CohortRef("2", "Cohort 2", null, "p-9"), PageAction.REMOVE_MEMBERS, "s-r", 1,
                    1, List.of(ada)));
            assertThat(counting.usersOverAttributeMaxLength()).isZero();
        } finally {
            root.removeAppender(logs);
            counting.close();
        }
    }

    @Test
    void itemErrorsRejectExactlyTheMembersAtTheirIndex() throws Exception {
        // The member without an id is not sent, so index 1 of the request is user-3.
        server.enqueue(answer(201, """
                {"message": "success", "attributes_processed": 1, "errors": [
                  {"type": "'external_id' is invalid user-3@example.com", "input_array": "attributes", "index": 1},
                  {"type": "something global"}
                ]}"""));
        MembershipChange three = withId("user-3", "ext-3");

        DeliveryResult result = braze.send(page(PageAction.ADD_MEMBERS, withId("user-1", "ext-1"),
                parser.parse(change(1234, "anon").build()), three));

        assertThat(result.rejections()).extracting(r -> r.member().distinctId())
                .containsExactlyInAnyOrder("anon", "user-3");
        assertThat(result.rejections()).filteredOn(r -> r.member().equals(three)).singleElement()
                .satisfies(r -> assertThat(r.reason()).contains("'external_id' is invalid")
                        .doesNotContain("user-3@example.com"));
        assertThat(braze.unattributedItemErrors()).as("the error without an index").isEqualTo(1);
    }

    @Test
    void itemErrorsThatNameNoObjectOfTheRequestAreCountedNotRejected() throws Exception {
        server.enqueue(answer(201, """
                {"message": "success", "attributes_processed": 2, "errors": [
                  {"type": "'time' is not valid", "input_array": "events", "index": 0},
                  {"type": "'external_id' is not valid", "input_array": "attributes", "index": 2},
                  {"type": "'external_id' is not valid", "input_array": "attributes", "index": -1},
                  "a bare string"
                ]}"""));

        DeliveryResult result = braze.send(page(PageAction.ADD_MEMBERS, withId("user-1", "ext-1"),
                withId("user-2", "ext-2")));

        assertThat(result.rejections()).isEmpty();
        assertThat(braze.unattributedItemErrors()).isEqualTo(4);
    }

    @Test
    void aRefusalNamingEveryObjectRejectsEachMemberInsteadOfFailingTheSync() throws Exception {
        server.enqueue(answer(400, """
                {"message": "Valid data must be provided in the 'attributes', 'events', or 'purchases' fields.",
                 "errors": [
                  {"type": "'external_id' is not valid", "input_array": "attributes", "index": 0},
                  {"type": "'mixpanel_cohorts' is not valid", "input_array": "attributes", "index": 1}
                ]}"""));
        MembershipChange one = withId("user-1", "ext-1");
        MembershipChange two = withId("user-2", "ext-2");

        DeliveryResult result = braze.send(page(PageAction.ADD_MEMBERS, one, two));

        assertThat(result.rejections()).extracting(r -> r.member(), r -> r.reason()).containsExactly(
                tuple(one, "Braze did not apply the attribute: 'external_id' is not valid"),
                tuple(two,
                        "Braze did not apply the attribute: 'mixpanel_cohorts' is not valid"));
    }

    @Test
    void aRefusalNamingOnlySomeObjectsFailsTheCallPermanently() {
        server.enqueue(answer(400, """
                {"message": "Valid data must be provided in the 'attributes', 'events', or 'purchases' fields.",
                 "errors": [{"type": "'external_id' is not valid", "input_array": "attributes", "index": 0}]}"""));
        server.enqueue(answer(200, """
                {"message": "Invalid request",
                 "errors": [{"type": "'external_id' is not valid", "input_array": "attributes", "index": 0}]}"""));

        assertThatThrownBy(() -> braze.send(page(PageAction.ADD_MEMBERS, withId("user-1", "ext-1"),
                withId("user-2", "ext-2")))).isInstanceOf(PermanentDeliveryException.class)
                .hasMessageContaining("HTTP 400");
        assertThatThrownBy(() -> braze.send(page(PageAction.ADD_MEMBERS, withId("user-1", "ext-1"),
                withId("user-2", "ext-2")))).isInstanceOf(PermanentDeliveryException.class)
                .hasMessageContaining("fatal error");
    }

    @Test
    void aFatalMessageInA2xxAnswerIsPermanent() {
        server.enqueue(answer(200, "{\"message\": \"Invalid request\"}"));

        assertThatThrownBy(() -> braze.send(page(PageAction.ADD_MEMBERS, withId("user-1", "ext-1"))))
                .isInstanceOf(PermanentDeliveryException.class).hasMessageContaining("Invalid request");
    }

    @Test
    void badRequestsArePermanent() {
        server.enqueue(answer(400, "{\"message\": \"Bad attributes\", \"errors\": [\"x\"]}"));

        assertThatThrownBy(() -> braze.send(page(PageAction.ADD_MEMBERS, withId("user-1", "ext-1"))))
                .isInstanceOf(PermanentDeliveryException.class)
                .hasMessageContaining("HTTP 400")
                .hasMessageContaining("Bad attributes")
                .hasMessageContaining("add_members page 1/1 of cohort 1234");
    }

    @Test
    void authenticationFailuresArePermanentWithAHintAndNoKey() {
        server.enqueue(answer(401, "{\"message\": \"Invalid API key: " + API_KEY + "\"}"));
        server.enqueue(answer(403, ""));

        assertThatThrownBy(() -> braze.send(page(PageAction.ADD_MEMBERS, withId("user-1", "ext-1"))))
                .isInstanceOf(PermanentDeliveryException.class)
                .hasMessageContaining("HTTP 401")
                .hasMessageContaining("check braze.api.key")
                .hasMessageNotContaining(API_KEY);
        assertThatThrownBy(() -> braze.send(page(PageAction.ADD_MEMBERS, withId("user-1", "ext-1"))))
                .isInstanceOf(PermanentDeliveryException.class)
                .hasMessageContaining("HTTP 403").hasMessageContaining("check braze.api.key");
    }

    @Test
    void throttlingAndServerErrorsAreTransient() {
        server.enqueue(new MockResponse(429, Headers.of("Retry-After", "2"), ""));
        server.enqueue(answer(500, "{\"message\": \"oops\"}"));

        assertThatThrownBy(() -> braze.send(page(PageAction.ADD_MEMBERS, withId("user-1", "ext-1"))))
                .isInstanceOfSatisfying(TransientDeliveryException.class,
                        e -> assertThat(e.retryAfterMillis()).isEqualTo(2_000));
        assertThatThrownBy(() -> braze.send(page(PageAction.ADD_MEMBERS, withId("user-1", "ext-1"))))
                .isInstanceOf(TransientDeliveryException.class).hasMessageContaining("HTTP 500");
    }

    @Test
    void aRefusedConnectionIsTransient() {
        String url = server.url("/").toString();
        server.close();
        BrazeDestination unreachable = new BrazeDestination(HttpClients.create(500), url, API_KEY, "mixpanel_cohorts",
                "$braze_external_id", true);

        assertThatThrownBy(() -> unreachable.send(page(PageAction.ADD_MEMBERS, withId("user-1", "ext-1"))))
                .isInstanceOf(TransientDeliveryException.class).hasMessageContaining("/users/track");
        unreachable.close();
    }

    @Test
    void instancesMapToTheirHosts() {
        assertThat(BrazeKeys.baseUrl("US-01")).isEqualTo("https://rest.iad-01.braze.com");
        assertThat(BrazeKeys.baseUrl("us-05")).isEqualTo("https://rest.iad-05.braze.com");
        assertThat(BrazeKeys.baseUrl("US-08")).isEqualTo("https://rest.iad-08.braze.com");
        assertThat(BrazeKeys.baseUrl("EU-01")).isEqualTo("https://rest.fra-01.braze.eu");
        assertThat(BrazeKeys.baseUrl("EU-02")).isEqualTo("https://rest.fra-02.braze.eu");
        assertThat(BrazeKeys.baseUrl("AU-01")).isEqualTo("https://rest.au-01.braze.com");
        assertThat(BrazeKeys.HOSTS.names()).hasSize(11);
        assertThatThrownBy(() -> BrazeKeys.baseUrl("US-09")).hasMessageContaining("US-01")
                .hasMessageContaining("AU-01");
    }

    /**
     * The body is the JSON the tree-building code produced (byte for byte through Jackson's UTF-8 writer; as JSON,
     * the same as the tree's text it sent), with values that need escaping in the ids, the attribute's name and the
     * cohort's name, a numeric id, the $user_id fallback and a member rejected before the call (the indexes of
     * the attribute objects must still match the members sent).
     */
    @Test
    void streamedBodyIsTheJsonOfTheTreeItReplacedWithTrickyValues() throws Exception {
        braze.close();
        String attribute = "cohorts \"x\" ✓ \\ 😀";
        braze = destination(attribute, "$braze_external_id", false);
        CohortRef cohort = new CohortRef("1234", TrickyJson.text(9), null, "p-9");
        List<MembershipChange> members = List.of(
                withId("u-0", TrickyJson.text(0)),
                parser.parse(tombstone(1234, "u-1").build()),
                parser.parse(change(1234, "u-2").with("properties", Map.of("$braze_external_id",
                        12_345_678_901_234L)).build()),
                withUserId("u-3", TrickyJson.text(3)));

        for (PageAction action : List.of(PageAction.ADD_MEMBERS, PageAction.REMOVE_MEMBERS)) {
            server.enqueue(success());
            DeliveryResult result = braze.send(new Page(cohort, action, "session-1", 1, 1, members));
            assertThat(result.rejections()).extracting(r -> r.member()).containsExactly(members.get(1));

            ObjectNode reference = JSON.createObjectNode();
            ArrayNode attributes = reference.putArray("attributes");
            for (String id : List.of(TrickyJson.text(0), "12345678901234", TrickyJson.text(3))) {
                ObjectNode object = attributes.addObject();
                object.put("external_id", id);
                object.put("_update_existing_only", false);
                object.putObject(attribute).putArray(action == PageAction.REMOVE_MEMBERS ? "remove" : "add")
                        .add(TrickyJson.text(9));
            }
            RecordedRequest request = take();
            assertThat(request.getHeaders().get("Content-Type")).isEqualTo("application/json; charset=utf-8");
            byte[] body = request.getBody().toByteArray();
            TrickyJson.assertSameJson(body, reference);
            assertThat(JSON.readTree(body).at("/attributes/0/external_id").asText()).isEqualTo(TrickyJson.text(0));
        }
    }
}

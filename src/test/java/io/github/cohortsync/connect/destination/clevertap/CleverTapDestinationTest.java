package io.github.cohortsync.connect.destination.clevertap;

import static io.github.cohortsync.connect.Records.change;
import static io.github.cohortsync.connect.Records.tombstone;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

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

class CleverTapDestinationTest {
    private static final ObjectMapper JSON = new ObjectMapper();
    private static final CohortRef COHORT = new CohortRef("1234", "Power users ⚡", null, "p-9");
    private static final String PASSCODE = "PASS-s3cret";

    private final MockWebServer server = new MockWebServer();
    private final RecordParser parser = new RecordParser();
    private CleverTapDestination clevertap;

    @BeforeEach
    void start() throws IOException {
        server.start();
        clevertap = destination(CleverTapDestination.MAX_RECORDS_PER_CALL);
    }

    @AfterEach
    void stop() {
        clevertap.close();
        server.close();
    }

    private CleverTapDestination destination(int maxRecords) {
        return new CleverTapDestination(HttpClients.create(2_000), server.url("/ct/").toString(), "ACC-1", PASSCODE,
                maxRecords);
    }

    private static Page page(PageAction action, List<MembershipChange> members) {
        return new Page(COHORT, action, "session-1", 1, 1, members);
    }

    private static Page page(PageAction action, MembershipChange... members) {
        return page(action, List.of(members));
    }

    /** Ada: email and phone known, a CleverTap id in her properties, changed at 2024-01-02T03:04:05.678Z. */
    private MembershipChange ada() {
        return parser.parse(change(1234, "user-1").with("email", "ada@example.com")
                .with("phone_number", "+15550100").with("timestamp", "2024-01-02T03:04:05.678Z")
                .with("properties", Map.of("$CleverTap_user_id", "ct-ada", "plan", "pro")).build());
    }

    /** Bob: no email, no phone, no CleverTap id. */
    private MembershipChange bob() {
        return parser.parse(change(1234, "user-2").with("timestamp", 1_704_164_645_000L).build());
    }

    private MembershipChange member(int i, boolean withEmail) {
        return parser.parse((withEmail ? change(1234, "u-" + i).with("email", "u" + i + "@example.com")
                : change(1234, "u-" + i)).at(0, i).build());
    }

    private static MockResponse answer(int code, String body) {
        return new MockResponse(code, Headers.of("Content-Type", "application/json"), body);
    }

    private static MockResponse success(int processed) {
        return answer(200, "{\"status\": \"success\", \"processed\": " + processed + ", \"unprocessed\": []}");
    }

    private RecordedRequest take() throws InterruptedException {
        return server.takeRequest(5, TimeUnit.SECONDS);
    }

    @Test
    void uploadsOneEventPerMemberAndAProfileWhenEmailOrPhoneIsKnown() throws Exception {
        server.enqueue(success(3));

        DeliveryResult result = clevertap.send(page(PageAction.ADD_MEMBERS, ada(), bob()));

        assertThat(result.rejections()).isEmpty();
        RecordedRequest request = take();
        assertThat(request.getMethod()).isEqualTo("POST");
        assertThat(request.getUrl().encodedPath()).isEqualTo("/ct/1/upload");
        assertThat(request.getHeaders().get("X-CleverTap-Account-Id")).isEqualTo("ACC-1");
        assertThat(request.getHeaders().get("X-CleverTap-Passcode")).isEqualTo(PASSCODE);
        assertThat(request.getHeaders().get("Content-Type")).isEqualTo("application/json; charset=utf-8");
        assertThat(JSON.readTree(request.getBody().utf8())).isEqualTo(JSON.readTree("""
                {"d": [
                  {"identity": "ct-ada", "type": "event", "evtName": "Partner Sync",
                   "evtData": {"Partner Segment Name": "Power users ⚡", "Action": "Added",
                               "Partner Segment ID": "1234", "CT Source": "Mixpanel", "Partner Name": "Mixpanel"},
                   "ts": 1704164645},
                  {"identity": "ct-ada", "type": "profile",
                   "profileData": {"Email": "ada@example.com", "Phone": "+15550100"}},
                  {"identity": "user-2", "type": "event", "evtName": "Partner Sync",
                   "evtData": {"Partner Segment Name": "Power users ⚡", "Action": "Added",
                               "Partner Segment ID": "1234", "CT Source": "Mixpanel", "Partner Name": "Mixpanel"},
                   "ts": 1704164645}
                ]}"""));
    }

    @Test
    void removesAreRemovedEventsAndTombstonesUseTheDistinctId() throws Exception {
        server.enqueue(success(1));

        clevertap.send(page(PageAction.REMOVE_MEMBERS, parser.parse(tombstone(1234, "gone").build())));

        JsonNode d = JSON.readTree(take().getBody().utf8()).path("d");
        assertThat(d).hasSize(1);
        assertThat(d.get(0).path("identity").asText()).isEqualTo("gone");
        assertThat(d.get(0).path("evtData").path("Action").asText()).isEqualTo("Removed");
        // A tombstone carries no timestamp of its own: the record's (1_700_000_000_000 ms).
        assertThat(d.get(0).path("ts").asLong()).isEqualTo(1_700_000_000L);
    }

    @Test
    void membersOfACohortWhoseNameIsUnknownAreRejectedWithoutACall() throws Exception {
        MembershipChange gone = parser.parse(tombstone(777, "gone").build());
        Page page = new Page(new CohortRef("777", null, null, null), PageAction.REMOVE_MEMBERS, "s", 1, 1,
                List.of(gone));

        DeliveryResult result = clevertap.send(page);

        assertThat(result.rejections()).singleElement().satisfies(r -> {
            assertThat(r.member()).isEqualTo(gone);
            assertThat(r.reason()).contains("name of cohort 777 is unknown").contains("Partner Segment Name")
                    .contains("no name of it is remembered");
        });
        assertThat(server.getRequestCount()).isZero();
    }

    /** Event property values are at most 512 bytes: a cohort name over it rejects the page's members unsent. */
    @Test
    void aCohortNameOverTheEventValueLimitRejectsEveryMemberWithoutACall() throws Exception {
        CohortRef longName = new CohortRef("1234", "é".repeat(257), null, "p-9"); // 514 bytes
        Page page = new Page(longName, PageAction.ADD_MEMBERS, "session-1", 1, 1, List.of(ada(), bob()));

        DeliveryResult result = clevertap.send(page);

        assertThat(result.rejections()).hasSize(2).allSatisfy(r -> assertThat(r.reason())
                .contains("Partner Segment Name", "514 bytes", "512 bytes"));
        assertThat(server.getRequestCount()).isZero();
    }

    /** Profile values are at most 512 bytes: a member whose email is longer is rejected, the others sent. */
    @Test
    void aMemberWhoseEmailIsOverTheProfileValueLimitIsRejectedAndTheOthersSent() throws Exception {
        MembershipChange huge = parser.parse(change(1234, "user-3").with("email", "x".repeat(510) + "@example.com")
                .build());
        server.enqueue(success(3));

        DeliveryResult result = clevertap.send(page(PageAction.ADD_MEMBERS, ada(), huge, bob()));

        assertThat(result.rejections()).singleElement().satisfies(r -> {
            assertThat(r.member()).isEqualTo(huge);
            assertThat(r.reason()).contains("email is 522 bytes").doesNotContain("@");
        });
        JsonNode d = JSON.readTree(take().getBody().utf8()).path("d");
        assertThat(d).hasSize(3).noneMatch(record -> record.path("identity").asText().equals("user-3"));
    }

    @Test
    void aFullPageOfTheDefaultBatchSizeIsOneCallOfAtMost1000Records() throws Exception {
        List<MembershipChange> members = new ArrayList<>();
        for (int i = 0; i < CleverTapDestination.MAX_MEMBERS_PER_PAGE; i++) {
            members.add(member(i, true));
        }
        server.enqueue(success(1000));

        clevertap.send(page(PageAction.ADD_MEMBERS, members));

        assertThat(JSON.readTree(take().getBody().utf8()).path("d")).hasSize(1000);
        assertThat(server.getRequestCount()).isEqualTo(1);
        assertThat(CleverTapDestination.MAX_MEMBERS_PER_PAGE * 2).isLessThanOrEqualTo(1000);
    }

    @Test
    void aPageOverTheRecordLimitIsSplitDeterministicallyWithoutSplittingAMember() throws Exception {
        clevertap.close();
        clevertap = destination(5);
        // Records per member: 2, 1, 2, 2, 1 -> calls [m0 m1 m2] (5 records), [m3 m4] (3 records)
        List<MembershipChange> members = List.of(member(0, true), member(1, false), member(2, true),
                member(3, true), member(4, false));
        server.enqueue(success(5));
        server.enqueue(success(3));

        clevertap.send(page(PageAction.ADD_MEMBERS, members));

        List<List<String>> identities = new ArrayList<>();
        for (int i = 0; i < 2; i++) {
            JsonNode d = JSON.readTree(take().getBody().utf8()).path("d");
            assertThat(d.size()).isLessThanOrEqualTo(5);
            List<String> ids = new ArrayList<>();
            d.forEach(r -> ids.add(r.path("type").asText().charAt(0) + ":" + r.path("identity").asText()));
            identities.add(ids);
        }
        assertThat(identities).containsExactly(
                List.of("e:u-0", "p:u-0", "e:u-1", "e:u-2", "p:u-2"),
                List.of("e:u-3", "p:u-3", "e:u-4"));
        assertThat(server.getRequestCount()).isEqualTo(2);
    }

    @Test
    void unprocessedRecordsRejectExactlyTheirMembersWithoutPersonalData() throws Exception {
        server.enqueue(answer(200, """
                {"status": "partial", "processed": 2, "unprocessed": [
                  {"status": "fail", "code": 524, "error": "Invalid email ada@example.com",
                   "record": {"identity": "ct-ada", "type": "profile",
                              "profileData": {"Email": "ada@example.com", "Phone": "+15550100"}}},
                  {"status": "fail", "code": 509, "error": "Event name is mandatory",
                   "record": {"identity": "ct-ada", "type": "event"}}
                ]}"""));
        MembershipChange ada = ada();

        DeliveryResult result = clevertap.send(page(PageAction.ADD_MEMBERS, ada, bob()));

        assertThat(result.rejections()).singleElement().satisfies(r -> {
            assertThat(r.member()).isEqualTo(ada);
            assertThat(r.reason()).contains("profile record", "code 524", "event record", "code 509")
                    .doesNotContain("ada@example.com").doesNotContain("+15550100");
        });
    }

    @Test
    void anUnprocessedRecordOfNoMemberRejectsNobody() throws Exception {
        server.enqueue(answer(200, "{\"status\": \"partial\", \"processed\": 1, \"unprocessed\":"
                + " [{\"status\": \"fail\", \"code\": 1, \"error\": \"x\", \"record\": {\"identity\": \"nobody\"}}]}"));

        assertThat(clevertap.send(page(PageAction.ADD_MEMBERS, bob())).rejections()).isEmpty();
    }

    @Test
    void aFailAnswerWithEveryRecordUnprocessedRejectsEveryMember() throws Exception {
        server.enqueue(answer(200, "{\"status\": \"fail\", \"processed\": 0, \"unprocessed\": ["
                + "{\"status\": \"fail\", \"code\": 1, \"error\": \"bad\", \"record\": {\"identity\": \"user-2\","
                + " \"type\": \"event\"}}]}"));

        assertThat(clevertap.send(page(PageAction.ADD_MEMBERS, bob())).rejections())
                .extracting(r -> r.member().distinctId()).containsExactly("user-2");
    }

    @Test
    void aFailAnswerWithoutRecordsIsPermanent() {
        server.enqueue(answer(200, "{\"status\": \"fail\", \"error\": \"Account not enabled\", \"code\": 403}"));

        assertThatThrownBy(() -> clevertap.send(page(PageAction.ADD_MEMBERS, bob())))
                .isInstanceOf(PermanentDeliveryException.class)
                .hasMessageContaining("status fail")
                .hasMessageContaining("Account not enabled");
    }

    @Test
    void aRejectedRequestIsPermanentAndNeverEchoesRecords() {
        server.enqueue(answer(400, "{\"status\": \"fail\", \"error\": \"Payload too large\", \"code\": 400,"
                + " \"unprocessed\": [{\"record\": {\"profileData\": {\"Email\": \"ada@example.com\"}}}]}"));

        assertThatThrownBy(() -> clevertap.send(page(PageAction.ADD_MEMBERS, ada())))
                .isInstanceOf(PermanentDeliveryException.class)
                .hasMessageContaining("HTTP 400")
                .hasMessageContaining("Payload too large")
                .hasMessageContaining("add_members page 1/1 of cohort 1234")
                .hasMessageNotContaining("ada@example.com");
    }

    @Test
    void authenticationFailuresArePermanentWithAHintAndNoPasscode() {
        server.enqueue(answer(401, "{\"status\": \"fail\", \"error\": \"Invalid passcode " + PASSCODE
                + "\", \"code\": 401}"));
        server.enqueue(answer(403, ""));

        assertThatThrownBy(() -> clevertap.send(page(PageAction.ADD_MEMBERS, bob())))
                .isInstanceOf(PermanentDeliveryException.class)
                .hasMessageContaining("HTTP 401")
                .hasMessageContaining("check clevertap.account.id and clevertap.passcode")
                .hasMessageNotContaining(PASSCODE);
        assertThatThrownBy(() -> clevertap.send(page(PageAction.ADD_MEMBERS, bob())))
                .isInstanceOf(PermanentDeliveryException.class)
                .hasMessageContaining("HTTP 403")
                .hasMessageContaining("check clevertap.account.id and clevertap.passcode");
    }

    @Test
    void throttlingAndServerErrorsAreTransient() {
        server.enqueue(new MockResponse(429, Headers.of("Retry-After", "3"), ""));
        server.enqueue(answer(503, "down"));

        assertThatThrownBy(() -> clevertap.send(page(PageAction.ADD_MEMBERS, bob())))
                .isInstanceOfSatisfying(TransientDeliveryException.class,
                        e -> assertThat(e.retryAfterMillis()).isEqualTo(3_000))
                .hasMessageContaining("HTTP 429");
        assertThatThrownBy(() -> clevertap.send(page(PageAction.ADD_MEMBERS, bob())))
                .isInstanceOfSatisfying(TransientDeliveryException.class,
                        e -> assertThat(e.retryAfterMillis()).isEqualTo(-1))
                .hasMessageContaining("HTTP 503");
    }

    @Test
    void aRefusedConnectionIsTransient() {
        String url = server.url("/").toString();
        server.close();
        CleverTapDestination unreachable = new CleverTapDestination(HttpClients.create(500), url, "A", "P", 1000);

        assertThatThrownBy(() -> unreachable.send(page(PageAction.ADD_MEMBERS, bob())))
                .isInstanceOf(TransientDeliveryException.class);
        unreachable.close();
    }

    @Test
    void regionsMapToTheirHosts() {
        assertThat(CleverTapKeys.baseUrl("eu1")).isEqualTo("https://api.clevertap.com");
        assertThat(CleverTapKeys.baseUrl("in1")).isEqualTo("https://in1.api.clevertap.com");
        assertThat(CleverTapKeys.baseUrl("sg1")).isEqualTo("https://sg1.api.clevertap.com");
        assertThat(CleverTapKeys.baseUrl("US1")).isEqualTo("https://us1.api.clevertap.com");
        assertThat(CleverTapKeys.baseUrl("aps3")).isEqualTo("https://aps3.api.clevertap.com");
        assertThat(CleverTapKeys.baseUrl("mec1")).isEqualTo("https://mec1.api.clevertap.com");
        assertThatThrownBy(() -> CleverTapKeys.baseUrl("eu2")).hasMessageContaining("eu1, in1, sg1, us1, aps3, mec1");
    }

    /**
     * The body is the JSON the tree-building code produced (byte for byte through Jackson's UTF-8 writer; as JSON,
     * the same as the tree's text it sent), with values that need escaping, timestamps around the second and the
     * three shapes of a member's records (email and phone, phone only, neither).
     */
    @Test
    void streamedBodyIsTheJsonOfTheTreeItReplacedWithTrickyValues() throws Exception {
        CohortRef cohort = new CohortRef("1234", TrickyJson.text(9), null, "p-9");
        List<MembershipChange> members = List.of(
                parser.parse(change(1234, "u-0").with("email", TrickyJson.text(0))
                        .with("phone_number", TrickyJson.text(1)).with("timestamp", 4_102_444_800_999L)
                        .with("properties", Map.of("$CleverTap_user_id", TrickyJson.text(2))).build()),
                parser.parse(change(1234, TrickyJson.text(3)).with("phone_number", "+49 30 1234567")
                        .with("timestamp", 999L).build()),
                parser.parse(change(1234, "u-2").with("email", "  ").with("timestamp", 1_000L)
                        .with("properties", Map.of("$CleverTap_user_id", 42)).build()));

        for (PageAction action : List.of(PageAction.ADD_MEMBERS, PageAction.REMOVE_MEMBERS)) {
            server.enqueue(success(5));
            assertThat(clevertap.send(new Page(cohort, action, "session-1", 1, 1, members)).rejections()).isEmpty();

            ObjectNode reference = JSON.createObjectNode();
            ArrayNode d = reference.putArray("d");
            String actionName = action == PageAction.REMOVE_MEMBERS ? "Removed" : "Added";
            for (MembershipChange member : members) {
                String identity = CleverTapDestination.identity(member);
                ObjectNode event = d.addObject();
                event.put("identity", identity);
                event.put("type", "event");
                event.put("evtName", "Partner Sync");
                ObjectNode data = event.putObject("evtData");
                data.put("Partner Segment Name", TrickyJson.text(9));
                data.put("Action", actionName);
                data.put("Partner Segment ID", "1234");
                data.put("CT Source", "Mixpanel");
                data.put("Partner Name", "Mixpanel");
                event.put("ts", Math.floorDiv(member.timestampMillis(), 1000L));
                boolean email = member.email() != null && !member.email().isBlank();
                boolean phone = member.phoneNumber() != null && !member.phoneNumber().isBlank();
                if (email || phone) {
                    ObjectNode profile = d.addObject();
                    profile.put("identity", identity);
                    profile.put("type", "profile");
                    ObjectNode profileData = profile.putObject("profileData");
                    if (email) {
                        profileData.put("Email", member.email());
                    }
                    if (phone) {
                        profileData.put("Phone", member.phoneNumber());
                    }
                }
            }
            byte[] body = take().getBody().toByteArray();
            TrickyJson.assertSameJson(body, reference);
            JsonNode sent = JSON.readTree(body);
            assertThat(sent.path("d")).hasSize(5);
            assertThat(sent.at("/d/0/identity").asText()).isEqualTo(TrickyJson.text(2));
            assertThat(sent.at("/d/0/ts").asLong()).isEqualTo(4_102_444_800L);
            assertThat(sent.at("/d/1/profileData/Email").asText()).isEqualTo(TrickyJson.text(0));
            assertThat(sent.at("/d/2/identity").asText()).isEqualTo(TrickyJson.text(3));
            assertThat(sent.at("/d/2/ts").asLong()).isZero();
            assertThat(sent.at("/d/3/profileData").has("Email")).isFalse();
            assertThat(sent.at("/d/4/identity").asText()).isEqualTo("42");
        }
    }
}

package io.github.cohortsync.connect.destination.mailchimp;

import static io.github.cohortsync.connect.Records.change;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.io.IOException;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;

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
import mockwebserver3.Dispatcher;
import mockwebserver3.MockResponse;
import mockwebserver3.MockWebServer;
import mockwebserver3.RecordedRequest;
import okhttp3.Credentials;
import okhttp3.Headers;

class MailchimpDestinationTest {
    private static final ObjectMapper JSON = new ObjectMapper();
    private static final CohortRef COHORT = new CohortRef("1234", "Power users", "Bought twice", "p-9");
    private static final String API_KEY = "0123s3cret-us21";
    private static final String LIST = "a1b2c3d4e5";
    private static final String SEGMENT = "Mixpanel - Power users";
    private static final String SEGMENTS = "{\"segments\": [{\"id\": 7, \"name\": \"other\", \"type\": \"static\"},"
            + " {\"id\": 42, \"name\": \"" + SEGMENT + "\", \"type\": \"static\"}], \"total_items\": 2}";
    private static final String NONE = "{\"segments\": [], \"total_items\": 0}";

    private final MockWebServer server = new MockWebServer();
    private final RecordParser parser = new RecordParser();
    private MailchimpDestination mailchimp;

    @BeforeEach
    void start() throws IOException {
        server.start();
        mailchimp = new MailchimpDestination(HttpClients.create(2_000), server.url("/").toString(), API_KEY, LIST,
                "Mixpanel - ${cohort_name}");
    }

    @AfterEach
    void stop() {
        mailchimp.close();
        server.close();
    }

    private static Page page(PageAction action, MembershipChange... members) {
        return new Page(COHORT, action, "session-1", 1, 1, List.of(members));
    }

    private MembershipChange member(String id) {
        return parser.parse(change(1234, id).with("email", id + "@example.com").build());
    }

    private static MockResponse ok(String body) {
        return new MockResponse(200, Headers.of("Content-Type", "application/json"), body);
    }

    private static String batchAnswer(int added, String errors) {
        return "{\"members_added\": [], \"members_removed\": [], \"errors\": " + errors + ", \"total_added\": "
                + added + ", \"total_removed\": 0, \"error_count\": 0}";
    }

    private static JsonNode body(RecordedRequest request) throws IOException {
        return JSON.readTree(request.getBody().utf8());
    }

    @Test
    void addsFindTheStaticSegmentByNameThenAddItsMembersByEmailWithBasicAuth() throws Exception {
        server.enqueue(ok(SEGMENTS));
        server.enqueue(ok(batchAnswer(2, "[]")));

        DeliveryResult result = mailchimp.send(page(PageAction.ADD_MEMBERS, member("ada"), member("bob")));

        assertThat(result.rejections()).isEmpty();
        RecordedRequest lookup = server.takeRequest();
        assertThat(lookup.getMethod()).isEqualTo("GET");
        assertThat(lookup.getUrl().encodedPath()).isEqualTo("/3.0/lists/" + LIST + "/segments");
        assertThat(lookup.getUrl().queryParameter("type")).isEqualTo("static");
        assertThat(lookup.getUrl().queryParameter("count")).isEqualTo("1000");
        assertThat(lookup.getUrl().queryParameter("offset")).isEqualTo("0");
        assertThat(lookup.getHeaders().get("Authorization")).isEqualTo(Credentials.basic("cohort-sync", API_KEY));
        RecordedRequest batch = server.takeRequest();
        assertThat(batch.getMethod()).isEqualTo("POST");
        assertThat(batch.getUrl().encodedPath()).isEqualTo("/3.0/lists/" + LIST + "/segments/42");
        assertThat(body(batch).toString())
                .isEqualTo("{\"members_to_add\":[\"ada@example.com\",\"bob@example.com\"]}");
    }

    @Test
    void removesSendMembersToRemoveAndAFullSyncAdds() throws Exception {
        server.enqueue(ok(SEGMENTS));
        server.enqueue(ok(batchAnswer(0, "[]")));
        server.enqueue(ok(batchAnswer(1, "[]")));

        mailchimp.send(page(PageAction.REMOVE_MEMBERS, member("ada")));
        mailchimp.send(page(PageAction.MEMBERS, member("bob")));

        server.takeRequest();
        assertThat(body(server.takeRequest()).toString()).isEqualTo("{\"members_to_remove\":[\"ada@example.com\"]}");
        assertThat(body(server.takeRequest()).toString()).isEqualTo("{\"members_to_add\":[\"bob@example.com\"]}");
        assertThat(server.getRequestCount()).as("the segment id is cached").isEqualTo(3);
    }

    @Test
    void aMissingSegmentIsCreatedEmptyOnceAndCached() throws Exception {
        server.enqueue(ok(NONE));
        server.enqueue(ok("{\"id\": 99, \"name\": \"" + SEGMENT + "\", \"type\": \"static\"}"));
        server.enqueue(ok(batchAnswer(1, "[]")));
        server.enqueue(ok(batchAnswer(1, "[]")));

        mailchimp.send(page(PageAction.ADD_MEMBERS, member("ada")));
        mailchimp.send(page(PageAction.ADD_MEMBERS, member("bob")));

        server.takeRequest();
        RecordedRequest create = server.takeRequest();
        assertThat(create.getMethod()).isEqualTo("POST");
        assertThat(create.getUrl().encodedPath()).isEqualTo("/3.0/lists/" + LIST + "/segments");
        assertThat(body(create).toString()).isEqualTo("{\"name\":\"" + SEGMENT + "\",\"static_segment\":[]}");
        assertThat(server.takeRequest().getUrl().encodedPath()).isEqualTo("/3.0/lists/" + LIST + "/segments/99");
        assertThat(server.takeRequest().getUrl().encodedPath()).isEqualTo("/3.0/lists/" + LIST + "/segments/99");
        assertThat(server.getRequestCount()).isEqualTo(4);
    }

    @Test
    void theSegmentsAreReadPageByPageByOffset() throws Exception {
        StringBuilder first = new StringBuilder("{\"total_items\": 1001, \"segments\": [");
        for (int i = 0; i < 1000; i++) {
            first.append(i == 0 ? "" : ",").append("{\"id\": ").append(1000 + i).append(", \"name\": \"s")
                    .append(i).append("\"}");
        }
        server.enqueue(ok(first.append("]}").toString()));
        server.enqueue(ok("{\"total_items\": 1001, \"segments\": [{\"id\": 5, \"name\": \"" + SEGMENT + "\"}]}"));
        server.enqueue(ok(batchAnswer(1, "[]")));

        mailchimp.send(page(PageAction.ADD_MEMBERS, member("ada")));

        assertThat(server.takeRequest().getUrl().queryParameter("offset")).isEqualTo("0");
        assertThat(server.takeRequest().getUrl().queryParameter("offset")).isEqualTo("1000");
        assertThat(server.takeRequest().getUrl().encodedPath()).endsWith("/segments/5");
    }

    @Test
    void aRemovalFromASegmentThatDoesNotExistCreatesNothing() throws Exception {
        server.enqueue(ok(NONE));

        DeliveryResult result = mailchimp.send(page(PageAction.REMOVE_MEMBERS, member("ada")));

        assertThat(result.rejections()).isEmpty();
        assertThat(server.getRequestCount()).isEqualTo(1);
    }

    @Test
    void theAnswersErrorsRejectExactlyThoseMembersWithMailchimpsMessageAndNoEmail() throws Exception {
        server.enqueue(ok(SEGMENTS));
        server.enqueue(ok(batchAnswer(1, "[{\"email_addresses\": [\"BOB@example.com\"], \"error\":"
                + " \"bob@example.com is not a member of this list\"}]")));
        MembershipChange bob = member("bob");

        DeliveryResult result = mailchimp.send(page(PageAction.ADD_MEMBERS, member("ada"), bob));

        assertThat(result.rejections()).singleElement().satisfies(rejection -> {
            assertThat(rejection.member()).isSameAs(bob);
            assertThat(rejection.reason()).contains("member bob").contains("is not a member of this list")
                    .doesNotContain("@example.com");
        });
    }

    @Test
    void aMemberWithoutAnEmailIsRejectedAndNeverSent() throws Exception {
        MembershipChange noEmail = parser.parse(change(1234, "carl").build());

        DeliveryResult result = mailchimp.send(page(PageAction.ADD_MEMBERS, noEmail));

        assertThat(result.rejections()).extracting(Rejection::reason).singleElement().asString()
                .contains("member carl has no email");
        assertThat(server.getRequestCount()).isZero();
    }

    @Test
    void aCohortWhoseNameIsUnknownIsRejectedWithoutACall() throws Exception {
        CohortRef unnamed = new CohortRef("1234", null, null, "p-9");
        Page page = new Page(unnamed, PageAction.ADD_MEMBERS, "s", 1, 1, List.of(member("ada")));

        assertThat(mailchimp.send(page).rejections()).singleElement().extracting(Rejection::reason).asString()
                .contains("needs a value cohort 1234 does not have");
        assertThat(server.getRequestCount()).isZero();
    }

    @Test
    void authAndMissingListFailuresArePermanentAndNameTheKeysToCheck() {
        for (int status : new int[] {401, 403, 404}) {
            server.enqueue(new MockResponse(status, Headers.of("Content-Type", "application/problem+json"),
                    "{\"title\": \"API Key Invalid\", \"detail\": \"key " + API_KEY + " for ada@example.com\"}"));
            assertThatThrownBy(() -> mailchimp.send(page(PageAction.ADD_MEMBERS, member("ada"))))
                    .isInstanceOf(PermanentDeliveryException.class)
                    .hasMessageContaining("HTTP " + status)
                    .hasMessageContaining("check mailchimp.api.key")
                    .hasMessageContaining("mailchimp.list.id")
                    .hasMessageNotContaining(API_KEY)
                    .hasMessageNotContaining("ada@example.com");
        }
    }

    /** A 400 to the members call may be a member's fault (split); a 400 to the segment's creation is not. */
    @Test
    void onlyTheMembersCallsRefusalIsAContentRefusal() {
        server.enqueue(ok(NONE));
        server.enqueue(new MockResponse(400, Headers.of(), "{\"title\": \"Invalid Resource\"}"));
        assertThatThrownBy(() -> mailchimp.send(page(PageAction.ADD_MEMBERS, member("ada"))))
                .isInstanceOf(PermanentDeliveryException.class).isNotInstanceOf(ContentRejectedException.class);

        server.enqueue(ok(SEGMENTS));
        server.enqueue(new MockResponse(400, Headers.of(), "{\"title\": \"Invalid Resource\"}"));
        assertThatThrownBy(() -> mailchimp.send(page(PageAction.ADD_MEMBERS, member("ada"))))
                .isInstanceOf(ContentRejectedException.class).hasMessageContaining("Invalid Resource");
    }

    @Test
    void rateLimitsAndServerErrorsAreTransient() {
        server.enqueue(new MockResponse(429, Headers.of("Retry-After", "3"), "{\"title\": \"Too Many Requests\"}"));
        assertThatThrownBy(() -> mailchimp.send(page(PageAction.ADD_MEMBERS, member("ada"))))
                .isInstanceOfSatisfying(TransientDeliveryException.class,
                        e -> assertThat(e.retryAfterMillis()).isEqualTo(3000));
        server.enqueue(new MockResponse(503, Headers.of(), ""));
        assertThatThrownBy(() -> mailchimp.send(page(PageAction.ADD_MEMBERS, member("ada"))))
                .isInstanceOf(TransientDeliveryException.class);
    }

    @Test
    void anAnswerThatIsNotJsonIsPermanent() {
        server.enqueue(ok(SEGMENTS));
        server.enqueue(ok("<html>"));
        assertThatThrownBy(() -> mailchimp.send(page(PageAction.ADD_MEMBERS, member("ada"))))
                .isInstanceOf(PermanentDeliveryException.class).hasMessageContaining("not JSON");
    }

    @Test
    void concurrentPagesOfANewCohortCreateItsSegmentOnce() throws Exception {
        AtomicInteger creates = new AtomicInteger();
        CountDownLatch lookups = new CountDownLatch(1);
        server.setDispatcher(new Dispatcher() {
            @Override
            public MockResponse dispatch(RecordedRequest request) {
                String path = request.getUrl().encodedPath();
                if ("GET".equals(request.getMethod())) {
                    lookups.countDown();
                    return ok(creates.get() == 0 ? NONE
                            : "{\"segments\": [{\"id\": 99, \"name\": \"" + SEGMENT + "\"}], \"total_items\": 1}");
                }
                if (path.endsWith("/segments")) {
                    creates.incrementAndGet();
                    return ok("{\"id\": 99, \"name\": \"" + SEGMENT + "\"}");
                }
                return ok(batchAnswer(1, "[]"));
            }
        });
        ExecutorService pool = Executors.newFixedThreadPool(4);
        try {
            List<Future<DeliveryResult>> results = new ArrayList<>();
            for (int i = 0; i < 4; i++) {
                MembershipChange m = member("u" + i);
                results.add(pool.submit(() -> mailchimp.send(page(PageAction.ADD_MEMBERS, m))));
            }
            for (Future<DeliveryResult> result : results) {
                assertThat(result.get(10, TimeUnit.SECONDS).rejections()).isEmpty();
            }
        } finally {
            pool.shutdownNow();
        }
        assertThat(lookups.getCount()).isZero();
        assertThat(creates.get()).isEqualTo(1);
    }

    private MailchimpDestination with(String upsertStatus, boolean mirror) {
        return new MailchimpDestination(HttpClients.create(2_000), server.url("/").toString(), API_KEY, LIST,
                "Mixpanel - ${cohort_name}", upsertStatus, mirror);
    }

    @Test
    void anUpsertAddsUnknownEmailsFirstNeverChangingExistingContactsAndRejectsRefusedOnes() throws Exception {
        server.enqueue(ok(SEGMENTS));
        server.enqueue(ok("{\"new_members\": [{\"email_address\": \"bob@example.com\"}], \"updated_members\": [],"
                + " \"errors\": [{\"email_address\": \"Ada@example.com\", \"error\": \"Ada@example.com is already a"
                + " list member\", \"error_code\": \"ERROR_CONTACT_EXISTS\"}, {\"email_address\": \"eve@example.com\","
                + " \"error\": \"eve@example.com looks fake or invalid, please enter a real email address.\","
                + " \"error_code\": \"ERROR_GENERIC\"}], \"total_created\": 1, \"total_updated\": 0,"
                + " \"error_count\": 2}"));
        server.enqueue(ok(batchAnswer(2, "[]")));
        MembershipChange eve = member("eve");
        try (MailchimpDestination upserting = with("transactional", false)) {
            DeliveryResult result = upserting.send(page(PageAction.ADD_MEMBERS, member("ada"), member("bob"), eve));

            assertThat(result.rejections()).singleElement().satisfies(r -> {
                assertThat(r.member()).isSameAs(eve);
                assertThat(r.reason()).startsWith("Mailchimp did not add member eve to the audience:")
                        .contains("looks fake or invalid").doesNotContain("eve@example.com");
            });
        }
        server.takeRequest();
        RecordedRequest subscribe = server.takeRequest();
        assertThat(subscribe.getMethod()).isEqualTo("POST");
        assertThat(subscribe.getUrl().encodedPath()).isEqualTo("/3.0/lists/" + LIST);
        assertThat(body(subscribe).toString()).isEqualTo("{\"members\":["
                + "{\"email_address\":\"ada@example.com\",\"status\":\"transactional\"},"
                + "{\"email_address\":\"bob@example.com\",\"status\":\"transactional\"},"
                + "{\"email_address\":\"eve@example.com\",\"status\":\"transactional\"}],\"update_existing\":false}");
        assertThat(body(server.takeRequest()).toString())
                .isEqualTo("{\"members_to_add\":[\"ada@example.com\",\"bob@example.com\"]}");
    }

    @Test
    void removesAreNeverUpsertedAndAllRefusedSendsNoSegmentCall() throws Exception {
        server.enqueue(ok(SEGMENTS));
        server.enqueue(ok(batchAnswer(0, "[]")));
        server.enqueue(ok("{\"errors\": [{\"email_address\": \"eve@example.com\", \"error\": \"Invalid\","
                + " \"error_code\": \"ERROR_GENERIC\"}], \"error_count\": 1}"));
        try (MailchimpDestination upserting = with("subscribed", false)) {
            upserting.send(page(PageAction.REMOVE_MEMBERS, member("ada")));
            assertThat(upserting.send(page(PageAction.ADD_MEMBERS, member("eve"))).rejections()).hasSize(1);
        }
        server.takeRequest();
        assertThat(body(server.takeRequest()).has("members_to_remove")).isTrue();
        assertThat(body(server.takeRequest()).path("members").get(0).path("status").asText()).isEqualTo("subscribed");
        assertThat(server.getRequestCount()).isEqualTo(3);
    }

    @Test
    void aFullSyncsLastPageRemovesTheSegmentMembersNotInTheSnapshotReadPageByPage() throws Exception {
        StringBuilder first = new StringBuilder("{\"members\": [");
        for (int i = 0; i < 1000; i++) {
            first.append(i == 0 ? "" : ", ").append("{\"email_address\": \"").append(i == 7 ? "Ada" : "old" + i)
                    .append("@example.com\"}");
        }
        first.append("], \"total_items\": 1001}");
        server.enqueue(ok(SEGMENTS));
        server.enqueue(ok(batchAnswer(1, "[]")));
        server.enqueue(ok(batchAnswer(1, "[]")));
        server.enqueue(ok(first.toString()));
        server.enqueue(ok("{\"members\": [{\"email_address\": \"bob@example.com\"}], \"total_items\": 1001}"));
        server.enqueue(ok(batchAnswer(0, "[]")));
        server.enqueue(ok(batchAnswer(0, "[]")));
        try (MailchimpDestination mirroring = with(null, true)) {
            mirroring.send(new Page(COHORT, PageAction.MEMBERS, "s-1", 1, 2, List.of(member("ada"))));
            assertThat(server.getRequestCount()).as("no mirror before the last page").isEqualTo(2);
            mirroring.send(new Page(COHORT, PageAction.MEMBERS, "s-1", 2, 2, List.of(member("bob"))));
        }
        for (int i = 0; i < 3; i++) {
            server.takeRequest();
        }
        RecordedRequest read = server.takeRequest();
        assertThat(read.getMethod()).isEqualTo("GET");
        assertThat(read.getUrl().encodedPath()).isEqualTo("/3.0/lists/" + LIST + "/segments/42/members");
        assertThat(read.getUrl().queryParameter("count")).isEqualTo("1000");
        assertThat(read.getUrl().queryParameter("offset")).isEqualTo("0");
        assertThat(server.takeRequest().getUrl().queryParameter("offset")).isEqualTo("1000");
        JsonNode firstRemoval = body(server.takeRequest()).path("members_to_remove");
        JsonNode secondRemoval = body(server.takeRequest()).path("members_to_remove");
        assertThat(firstRemoval.size()).as("500 per call").isEqualTo(500);
        assertThat(firstRemoval.size() + secondRemoval.size()).as("all but ada and bob").isEqualTo(999);
        assertThat(firstRemoval.toString() + secondRemoval).doesNotContain("ada@").doesNotContain("bob@");
        assertThat(server.getRequestCount()).isEqualTo(7);
    }

    @Test
    void withoutTheMirrorAFullSyncOnlyAdds() throws Exception {
        server.enqueue(ok(SEGMENTS));
        server.enqueue(ok(batchAnswer(1, "[]")));
        mailchimp.send(page(PageAction.MEMBERS, member("ada")));
        assertThat(server.getRequestCount()).isEqualTo(2);
    }

    @Test
    void aRefusedAddressIsNeverQuotedEvenWhenItIsNotShapedLikeAnEmail() {
        assertThat(MailchimpDestination.withoutEmail("Not-An-Email looks fake; not-an-email again", "Not-An-Email"))
                .isEqualTo("<email> looks fake; <email> again");
        assertThat(MailchimpDestination.withoutEmail("no message", "")).isEqualTo("no message");
    }
}

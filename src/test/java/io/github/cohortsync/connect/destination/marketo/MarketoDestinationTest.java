package io.github.cohortsync.connect.destination.marketo;

import static io.github.cohortsync.connect.Records.change;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.io.IOException;
import java.time.Clock;
import java.time.Instant;
import java.time.ZoneOffset;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;

import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

import io.github.cohortsync.connect.delivery.PermanentDeliveryException;
import io.github.cohortsync.connect.delivery.TransientDeliveryException;
import io.github.cohortsync.connect.destination.DeliveryResult;
import io.github.cohortsync.connect.destination.Page;
import io.github.cohortsync.connect.destination.PageAction;
import io.github.cohortsync.connect.destination.Rejection;
import io.github.cohortsync.connect.http.HttpClients;
import io.github.cohortsync.connect.it.standin.MarketoReceiver;
import io.github.cohortsync.connect.record.CohortRef;
import io.github.cohortsync.connect.record.MembershipChange;
import io.github.cohortsync.connect.record.RecordParser;
import mockwebserver3.MockResponse;
import mockwebserver3.MockWebServer;
import mockwebserver3.RecordedRequest;
import okhttp3.Headers;

class MarketoDestinationTest {
    private static final CohortRef COHORT = new CohortRef("1234", "Power users", "Bought twice", "p-9");
    private static final String LIST = "mixpanel_Power users_1234";
    private static final String TOKEN = "{\"access_token\": \"tok-1:ab\", \"token_type\": \"bearer\","
            + " \"expires_in\": 3599, \"scope\": \"api@example.com\"}";

    private final RecordParser parser = new RecordParser();
    private final List<AutoCloseable> open = new ArrayList<>();

    @AfterEach
    void close() throws Exception {
        for (AutoCloseable c : open) {
            c.close();
        }
    }

    private MarketoDestination destination(String url, boolean upsert, int cacheSize) {
        MarketoDestination marketo = new MarketoDestination(HttpClients.create(5_000), url, MarketoKeys.identityUrl(url, null),
                MarketoReceiver.CLIENT_ID, MarketoReceiver.CLIENT_SECRET, "mixpanel_${cohort_name}_${cohort_id}",
                MarketoReceiver.FOLDER_ID, "Folder", upsert, cacheSize, Clock.systemUTC());
        open.add(marketo);
        return marketo;
    }

    private MarketoReceiver standIn() throws IOException {
        MarketoReceiver standIn = MarketoReceiver.start();
        open.add(standIn);
        return standIn;
    }

    private MockWebServer server() throws IOException {
        MockWebServer server = new MockWebServer();
        server.start();
        open.add(server);
        return server;
    }

    private static Page page(PageAction action, List<MembershipChange> members) {
        return new Page(COHORT, action, "session-1", 1, 1, members);
    }

    private static Page page(PageAction action, MembershipChange... members) {
        return page(action, List.of(members));
    }

    private MembershipChange member(String id) {
        return parser.parse(change(1234, id).with("email", id + "@Example.com").build());
    }

    private static String email(String id) {
        return id + "@example.com";
    }

    private static MockResponse ok(String body) {
        return new MockResponse(200, Headers.of("Content-Type", "application/json"), body);
    }

    private static MockResponse error(String code, String message) {
        return ok(errorBody(code, message));
    }

    /** A {@code success: false} answer (HTTP 200, as Marketo sends them) with one more header. */
    private static MockResponse error(String code, String message, String header, String value) {
        return new MockResponse(200, Headers.of("Content-Type", "application/json", header, value),
                errorBody(code, message));
    }

    private static String errorBody(String code, String message) {
        return "{\"requestId\": \"r\", \"success\": false, \"errors\": [{\"code\": \"" + code
                + "\", \"message\": \"" + message + "\"}]}";
    }

    @Test
    void addsCreateTheListInTheFolderOnceThenAddTheLeadsFoundByEmail() throws Exception {
        MarketoReceiver marketo = standIn();
        marketo.addLeads(List.of(email("ada"), email("bob")));
        MarketoDestination destination = destination(marketo.url(), false, 100);

        DeliveryResult first = destination.send(page(PageAction.ADD_MEMBERS, member("ada")));
        DeliveryResult second = destination.send(page(PageAction.MEMBERS, member("bob")));

        assertThat(first.rejections()).isEmpty();
        assertThat(second.rejections()).isEmpty();
        assertThat(marketo.violations()).isEmpty();
        assertThat(marketo.members()).isEqualTo(Map.of(LIST, Set.of(email("ada"), email("bob"))));
        assertThat(marketo.creations()).isEqualTo(Map.of(LIST, 1));
        assertThat(marketo.tokensIssued()).as("the token is cached").isEqualTo(1);
    }

    @Test
    void removesTakeLeadsOutAndALeadNotInTheListIsNoRejection() throws Exception {
        MarketoReceiver marketo = standIn();
        marketo.addLeads(List.of(email("ada"), email("bob")));
        MarketoDestination destination = destination(marketo.url(), false, 100);
        destination.send(page(PageAction.ADD_MEMBERS, member("ada")));

        DeliveryResult removed = destination.send(page(PageAction.REMOVE_MEMBERS, member("ada"), member("bob"),
                member("nobody")));

        assertThat(removed.rejections()).as("bob: 1015 not in list; nobody: no lead, nothing to remove").isEmpty();
        assertThat(marketo.members()).isEqualTo(Map.of(LIST, Set.of()));
        assertThat(marketo.violations()).isEmpty();
    }

    @Test
    void aRemovalFromAListThatDoesNotExistCreatesNothing() throws Exception {
        MarketoReceiver marketo = standIn();
        marketo.addLeads(List.of(email("ada")));

        DeliveryResult result = destination(marketo.url(), false, 100)
                .send(page(PageAction.REMOVE_MEMBERS, member("ada")));

        assertThat(result.rejections()).isEmpty();
        assertThat(marketo.creations()).isEmpty();
    }

    @Test
    void anEmailWithoutALeadIsRejectedUnlessLeadsAreCreated() throws Exception {
        MarketoReceiver marketo = standIn();
        MembershipChange ada = member("ada");

        DeliveryResult rejected = destination(marketo.url(), false, 100).send(page(PageAction.ADD_MEMBERS, ada));
        assertThat(rejected.rejections()).singleElement().satisfies(r -> {
            assertThat(r.member()).isSameAs(ada);
            assertThat(r.reason()).contains("no Marketo lead has the email of member ada")
                    .contains("marketo.upsert.leads=true").doesNotContain("@");
        });

        DeliveryResult upserted = destination(marketo.url(), true, 100).send(page(PageAction.ADD_MEMBERS, ada));
        assertThat(upserted.rejections()).isEmpty();
        assertThat(marketo.hasLead(email("ada"))).isTrue();
        assertThat(marketo.members().get(LIST)).containsExactly(email("ada"));
        assertThat(marketo.violations()).isEmpty();
    }

    @Test
    void aLeadMarketoSkipsOnCreationIsRejectedWithItsReason() throws Exception {
        MarketoReceiver marketo = standIn();
        MembershipChange odd = parser.parse(change(1234, "odd").with("email", "not-an-address").build());

        DeliveryResult result = destination(marketo.url(), true, 100)
                .send(page(PageAction.ADD_MEMBERS, odd, member("ada")));

        assertThat(result.rejections()).singleElement().satisfies(r -> {
            assertThat(r.member()).isSameAs(odd);
            assertThat(r.reason()).contains("Marketo did not create or update the lead of member odd: 1003 Invalid"
                    + " data");
        });
        assertThat(marketo.members().get(LIST)).containsExactly(email("ada"));
    }

    @Test
    void aCachedLeadThatWasDeletedIsLookedUpAgainOnceThenRejected() throws Exception {
        MarketoReceiver marketo = standIn();
        marketo.addLeads(List.of(email("ada"), email("bob")));
        MarketoDestination destination = destination(marketo.url(), false, 100);
        destination.send(page(PageAction.ADD_MEMBERS, member("ada"), member("bob")));
        destination.send(page(PageAction.REMOVE_MEMBERS, member("ada"), member("bob")));
        marketo.deleteLead(email("ada"));

        DeliveryResult result = destination.send(page(PageAction.ADD_MEMBERS, member("ada"), member("bob")));

        assertThat(result.rejections()).singleElement().extracting(Rejection::reason).asString()
                .contains("no Marketo lead has the email of member ada");
        assertThat(marketo.members().get(LIST)).containsExactly(email("bob"));
    }

    @Test
    void aSkippedIdIsARejectionWithMarketosReasonAndNoEmail() throws Exception {
        MockWebServer server = server();
        server.enqueue(ok(TOKEN));
        server.enqueue(ok("{\"success\": true, \"result\": [{\"id\": 7, \"name\": \"" + LIST + "\"}]}"));
        server.enqueue(ok("{\"success\": true, \"result\": [{\"id\": 50, \"email\": \"ada@example.com\"},"
                + " {\"id\": 51, \"email\": \"bob@example.com\"}]}"));
        server.enqueue(ok("{\"success\": true, \"result\": [{\"id\": 50, \"status\": \"added\"}, {\"id\": 51,"
                + " \"status\": \"skipped\", \"reasons\": [{\"code\": \"1008\", \"message\": \"Access denied to"
                + " partition of bob@example.com\"}]}]}"));
        MembershipChange bob = member("bob");

        DeliveryResult result = destination(server.url("/").toString(), false, 0)
                .send(page(PageAction.ADD_MEMBERS, member("ada"), bob));

        assertThat(result.rejections()).singleElement().satisfies(r -> {
            assertThat(r.member()).isSameAs(bob);
            assertThat(r.reason()).contains("Marketo did not add member bob (lead 51) to the list: 1008 Access"
                    + " denied to partition").doesNotContain("bob@example.com");
        });
        RecordedRequest token = server.takeRequest();
        assertThat(token.getUrl().encodedPath()).isEqualTo("/identity/oauth/token");
        assertThat(token.getUrl().queryParameter("client_secret")).isEqualTo(MarketoReceiver.CLIENT_SECRET);
        RecordedRequest lists = server.takeRequest();
        assertThat(lists.getUrl().encodedPath()).isEqualTo("/rest/v1/lists.json");
        assertThat(lists.getUrl().queryParameter("name")).isEqualTo(LIST);
        assertThat(lists.getHeaders().get("Authorization")).isEqualTo("Bearer tok-1:ab");
        RecordedRequest lookup = server.takeRequest();
        assertThat(lookup.getMethod()).isEqualTo("POST");
        assertThat(lookup.getUrl().queryParameter("_method")).isEqualTo("GET");
        assertThat(lookup.getBody().utf8()).contains("filterType=email")
                .contains("filterValues=ada%40example.com%2Cbob%40example.com");
        RecordedRequest add = server.takeRequest();
        assertThat(add.getUrl().encodedPath()).isEqualTo("/rest/v1/lists/7/leads.json");
        assertThat(add.getBody().utf8()).isEqualTo("{\"input\":[{\"id\":50},{\"id\":51}]}");
    }

    @Test
    void anExpiredOrInvalidTokenIsRenewedAndTheCallMadeOnceMore() throws Exception {
        MarketoReceiver marketo = standIn();
        marketo.addLeads(List.of(email("ada"), email("bob")));
        MarketoDestination destination = destination(marketo.url(), false, 100);
        destination.send(page(PageAction.ADD_MEMBERS, member("ada")));
        marketo.expireTokens();

        DeliveryResult result = destination.send(page(PageAction.ADD_MEMBERS, member("bob")));

        assertThat(result.rejections()).isEmpty();
        assertThat(marketo.expiredAnswers()).isEqualTo(1);
        assertThat(marketo.tokensIssued()).isEqualTo(2);
        assertThat(marketo.members().get(LIST)).containsExactly(email("ada"), email("bob"));
    }

    @Test
    void aTokenRefusedTwiceInARowIsTransient() throws Exception {
        MockWebServer server = server();
        server.enqueue(ok(TOKEN));
        server.enqueue(error("602", "Access token expired"));
        server.enqueue(ok(TOKEN));
        server.enqueue(error("601", "Access token invalid"));

        assertThatThrownBy(() -> destination(server.url("/").toString(), false, 0)
                .send(page(PageAction.ADD_MEMBERS, member("ada"))))
                .isInstanceOf(TransientDeliveryException.class).hasMessageContaining("Marketo error 601");
        assertThat(server.getRequestCount()).isEqualTo(4);
    }

    @Test
    void rateAndConcurrencyLimitsAndTemporaryErrorsAreTransientOthersPermanent() throws Exception {
        for (String code : List.of("606", "615", "604", "608", "611", "614", "713")) {
            MockWebServer server = server();
            server.enqueue(ok(TOKEN));
            server.enqueue(error(code, "busy"));
            int status = code.equals("606") || code.equals("615") ? 429 : -1;
            assertThatThrownBy(() -> destination(server.url("/").toString(), false, 0)
                    .send(page(PageAction.ADD_MEMBERS, member("ada"))))
                    .as(code).isInstanceOfSatisfying(TransientDeliveryException.class,
                            e -> assertThat(e).extracting(TransientDeliveryException::retryAfterMillis,
                                    TransientDeliveryException::status).containsExactly(-1L, status))
                    .hasMessageContaining("Marketo error " + code);
        }
        for (String code : List.of("603", "610", "1003")) {
            MockWebServer server = server();
            server.enqueue(ok(TOKEN));
            server.enqueue(error(code, "no for ada@example.com"));
            assertThatThrownBy(() -> destination(server.url("/").toString(), false, 0)
                    .send(page(PageAction.ADD_MEMBERS, member("ada"))))
                    .as(code).isInstanceOf(PermanentDeliveryException.class)
                    .hasMessageContaining("Marketo error " + code)
                    .hasMessageContaining("GET http://" + server.getHostName())
                    .hasMessageNotContaining("ada@example.com").hasMessageNotContaining("555 0100");
        }
    }

    /**
     * Marketo answers its rate and concurrency limits with HTTP 200; they fail as a 429 would (rate limiting, back
     * pressure for the concurrency limit, not "timeout or I/O error"), naming the code and what it means, and with no
     * email or phone number even when Marketo's message quotes one.
     */
    @Test
    void aRateOrConcurrencyLimitFailsAsHttp429NamingTheCodeAndItsMeaning() throws Exception {
        Map<String, String> meanings = Map.of(
                "606", "rate limit: more than 100 calls to the instance in 20 seconds",
                "615", "concurrency limit: 10 calls to the instance already in progress");
        for (Map.Entry<String, String> code : meanings.entrySet()) {
            MockWebServer server = server();
            server.enqueue(ok(TOKEN));
            server.enqueue(error(code.getKey(), "limit reached while syncing ada@example.com, +1 415 555 0100"));
            assertThatThrownBy(() -> destination(server.url("/").toString(), false, 0)
                    .send(page(PageAction.ADD_MEMBERS, member("ada"))))
                    .as(code.getKey()).isInstanceOfSatisfying(TransientDeliveryException.class,
                            e -> assertThat(e.status()).isEqualTo(429))
                    .hasMessageContaining("Marketo error " + code.getKey())
                    .hasMessageContaining(code.getValue())
                    .hasMessageContaining("taken as HTTP 429")
                    .hasMessageNotContaining("ada@example.com");
        }
    }

    /** A wait the throttling answer asks for is kept: Retry-After, else X-RateLimit-Reset, as for any answer. */
    @Test
    void aRateLimitAnswerThatAsksForAWaitKeepsIt() throws Exception {
        MockWebServer server = server();
        server.enqueue(ok(TOKEN));
        server.enqueue(error("606", "Max rate limit '100' exceeded with in '20' secs", "X-RateLimit-Reset", "20"));
        server.enqueue(error("615", "Concurrent access limit reached", "Retry-After", "3"));
        MarketoDestination destination = destination(server.url("/").toString(), false, 0);

        assertThatThrownBy(() -> destination.send(page(PageAction.ADD_MEMBERS, member("ada"))))
                .isInstanceOfSatisfying(TransientDeliveryException.class,
                        e -> assertThat(e).extracting(TransientDeliveryException::retryAfterMillis,
                                TransientDeliveryException::status).containsExactly(20_000L, 429));
        assertThatThrownBy(() -> destination.send(page(PageAction.ADD_MEMBERS, member("ada"))))
                .isInstanceOfSatisfying(TransientDeliveryException.class,
                        e -> assertThat(e).extracting(TransientDeliveryException::retryAfterMillis,
                                TransientDeliveryException::status).containsExactly(3_000L, 429));
    }

    @Test
    void theAccessDeniedErrorNamesThePermissionsToCheck() throws Exception {
        MockWebServer server = server();
        server.enqueue(ok(TOKEN));
        server.enqueue(error("603", "Access denied"));
        assertThatThrownBy(() -> destination(server.url("/").toString(), false, 0)
                .send(page(PageAction.ADD_MEMBERS, member("ada"))))
                .hasMessageContaining("Read-Write Lead").hasMessageContaining("IP allowlist");
    }

    @Test
    void theDailyQuotaWaitsUntilMidnightCentralTime() throws Exception {
        MockWebServer server = server();
        server.enqueue(ok(TOKEN));
        server.enqueue(error("607", "Daily quota reached"));
        // 23:00 in Chicago (UTC-6 in December): the quota resets in an hour, plus the minute of margin.
        Clock clock = Clock.fixed(Instant.parse("2026-12-02T05:00:00Z"), ZoneOffset.UTC);
        MarketoDestination destination = new MarketoDestination(HttpClients.create(5_000),
                server.url("/").toString(), server.url("/identity").toString(), "c", "s", "l_${cohort_id}", 1,
                "Folder", false, 0, clock);
        open.add(destination);

        assertThat(destination.millisUntilQuotaReset()).isEqualTo(TimeUnit.MINUTES.toMillis(61));
        assertThatThrownBy(() -> destination.send(page(PageAction.ADD_MEMBERS, member("ada"))))
                .isInstanceOfSatisfying(TransientDeliveryException.class,
                        e -> assertThat(e).extracting(TransientDeliveryException::retryAfterMillis,
                                TransientDeliveryException::status).containsExactly(TimeUnit.MINUTES.toMillis(61), 429))
                .hasMessageContaining("Marketo error 607").hasMessageContaining("daily API quota is used up")
                .hasMessageContaining("taken as HTTP 429").hasMessageContaining("in 61 minutes");
    }

    @Test
    void theStandInsDailyQuotaEndsInA607ThatWaitsAndChangesNothing() throws Exception {
        MarketoReceiver marketo = standIn();
        marketo.addLeads(List.of(email("ada")));
        marketo.dailyQuota(2); // the list lookup and its creation; the lead lookup is over the quota

        assertThatThrownBy(() -> destination(marketo.url(), false, 100)
                .send(page(PageAction.ADD_MEMBERS, member("ada"))))
                .isInstanceOfSatisfying(TransientDeliveryException.class,
                        e -> assertThat(e.retryAfterMillis()).isPositive())
                .hasMessageContaining("Marketo error 607 Daily quota reached");
        assertThat(marketo.callsToday()).isEqualTo(2);
        assertThat(marketo.members()).isEqualTo(Map.of(LIST, Set.of()));
    }

    @Test
    void badClientCredentialsFailPermanentlyWithoutTheSecret() throws Exception {
        MarketoReceiver marketo = standIn();
        MarketoDestination wrong = new MarketoDestination(HttpClients.create(5_000), marketo.url(),
                marketo.url() + "/identity", "client-x", "wrong-s3cret", "l_${cohort_id}", 12, "Folder", false, 0,
                Clock.systemUTC());
        open.add(wrong);

        assertThatThrownBy(() -> wrong.send(page(PageAction.ADD_MEMBERS, member("ada"))))
                .isInstanceOf(PermanentDeliveryException.class).hasMessageContaining("HTTP 401")
                .hasMessageContaining("check marketo.client.id and marketo.client.secret")
                .hasMessageNotContaining("wrong-s3cret");
    }

    @Test
    void anAnswerThatIsNotJsonAndATokenAnswerWithoutATokenArePermanent() throws Exception {
        MockWebServer server = server();
        server.enqueue(ok(TOKEN));
        server.enqueue(ok("<html>"));
        assertThatThrownBy(() -> destination(server.url("/").toString(), false, 0)
                .send(page(PageAction.ADD_MEMBERS, member("ada"))))
                .isInstanceOf(PermanentDeliveryException.class).hasMessageContaining("not JSON");
        MockWebServer empty = server();
        empty.enqueue(ok("{\"token_type\": \"bearer\"}"));
        assertThatThrownBy(() -> destination(empty.url("/").toString(), false, 0)
                .send(page(PageAction.ADD_MEMBERS, member("ada"))))
                .isInstanceOf(PermanentDeliveryException.class).hasMessageContaining("without an access_token");
    }

    @Test
    void membersWithoutAUsableEmailOrACohortNameAreRejectedWithoutACall() throws Exception {
        MockWebServer server = server();
        MarketoDestination destination = destination(server.url("/").toString(), false, 0);
        MembershipChange none = parser.parse(change(1234, "carl").build());
        MembershipChange comma = parser.parse(change(1234, "dan").with("email", "\"d,an\"@example.com").build());

        assertThat(destination.send(page(PageAction.ADD_MEMBERS, none, comma)).rejections())
                .extracting(Rejection::reason)
                .satisfiesExactly(r -> assertThat(r).contains("member carl has no email"),
                        r -> assertThat(r).contains("member dan has an email with a comma"));
        Page unnamed = new Page(new CohortRef("1234", null, null, "p-9"), PageAction.ADD_MEMBERS, "s", 1, 1,
                List.of(member("ada")));
        assertThat(destination.send(unnamed).rejections()).singleElement().extracting(Rejection::reason)
                .asString().contains("needs a value cohort 1234 does not have");
        assertThat(server.getRequestCount()).isZero();
    }

    @Test
    void theEmailPropertyStandsInForAMissingEmailField() throws Exception {
        MarketoReceiver marketo = standIn();
        marketo.addLeads(List.of(email("eve")));
        MembershipChange eve = parser.parse(change(1234, "eve").with("properties",
                Map.of("$email", "EVE@example.com", "plan", "pro")).build());
        MarketoDestination destination = destination(marketo.url(), false, 100);

        assertThat(destination.send(page(PageAction.ADD_MEMBERS, eve)).rejections()).isEmpty();
        assertThat(marketo.members().get(LIST)).containsExactly(email("eve"));
        assertThat(destination.readsProperty("$email")).isTrue();
        assertThat(destination.readsProperty("plan")).isFalse();
    }

    @Test
    void moreThanThreeHundredMembersGoInCallsOfThreeHundred() throws Exception {
        MarketoReceiver marketo = standIn();
        List<MembershipChange> members = new ArrayList<>();
        List<String> emails = new ArrayList<>();
        for (int i = 0; i < 650; i++) {
            members.add(member("u" + i));
            emails.add(email("u" + i));
        }
        marketo.addLeads(emails);

        DeliveryResult result = destination(marketo.url(), false, 100_000)
                .send(page(PageAction.ADD_MEMBERS, members));

        assertThat(result.rejections()).isEmpty();
        assertThat(marketo.violations()).isEmpty();
        assertThat(marketo.members().get(LIST)).hasSize(650);
        assertThat(marketo.listCalls()).isEqualTo(3);
    }

    @Test
    void theLeadCacheIsBoundedLeastRecentlyUsedFirst() {
        MarketoDestination.LeadIds ids = new MarketoDestination.LeadIds(2);
        ids.put("a", new long[] {1});
        ids.put("b", new long[] {2});
        ids.get("a");
        ids.put("c", new long[] {3});
        assertThat(ids.size()).isEqualTo(2);
        assertThat(ids.get("b")).isNull();
        assertThat(ids.get("a")).containsExactly(1);
        MarketoDestination.LeadIds off = new MarketoDestination.LeadIds(0);
        off.put("a", new long[] {1});
        assertThat(off.get("a")).isNull();
    }

    @Test
    void concurrentPagesOfANewCohortCreateItsListOnce() throws Exception {
        MarketoReceiver marketo = standIn();
        List<String> emails = new ArrayList<>();
        for (int i = 0; i < 4; i++) {
            emails.add(email("u" + i));
        }
        marketo.addLeads(emails);
        MarketoDestination destination = destination(marketo.url(), false, 100);
        ExecutorService pool = Executors.newFixedThreadPool(4);
        try {
            List<Future<DeliveryResult>> results = new ArrayList<>();
            for (int i = 0; i < 4; i++) {
                MembershipChange m = member("u" + i);
                results.add(pool.submit(() -> destination.send(page(PageAction.ADD_MEMBERS, m))));
            }
            for (Future<DeliveryResult> result : results) {
                assertThat(result.get(10, TimeUnit.SECONDS).rejections()).isEmpty();
            }
        } finally {
            pool.shutdownNow();
        }
        assertThat(marketo.creations()).isEqualTo(Map.of(LIST, 1));
        assertThat(marketo.tokensIssued()).isEqualTo(1);
        assertThat(marketo.members().get(LIST)).hasSize(4);
    }
}

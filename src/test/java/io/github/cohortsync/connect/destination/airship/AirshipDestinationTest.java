package io.github.cohortsync.connect.destination.airship;

import static io.github.cohortsync.connect.Records.change;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.io.IOException;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

import org.apache.log4j.AppenderSkeleton;
import org.apache.log4j.Logger;
import org.apache.log4j.spi.LoggingEvent;
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
import okhttp3.Credentials;
import okhttp3.Headers;

class AirshipDestinationTest {
    private static final ObjectMapper JSON = new ObjectMapper();
    private static final CohortRef COHORT = new CohortRef("1234", "Power users", "Bought twice", "p-9");
    private static final String TOKEN = "MTpzM2NyZXQtdG9rZW4";
    private static final String APP_KEY = "app-key-1";
    private static final String MASTER_SECRET = "m4ster-s3cret";
    private static final String OK = "{\"ok\": true}";

    private final MockWebServer server = new MockWebServer();
    private final RecordParser parser = new RecordParser();
    private AirshipDestination airship;

    @BeforeEach
    void start() throws IOException {
        server.start();
        airship = destination(TOKEN, null, null, "$airship_named_user");
    }

    @AfterEach
    void stop() {
        airship.close();
        server.close();
    }

    private AirshipDestination destination(String token, String appKey, String secret, String property) {
        return new AirshipDestination(HttpClients.create(2_000), server.url("/").toString(), token, appKey, secret,
                "mixpanel", "${cohort_name}", property);
    }

    private static Page page(PageAction action, MembershipChange... members) {
        return page(action, List.of(members));
    }

    private static Page page(PageAction action, List<MembershipChange> members) {
        return new Page(COHORT, action, "session-1", 1, 1, members);
    }

    private MembershipChange member(String id) {
        return parser.parse(change(1234, id).with("email", id + "@example.com")
                .with("properties", Map.of("$airship_named_user", "nu-" + id)).build());
    }

    private static MockResponse answer(int status, String body) {
        return new MockResponse(status, Headers.of("Content-Type", "application/vnd.urbanairship+json; version=3"),
                body);
    }

    private static JsonNode body(RecordedRequest request) throws IOException {
        return JSON.readTree(request.getBody().utf8());
    }

    @Test
    void addsTagTheNamedUsersInTheGroupWithABearerTokenAndVersion3() throws Exception {
        server.enqueue(answer(200, OK));

        DeliveryResult result = airship.send(page(PageAction.ADD_MEMBERS, member("ada"), member("bob")));

        assertThat(result.rejections()).isEmpty();
        RecordedRequest request = server.takeRequest();
        assertThat(request.getMethod()).isEqualTo("POST");
        assertThat(request.getUrl().encodedPath()).isEqualTo("/api/named_users/tags");
        assertThat(request.getHeaders().get("Authorization")).isEqualTo("Bearer " + TOKEN);
        assertThat(request.getHeaders().get("Accept")).isEqualTo("application/vnd.urbanairship+json; version=3");
        assertThat(request.getHeaders().get("Content-Type")).startsWith("application/json");
        assertThat(request.getHeaders().get("X-UA-Appkey")).isNull();
        assertThat(body(request).toString()).isEqualTo("{\"audience\":{\"named_user_id\":[\"nu-ada\",\"nu-bob\"]},"
                + "\"add\":{\"mixpanel\":[\"Power users\"]}}");
    }

    @Test
    void removesUntagAndAFullSyncAddsWithBasicAuth() throws Exception {
        try (AirshipDestination basic = destination(null, APP_KEY, MASTER_SECRET, "$airship_named_user")) {
            server.enqueue(answer(200, OK));
            server.enqueue(answer(200, OK));

            basic.send(page(PageAction.REMOVE_MEMBERS, member("carl")));
            basic.send(page(PageAction.MEMBERS, member("dan")));

            RecordedRequest remove = server.takeRequest();
            assertThat(remove.getHeaders().get("Authorization")).isEqualTo(Credentials.basic(APP_KEY, MASTER_SECRET));
            assertThat(body(remove).toString()).isEqualTo("{\"audience\":{\"named_user_id\":[\"nu-carl\"]},"
                    + "\"remove\":{\"mixpanel\":[\"Power users\"]}}");
            assertThat(body(server.takeRequest()).path("add").path("mixpanel").get(0).asText())
                    .isEqualTo("Power users");
        }
    }

    @Test
    void anAppKeyGoesWithTheTokenAsXUaAppkey() throws Exception {
        try (AirshipDestination withKey = destination(TOKEN, APP_KEY, null, "$airship_named_user")) {
            server.enqueue(answer(200, OK));
            withKey.send(page(PageAction.ADD_MEMBERS, member("ada")));
            RecordedRequest request = server.takeRequest();
            assertThat(request.getHeaders().get("X-UA-Appkey")).isEqualTo(APP_KEY);
            assertThat(request.getHeaders().get("Authorization")).isEqualTo("Bearer " + TOKEN);
        }
    }

    @Test
    void moreThanAThousandNamedUsersGoInSeveralCallsAndSharedIdsOnce() throws Exception {
        List<MembershipChange> members = new ArrayList<>();
        for (int i = 0; i < 1500; i++) {
            members.add(member(String.format("u%04d", i)));
        }
        // Two records naming one named user: sent once, both accepted.
        members.add(parser.parse(change(1234, "twin").with("properties", Map.of("$airship_named_user", "nu-u0001"))
                .build()));
        server.enqueue(answer(200, OK));
        server.enqueue(answer(200, OK));

        DeliveryResult result = airship.send(page(PageAction.ADD_MEMBERS, members));

        assertThat(result.rejections()).isEmpty();
        assertThat(body(server.takeRequest()).path("audience").path("named_user_id").size()).isEqualTo(1000);
        assertThat(body(server.takeRequest()).path("audience").path("named_user_id").size()).isEqualTo(500);
        assertThat(server.getRequestCount()).isEqualTo(2);
    }

    @Test
    void membersWithoutANamedUserIdOrWithSurroundingBlanksAreRejectedAndNeverSent() throws Exception {
        server.enqueue(answer(200, OK));
        MembershipChange none = parser.parse(change(1234, "none").with("email", "none@example.com").build());
        MembershipChange padded = parser.parse(change(1234, "padded")
                .with("properties", Map.of("$airship_named_user", " nu-padded")).build());

        DeliveryResult result = airship.send(page(PageAction.ADD_MEMBERS, none, padded, member("ada")));

        assertThat(result.rejections()).extracting(Rejection::member).containsExactly(none, padded);
        assertThat(result.rejections().get(0).reason()).isEqualTo("member none has no Airship Named User id"
                + " (property $airship_named_user, airship.named.user.property)");
        assertThat(result.rejections().get(1).reason()).contains("leading or trailing whitespace");
        assertThat(result.rejections()).noneMatch(r -> r.reason().contains("@"));
        assertThat(body(server.takeRequest()).path("audience").toString())
                .isEqualTo("{\"named_user_id\":[\"nu-ada\"]}");
    }

    @Test
    void allRejectedSendsNothing() throws Exception {
        MembershipChange none = parser.parse(change(1234, "none").build());
        assertThat(airship.send(page(PageAction.REMOVE_MEMBERS, none)).rejections()).hasSize(1);
        assertThat(server.getRequestCount()).isZero();
    }

    @Test
    void theDistinctIdCanBeTheNamedUserIdSoTombstonesRemove() throws Exception {
        try (AirshipDestination byDistinctId = destination(TOKEN, null, null, "distinct_id")) {
            server.enqueue(answer(200, OK));
            MembershipChange tombstone = parser.parse(io.github.cohortsync.connect.Records.tombstone(1234, "u-7")
                    .build());

            assertThat(byDistinctId.send(page(PageAction.REMOVE_MEMBERS, tombstone)).rejections()).isEmpty();
            assertThat(body(server.takeRequest()).path("audience").toString())
                    .isEqualTo("{\"named_user_id\":[\"u-7\"]}");
        }
    }

    @Test
    void aCohortWithoutANameOrATagOver128CharactersIsRejectedWithoutACall() throws Exception {
        Page unnamed = new Page(new CohortRef("77", null, null, null), PageAction.ADD_MEMBERS, "s", 1, 1,
                List.of(member("ada")));
        assertThat(airship.send(unnamed).rejections()).singleElement()
                .satisfies(r -> assertThat(r.reason()).contains("its name is unknown"));
        Page longName = new Page(new CohortRef("78", "n".repeat(129), null, null), PageAction.ADD_MEMBERS, "s", 1, 1,
                List.of(member("bob")));
        assertThat(airship.send(longName).rejections()).singleElement()
                .satisfies(r -> assertThat(r.reason()).contains("129 characters long"));
        assertThat(server.getRequestCount()).isZero();
    }

    @Test
    void anAnswerWithWarningsIsASuccessLoggedAsACountOnly() throws Exception {
        List<String> lines = new ArrayList<>();
        AppenderSkeleton capture = new AppenderSkeleton() {
            @Override
            protected void append(LoggingEvent event) {
                lines.add(event.getRenderedMessage());
            }

            @Override
            public void close() {
            }

            @Override
            public boolean requiresLayout() {
                return false;
            }
        };
        Logger.getRootLogger().addAppender(capture);
        try {
            server.enqueue(answer(200, "{\"ok\": true, \"warnings\": [\"nu-ada: group inactive\", \"x\"]}"));
            server.enqueue(answer(200, "{\"ok\": true, \"tag_warnings\": \"mixpanel\"}"));

            assertThat(airship.send(page(PageAction.ADD_MEMBERS, member("ada"))).rejections()).isEmpty();
            assertThat(airship.send(page(PageAction.ADD_MEMBERS, member("bob"))).rejections()).isEmpty();
        } finally {
            Logger.getRootLogger().removeAppender(capture);
        }
        assertThat(lines).anyMatch(l -> l.contains("with 2 warning(s)") && l.contains("'mixpanel'"))
                .anyMatch(l -> l.contains("with 1 warning(s)"));
        assertThat(lines).noneMatch(l -> l.contains("nu-ada"));
    }

    @Test
    void okFalseInATwoHundredIsPermanent() {
        server.enqueue(answer(200, "{\"ok\": false, \"error\": \"Could not parse request body\"}"));
        assertThatThrownBy(() -> airship.send(page(PageAction.ADD_MEMBERS, member("ada"))))
                .isInstanceOf(PermanentDeliveryException.class).hasMessageContaining("ok=false")
                .hasMessageContaining("Could not parse request body");
    }

    @Test
    void aFourHundredIsPermanentAndSaysTheContentWasRefused() {
        server.enqueue(answer(400, "{\"ok\": false, \"error\": \"Invalid named user id nu-ada@example.com\","
                + " \"error_code\": 40001, \"details\": {\"path\": \"audience.named_user_id[0]\"}}"));
        assertThatThrownBy(() -> airship.send(page(PageAction.ADD_MEMBERS, member("ada"))))
                .isInstanceOf(PermanentDeliveryException.class)
                .hasMessageContaining("HTTP 400").hasMessageContaining("rejected the request's content")
                .hasMessageContaining("Invalid named user id <named user>@")
                .hasMessageNotContaining("nu-ada");
    }

    @Test
    void aFourHundredAboutTheTagGroupIsSystemicAndNamesTheKey() {
        server.enqueue(answer(400, "{\"ok\": false, \"error\": \"Tag group 'mixpanel' does not exist\"}"));
        assertThatThrownBy(() -> airship.send(page(PageAction.ADD_MEMBERS, member("ada"))))
                .isInstanceOf(PermanentDeliveryException.class)
                .hasMessageContaining("HTTP 400").hasMessageContaining("airship.tag.group")
                .hasMessageNotContaining("rejected the request's content");
    }

    @Test
    void authFailuresArePermanentNameTheKeysAndNeverTheSecret() {
        server.enqueue(answer(401, "{\"ok\": false, \"error\": \"Unauthorized: Bearer " + TOKEN + "\"}"));
        assertThatThrownBy(() -> airship.send(page(PageAction.ADD_MEMBERS, member("ada"))))
                .isInstanceOf(PermanentDeliveryException.class).hasMessageContaining("HTTP 401")
                .hasMessageContaining("check airship.token").hasMessageNotContaining(TOKEN);
        server.enqueue(answer(403, "{\"ok\": false, \"error\": \"Forbidden\"}"));
        assertThatThrownBy(() -> airship.send(page(PageAction.ADD_MEMBERS, member("ada"))))
                .isInstanceOf(PermanentDeliveryException.class).hasMessageContaining("HTTP 403")
                .hasMessageContaining("airship.master.secret");
    }

    @Test
    void rateLimitsAndServerErrorsAreTransientWithTheirRetryAfter() {
        server.enqueue(new MockResponse(429, Headers.of("Retry-After", "7"), "{\"ok\": false}"));
        assertThatThrownBy(() -> airship.send(page(PageAction.ADD_MEMBERS, member("ada"))))
                .isInstanceOfSatisfying(TransientDeliveryException.class,
                        e -> assertThat(e.retryAfterMillis()).isEqualTo(7000));
        server.enqueue(answer(503, "{\"ok\": false, \"error\": \"busy with nu-ada\"}"));
        assertThatThrownBy(() -> airship.send(page(PageAction.ADD_MEMBERS, member("ada"))))
                .isInstanceOf(TransientDeliveryException.class).hasMessageContaining("HTTP 503")
                .hasMessageContaining("busy with <named user>");
    }

    @Test
    void namedUserIdsAreTakenOutOfTextsLongestFirst() {
        assertThat(AirshipDestination.withoutIds("ids crm-12 and crm-123, x1", List.of("crm-12", "crm-123", "x1")))
                .isEqualTo("ids <named user> and <named user>, x1");
        assertThat(AirshipDestination.withoutIds("", List.of("crm-12"))).isEmpty();
    }

    @Test
    void anAnswerThatIsNotJsonIsPermanent() {
        server.enqueue(answer(200, "<html>proxy</html>"));
        assertThatThrownBy(() -> airship.send(page(PageAction.ADD_MEMBERS, member("ada"))))
                .isInstanceOf(PermanentDeliveryException.class).hasMessageContaining("not JSON");
    }
}

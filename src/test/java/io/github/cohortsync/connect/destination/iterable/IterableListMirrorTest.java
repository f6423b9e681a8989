package io.github.cohortsync.connect.destination.iterable;

import static io.github.cohortsync.connect.Records.change;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.io.IOException;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;

import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

import com.fasterxml.jackson.databind.ObjectMapper;

import io.github.cohortsync.connect.config.CohortSyncConfig;
import io.github.cohortsync.connect.delivery.TransientDeliveryException;
import io.github.cohortsync.connect.destination.Page;
import io.github.cohortsync.connect.destination.PageAction;
import io.github.cohortsync.connect.http.HttpClients;
import io.github.cohortsync.connect.record.CohortRef;
import io.github.cohortsync.connect.record.MembershipChange;
import io.github.cohortsync.connect.record.RecordParser;
import mockwebserver3.MockResponse;
import mockwebserver3.MockWebServer;
import mockwebserver3.RecordedRequest;
import okhttp3.Headers;

/** iterable.snapshot.mirror: after a snapshot's last members page, the list's other subscribers are unsubscribed. */
class IterableListMirrorTest {
    private static final ObjectMapper JSON = new ObjectMapper();
    private static final CohortRef COHORT = new CohortRef("1234", "Power users", null, null);
    private static final String LISTS = "{\"lists\": [{\"id\": 42, \"name\": \"mixpanel_Power users_1234\"}]}";
    private static final String BULK_OK = "{\"successCount\": 1, \"failCount\": 0, \"invalidEmails\": [],"
            + " \"invalidUserIds\": []}";

    private final MockWebServer server = new MockWebServer();
    private final RecordParser parser = new RecordParser();
    private IterableDestination iterable;

    @BeforeEach
    void start() throws IOException {
        server.start();
    }

    @AfterEach
    void stop() {
        if (iterable != null) {
            iterable.close();
        }
        server.close();
    }

    private IterableDestination destination(boolean mirror, int batchSize) {
        iterable = new IterableDestination(HttpClients.create(2_000), server.url("/").toString(), "key",
                "mixpanel_${cohort_name}_${cohort_id}", mirror, batchSize);
        return iterable;
    }

    private MembershipChange member(String id) {
        return parser.parse(change(1234, id).with("email", id + "@example.com").build());
    }

    private static Page members(String session, int number, int total, MembershipChange... members) {
        return new Page(COHORT, PageAction.MEMBERS, session, number, total, List.of(members));
    }

    private static MockResponse json(String body) {
        return new MockResponse(200, Headers.of("Content-Type", "application/json"), body);
    }

    private RecordedRequest next() throws InterruptedException {
        return server.takeRequest(5, TimeUnit.SECONDS);
    }

    @Test
    void theLastMembersPageUnsubscribesEverySubscriberNotInTheSnapshot() throws Exception {
        destination(true, 1);
        server.enqueue(json(LISTS));
        server.enqueue(json(BULK_OK));
        server.enqueue(json(BULK_OK));
        server.enqueue(new MockResponse(200, Headers.of("Content-Type", "text/plain"),
                "ada@example.com\nstranger@example.com\n\nBOB@Example.com\nzed@example.com\n"));
        server.enqueue(json(BULK_OK));
        server.enqueue(json(BULK_OK));

        iterable.send(members("s1", 1, 2, member("ada"), member("bob")));
        assertThat(server.getRequestCount()).as("no mirror before the last page").isEqualTo(2);
        iterable.send(members("s1", 2, 2, member("carol")));

        assertThat(next().getUrl().encodedPath()).isEqualTo("/api/lists");
        assertThat(next().getUrl().encodedPath()).isEqualTo("/api/lists/subscribe");
        assertThat(next().getUrl().encodedPath()).isEqualTo("/api/lists/subscribe");
        RecordedRequest export = next();
        assertThat(export.getMethod()).isEqualTo("GET");
        assertThat(export.getUrl().encodedPath()).isEqualTo("/api/lists/getUsers");
        assertThat(export.getUrl().queryParameter("listId")).isEqualTo("42");
        assertThat(JSON.readTree(next().getBody().utf8())).isEqualTo(JSON.readTree(
                "{\"listId\": 42, \"subscribers\": [{\"email\": \"stranger@example.com\"}]}"));
        assertThat(JSON.readTree(next().getBody().utf8())).isEqualTo(JSON.readTree(
                "{\"listId\": 42, \"subscribers\": [{\"email\": \"zed@example.com\"}]}"));
        assertThat(server.getRequestCount()).isEqualTo(6);
    }

    @Test
    void aCohortWithMembersKnownOnlyByUserIdIsNotMirrored() throws Exception {
        destination(true, 1000);
        server.enqueue(json(LISTS));
        server.enqueue(json(BULK_OK));
        MembershipChange userIdOnly = parser.parse(change(1234, "eve")
                .with("properties", Map.of("$iterable_user_id", "it-eve")).build());

        iterable.send(members("s1", 1, 1, member("ada"), userIdOnly));

        assertThat(server.getRequestCount()).as("no list export: it could not name eve").isEqualTo(2);
    }

    @Test
    void withSeveralTasksTheMirrorIsIgnoredBecauseEachTaskSeesOnlyPartOfACohort() throws Exception {
        iterable = new IterableDestination(new CohortSyncConfig(Map.of("destination", "iterable",
                "iterable.api.key", "key", "iterable.endpoint", server.url("/").toString(), "tasks.max", "2")));
        server.enqueue(json(LISTS));
        server.enqueue(json(BULK_OK));

        iterable.send(members("s1", 1, 1, member("ada")));

        assertThat(server.getRequestCount()).as("subscribed, but no list export").isEqualTo(2);
    }

    @Test
    void withTheMirrorOffOnlyMembersAreSubscribed() throws Exception {
        destination(false, 1000);
        server.enqueue(json(LISTS));
        server.enqueue(json(BULK_OK));

        iterable.send(members("s1", 1, 1, member("ada")));

        assertThat(server.getRequestCount()).isEqualTo(2);
    }

    @Test
    void aFailedListExportIsTransientAndTheRetryMirrorsWithTheSameMembers() throws Exception {
        destination(true, 1000);
        server.enqueue(json(LISTS));
        server.enqueue(json(BULK_OK));
        server.enqueue(new MockResponse(503, Headers.of(), "busy"));
        Page last = members("s1", 1, 1, member("ada"));

        assertThatThrownBy(() -> iterable.send(last)).isInstanceOf(TransientDeliveryException.class)
                .hasMessageContaining("to mirror cohort 1234");

        server.enqueue(json(BULK_OK));
        server.enqueue(new MockResponse(200, Headers.of(), "ada@example.com\nold@example.com\n"));
        server.enqueue(json(BULK_OK));
        iterable.send(last);
        for (int i = 0; i < 5; i++) {
            next();
        }
        assertThat(JSON.readTree(next().getBody().utf8()).path("subscribers")).isEqualTo(JSON.readTree(
                "[{\"email\": \"old@example.com\"}]"));
    }

    /**
     * A 429 to the export holds the next export back by the wait it asks for, read as any answer's: here only
     * {@code X-RateLimit-Reset} (seconds). The interval is 0, so without the hold the retry's export would go at once.
     */
    @Test
    void a429ToTheListExportWithOnlyXRateLimitResetHoldsTheNextExportBack() throws Exception {
        destination(true, 1000);
        server.enqueue(json(LISTS));
        server.enqueue(json(BULK_OK));
        server.enqueue(new MockResponse(429, Headers.of("X-RateLimit-Reset", "1"), ""));
        Page last = members("s1", 1, 1, member("ada"));
        long start = System.nanoTime();

        assertThatThrownBy(() -> iterable.send(last))
                .isInstanceOfSatisfying(TransientDeliveryException.class,
                        e -> assertThat(e.retryAfterMillis()).isEqualTo(1_000))
                .hasMessageContaining("HTTP 429");

        server.enqueue(json(BULK_OK));
        server.enqueue(new MockResponse(200, Headers.of(), "ada@example.com\n"));
        iterable.send(last);
        // A lower bound only: the hold began after start, so the second export cannot have gone before start + 1 s.
        assertThat(TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - start)).isGreaterThanOrEqualTo(1_000);
        assertThat(server.getRequestCount()).isEqualTo(5);
    }
}

package io.github.cohortsync.connect;

import static io.github.cohortsync.connect.Records.change;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.awaitility.Awaitility.await;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Base64;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.BooleanSupplier;

import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.connect.sink.SinkRecord;
import org.apache.log4j.Level;
import org.apache.log4j.Logger;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import mockwebserver3.Dispatcher;
import mockwebserver3.MockResponse;
import mockwebserver3.MockWebServer;
import mockwebserver3.RecordedRequest;
import okhttp3.Headers;

/**
 * Everything the connector logs through a run with retries, bad records and a failure: no secret, no PII; and through
 * a Mailchimp run whose answers echo the key (raw and Basic-encoded), the email and the phone; through a Marketo
 * run whose answers echo the client secret, the email and the phone; and through an Airship
 * run whose answers (a failure, warnings, a 401) echo the token, the email, the phone and the Named User id (which
 * may be personal data).
 */
class NoPersonalDataInLogsTest {
    @TempDir
    Path journalDir;
    private static final String PASSWORD = "pa55-w0rd-XYZ";
    private static final String TOKEN = "query-t0ken-XYZ";
    private static final String MAILCHIMP_KEY = "0123mc-s3cret-key-us21";
    private static final String MARKETO_SECRET = "mkto-s3cret-XYZ-42";
    private static final String AIRSHIP_TOKEN = "MTphaXJzaGlwLXQwa2VuLVhZWg";
    private static final String NAMED_USER = "crm-7f3a9c21";
    private static final String EMAIL = "ada.lovelace@example.com";
    private static final String PHONE = "+15550199887";
    private static final TopicPartition P0 = new TopicPartition(Records.TOPIC, 0);

    private final LogCapture capture = new LogCapture();
    private final Logger connectorLogger = Logger.getLogger("io.github.cohortsync");
    private Level previousLevel;
    private final MockWebServer server = new MockWebServer();

    @BeforeEach
    void captureLogs() throws IOException {
        previousLevel = connectorLogger.getLevel();
        connectorLogger.setLevel(Level.ALL);
        Logger.getRootLogger().addAppender(capture);
        server.start();
    }

    @AfterEach
    void restoreLogs() {
        Logger.getRootLogger().removeAppender(capture);
        connectorLogger.setLevel(previousLevel);
        server.close();
    }

    @Test
    void aRunWithRetriesBadRecordsAndAFailureLogsNoSecretEmailOrPhone() {
        AtomicInteger calls = new AtomicInteger();
        server.setDispatcher(new Dispatcher() {
            @Override
            public MockResponse dispatch(RecordedRequest request) {
                return switch (calls.incrementAndGet()) {
                    case 1 -> new MockResponse(503, Headers.of(), "busy");
                    case 2 -> new MockResponse(200, Headers.of(), "{\"action\": \"add_members\", \"status\": \"success\"}");
                    default -> new MockResponse(401, Headers.of(), "{\"error\": \"expired\"}");
                };
            }
        });
        Map<String, String> props = new HashMap<>();
        props.put("name", "pii-test");
        props.put("destination", "webhook");
        props.put("webhook.url", server.url("/hook?token=" + TOKEN).toString());
        props.put("webhook.auth.username", "user");
        props.put("webhook.auth.password", PASSWORD);
        props.put("sync.interval.ms", "100");
        props.put("retry.backoff.initial.ms", "10");
        props.put("retry.backoff.max.ms", "10");
        props.put("errors.tolerance", "all");
        props.put("delivery.journal.dir", journalDir.toString());
        FakeSinkTaskContext context = new FakeSinkTaskContext(true, P0);
        CohortSyncSinkTask task = new CohortSyncSinkTask();
        task.initialize(context);
        task.start(props);
        try {
            task.put(List.of(
                    record(change("c1", "u1").with("email", EMAIL).with("phone_number", PHONE), 0),
                    record(change("c1", "u2").with("email", EMAIL).with("action", "maybe"), 1),
                    record(change("c1", "u3").with("phone_number", PHONE).with("timestamp", "noon"), 2)));
            await().atMost(Duration.ofSeconds(20)).until(() -> {
                task.put(List.of());
                return calls.get() >= 2;
            });
            task.put(List.of(record(change("c1", "u4").with("email", EMAIL), 3)));
            // The task's failure message is what the worker logs and shows in the REST API.
            await().atMost(Duration.ofSeconds(20)).untilAsserted(() -> assertThatThrownBy(() -> task.put(List.of()))
                    .hasMessageContaining("HTTP 401")
                    .satisfies(failure -> capture.lines.add(failure.getMessage())));
        } finally {
            task.stop();
        }

        assertThat(capture.lines).as("the run logged something").hasSizeGreaterThan(3);
        assertThat(capture.lines).anySatisfy(line -> assertThat(line).contains("Retrying"));
        assertThat(capture.lines).anySatisfy(line -> assertThat(line).contains("field 'action'"));
        assertThat(String.join("\n", capture.lines))
                .doesNotContain(PASSWORD)
                .doesNotContain(TOKEN)
                .doesNotContain(EMAIL)
                .doesNotContain(PHONE);
    }

    @Test
    void aMailchimpRunWithARetryARejectionAndAFailureLogsNoKeyEmailOrPhone() {
        String encoded = Base64.getEncoder().encodeToString(("cohort-sync:" + MAILCHIMP_KEY)
                .getBytes(StandardCharsets.UTF_8));
        String echo = "key " + MAILCHIMP_KEY + " basic " + encoded + " for " + EMAIL + " at " + PHONE;
        AtomicInteger calls = new AtomicInteger();
        server.setDispatcher(new Dispatcher() {
            @Override
            public MockResponse dispatch(RecordedRequest request) {
                Headers json = Headers.of("Content-Type", "application/json");
                return switch (calls.incrementAndGet()) {
                    case 1 -> new MockResponse(503, json, "{\"detail\": \"" + echo + "\"}");
                    case 2 -> new MockResponse(200, json, "{\"segments\": [{\"id\": 5, \"name\": \"Mixpanel - c1\"}],"
                            + " \"total_items\": 1}");
                    case 3 -> new MockResponse(200, json, "{\"members_added\": [], \"errors\": [{\"email_addresses\":"
                            + " [\"" + EMAIL + "\"], \"error\": \"" + echo + "\"}], \"error_count\": 1}");
                    default -> new MockResponse(401, json, "{\"title\": \"API Key Invalid\", \"detail\": \""
                            + echo + "\"}");
                };
            }
        });
        runOneRejectionThenAFailure("pii-test-mailchimp", Map.of("destination", "mailchimp",
                "mailchimp.api.key", MAILCHIMP_KEY, "mailchimp.list.id", "list-1",
                "mailchimp.endpoint", server.url("/").toString()), Map.of(), () -> calls.get() >= 3,
                "HTTP 401", "check mailchimp.api.key");

        assertThat(capture.lines).anySatisfy(line -> assertThat(line).contains("Retrying"));
        assertThat(capture.lines).anySatisfy(line -> assertThat(line).contains("Mailchimp did not add member u1"));
        assertThat(String.join("\n", capture.lines))
                .doesNotContain(MAILCHIMP_KEY)
                .doesNotContain(encoded)
                .doesNotContain(EMAIL)
                .doesNotContain(PHONE);
    }

    @Test
    void aMarketoRunWithARetryARejectionAndAFailureLogsNoSecretEmailOrPhone() {
        String echo = "secret " + MARKETO_SECRET + " for " + EMAIL + " at " + PHONE;
        AtomicInteger tokenCalls = new AtomicInteger();
        AtomicInteger listCalls = new AtomicInteger();
        server.setDispatcher(new Dispatcher() {
            @Override
            public MockResponse dispatch(RecordedRequest request) {
                Headers json = Headers.of("Content-Type", "application/json");
                String path = request.getUrl().encodedPath();
                if (path.equals("/identity/oauth/token")) {
                    return tokenCalls.incrementAndGet() == 1
                            ? new MockResponse(503, json, "{\"error\": \"" + echo + "\"}")
                            : new MockResponse(200, json, "{\"access_token\": \"t-1\", \"expires_in\": 3599}");
                }
                if (path.equals("/rest/v1/lists.json")) {
                    return new MockResponse(200, json, "{\"success\": true, \"result\": [{\"id\": 7, \"name\":"
                            + " \"mixpanel_c1_c1\"}]}");
                }
                if (path.equals("/rest/v1/leads.json")) {
                    return new MockResponse(200, json, "{\"success\": true, \"result\": [{\"id\": 5, \"email\":"
                            + " \"" + EMAIL + "\"}]}");
                }
                return listCalls.incrementAndGet() == 1
                        ? new MockResponse(200, json, "{\"success\": true, \"result\": [{\"id\": 5, \"status\":"
                                + " \"skipped\", \"reasons\": [{\"code\": \"1008\", \"message\": \"" + echo
                                + "\"}]}]}")
                        : new MockResponse(200, json, "{\"success\": false, \"errors\": [{\"code\": \"603\","
                                + " \"message\": \"" + echo + "\"}]}");
            }
        });
        runOneRejectionThenAFailure("pii-test-marketo", Map.of("destination", "marketo",
                "marketo.endpoint", server.url("/").toString(), "marketo.client.id", "client-1",
                "marketo.client.secret", MARKETO_SECRET, "marketo.folder.id", "12"), Map.of(), () -> listCalls.get() >= 1,
                "Marketo error 603", "Read-Write Lead");

        assertThat(capture.lines).anySatisfy(line -> assertThat(line).contains("Retrying"));
        assertThat(capture.lines).anySatisfy(line -> assertThat(line).contains("Marketo did not add member u1"));
        assertThat(String.join("\n", capture.lines))
                .doesNotContain(MARKETO_SECRET)
                .doesNotContain(EMAIL)
                .doesNotContain(PHONE);
    }

    @Test
    void anAirshipRunWithARetryWarningsAndAFailureLogsNoTokenEmailPhoneOrNamedUserId() {
        String echo = "token " + AIRSHIP_TOKEN + " for " + EMAIL + " at " + PHONE + " named user " + NAMED_USER;
        AtomicInteger calls = new AtomicInteger();
        server.setDispatcher(new Dispatcher() {
            @Override
            public MockResponse dispatch(RecordedRequest request) {
                Headers json = Headers.of("Content-Type", "application/vnd.urbanairship+json; version=3");
                return switch (calls.incrementAndGet()) {
                    case 1 -> new MockResponse(503, json, "{\"ok\": false, \"error\": \"" + echo + "\"}");
                    case 2 -> new MockResponse(200, json, "{\"ok\": true, \"warnings\": [\"" + echo + "\"]}");
                    default -> new MockResponse(401, json, "{\"ok\": false, \"error\": \"" + echo + "\"}");
                };
            }
        });
        runOneRejectionThenAFailure("pii-test-airship", Map.of("destination", "airship",
                "airship.token", AIRSHIP_TOKEN, "airship.endpoint", server.url("/").toString()),
                Map.of("$airship_named_user", NAMED_USER), () -> calls.get() >= 2,
                "HTTP 401", "check airship.token");

        assertThat(capture.lines).anySatisfy(line -> assertThat(line).contains("Retrying"));
        assertThat(capture.lines).anySatisfy(line -> assertThat(line).contains("with 1 warning(s)"));
        assertThat(String.join("\n", capture.lines))
                .doesNotContain(AIRSHIP_TOKEN)
                .doesNotContain(EMAIL)
                .doesNotContain(PHONE)
                .doesNotContain(NAMED_USER);
    }

    /**
     * Runs a task of this destination: u1 (with email and phone) until {@code firstDone}, then u4 (same email) until
     * the task fails with a message holding {@code failureContains}, which is added to the captured lines. Both
     * members carry {@code properties} (e.g. a destination's user id).
     */
    private void runOneRejectionThenAFailure(String name, Map<String, String> destination,
                                             Map<String, Object> properties, BooleanSupplier firstDone,
                                             String... failureContains) {
        Map<String, String> props = new HashMap<>(destination);
        props.put("name", name);
        props.put("snapshot.enabled", "false");
        props.put("sync.interval.ms", "100");
        props.put("retry.backoff.initial.ms", "10");
        props.put("retry.backoff.max.ms", "10");
        props.put("errors.tolerance", "all");
        props.put("delivery.journal.dir", journalDir.toString());
        FakeSinkTaskContext context = new FakeSinkTaskContext(true, P0);
        CohortSyncSinkTask task = new CohortSyncSinkTask();
        task.initialize(context);
        task.start(props);
        try {
            task.put(List.of(record(change("c1", "u1").with("cohort_name", "c1").with("email", EMAIL)
                    .with("phone_number", PHONE).with("properties", properties), 0)));
            await().atMost(Duration.ofSeconds(20)).until(() -> {
                task.put(List.of());
                return firstDone.getAsBoolean();
            });
            task.put(List.of(record(change("c1", "u4").with("cohort_name", "c1").with("email", EMAIL)
                    .with("properties", properties), 1)));
            await().atMost(Duration.ofSeconds(20)).untilAsserted(() -> assertThatThrownBy(() -> task.put(List.of()))
                    .hasMessageContainingAll(failureContains)
                    .satisfies(failure -> capture.lines.add(failure.getMessage())));
        } finally {
            task.stop();
        }
    }

    private static SinkRecord record(Records records, long offset) {
        return records.at(0, offset).build();
    }
}

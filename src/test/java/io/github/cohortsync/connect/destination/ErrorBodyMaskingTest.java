package io.github.cohortsync.connect.destination;

import static io.github.cohortsync.connect.Records.change;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.catchThrowable;

import java.nio.charset.StandardCharsets;
import java.util.Base64;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;

import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

import io.github.cohortsync.connect.config.CohortSyncConfig;
import io.github.cohortsync.connect.delivery.PermanentDeliveryException;
import io.github.cohortsync.connect.delivery.TransientDeliveryException;
import io.github.cohortsync.connect.record.MembershipChange;
import io.github.cohortsync.connect.record.RecordParser;
import mockwebserver3.MockResponse;
import mockwebserver3.MockWebServer;
import okhttp3.Headers;

/**
 * Every destination, built from its config as the task builds it, goes through the one HTTP call path: an error
 * answer that echoes the destination's secret, an email and a phone number reaches no exception message.
 */
class ErrorBodyMaskingTest {
    /** Holds a '/', which a JSON answer may escape as "\/". */
    private static final String SECRET = "s3cr/et-Key-4f9a";
    private static final String EMAIL = "ada.lovelace@example.com";
    private static final String PHONE = "+44 20 7946 0958";

    private final MockWebServer server = new MockWebServer();

    @BeforeEach
    void start() throws Exception {
        server.start();
    }

    @AfterEach
    void stop() {
        server.close();
    }

    /**
     * Each destination's config, with its secrets set to {@link #SECRET} (and {@code SECRET-import}) and its endpoint
     * on the server, and the credentials as the destination encodes them in a header (Basic), when it does.
     */
    static Stream<Arguments> destinations() {
        return Stream.of(
                Arguments.of("webhook", Map.of("webhook.url", "/hook", "webhook.auth.username", "user",
                        "webhook.auth.password", SECRET), basic("user:" + SECRET)),
                Arguments.of("segment", Map.of("segment.endpoint", "/", "segment.write.key", SECRET),
                        basic(SECRET + ":")),
                Arguments.of("iterable", Map.of("iterable.endpoint", "/", "iterable.api.key", SECRET), ""),
                Arguments.of("clevertap", Map.of("clevertap.endpoint", "/", "clevertap.account.id", "ACC-1",
                        "clevertap.passcode", SECRET), ""),
                Arguments.of("braze", Map.of("braze.endpoint", "/", "braze.api.key", SECRET), ""),
                Arguments.of("braze", Map.of("braze.endpoint", "/", "braze.mode", "cohort_import",
                        "braze.partner.name", "acme", "braze.partner.api.key", SECRET,
                        "braze.data.import.key", SECRET + "-import"), ""),
                Arguments.of("mailchimp", Map.of("mailchimp.endpoint", "/", "mailchimp.api.key", SECRET,
                        "mailchimp.list.id", "list-1"), basic("cohort-sync:" + SECRET)),
                Arguments.of("marketo", Map.of("marketo.endpoint", "/", "marketo.client.id", "client-1",
                        "marketo.client.secret", SECRET, "marketo.folder.id", "12"), ""),
                Arguments.of("airship", Map.of("airship.endpoint", "/", "airship.token", SECRET), ""),
                Arguments.of("airship", Map.of("airship.endpoint", "/", "airship.app.key", "app-1",
                        "airship.master.secret", SECRET), basic("app-1:" + SECRET)));
    }

    private static String basic(String credentials) {
        return Base64.getEncoder().encodeToString(credentials.getBytes(StandardCharsets.UTF_8));
    }

    @ParameterizedTest(name = "{0} {1}: HTTP 401")
    @MethodSource("destinations")
    void aPermanentFailureMasksTheEchoedSecretAndPersonalData(String destination, Map<String, String> settings,
                                                              String encoded) throws Exception {
        Throwable failure = failureOf(destination, settings, 401, encoded);

        assertThat(failure).isInstanceOf(PermanentDeliveryException.class);
        assertMasked(failure, encoded);
    }

    @ParameterizedTest(name = "{0} {1}: HTTP 503")
    @MethodSource("destinations")
    void aTransientFailureMasksTheEchoedSecretAndPersonalData(String destination, Map<String, String> settings,
                                                              String encoded) throws Exception {
        Throwable failure = failureOf(destination, settings, 503, encoded);

        assertThat(failure).isInstanceOf(TransientDeliveryException.class);
        assertMasked(failure, encoded);
    }

    private Throwable failureOf(String destination, Map<String, String> settings, int status, String encoded)
            throws Exception {
        for (int i = 0; i < 3; i++) {
            // A destination may make more than one call (e.g. Iterable looks its list up first): each fails alike.
            server.enqueue(new MockResponse(status, Headers.of("Content-Type", "application/json"),
                    echo(status, encoded)));
        }
        Map<String, String> props = new HashMap<>();
        props.put("destination", destination);
        settings.forEach((key, value) -> props.put(key, key.endsWith(".endpoint") || key.equals("webhook.url")
                ? server.url(value).toString() : value));
        try (Destination sink = Destinations.create(new CohortSyncConfig(props), "masking-test")) {
            return catchThrowable(() -> sink.send(page()));
        }
    }

    /**
     * An answer in the fields each destination shows of a failure (webhook and Segment the body, Iterable msg,
     * CleverTap status and error, Braze message and errors), each echoing every secret in every form, the email
     * and the phone number.
     */
    private static String echo(int status, String encoded) {
        String echoed = "key " + SECRET + " escaped " + SECRET.replace("/", "\\/") + " import " + SECRET
                + "-import encoded " + encoded + " for " + EMAIL + " at " + PHONE;
        return "{\"code\": \"BadApiKey\", \"msg\": \"" + echoed + "\", \"status\": \"fail\", \"error\": \"" + echoed
                + "\", \"message\": \"" + echoed + "\", \"errors\": [{\"type\": \"" + echoed + "\"}], \"http\": "
                + status + "}";
    }

    private static void assertMasked(Throwable failure, String encoded) {
        String message = failure.getMessage();
        assertThat(message).as("the failure names the call").isNotBlank();
        for (String leak : List.of(SECRET, "et-Key-4f9a", EMAIL, "7946")) {
            assertThat(message).as("leaks %s", leak).doesNotContain(leak);
        }
        if (!encoded.isEmpty()) {
            assertThat(message).as("leaks the encoded credentials").doesNotContain(encoded);
        }
        assertThat(message).as("the body's masked text is shown").contains("<secret>");
    }

    private static Page page() {
        MembershipChange member = new RecordParser().parse(change(7, "ada").with("email", EMAIL)
                .with("phone_number", PHONE)
                .with("properties", Map.of("$braze_external_id", "ext-ada", "$airship_named_user", "nu-ada"))
                .build());
        return new Page(member.cohort(), PageAction.ADD_MEMBERS, "session-1", 1, 1, List.of(member));
    }
}

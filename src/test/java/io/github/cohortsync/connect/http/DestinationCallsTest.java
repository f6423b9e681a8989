package io.github.cohortsync.connect.http;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.util.LinkedHashMap;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;

import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

import io.github.cohortsync.connect.delivery.ContentRejectedException;
import io.github.cohortsync.connect.delivery.PermanentDeliveryException;
import io.github.cohortsync.connect.delivery.TransientDeliveryException;
import mockwebserver3.MockResponse;
import mockwebserver3.MockWebServer;
import mockwebserver3.SocketEffect;
import okhttp3.Headers;
import okhttp3.Request;

/** The shared call path: what it accepts, how it classifies and masks failures, and I/O errors. */
class DestinationCallsTest {
    private static final String SECRET = "tok/en-123456";

    private final MockWebServer server = new MockWebServer();
    private DestinationCalls calls;

    @BeforeEach
    void start() throws Exception {
        server.start();
        calls = new DestinationCalls(HttpClients.create(2_000), Secrets.of(SECRET), "check test.key");
    }

    @AfterEach
    void stop() {
        calls.close();
        server.close();
    }

    private Request get() {
        return new Request.Builder().url(server.url("/api")).build();
    }

    @Test
    void aSuccessfulAnswerGoesToTheReader() throws Exception {
        server.enqueue(new MockResponse(200, Headers.of(), "{\"ok\": true}"));

        boolean ok = calls.execute("Test GET", get(), answer -> answer.json().path("ok").asBoolean());

        assertThat(ok).isTrue();
    }

    @Test
    void aStatusTheDestinationDoesNotKnowFailsPermanentlyWithTheMaskedBodyAndTheHint() {
        server.enqueue(new MockResponse(401, Headers.of(), "bad key " + SECRET + " for ada@example.com"));

        assertThatThrownBy(() -> calls.execute("Test GET", get(), AnswerReader.acceptAny2xx()))
                .isInstanceOf(PermanentDeliveryException.class)
                .hasMessage("Test GET failed with HTTP 401: bad key <secret> for <email>; check test.key");
    }

    /** 400, 413 and 422 to a call with members may be the members' fault; to any other call, and 401/403/404, not. */
    @Test
    void onlyACallWithMembersRefusedWith400413Or422IsAContentRefusal() {
        for (int status : new int[] {400, 413, 422}) {
            server.enqueue(new MockResponse(status, Headers.of(), "refused"));
            assertThatThrownBy(() -> calls.executeMembers("Test POST", get(), AnswerReader.acceptAny2xx()))
                    .isInstanceOf(ContentRejectedException.class)
                    .hasMessageContaining("the destination rejected the request's content");
            server.enqueue(new MockResponse(status, Headers.of(), "refused"));
            assertThatThrownBy(() -> calls.execute("Test GET", get(), AnswerReader.acceptAny2xx()))
                    .isInstanceOf(PermanentDeliveryException.class).isNotInstanceOf(ContentRejectedException.class);
        }
        for (int status : new int[] {401, 403, 404, 409}) {
            server.enqueue(new MockResponse(status, Headers.of(), "refused"));
            assertThatThrownBy(() -> calls.executeMembers("Test POST", get(), AnswerReader.acceptAny2xx()))
                    .isInstanceOf(PermanentDeliveryException.class).isNotInstanceOf(ContentRejectedException.class);
        }
    }

    @Test
    void aRetryableStatusFailsTransientlyWithItsRetryAfter() {
        server.enqueue(new MockResponse(429, Headers.of("Retry-After", "7"), "slow down"));

        assertThatThrownBy(() -> calls.execute("Test GET", get(), AnswerReader.acceptAny2xx()))
                .isInstanceOfSatisfying(TransientDeliveryException.class,
                        e -> assertThat(e).extracting(TransientDeliveryException::retryAfterMillis,
                                TransientDeliveryException::status).containsExactly(7_000L, 429))
                .hasMessage("Test GET failed with HTTP 429: slow down");
    }

    /**
     * Without Retry-After, X-RateLimit-Reset says how long to wait: Segment sends seconds to wait, other APIs the
     * reset time in epoch seconds or milliseconds. Retry-After wins when both are there.
     */
    @Test
    void withoutRetryAfterTheRateLimitResetHeaderSaysHowLongToWait() {
        long inTwentySeconds = System.currentTimeMillis() + 20_000;
        Map<String, Long> atLeast = new LinkedHashMap<>();
        atLeast.put("4", 4_000L);
        atLeast.put("1.5", 1_500L);
        atLeast.put(Long.toString(inTwentySeconds / 1000 + 1), 10_000L);
        atLeast.put(Long.toString(inTwentySeconds), 10_000L);
        for (Map.Entry<String, Long> reset : atLeast.entrySet()) {
            server.enqueue(new MockResponse(429, Headers.of("X-RateLimit-Reset", reset.getKey()), "slow down"));
            assertThatThrownBy(() -> calls.execute("Test GET", get(), AnswerReader.acceptAny2xx()))
                    .as("X-RateLimit-Reset: %s", reset.getKey())
                    .isInstanceOfSatisfying(TransientDeliveryException.class,
                            e -> assertThat(e.retryAfterMillis()).isBetween(reset.getValue(), 21_000L));
        }
        server.enqueue(new MockResponse(429, Headers.of("Retry-After", "2", "X-RateLimit-Reset", "9"), ""));
        assertThatThrownBy(() -> calls.execute("Test GET", get(), AnswerReader.acceptAny2xx()))
                .isInstanceOfSatisfying(TransientDeliveryException.class,
                        e -> assertThat(e.retryAfterMillis()).isEqualTo(2_000L));
        server.enqueue(new MockResponse(429, Headers.of("X-RateLimit-Reset", "soon"), ""));
        assertThatThrownBy(() -> calls.execute("Test GET", get(), AnswerReader.acceptAny2xx()))
                .isInstanceOfSatisfying(TransientDeliveryException.class,
                        e -> assertThat(e.retryAfterMillis()).isEqualTo(-1L));
    }

    @Test
    void theReaderMayAcceptAFailedAnswerOrClassifyItItself() throws Exception {
        AnswerReader<String> reader = new AnswerReader<>() {
            @Override
            public String read(Answer answer) {
                return "ok";
            }

            @Override
            public String readFailure(Answer answer) throws TransientDeliveryException {
                if (answer.status() == 400) {
                    return "rejected members";
                }
                throw new TransientDeliveryException("rate limited by its body", -1);
            }
        };
        server.enqueue(new MockResponse(400, Headers.of(), "every member invalid"));
        server.enqueue(new MockResponse(403, Headers.of(), "RateLimitExceeded"));

        assertThat(calls.execute("Test GET", get(), reader)).isEqualTo("rejected members");
        assertThatThrownBy(() -> calls.execute("Test GET", get(), reader))
                .isInstanceOf(TransientDeliveryException.class).hasMessage("rate limited by its body");
    }

    @Test
    void theFailureTextIsMaskedWhateverTheReaderPicksFromTheAnswer() {
        server.enqueue(new MockResponse(422, Headers.of(), "{\"error\": \"" + SECRET.replace("/", "\\/") + "\"}"));
        AnswerReader<Void> summarising = new AnswerReader<>() {
            @Override
            public Void read(Answer answer) {
                return null;
            }

            @Override
            public String failureText(Answer answer) throws java.io.IOException {
                return "error: " + answer.text();
            }
        };

        assertThatThrownBy(() -> calls.execute("Test POST", get(), summarising))
                .isInstanceOf(PermanentDeliveryException.class)
                .hasMessageContaining("error: {\"error\": \"<secret>\"}")
                .hasMessageNotContaining("en-123456");
    }

    @Test
    void aBrokenConnectionIsTransient() {
        server.enqueue(new MockResponse.Builder().onResponseStart(new SocketEffect.CloseSocket()).build());

        assertThatThrownBy(() -> calls.execute("Test GET", get(), AnswerReader.acceptAny2xx()))
                .isInstanceOf(TransientDeliveryException.class).hasMessageStartingWith("Test GET failed: ");
    }

    @Test
    void cancellingAbortsACallInFlightAsTransient() throws Exception {
        server.enqueue(new MockResponse.Builder().onResponseStart(SocketEffect.Stall.INSTANCE).build());
        CompletableFuture<Throwable> failure = CompletableFuture.supplyAsync(() -> {
            try {
                calls.execute("Test GET", get(), AnswerReader.acceptAny2xx());
                return null;
            } catch (Exception e) {
                return e;
            }
        });
        server.takeRequest(5, TimeUnit.SECONDS);

        calls.cancelInFlight();

        assertThat(failure.get(5, TimeUnit.SECONDS)).isInstanceOf(TransientDeliveryException.class)
                .hasMessageStartingWith("Test GET failed: ");
    }
}

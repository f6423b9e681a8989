package io.github.cohortsync.connect.sync.send;

import static io.github.cohortsync.connect.Records.change;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.awaitility.Awaitility.await;

import java.io.IOException;
import java.time.Duration;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.AtomicReference;
import java.util.function.Predicate;

import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;

import io.github.cohortsync.connect.config.CohortSyncConfig;
import io.github.cohortsync.connect.destination.Destination;
import io.github.cohortsync.connect.destination.Destinations;
import io.github.cohortsync.connect.http.RetryPolicy;
import io.github.cohortsync.connect.metrics.SyncStats;
import io.github.cohortsync.connect.record.RecordParser;
import io.github.cohortsync.connect.sync.SyncBuffer;
import io.github.cohortsync.connect.sync.SyncBuffer.Drain;
import mockwebserver3.Dispatcher;
import mockwebserver3.MockResponse;
import mockwebserver3.MockWebServer;
import mockwebserver3.RecordedRequest;
import okhttp3.Headers;

/**
 * A Retry-After one page gets holds every page of the task: the sender, four pages in flight, against a local webhook
 * receiver that answers one page with 429 (or 503) and Retry-After, and notes when each request arrived.
 */
class RateLimitHoldTest {
    private static final ObjectMapper JSON = new ObjectMapper();
    private static final Duration WAIT = Duration.ofSeconds(30);
    /** How late a call already leaving when the 429 was answered may still arrive; timing on a loaded machine. */
    private static final long TOLERANCE_MS = 150;
    /** Pages in flight when the receiver answers them all with 429 at once (the adaptive sender's initial limit). */
    private static final int TOGETHER = 4;

    /** One request as the receiver saw it: the page's member and when it arrived (ms since the receiver started). */
    private record Arrival(String id, long atMs) {
    }

    private static final class Receiver extends Dispatcher {
        final long start = System.nanoTime();
        final List<Arrival> arrivals = new CopyOnWriteArrayList<>();
        /**
         * The request (counted from 1) answered with {@link #failStatus} and {@link #retryAfter}: the fourth, so that
         * three pages are in flight (answered slowly) when it goes out.
         */
        volatile int limitedRequest = 4;
        volatile int failStatus = 429;
        volatile String retryAfter = "1";
        /** How long a 200 takes, so that the other pages are still in flight when the 429 goes out. */
        volatile long answerMs = 300;
        final AtomicBoolean failed = new AtomicBoolean();
        final AtomicLong failedAtMs = new AtomicLong(-1);
        final CountDownLatch released = new CountDownLatch(1);
        /**
         * When set, the first {@link #TOGETHER} requests instead each wait until all of them arrived (so they are in
         * flight together) and are all answered with {@link #failStatus} and {@link #retryAfter}.
         */
        volatile boolean firstFailTogether;
        private final CountDownLatch togetherArrived = new CountDownLatch(TOGETHER);
        /** Requests the receiver is answering right now, and the most at once among those after the first 429. */
        final AtomicInteger inFlight = new AtomicInteger();
        final AtomicInteger peakAfterFailure = new AtomicInteger();

        long now() {
            return TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - start);
        }

        @Override
        public MockResponse dispatch(RecordedRequest request) throws InterruptedException {
            long at = now();
            String action;
            String id;
            try {
                JsonNode page = JSON.readTree(request.getBody().utf8());
                action = page.path("action").asText();
                id = page.path("parameters").path("members").get(0).path("mixpanel_distinct_id").asText();
            } catch (IOException | NullPointerException e) {
                return new MockResponse(400, Headers.of(), "unparsable");
            }
            int number;
            synchronized (arrivals) {
                arrivals.add(new Arrival(id, at));
                number = arrivals.size();
            }
            if (firstFailTogether && number <= TOGETHER) {
                togetherArrived.countDown();
                togetherArrived.await(10, TimeUnit.SECONDS);
                failed.set(true);
                failedAtMs.compareAndSet(-1, now());
                return new MockResponse(failStatus, Headers.of("Retry-After", retryAfter), "slow down");
            }
            int concurrent = inFlight.incrementAndGet();
            try {
                if (failed.get()) {
                    peakAfterFailure.accumulateAndGet(concurrent, Math::max);
                }
                return answer(number, action);
            } finally {
                inFlight.decrementAndGet();
            }
        }

        private MockResponse answer(int number, String action) throws InterruptedException {
            if (number == limitedRequest && failed.compareAndSet(false, true)) {
                failedAtMs.set(now());
                return new MockResponse(failStatus, Headers.of("Retry-After", retryAfter), "slow down");
            }
            released.await(answerMs, TimeUnit.MILLISECONDS);
            return new MockResponse(200, Headers.of("Content-Type", "application/json"),
                    "{\"action\": \"" + action + "\", \"status\": \"success\"}");
        }
    }

    private final MockWebServer server = new MockWebServer();
    private final Receiver receiver = new Receiver();
    private final RecordParser parser = new RecordParser();
    private final SyncStats stats = new SyncStats();
    private SyncSender sender;
    private long offset;

    @BeforeEach
    void startReceiver() throws IOException {
        server.setDispatcher(receiver);
        server.start();
    }

    @AfterEach
    void stopAll() {
        if (sender != null) {
            sender.close();
        }
        receiver.released.countDown();
        server.close();
    }

    private SyncSender sender(int maxInFlight) {
        return sender(maxInFlight, 3);
    }

    private SyncSender sender(int maxInFlight, int retries) {
        return builder(retries).maxInFlight(maxInFlight).build();
    }

    private SyncSender adaptiveSender(int maxInFlight, int initialInFlight) {
        return builder(3).maxInFlight(maxInFlight).adaptive(true, initialInFlight).build();
    }

    private SyncSender.Builder builder(int retries) {
        Map<String, String> props = new HashMap<>();
        props.put("destination", "webhook");
        props.put("webhook.url", server.url("/hook").toString());
        props.put("http.timeout.ms", "10000");
        Destination webhook = Destinations.create(new CohortSyncConfig(props), "test");
        return SyncSender.builder("rate-limit-hold-test", webhook, new RetryPolicy("test", retries, 1, 2), stats);
    }

    /** A diff job of one page per member: u0, u1, ... */
    private SyncJob diffJob(int members) {
        SyncBuffer buffer = new SyncBuffer("proj");
        for (int i = 0; i < members; i++) {
            buffer.add(parser.parse(change("c", "u" + i).at(0, offset++).build()), 0);
        }
        SyncJob job = buffer.drain(Drain.pagesOf(1).skipping(member -> false));
        assertThat(job.pages()).hasSize(members);
        return job;
    }

    private SyncSender.Outcome outcome() {
        AtomicReference<Optional<SyncSender.Outcome>> taken = new AtomicReference<>(Optional.empty());
        await().atMost(WAIT).until(() -> {
            taken.set(sender.takeOutcome());
            return taken.get().isPresent();
        });
        return taken.get().orElseThrow();
    }

    /** Requests that arrived strictly between {@code fromMs} and {@code toMs}. */
    private List<Arrival> arrivedBetween(long fromMs, long toMs) {
        return receiver.arrivals.stream().filter(a -> a.atMs() > fromMs && a.atMs() < toMs).toList();
    }

    @Test
    void a429WithRetryAfterHoldsEveryPageOfTheTaskNotOnlyItsOwn() {
        sender = sender(4);
        SyncJob job = diffJob(12);

        sender.submit(job);

        assertThat(outcome()).isInstanceOf(SyncSender.Delivered.class);
        long failedAt = receiver.failedAtMs.get();
        assertThat(failedAt).as("u2 was answered 429").isGreaterThanOrEqualTo(0);
        assertThat(receiver.arrivals.subList(0, 3)).as("three pages were in flight when the 429 went out")
                .allSatisfy(a -> assertThat(a.atMs()).isGreaterThan(failedAt - receiver.answerMs));
        // Without the hold, the pages in flight answered after 300 ms and the next ones started at once.
        assertThat(arrivedBetween(failedAt + TOLERANCE_MS, failedAt + 1000 - TOLERANCE_MS))
                .as("no page starts a call while the Retry-After of 1 s runs").isEmpty();
        List<String> ids = receiver.arrivals.stream().map(Arrival::id).toList();
        assertThat(ids).as("every page once, the limited one twice").hasSize(13);
        assertThat(ids.stream().filter(receiver.arrivals.get(3).id()::equals)).hasSize(2);
        assertThat(job.isComplete()).isTrue();
        assertThat(stats.rateLimitedAnswers.get()).isEqualTo(1);
        assertThat(stats.rateLimitHeldMs.get()).as("the other pages waited for the hold")
                .isGreaterThanOrEqualTo(500);
        assertThat(stats.requests.get()).isEqualTo(12);
    }

    @Test
    void whenAHoldEndsTheRetriesTakeTurnsUnderTheLoweredLimitInsteadOfAllGoingAtOnce() {
        receiver.firstFailTogether = true;
        receiver.limitedRequest = 0;
        sender = adaptiveSender(16, TOGETHER);
        SyncJob job = diffJob(8);

        sender.submit(job);

        assertThat(outcome()).isInstanceOf(SyncSender.Delivered.class);
        assertThat(stats.rateLimitedAnswers.get()).as("the four pages in flight were all answered 429")
                .isEqualTo(TOGETHER);
        // One decrease for the four answers (they were sent at the same limit): 4 -> 2. Eight calls at two a time
        // are four round trips of 300 ms, too few for a probe (one page per eight round trips) to raise it.
        assertThat(receiver.peakAfterFailure.get())
                .as("after the hold, the four retries and the four new pages go at most two at a time")
                .isBetween(1, 2);
        List<String> ids = receiver.arrivals.stream().map(Arrival::id).toList();
        assertThat(ids).as("every page once, the four refused ones twice").hasSize(12);
        assertThat(ids.stream().distinct()).hasSize(8);
        assertThat(job.isComplete()).isTrue();
        long failedAt = receiver.failedAtMs.get();
        assertThat(arrivedBetween(failedAt + TOLERANCE_MS, failedAt + 1000 - TOLERANCE_MS))
                .as("nothing during the Retry-After of 1 s").isEmpty();
    }

    @Test
    void a503WithRetryAfterHoldsThePagesTooButIsNotCountedAsA429() {
        receiver.failStatus = 503;
        sender = sender(4);

        sender.submit(diffJob(8));

        assertThat(outcome()).isInstanceOf(SyncSender.Delivered.class);
        long failedAt = receiver.failedAtMs.get();
        assertThat(arrivedBetween(failedAt + TOLERANCE_MS, failedAt + 1000 - TOLERANCE_MS)).isEmpty();
        assertThat(stats.rateLimitedAnswers.get()).isZero();
        assertThat(stats.rateLimitHeldMs.get()).isPositive();
    }

    @Test
    void a429WithoutRetryAfterHoldsNothingAndOnlyItsPageBacksOff() {
        receiver.retryAfter = "";
        sender = sender(4);

        sender.submit(diffJob(8));

        assertThat(outcome()).isInstanceOf(SyncSender.Delivered.class);
        assertThat(stats.rateLimitedAnswers.get()).isEqualTo(1);
        assertThat(stats.rateLimitHeldMs.get()).isZero();
        long failedAt = receiver.failedAtMs.get();
        assertThat(arrivedBetween(failedAt, failedAt + 1000)).as("the other pages kept going").isNotEmpty();
    }

    /**
     * A job of 12 pages held by a Retry-After of an hour (the fourth call answered 429, three others 200), then ended
     * by {@code end}: at once, as cancelled, with no call started since the 429.
     */
    private SyncJob endAnHoursHold(Predicate<SyncSender> end) {
        receiver.retryAfter = "3600";
        sender = sender(4);
        SyncJob job = diffJob(12);
        sender.submit(job);
        await().atMost(WAIT).until(() -> receiver.failed.get() && receiver.arrivals.size() >= 4);
        await().atMost(WAIT).until(() -> stats.requests.get() >= 3);
        long requestsBefore = receiver.arrivals.size();

        long started = System.nanoTime();
        assertThat(end.test(sender)).as("ended within its bound").isTrue();
        assertThat(Duration.ofNanos(System.nanoTime() - started)).as("the hour's hold did not keep it waiting")
                .isLessThan(Duration.ofSeconds(5));
        assertThat(outcome()).isInstanceOf(SyncSender.Cancelled.class);
        assertThat(receiver.arrivals).as("no call started during the hold").hasSize((int) requestsBefore);
        return job;
    }

    @Test
    void cancelEndsAHoldAtOnceAndTheJobIsCancelled() {
        SyncJob job = endAnHoursHold(sender -> sender.cancel(Duration.ofSeconds(10)));

        assertThat(job.isComplete()).isFalse();
    }

    @Test
    void aWrapUpEndsAHoldAtOnceAndTheJobIsCancelledWithWhatWasDelivered() {
        SyncJob job = endAnHoursHold(sender -> sender.wrapUp(Duration.ofSeconds(10)));

        assertThat(job.deliveredPages()).as("the three pages answered 200").isEqualTo(3);
    }

    @Test
    void theHoldCarriesOverToTheNextJobOfTheTask() {
        receiver.answerMs = 0;
        receiver.limitedRequest = 1;
        sender = sender(4, 0);

        sender.submit(diffJob(1));
        assertThat(outcome()).as("no retries: the job gives up at once").isInstanceOf(SyncSender.GaveUp.class);
        long failedAt = receiver.failedAtMs.get();
        sender.submit(diffJob(3));

        assertThat(outcome()).isInstanceOf(SyncSender.Delivered.class);
        assertThat(receiver.arrivals).hasSize(4);
        assertThat(receiver.arrivals.subList(1, 4)).as("the next job's pages waited for the hold")
                .allSatisfy(a -> assertThat(a.atMs()).isGreaterThanOrEqualTo(failedAt + 1000 - TOLERANCE_MS));
    }

    @Test
    void aLaterShorterHoldDoesNotShortenTheHoldAndNothingHoldsOnZero() throws InterruptedException {
        AtomicLong now = new AtomicLong(0);
        AtomicLong held = new AtomicLong();
        RateLimitHold hold = new RateLimitHold(held, now::get);

        assertThat(hold.holdFor(0)).isFalse();
        assertThat(hold.holdFor(-1)).isFalse();
        assertThat(hold.remainingMillis()).isZero();
        assertThat(hold.holdFor(2000)).isTrue();
        assertThat(hold.holdFor(500)).as("a shorter Retry-After does not shorten the hold").isFalse();
        assertThat(hold.remainingMillis()).isBetween(1999L, 2001L);
        assertThat(hold.holdFor(3000)).as("a longer one lengthens it").isTrue();
        now.addAndGet(TimeUnit.MILLISECONDS.toNanos(3000));
        assertThat(hold.remainingMillis()).isZero();
        hold.awaitClear();
        assertThat(held.get()).as("no wait, nothing counted").isZero();
        assertThat(hold.holdFor(TimeUnit.DAYS.toMillis(2))).isTrue();
        assertThat(hold.remainingMillis()).as("capped at an hour").isLessThanOrEqualTo(RateLimitHold.MAX_HOLD_MS + 1);
    }

    @Test
    void aWaitEndsWithTheHoldAndOnInterrupt() throws Exception {
        AtomicLong held = new AtomicLong();
        RateLimitHold hold = new RateLimitHold(held);

        hold.holdFor(200);
        long started = System.nanoTime();
        hold.awaitClear();
        assertThat(TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - started)).isGreaterThanOrEqualTo(150);
        assertThat(held.get()).isGreaterThanOrEqualTo(150);

        hold.holdFor(TimeUnit.HOURS.toMillis(1));
        AtomicReference<Throwable> ended = new AtomicReference<>();
        Thread waiter = new Thread(() -> {
            try {
                hold.awaitClear();
                ended.set(new AssertionError("returned during the hold"));
            } catch (Throwable t) {
                ended.set(t);
            }
        });
        waiter.start();
        await().atMost(WAIT).until(() -> waiter.getState() == Thread.State.TIMED_WAITING);
        waiter.interrupt();
        waiter.join(TimeUnit.SECONDS.toMillis(5));
        assertThat(waiter.isAlive()).isFalse();
        assertThat(ended.get()).isInstanceOf(InterruptedException.class);
        assertThatThrownBy(() -> {
            Thread.currentThread().interrupt();
            try {
                hold.awaitClear();
            } finally {
                Thread.interrupted();
            }
        }).isInstanceOf(InterruptedException.class);
    }
}

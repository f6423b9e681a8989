package io.github.cohortsync.connect.sync.send;

import static io.github.cohortsync.connect.Records.change;
import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import java.io.IOException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;

import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;

import io.github.cohortsync.connect.config.CohortSyncConfig;
import io.github.cohortsync.connect.delivery.PermanentDeliveryException;
import io.github.cohortsync.connect.delivery.TransientDeliveryException;
import io.github.cohortsync.connect.destination.DeliveryResult;
import io.github.cohortsync.connect.destination.Destination;
import io.github.cohortsync.connect.destination.Destinations;
import io.github.cohortsync.connect.destination.Page;
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

/** The sender against a local webhook receiver that can hold answers back, to see how many pages are in flight. */
class SyncSenderTest {
    private static final ObjectMapper JSON = new ObjectMapper();
    private static final Duration WAIT = Duration.ofSeconds(20);
    private static final String SENDER = "sync-sender-test";

    /** Holds each request until {@link #gate} opens; refuses or fails the members it is told to. */
    private static final class Receiver extends Dispatcher {
        final CountDownLatch gate = new CountDownLatch(1);
        /** Opened at teardown, so that no answer is still held back when the server closes. */
        final CountDownLatch released = new CountDownLatch(1);
        final AtomicInteger pending = new AtomicInteger();
        final AtomicInteger mostPending = new AtomicInteger();
        final AtomicInteger requests = new AtomicInteger();
        /** Distinct ids of the pages answered 200, in the order they were answered. */
        final List<String> accepted = new CopyOnWriteArrayList<>();
        /** Answered at once with 400. */
        final Set<String> refused = ConcurrentHashMap.newKeySet();
        /** Answered at once with 503 the first time. */
        final Set<String> failOnce = ConcurrentHashMap.newKeySet();
        final Map<String, Integer> requestsById = new ConcurrentHashMap<>();
        /** Answered without waiting for the gate once every member of the page is here. */
        final Set<String> let = ConcurrentHashMap.newKeySet();

        @Override
        public MockResponse dispatch(RecordedRequest request) throws InterruptedException {
            requests.incrementAndGet();
            List<String> ids = new ArrayList<>();
            String action;
            try {
                JsonNode page = JSON.readTree(request.getBody().utf8());
                action = page.path("action").asText();
                page.path("parameters").path("members").forEach(m -> ids.add(m.path("mixpanel_distinct_id").asText()));
            } catch (IOException e) {
                return new MockResponse(400, Headers.of(), "unparsable");
            }
            ids.forEach(id -> requestsById.merge(id, 1, Integer::sum));
            if (ids.stream().anyMatch(refused::contains)) {
                return new MockResponse(400, Headers.of(), "{\"error\": \"member list malformed\"}");
            }
            if (ids.stream().anyMatch(failOnce::remove)) {
                return new MockResponse(503, Headers.of(), "busy");
            }
            int now = pending.incrementAndGet();
            mostPending.accumulateAndGet(now, Math::max);
            try {
                while (!gate.await(10, TimeUnit.MILLISECONDS) && !let.containsAll(ids)) {
                    if (released.getCount() == 0) {
                        return new MockResponse(503, Headers.of(), "shutting down");
                    }
                }
            } finally {
                pending.decrementAndGet();
            }
            accepted.addAll(ids);
            return new MockResponse(200, Headers.of("Content-Type", "application/json"),
                    "{\"action\": \"" + action + "\", \"status\": \"success\"}");
        }
    }

    private final MockWebServer server = new MockWebServer();
    private final Receiver receiver = new Receiver();
    private final RecordParser parser = new RecordParser();
    private final SyncStats stats = new SyncStats();
    private final List<Page> journaled = new CopyOnWriteArrayList<>();
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

    private SyncSender sender(int maxInFlight, int retries) {
        return SyncSender.builder(SENDER, webhook(), new RetryPolicy("test", retries, 1, 2), stats)
                .listener((job, page, rejections, attempts) -> journaled.add(page)).maxInFlight(maxInFlight).build();
    }

    private Destination webhook() {
        Map<String, String> props = new HashMap<>();
        props.put("destination", "webhook");
        props.put("webhook.url", server.url("/hook").toString());
        props.put("http.timeout.ms", "10000");
        return Destinations.create(new CohortSyncConfig(props), "test");
    }

    /** The webhook, but a bug (a runtime exception) on the page of {@code buggy}. */
    private Destination webhookWithABugOn(String buggy) {
        Destination real = webhook();
        return new Destination() {
            @Override
            public DeliveryResult send(Page page) throws TransientDeliveryException, PermanentDeliveryException {
                if (id(page).equals(buggy)) {
                    throw new IllegalStateException("a bug in the destination");
                }
                return real.send(page);
            }

            @Override
            public void cancelInFlight() {
                real.cancelInFlight();
            }

            @Override
            public void close() {
                real.close();
            }
        };
    }

    /** A diff job of one page per member. */
    private SyncJob diffJob(String prefix, int members) {
        SyncBuffer buffer = new SyncBuffer("proj");
        for (int i = 0; i < members; i++) {
            buffer.add(parser.parse(change("c", prefix + i).at(0, offset++).build()), 0);
        }
        SyncJob job = buffer.drain(Drain.pagesOf(1).skipping(member -> false));
        assertThat(job.isDiff()).isTrue();
        assertThat(job.pages()).hasSize(members);
        return job;
    }

    private SyncSender.Outcome outcome() {
        Optional<SyncSender.Outcome>[] taken = new Optional[1];
        await().atMost(WAIT).until(() -> (taken[0] = sender.takeOutcome()).isPresent());
        return taken[0].orElseThrow();
    }

    private static String id(Page page) {
        return page.members().get(0).distinctId();
    }

    @Test
    void theDiffPagesOfOneSyncGoUpToTheLimitAtOnce() {
        sender = sender(4, 0);
        SyncJob job = diffJob("u", 10);

        sender.submit(job);
        await().atMost(WAIT).until(() -> receiver.pending.get() == 4);
        assertThat(receiver.requests.get()).as("no fifth page starts while four are in flight").isEqualTo(4);
        receiver.gate.countDown();

        assertThat(outcome()).isInstanceOf(SyncSender.Delivered.class);
        assertThat(receiver.mostPending.get()).isEqualTo(4);
        assertThat(job.isComplete()).isTrue();
        assertThat(receiver.accepted).containsExactlyInAnyOrderElementsOf(
                job.pages().stream().map(SyncSenderTest::id).toList());
        assertThat(journaled).as("the listener heard of every page once").containsExactlyInAnyOrderElementsOf(job.pages());
        assertThat(stats.requests.get()).isEqualTo(10);
    }

    @Test
    void withALimitOfOneDiffPagesGoOneByOneInOrder() {
        sender = sender(1, 0);
        receiver.gate.countDown();
        SyncJob job = diffJob("u", 5);

        sender.submit(job);

        assertThat(outcome()).isInstanceOf(SyncSender.Delivered.class);
        assertThat(receiver.mostPending.get()).isEqualTo(1);
        assertThat(receiver.accepted).containsExactlyElementsOf(job.pages().stream().map(SyncSenderTest::id).toList());
    }

    @Test
    void aSnapshotSendsPageOneAloneThenItsMiddlePagesAtOnceThenItsLastPageAfterAllOthers() {
        sender = sender(4, 0);
        SyncJob diff = diffJob("m", 6);
        SyncJob snapshot = new SyncJob(diff.pages(), new HashMap<>(diff.offsets()), 6, 6);
        assertThat(snapshot.isDiff()).isFalse();

        sender.submit(snapshot);
        await().atMost(WAIT).until(() -> receiver.pending.get() == 1);
        assertThat(receiver.requests.get()).as("no page goes while page 1 is in flight").isEqualTo(1);
        receiver.let.add("m0");
        // Pages 2 to 5 go at once (the limit is 4); page 6 waits for all of them.
        await().atMost(WAIT).until(() -> receiver.pending.get() == 4);
        assertThat(receiver.requests.get()).as("the last page waits for the middle ones").isEqualTo(5);
        receiver.gate.countDown();

        assertThat(outcome()).isInstanceOf(SyncSender.Delivered.class);
        assertThat(receiver.mostPending.get()).isEqualTo(4);
        assertThat(receiver.accepted).hasSize(6).startsWith("m0").endsWith("m5")
                .containsExactlyInAnyOrder("m0", "m1", "m2", "m3", "m4", "m5");
    }

    @Test
    void withALimitOfOneSnapshotPagesGoOneByOneInOrder() {
        sender = sender(1, 0);
        receiver.gate.countDown();
        SyncJob diff = diffJob("m", 5);
        SyncJob snapshot = new SyncJob(diff.pages(), new HashMap<>(diff.offsets()), 5, 5);

        sender.submit(snapshot);

        assertThat(outcome()).isInstanceOf(SyncSender.Delivered.class);
        assertThat(receiver.mostPending.get()).isEqualTo(1);
        assertThat(receiver.accepted)
                .containsExactlyElementsOf(snapshot.pages().stream().map(SyncSenderTest::id).toList());
    }

    @Test
    void aPermanentFailureStartsNoNewPageButTheOnesInFlightFinishAndCount() {
        sender = sender(3, 0);
        SyncJob job = diffJob("u", 10);
        receiver.refused.add(id(job.pages().get(0)));

        sender.submit(job);
        // Pages 0, 1 and 2 went out; 0 was refused at once, 1 and 2 are held.
        await().atMost(WAIT).until(() -> receiver.pending.get() == 2 && receiver.requests.get() == 3);
        assertThat(sender.isBusy()).as("the failed job waits for its pages in flight").isTrue();
        receiver.gate.countDown();

        SyncSender.Outcome outcome = outcome();
        assertThat(outcome).isInstanceOf(SyncSender.Failed.class);
        assertThat(((SyncSender.Failed) outcome).cause().getMessage()).contains("400");
        assertThat(receiver.requests.get()).as("no page started after the failure").isEqualTo(3);
        assertThat(job.isDelivered(0)).isFalse();
        assertThat(job.isDelivered(1)).isTrue();
        assertThat(job.isDelivered(2)).isTrue();
        assertThat(job.deliveredPages()).isEqualTo(2);
        assertThat(journaled).containsExactlyInAnyOrder(job.pages().get(1), job.pages().get(2));
        assertThat(stats.failures.get()).isEqualTo(1);
    }

    @Test
    void whenRetriesRunOutTheJobGivesUpAndItsNextSubmitSendsOnlyItsUndeliveredPages() {
        sender = sender(4, 0);
        receiver.gate.countDown();
        SyncJob job = diffJob("u", 8);
        String flaky = id(job.pages().get(1));
        receiver.failOnce.add(flaky);

        sender.submit(job);

        SyncSender.Outcome first = outcome();
        assertThat(first).as("no hidden job-level retry loop: the submitter decides when to try again")
                .isInstanceOf(SyncSender.GaveUp.class);
        assertThat(((SyncSender.GaveUp) first).cause().getMessage()).contains("503");
        assertThat(stats.failedSyncs.get()).isEqualTo(1);
        assertThat(sender.isBusy()).isFalse();

        sender.submit(job);

        assertThat(outcome()).isInstanceOf(SyncSender.Delivered.class);
        assertThat(stats.failedSyncs.get()).isEqualTo(1);
        assertThat(receiver.requestsById.get(flaky)).isEqualTo(2);
        assertThat(receiver.accepted).as("every page accepted exactly once")
                .containsExactlyInAnyOrderElementsOf(job.pages().stream().map(SyncSenderTest::id).toList());
        assertThat(job.isComplete()).isTrue();
    }

    @Test
    void aJobThatEndedIsNotBusyButNotIdleUntilItsOutcomeIsTaken() {
        sender = sender(1, 0);
        receiver.gate.countDown();
        SyncJob job = diffJob("u", 2);
        receiver.failOnce.add(id(job.pages().get(1)));
        assertThat(sender.isIdle()).as("nothing submitted yet").isTrue();

        sender.submit(job);
        await().atMost(WAIT).until(() -> !sender.isBusy());

        assertThat(sender.isIdle()).as("the GaveUp outcome is still to be taken").isFalse();
        assertThat(outcome()).isInstanceOf(SyncSender.GaveUp.class);
        assertThat(sender.isIdle()).isTrue();
    }

    @Test
    void anUnexpectedErrorOfOnePageFailsTheJobAfterThePagesInFlight() {
        SyncJob job = diffJob("u", 10);
        sender = SyncSender.builder(SENDER, webhookWithABugOn(id(job.pages().get(0))),
                new RetryPolicy("test", 3, 1, 2), stats)
                .listener((j, page, rejections, attempts) -> journaled.add(page)).maxInFlight(3).build();

        sender.submit(job);
        await().atMost(WAIT).until(() -> receiver.pending.get() == 2);
        receiver.gate.countDown();

        SyncSender.Outcome outcome = outcome();
        assertThat(outcome).isInstanceOf(SyncSender.Failed.class);
        assertThat(((SyncSender.Failed) outcome).cause().getMessage())
                .contains("Unexpected error while syncing").contains("a bug in the destination");
        assertThat(job.deliveredPages()).isEqualTo(2);
        assertThat(receiver.requests.get()).as("no page started after the failure").isEqualTo(2);
    }

    @Test
    void cancelAbortsEveryPageInFlightAndTheNextSyncStartsClean() {
        sender = sender(4, 5);
        SyncJob job = diffJob("u", 10);

        sender.submit(job);
        await().atMost(WAIT).until(() -> receiver.pending.get() == 4);
        assertThat(sender.cancel(WAIT)).isTrue();

        assertThat(outcome()).isInstanceOf(SyncSender.Cancelled.class);
        assertThat(job.deliveredPages()).isZero();
        assertThat(journaled).isEmpty();
        assertThat(receiver.requests.get()).as("no page started after the cancel").isEqualTo(4);
        assertThat(stats.retries.get()).as("calls the cancel aborted are neither retried nor logged as retries")
                .isZero();
        assertThat(stats.concurrencyLimit.get()).as("nor taken as the destination pushing back").isEqualTo(4);

        // The held requests were aborted by the client; the next sync goes through on the same page senders.
        receiver.gate.countDown();
        SyncJob next = diffJob("v", 6);
        sender.submit(next);
        assertThat(outcome()).isInstanceOf(SyncSender.Delivered.class);
        assertThat(next.isComplete()).isTrue();
        assertThat(journaled).containsExactlyInAnyOrderElementsOf(next.pages());
    }

    @Test
    void aWrapUpLetsTheCallsOnTheWireFinishAndStartsNoOtherPage() throws Exception {
        sender = sender(4, 5);
        SyncJob job = diffJob("u", 10);
        sender.submit(job);
        await().atMost(WAIT).until(() -> receiver.pending.get() == 4);
        // The four calls on the wire are answered a little after the wrap-up began.
        Thread answer = new Thread(() -> {
            try {
                Thread.sleep(200);
            } catch (InterruptedException e) {
                return;
            }
            receiver.gate.countDown();
        });
        answer.start();

        assertThat(sender.wrapUp(WAIT)).as("ended within the wait").isTrue();
        answer.join();

        assertThat(outcome()).isInstanceOf(SyncSender.Cancelled.class);
        assertThat(job.deliveredPages()).as("the four calls on the wire delivered their pages").isEqualTo(4);
        assertThat(journaled).hasSize(4);
        assertThat(receiver.requests.get()).as("no other page started").isEqualTo(4);

        // The next try of the job sends only its six other pages.
        sender.submit(job);
        assertThat(outcome()).isInstanceOf(SyncSender.Delivered.class);
        assertThat(job.isComplete()).isTrue();
        assertThat(receiver.requests.get()).isEqualTo(10);
    }

    @Test
    void aWrapUpOfAJobWithNothingLeftEndsItDelivered() {
        sender = sender(1, 0);
        SyncJob job = diffJob("u", 1);
        sender.submit(job);
        await().atMost(WAIT).until(() -> receiver.pending.get() == 1);
        receiver.gate.countDown();

        assertThat(sender.wrapUp(WAIT)).isTrue();

        assertThat(outcome()).isInstanceOf(SyncSender.Delivered.class);
        assertThat(job.isComplete()).isTrue();
    }

    @Test
    void syncsFollowOneAnother() {
        sender = sender(4, 0);
        receiver.gate.countDown();
        SyncJob first = diffJob("a", 9);
        SyncJob second = diffJob("b", 9);

        sender.submit(first);
        assertThat(outcome()).isInstanceOf(SyncSender.Delivered.class);
        sender.submit(second);
        assertThat(outcome()).isInstanceOf(SyncSender.Delivered.class);

        List<String> order = List.copyOf(receiver.accepted);
        assertThat(order).hasSize(18);
        assertThat(order.subList(0, 9)).allMatch(id -> id.startsWith("a"));
        assertThat(order.subList(9, 18)).allMatch(id -> id.startsWith("b"));
    }

    @Test
    void closeStopsEveryPageSender() {
        sender = sender(4, 0);
        receiver.gate.countDown();
        sender.submit(diffJob("u", 8));
        assertThat(outcome()).isInstanceOf(SyncSender.Delivered.class);
        assertThat(senderThreads()).isNotEmpty();

        sender.close();
        sender = null;

        await().atMost(WAIT).until(() -> senderThreads().isEmpty());
        assertThat(senderThreads()).isEmpty();
    }

    private static List<String> senderThreads() {
        return Thread.getAllStackTraces().keySet().stream()
                .filter(Thread::isAlive).map(Thread::getName).filter(name -> name.startsWith(SENDER)).toList();
    }

    @Test
    void anAdaptiveSenderStartsAtItsInitialLimitAndA503HalvesIt() {
        sender = SyncSender.builder(SENDER, webhook(), new RetryPolicy("test", 1, 1, 2), stats)
                .maxInFlight(8).adaptive(true, 4).build();
        assertThat(stats.concurrencyLimit.get()).isEqualTo(4);
        receiver.gate.countDown();
        SyncJob job = diffJob("u", 1);
        receiver.failOnce.add("u0");

        sender.submit(job);
        assertThat(outcome()).isInstanceOf(SyncSender.Delivered.class);

        assertThat(receiver.requestsById.get("u0")).as("the 503 was retried").isEqualTo(2);
        // One page: no window ends after the retry's answer, so nothing but the 503 moved the limit.
        assertThat(stats.concurrencyLimit.get()).as("halved by the 503").isEqualTo(2);
        assertThat(stats.roundTrips.percentileMs(50)).as("the round trip of the 2xx answer").isPositive();
    }

    @Test
    void aRequestRateSpacesTheCallsOfAllPages() {
        sender = SyncSender.builder(SENDER, webhook(), new RetryPolicy("test", 0, 1, 2), stats)
                .maxInFlight(4).requestsPerSecond(20).build();
        receiver.gate.countDown();
        SyncJob job = diffJob("u", 6);
        long start = System.nanoTime();

        sender.submit(job);

        assertThat(outcome()).isInstanceOf(SyncSender.Delivered.class);
        // Six calls at 20 a second, whatever the pages in flight: at least five gaps of 50 ms (a lower bound).
        assertThat(Duration.ofNanos(System.nanoTime() - start)).isGreaterThanOrEqualTo(Duration.ofMillis(240));
        assertThat(receiver.accepted).hasSize(6);
    }

    @Test
    void aLimitBelowOneIsRefused() {
        org.assertj.core.api.Assertions.assertThatThrownBy(() -> sender(0, 0))
                .isInstanceOf(IllegalArgumentException.class);
    }
}

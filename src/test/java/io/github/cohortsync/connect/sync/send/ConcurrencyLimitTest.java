package io.github.cohortsync.connect.sync.send;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;

import org.junit.jupiter.api.Test;

import io.github.cohortsync.connect.delivery.TransientDeliveryException;
import io.github.cohortsync.connect.destination.Page;
import io.github.cohortsync.connect.destination.PageAction;
import io.github.cohortsync.connect.record.CohortRef;

/** The rules of the adaptive limit, on a clock the test moves, and how a job's pages are cut into runs. */
class ConcurrencyLimitTest {
    private static final long MS = TimeUnit.MILLISECONDS.toNanos(1);

    private final AtomicLong clock = new AtomicLong(1_000_000 * MS);

    private ConcurrencyLimit limit(int cap, int initial) {
        return new ConcurrencyLimit(cap, initial, true, clock::get);
    }

    /** {@code calls} calls at once, each answered 2xx after {@code rttMs}: one window at the current limit. */
    private void window(ConcurrencyLimit limit, int calls, long rttMs) {
        List<ConcurrencyLimit.Call> started = new ArrayList<>();
        for (int i = 0; i < calls; i++) {
            started.add(limit.start());
        }
        clock.addAndGet(rttMs * MS);
        started.forEach(call -> limit.succeeded(call, rttMs * MS));
    }

    /** The limit once the last window ended (the next call's start ends it). */
    private static int decided(ConcurrencyLimit limit) {
        limit.ignored(limit.start());
        return limit.limit();
    }

    @Test
    void slowStartDoublesPerRoundTripWhileAnswersAre2xxNearTheFloorAndTheLimitIsUsed() {
        ConcurrencyLimit limit = limit(64, 4);
        window(limit, 4, 100);
        assertThat(decided(limit)).isEqualTo(8);
        window(limit, 8, 100);
        window(limit, 16, 110);
        assertThat(decided(limit)).isEqualTo(32);
        assertThat(limit.lastReason()).contains("near their floor", "no back pressure yet");
        window(limit, 32, 100);
        window(limit, 64, 100);
        assertThat(decided(limit)).as("never beyond the cap").isEqualTo(64);
    }

    @Test
    void aDecreaseFallsToWhatTheDestinationCarriedThenProbesByOnePerEightWindows() {
        ConcurrencyLimit limit = limit(64, 40);
        List<ConcurrencyLimit.Call> calls = new ArrayList<>();
        for (int i = 0; i < 40; i++) {
            calls.add(limit.start());
        }
        clock.addAndGet(100 * MS);
        // A token bucket that had saved a burst: 30 of the 40 calls got through within the round trip, then 429s.
        calls.subList(0, 30).forEach(call -> limit.succeeded(call, 100 * MS));
        calls.subList(30, 40).forEach(call -> limit.pushedBack(call, "HTTP 429"));
        assertThat(limit.limit()).as("half of 40 is 20, raised to 0.9 of the 30 carried").isEqualTo(27);
        List<Integer> limits = new ArrayList<>();
        for (int i = 0; i < 2 * ConcurrencyLimit.PROBE_WINDOWS; i++) {
            window(limit, limit.limit(), 100);
            limits.add(decided(limit));
        }
        assertThat(limits.subList(0, ConcurrencyLimit.PROBE_WINDOWS - 1)).containsOnly(27);
        assertThat(limits.get(ConcurrencyLimit.PROBE_WINDOWS - 1)).isEqualTo(28);
        assertThat(limits.get(limits.size() - 1)).isEqualTo(29);
        assertThat(limit.lastReason()).contains("near their floor").doesNotContain("no back pressure yet");
    }

    @Test
    void underATokenBucketTheCeilingIsTheRefillNotTheBurstSavedDuringAHold() {
        ConcurrencyLimit limit = limit(64, 20);
        limit.pushedBack(limit.start(), "HTTP 429");
        // A cycle of 2 s: a 1 s Retry-After hold with nothing sent, then 1 s of 20 calls a round trip (the saved burst
        // and the refill), 200 calls answered 2xx in all. The bucket refills 100 calls a second: 10 at a time.
        clock.addAndGet(1000 * MS);
        for (int i = 0; i < 10; i++) {
            window(limit, 20, 100);
        }
        int before = limit.limit();
        limit.pushedBack(limit.start(), "HTTP 429");
        assertThat(before).isGreaterThanOrEqualTo(10);
        assertThat(limit.limit()).as("0.9 of the 10 carried over the cycle, not half of " + before).isEqualTo(9);
    }
    @Test
    void theCeilingIsForgottenOnceTheLimitDoubledPastItWithoutBackPressure() {
        ConcurrencyLimit limit = limit(64, 10);
        List<ConcurrencyLimit.Call> calls = new ArrayList<>();
        for (int i = 0; i < 10; i++) {
            calls.add(limit.start());
        }
        clock.addAndGet(100 * MS);
        calls.subList(0, 5).forEach(call -> limit.succeeded(call, 100 * MS));
        calls.subList(5, 10).forEach(call -> limit.pushedBack(call, "HTTP 503"));
        assertThat(limit.limit()).as("the 5 carried").isEqualTo(5);
        List<Integer> limits = new ArrayList<>();
        for (int i = 0; i < 5 * ConcurrencyLimit.PROBE_WINDOWS + 2; i++) {
            window(limit, limit.limit(), 100);
            limits.add(decided(limit));
        }
        // 6, 7, 8, 9, 10 one per 8 windows; 10 is twice the ceiling: then one per window.
        assertThat(limits.get(ConcurrencyLimit.PROBE_WINDOWS - 1)).isEqualTo(6);
        assertThat(limits.get(5 * ConcurrencyLimit.PROBE_WINDOWS - 1)).isEqualTo(10);
        assertThat(limits.subList(limits.size() - 2, limits.size())).containsExactly(11, 12);
    }
    @Test
    void doesNotGrowWhenFewerPagesThanTheLimitAreInFlight() {
        ConcurrencyLimit limit = limit(64, 4);
        for (int i = 0; i < 10; i++) {
            window(limit, 2, 100);
        }
        assertThat(decided(limit)).isEqualTo(4);
    }

    @Test
    void neverGrowsBeyondTheCap() {
        ConcurrencyLimit limit = limit(6, 4);
        for (int i = 0; i < 10; i++) {
            window(limit, limit.limit(), 100);
        }
        assertThat(decided(limit)).isEqualTo(6);
    }

    @Test
    void backPressureDecreasesTheLimitOncePerWindow() {
        ConcurrencyLimit limit = limit(64, 16);
        List<ConcurrencyLimit.Call> calls = new ArrayList<>();
        for (int i = 0; i < 16; i++) {
            calls.add(limit.start());
        }
        clock.addAndGet(100 * MS);
        calls.subList(0, 12).forEach(call -> limit.succeeded(call, 100 * MS));
        calls.subList(12, 16).forEach(call -> limit.pushedBack(call, "HTTP 429"));
        assertThat(limit.limit()).as("four 429s of one window decrease it once: half of 16, raised to 0.9 of the 12"
                + " carried").isEqualTo(10);
        assertThat(limit.lastReason()).contains("pushed back").contains("HTTP 429");

        clock.addAndGet(100 * MS);
        ConcurrencyLimit.Call later = limit.start();
        clock.addAndGet(100 * MS);
        limit.pushedBack(later, "HTTP 503");
        assertThat(limit.limit()).as("a call sent at the new limit decreases it again: nothing got through since,"
                + " so by half").isEqualTo(5);
        for (int i = 0; i < 4; i++) {
            limit.pushedBack(limit.start(), "timeout or I/O error");
        }
        assertThat(limit.limit()).as("never below 1").isEqualTo(1);
    }
    @Test
    void roundTripsRisingWellAboveTheirFloorShrinkTheLimit() {
        ConcurrencyLimit limit = limit(64, 8);
        window(limit, 8, 100);
        window(limit, 16, 100);
        window(limit, 32, 400);
        // Three quarters of 32 is 24, raised to 0.9 of the 32 the destination carried (56 calls in 600 ms of 400).
        assertThat(decided(limit)).isEqualTo(28);
        assertThat(limit.lastReason()).contains("round trips rose");
    }

    @Test
    void roundTripsBetweenNearAndRisenHoldTheLimit() {
        ConcurrencyLimit limit = limit(64, 8);
        window(limit, 8, 100);
        window(limit, 16, 180);
        assertThat(decided(limit)).isEqualTo(16);
    }

    @Test
    void answersToCallsSentBeforeADecreaseDoNotCountInTheNextWindow() {
        ConcurrencyLimit limit = limit(64, 8);
        window(limit, 8, 100);
        ConcurrencyLimit.Call slowOld = limit.start();
        limit.pushedBack(limit.start(), "HTTP 503");
        assertThat(limit.limit()).isEqualTo(8);
        clock.addAndGet(900 * MS);
        limit.succeeded(slowOld, 900 * MS);
        window(limit, 8, 100);
        // At the ceiling (the 8 answers of the last round trip), so it does not grow either.
        assertThat(decided(limit)).as("the 900 ms answer of the old limit is not a rise").isEqualTo(8);
    }

    @Test
    void aFixedLimitStaysAtTheCapWhateverTheAnswers() {
        ConcurrencyLimit fixed = new ConcurrencyLimit(4, 1, false, clock::get);
        assertThat(fixed.limit()).isEqualTo(4);
        fixed.pushedBack(fixed.start(), "HTTP 429");
        window(fixed, 4, 100);
        window(fixed, 4, 1000);
        assertThat(decided(fixed)).isEqualTo(4);
        assertThat(fixed.adaptive()).isFalse();
    }

    @Test
    void aCapOfOneIsAlwaysOnePageAtATime() {
        ConcurrencyLimit one = limit(1, 4);
        assertThat(one.limit()).isEqualTo(1);
        for (int i = 0; i < 5; i++) {
            window(one, 1, 10);
        }
        assertThat(decided(one)).isEqualTo(1);
        assertThat(one.adaptive()).isFalse();
    }

    @Test
    void theInitialLimitIsClampedToTheCap() {
        assertThat(limit(2, 4).limit()).isEqualTo(2);
        assertThat(limit(64, 0).limit()).isEqualTo(1);
        assertThatThrownBy(() -> limit(0, 1)).isInstanceOf(IllegalArgumentException.class);
    }

    @Test
    void aBigMoveIsReportedAtMostOnceAMinuteFromWhatToWhatAndWhy() {
        ConcurrencyLimit limit = limit(64, 16);
        assertThat(limit.takeBigMove()).as("nothing moved").isNull();
        limit.pushedBack(limit.start(), "HTTP 429");
        assertThat(limit.limit()).isEqualTo(8);
        assertThat(limit.takeBigMove()).isEqualTo("Pages in flight limit moved from 16 to 8 (cap 64): the"
                + " destination pushed back (HTTP 429); mean round trip 0 ms, floor 0 ms");
        limit.pushedBack(limit.start(), "HTTP 503");
        limit.pushedBack(limit.start(), "HTTP 503");
        assertThat(limit.limit()).isEqualTo(2);
        assertThat(limit.takeBigMove()).as("within a minute of the last line").isNull();
        clock.addAndGet(TimeUnit.SECONDS.toNanos(61));
        assertThat(limit.takeBigMove()).startsWith("Pages in flight limit moved from 8 to 2 (cap 64):");
        for (int i = 0; i < ConcurrencyLimit.PROBE_WINDOWS; i++) {
            window(limit, limit.limit(), 100);
        }
        clock.addAndGet(TimeUnit.SECONDS.toNanos(61));
        assertThat(decided(limit)).isEqualTo(3);
        assertThat(limit.takeBigMove()).as("2 to 3 is not a big move").isNull();
    }
    @Test
    void pushBackIs429503504408TimeoutsAndAnyAnswerAskingToWait() {
        assertThat(CallPacing.pushBack(new TransientDeliveryException("x", 429, -1, null))).isEqualTo("HTTP 429");
        assertThat(CallPacing.pushBack(new TransientDeliveryException("x", 503, -1, null))).isEqualTo("HTTP 503");
        assertThat(CallPacing.pushBack(new TransientDeliveryException("x", 504, -1, null))).isEqualTo("HTTP 504");
        assertThat(CallPacing.pushBack(new TransientDeliveryException("x", 408, -1, null))).isEqualTo("HTTP 408");
        assertThat(CallPacing.pushBack(new TransientDeliveryException("x", -1)))
                .isEqualTo("timeout or I/O error");
        assertThat(CallPacing.pushBack(new TransientDeliveryException("x", 500, -1, null))).isNull();
        assertThat(CallPacing.pushBack(new TransientDeliveryException("x", 502, -1, null))).isNull();
        assertThat(CallPacing.pushBack(new TransientDeliveryException("x", 500, 2000, null)))
                .isEqualTo("HTTP 500 with Retry-After");
    }

    private static Page page(String session, int number, int total) {
        return new Page(new CohortRef("c-" + session, null, null, null), PageAction.MEMBERS, session, number, total,
                List.of());
    }

    @Test
    void aSnapshotRunsPageOneAloneThenItsMiddlePagesTogetherThenItsLastPageAlone() {
        SyncJob job = new SyncJob(List.of(page("a", 1, 5), page("a", 2, 5), page("a", 3, 5), page("a", 4, 5),
                page("a", 5, 5), page("b", 1, 1), page("c", 1, 2), page("c", 2, 2)), new HashMap<>(), 0, 0);

        assertThat(SyncSender.runs(job))
                .containsExactly(List.of(0), List.of(1, 2, 3), List.of(4), List.of(5), List.of(6), List.of(7));
    }

    @Test
    void aSnapshotPartThatStartsOrEndsInsideASessionRunsItsMiddlePagesTogether() {
        // Parts of a snapshot cut a session: page 1 went in the part before, the last page comes in the next.
        SyncJob job = new SyncJob(List.of(page("a", 3, 9), page("a", 4, 9), page("a", 5, 9), page("b", 1, 3),
                page("b", 2, 3)), new HashMap<>(), 0, 0);

        assertThat(SyncSender.runs(job)).containsExactly(List.of(0, 1, 2), List.of(3), List.of(4));
    }

    @Test
    void deliveredPagesAreLeftOutOfTheRuns() {
        SyncJob job = new SyncJob(List.of(page("a", 1, 4), page("a", 2, 4), page("a", 3, 4), page("a", 4, 4)),
                new HashMap<>(), 0, 0);
        job.markDelivered(0, List.of());
        job.markDelivered(2, List.of());

        assertThat(SyncSender.runs(job)).containsExactly(List.of(1), List.of(3));
    }

    @Test
    void aDiffJobIsOneRun() {
        SyncJob job = new SyncJob(List.of(page("a", 1, 3), page("a", 2, 3), page("a", 3, 3), page("b", 1, 1)),
                new HashMap<>(), 0, 0, true, 0);

        assertThat(SyncSender.runs(job)).containsExactly(List.of(0, 1, 2, 3));
    }
}

package io.github.cohortsync.connect.sync.send;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.junit.jupiter.api.Assertions.assertTimeoutPreemptively;

import java.time.Duration;
import java.util.List;
import java.util.concurrent.CancellationException;
import java.util.concurrent.atomic.AtomicBoolean;

import org.junit.jupiter.api.Test;
import org.slf4j.LoggerFactory;

import io.github.cohortsync.connect.delivery.PermanentDeliveryException;
import io.github.cohortsync.connect.delivery.TransientDeliveryException;
import io.github.cohortsync.connect.destination.CallGate;
import io.github.cohortsync.connect.destination.Page;
import io.github.cohortsync.connect.destination.PageAction;
import io.github.cohortsync.connect.metrics.SyncStats;
import io.github.cohortsync.connect.record.CohortRef;

/** What a call's answer does to the hold, the limit and the stats, and how a cancel ends a turn or a call. */
class CallPacingTest {
    private static final Page PAGE = new Page(new CohortRef("c", null, null, null), PageAction.MEMBERS, "s", 1, 1,
            List.of());

    private final SyncStats stats = new SyncStats();
    private final RateLimitHold hold = new RateLimitHold(stats.rateLimitHeldMs);
    private final AtomicBoolean cancelled = new AtomicBoolean();
    /** Adaptive, starting at 4 of 8, so that back pressure visibly lowers it. */
    private final CallPacing pacing = new CallPacing(hold, RequestRate.UNLIMITED,
            new ConcurrencyLimit(8, 4, true, System::nanoTime), stats, LoggerFactory.getLogger(CallPacingTest.class),
            cancelled::get);

    private static Object failWith(Exception e) throws Exception {
        throw e;
    }

    @Test
    void aRetryAfterOn429PushesTheLimitBackHoldsEveryPageAndIsCounted() throws Exception {
        TransientDeliveryException limited = new TransientDeliveryException("x", 429, 5_000, null);

        assertThatThrownBy(() -> pacing.measure(pacing.awaitTurn(), PAGE, () -> failWith(limited)))
                .isSameAs(limited);

        assertThat(pacing.limit()).isLessThan(4);
        assertThat(stats.concurrencyLimit.get()).as("the limit is published").isEqualTo(pacing.limit());
        assertThat(stats.rateLimitedAnswers.get()).isEqualTo(1);
        assertThat(hold.remainingMillis()).isPositive();
    }

    @Test
    void a500SaysNothingOfLoadAndAPermanentFailureNeither() throws Exception {
        TransientDeliveryException serverError = new TransientDeliveryException("x", 500, -1, null);
        assertThatThrownBy(() -> pacing.measure(pacing.awaitTurn(), PAGE, () -> failWith(serverError)))
                .isSameAs(serverError);
        PermanentDeliveryException refused = new PermanentDeliveryException("no");
        assertThatThrownBy(() -> pacing.measure(pacing.awaitTurn(), PAGE, () -> failWith(refused)))
                .isSameAs(refused);

        assertThat(pacing.limit()).isEqualTo(4);
        assertThat(stats.rateLimitedAnswers.get()).isZero();
        assertThat(hold.remainingMillis()).isZero();
    }

    @Test
    void aCallTheCancelAbortedEndsAsACancelThatLeavesTheLimitAndTheHoldAlone() throws Exception {
        ConcurrencyLimit.Call call = pacing.awaitTurn();
        cancelled.set(true);
        TransientDeliveryException closed = new TransientDeliveryException("Socket closed", 429, 5_000, null);

        assertThatThrownBy(() -> pacing.measure(call, PAGE, () -> failWith(closed)))
                .isInstanceOf(CancellationException.class)
                .hasMessageContaining(PAGE.describe())
                .hasCause(closed);

        assertThat(pacing.limit()).isEqualTo(4);
        assertThat(stats.rateLimitedAnswers.get()).isZero();
        assertThat(hold.remainingMillis()).isZero();
        assertThatThrownBy(pacing::awaitTurn).as("no turn once cancelled").isInstanceOf(CancellationException.class);
        assertThatThrownBy(() -> pacing.extraCallGate().awaitCall()).isInstanceOf(CancellationException.class);
        cancelled.set(false);
        for (int i = 0; i < 4; i++) {
            // Each call above gave its place back: four turns under the limit of 4 go without waiting.
            assertTimeoutPreemptively(Duration.ofSeconds(5), pacing::awaitTurn);
        }
    }

    @Test
    void aSplitPartWaitsOutAHoldThatBeganWhileItWaitedForTheRequestRate() throws Exception {
        // Two calls a second: the second part waits about 500 ms for the rate, and a hold of 1 s begins meanwhile.
        CallPacing paced = new CallPacing(hold, RequestRate.perSecond("call-pacing-test", 2),
                new ConcurrencyLimit(8, 4, true, System::nanoTime), stats,
                LoggerFactory.getLogger(CallPacingTest.class), cancelled::get);
        CallGate gate = paced.extraCallGate();
        gate.awaitCall();
        long start = System.nanoTime();
        Thread holder = new Thread(() -> {
            try {
                Thread.sleep(100);
            } catch (InterruptedException e) {
                return;
            }
            hold.holdFor(1_000);
        });
        holder.start();

        gate.awaitCall();

        holder.join();
        assertThat(Duration.ofNanos(System.nanoTime() - start)).as("the part went after the hold, not during it")
                .isGreaterThanOrEqualTo(Duration.ofMillis(1_050));
        assertThat(hold.remainingMillis()).isZero();
    }
}

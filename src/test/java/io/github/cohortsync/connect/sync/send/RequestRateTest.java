package io.github.cohortsync.connect.sync.send;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import java.time.Duration;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;

import org.junit.jupiter.api.Test;

/** The static request rate: no cap unless set, calls spaced by it, and a wait that ends on interrupt. */
class RequestRateTest {

    @Test
    void noRateOrAZeroOrNegativeOneMeansNoCap() throws InterruptedException {
        assertThat(RequestRate.perSecond("t", 0).capped()).isFalse();
        assertThat(RequestRate.perSecond("t", -3).capped()).isFalse();
        assertThat(RequestRate.perSecond("t", Double.NaN).capped()).isFalse();
        assertThat(RequestRate.perSecond("t", Double.POSITIVE_INFINITY).capped()).isFalse();
        RequestRate.UNLIMITED.awaitTurn();
        assertThat(RequestRate.perSecond("t", 0.5).capped()).isTrue();
    }

    @Test
    void callsAreSpacedByTheRate() throws InterruptedException {
        RequestRate rate = RequestRate.perSecond("t", 50);
        long start = System.nanoTime();
        for (int i = 0; i < 11; i++) {
            rate.awaitTurn();
        }
        // 11 turns at 50 per second, evenly spaced: at least 10 gaps of 20 ms (a lower bound holds on any machine).
        assertThat(Duration.ofNanos(System.nanoTime() - start)).isGreaterThanOrEqualTo(Duration.ofMillis(180));
    }

    @Test
    void aWaitForTheNextTurnEndsWhenTheThreadIsInterrupted() throws InterruptedException {
        RequestRate rate = RequestRate.perSecond("t", 0.01);
        rate.awaitTurn();
        AtomicBoolean interrupted = new AtomicBoolean();
        AtomicInteger turns = new AtomicInteger();
        Thread waiter = new Thread(() -> {
            try {
                rate.awaitTurn();
                turns.incrementAndGet();
            } catch (InterruptedException e) {
                interrupted.set(true);
            }
        });
        waiter.start();
        await().atMost(Duration.ofSeconds(20)).until(() -> waiter.getState() == Thread.State.TIMED_WAITING);
        waiter.interrupt();
        waiter.join(20_000);

        assertThat(interrupted).isTrue();
        assertThat(turns.get()).as("the next turn is 100 s away").isZero();
    }
}

package io.github.cohortsync.connect.sync.send;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;

import org.junit.jupiter.api.Test;

class LogThrottleTest {
    @Test
    void theFirstEventLogsThenOneLineAMinuteCoveringTheEventsSince() {
        AtomicLong clock = new AtomicLong(5);
        LogThrottle throttle = new LogThrottle(1, TimeUnit.MINUTES, clock::get);
        assertThat(throttle.event()).as("the first event is logged").isEqualTo(1);
        for (int i = 0; i < 40; i++) {
            assertThat(throttle.event()).as("a burst within the minute").isZero();
        }
        clock.addAndGet(TimeUnit.SECONDS.toNanos(59));
        assertThat(throttle.event()).isZero();
        clock.addAndGet(TimeUnit.SECONDS.toNanos(1));
        assertThat(throttle.event()).as("the 41 since the last line and this one").isEqualTo(42);
        assertThat(throttle.event()).isZero();
    }
}

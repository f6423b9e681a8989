package io.github.cohortsync.connect.metrics;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.within;

import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;

import org.junit.jupiter.api.Test;

/** Percentiles of the last minute's round trips, on a clock the test moves. */
class RoundTripsTest {
    private final AtomicLong clock = new AtomicLong(TimeUnit.HOURS.toNanos(5));
    private final RoundTrips roundTrips = new RoundTrips(clock::get);

    private static long ms(double millis) {
        return (long) (millis * 1_000_000);
    }

    @Test
    void noRoundTripsReadAsZero() {
        assertThat(roundTrips.percentileMs(50)).isZero();
        assertThat(roundTrips.percentileMs(99)).isZero();
    }

    @Test
    void theMedianAndThe99thPercentileAreWithinTheirBucket() {
        for (int i = 0; i < 98; i++) {
            roundTrips.record(ms(100));
        }
        roundTrips.record(ms(900));
        roundTrips.record(ms(900));

        // Buckets are an eighth of a doubling wide: within 5% of the value.
        assertThat(roundTrips.percentileMs(50)).isCloseTo(100, within(5.0));
        assertThat(roundTrips.percentileMs(99)).isCloseTo(900, within(45.0));
    }

    @Test
    void roundTripsOlderThanAMinuteAreForgotten() {
        roundTrips.record(ms(500));
        clock.addAndGet(TimeUnit.SECONDS.toNanos(30));
        roundTrips.record(ms(20));
        roundTrips.record(ms(20));
        assertThat(roundTrips.percentileMs(99)).isCloseTo(500, within(25.0));

        clock.addAndGet(TimeUnit.SECONDS.toNanos(31));
        assertThat(roundTrips.percentileMs(99)).as("the 500 ms one is 61 s old").isCloseTo(20, within(1.0));
        clock.addAndGet(TimeUnit.SECONDS.toNanos(30));
        assertThat(roundTrips.percentileMs(50)).isZero();
    }

    @Test
    void aSlotReusedAMinuteLaterStartsEmpty() {
        roundTrips.record(ms(300));
        clock.addAndGet(TimeUnit.SECONDS.toNanos(60));
        roundTrips.record(ms(3));
        assertThat(roundTrips.percentileMs(99)).isCloseTo(3, within(0.2));
    }

    @Test
    void extremesStayInTheFirstAndLastBuckets() {
        roundTrips.record(0);
        assertThat(roundTrips.percentileMs(50)).isLessThan(0.002);
        roundTrips.record(TimeUnit.HOURS.toNanos(2));
        assertThat(roundTrips.percentileMs(99)).isGreaterThan(60_000);
    }
}

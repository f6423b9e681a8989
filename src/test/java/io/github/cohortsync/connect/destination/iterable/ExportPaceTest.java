package io.github.cohortsync.connect.destination.iterable;

import static org.assertj.core.api.Assertions.assertThat;

import org.junit.jupiter.api.Test;

/** List exports are spaced by the interval, and a 429 holds the next one back by its Retry-After. */
class ExportPaceTest {

    private static long millisOf(Runnable step) {
        long start = System.nanoTime();
        step.run();
        return (System.nanoTime() - start) / 1_000_000;
    }

    private static void turn(ExportPace pace) {
        try {
            pace.awaitTurn("test export");
        } catch (Exception e) {
            throw new IllegalStateException(e);
        }
    }

    @Test
    void theFirstExportGoesAtOnceAndTheNextWaitsForTheInterval() {
        ExportPace pace = new ExportPace(300);

        assertThat(millisOf(() -> turn(pace))).isLessThan(150);
        assertThat(millisOf(() -> turn(pace))).isGreaterThanOrEqualTo(250);
    }

    @Test
    void a429HoldsTheNextExportBackByItsRetryAfter() {
        ExportPace pace = new ExportPace(50);
        turn(pace);

        pace.holdBack(600);

        assertThat(millisOf(() -> turn(pace))).isGreaterThanOrEqualTo(550);
    }

    @Test
    void aZeroIntervalNeverWaits() {
        ExportPace pace = new ExportPace(0);

        assertThat(millisOf(() -> {
            for (int i = 0; i < 100; i++) {
                turn(pace);
            }
        })).isLessThan(500);
    }
}

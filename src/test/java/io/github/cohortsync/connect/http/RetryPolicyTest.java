package io.github.cohortsync.connect.http;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.time.Clock;
import java.time.Instant;
import java.time.ZoneOffset;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.atomic.AtomicInteger;

import org.junit.jupiter.api.Test;

import io.github.cohortsync.connect.delivery.PermanentDeliveryException;
import io.github.cohortsync.connect.delivery.TransientDeliveryException;
import io.github.resilience4j.core.functions.Either;

class RetryPolicyTest {

    @Test
    void backsOffExponentiallyBetweenTheBounds() {
        List<Long> waits = new ArrayList<>();
        for (int attempt = 1; attempt <= 6; attempt++) {
            waits.add(RetryPolicy.waitMillis(attempt, Either.left(new TransientDeliveryException("503", -1)),
                    2_000, 30_000));
        }
        assertThat(waits).containsExactly(2_000L, 4_000L, 8_000L, 16_000L, 30_000L, 30_000L);
    }

    @Test
    void theDefaultsFitInAboutAMinute() {
        long total = 0;
        for (int attempt = 1; attempt <= 5; attempt++) {
            total += RetryPolicy.waitMillis(attempt, Either.left(new TransientDeliveryException("x", -1)),
                    2_000, 30_000);
        }
        assertThat(total).isBetween(45_000L, 70_000L);
    }

    @Test
    void honoursRetryAfter() {
        assertThat(RetryPolicy.waitMillis(1, Either.left(new TransientDeliveryException("429", 45_000)), 2_000,
                30_000)).isEqualTo(45_000L);
        assertThat(RetryPolicy.waitMillis(1, Either.left(new TransientDeliveryException("429", 0)), 2_000,
                30_000)).isZero();
    }

    @Test
    void retriesTransientFailuresTheConfiguredNumberOfTimes() {
        RetryPolicy policy = new RetryPolicy("test", 3, 1, 2);
        AtomicInteger calls = new AtomicInteger();

        assertThatThrownBy(() -> policy.call(() -> {
            calls.incrementAndGet();
            throw new TransientDeliveryException("HTTP 503", -1);
        })).isInstanceOf(TransientDeliveryException.class).hasMessage("HTTP 503");
        assertThat(calls).hasValue(4);
    }

    @Test
    void succeedsAfterTransientFailures() throws Exception {
        RetryPolicy policy = new RetryPolicy("test", 5, 1, 2);
        AtomicInteger calls = new AtomicInteger();

        String result = policy.call(() -> {
            if (calls.incrementAndGet() < 3) {
                throw new TransientDeliveryException("HTTP 502", -1);
            }
            return "ok";
        });

        assertThat(result).isEqualTo("ok");
        assertThat(calls).hasValue(3);
    }

    @Test
    void neverRetriesPermanentFailures() {
        RetryPolicy policy = new RetryPolicy("test", 5, 1, 2);
        AtomicInteger calls = new AtomicInteger();

        assertThatThrownBy(() -> policy.call(() -> {
            calls.incrementAndGet();
            throw new PermanentDeliveryException("HTTP 401");
        })).isInstanceOf(PermanentDeliveryException.class);
        assertThat(calls).hasValue(1);
    }

    @Test
    void zeroRetriesMeansOneAttempt() {
        RetryPolicy policy = new RetryPolicy("test", 0, 1, 2);
        AtomicInteger calls = new AtomicInteger();

        assertThatThrownBy(() -> policy.call(() -> {
            calls.incrementAndGet();
            throw new TransientDeliveryException("HTTP 500", -1);
        })).isInstanceOf(TransientDeliveryException.class);
        assertThat(calls).hasValue(1);
    }

    @Test
    void classifiesStatuses() {
        assertThat(List.of(408, 425, 429, 500, 502, 503, 504)).allMatch(HttpFailures::isTransient);
        assertThat(List.of(400, 401, 403, 404, 409, 413, 422)).noneMatch(HttpFailures::isTransient);
    }

    @Test
    void readsRetryAfterAsSecondsOrAnHttpDate() {
        Clock clock = Clock.fixed(Instant.parse("2026-01-01T00:00:00Z"), ZoneOffset.UTC);
        assertThat(HttpFailures.retryAfterMillis("12", clock)).isEqualTo(12_000);
        assertThat(HttpFailures.retryAfterMillis("Thu, 01 Jan 2026 00:00:30 GMT", clock)).isEqualTo(30_000);
        assertThat(HttpFailures.retryAfterMillis("Wed, 31 Dec 2025 23:00:00 GMT", clock)).isZero();
        assertThat(HttpFailures.retryAfterMillis("soon", clock)).isEqualTo(-1);
        assertThat(HttpFailures.retryAfterMillis(null, clock)).isEqualTo(-1);
    }
}

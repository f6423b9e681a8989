package io.github.cohortsync.connect.sync.send;

import java.time.Duration;

import io.github.resilience4j.ratelimiter.RateLimiter;
import io.github.resilience4j.ratelimiter.RateLimiterConfig;

/**
 * A task's static cap on destination calls per second ({@code rate.limit.requests.per.second} split across the
 * connector's tasks), or none. Calls are spaced evenly (one permit per 1/rate seconds, so no burst), each page attempt
 * waiting its turn on its own sender thread; resilience4j's rate limiter keeps the turns.
 */
final class RequestRate {
    static final RequestRate UNLIMITED = new RequestRate(null);

    /** The longest a call waits for its turn before it asks again (the wait itself is not bounded). */
    private static final Duration TURN_WAIT = Duration.ofMinutes(10);

    private final RateLimiter limiter;

    private RequestRate(RateLimiter limiter) {
        this.limiter = limiter;
    }

    /** At most {@code perSecond} calls a second, evenly spaced; 0 or less (or not finite) means no cap. */
    static RequestRate perSecond(String name, double perSecond) {
        if (!(perSecond > 0) || Double.isInfinite(perSecond)) {
            return UNLIMITED;
        }
        long periodNanos = Math.max(1, Math.round(1_000_000_000d / perSecond));
        RateLimiterConfig config = RateLimiterConfig.custom()
                .limitForPeriod(1)
                .limitRefreshPeriod(Duration.ofNanos(periodNanos))
                .timeoutDuration(TURN_WAIT)
                .build();
        return new RequestRate(RateLimiter.of(name, config));
    }

    boolean capped() {
        return limiter != null;
    }

    /**
     * Returns when this call may go (at once without a cap).
     *
     * @throws InterruptedException when the waiting thread is interrupted (cancel, close)
     */
    void awaitTurn() throws InterruptedException {
        if (limiter == null) {
            return;
        }
        while (!limiter.acquirePermission()) {
            if (Thread.interrupted()) {
                throw new InterruptedException("cancelled while waiting for the request rate");
            }
        }
    }
}

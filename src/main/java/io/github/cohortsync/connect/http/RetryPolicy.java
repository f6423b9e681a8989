package io.github.cohortsync.connect.http;

import java.time.Duration;
import java.util.concurrent.Callable;

import io.github.cohortsync.connect.delivery.TransientDeliveryException;
import io.github.resilience4j.core.functions.Either;
import io.github.resilience4j.retry.Retry;
import io.github.resilience4j.retry.RetryConfig;

/**
 * The one retry policy every destination call goes through: transient failures only, exponential backoff between
 * the configured bounds, and a destination's Retry-After honoured.
 */
public final class RetryPolicy {
    /** The longest Retry-After we honour; anything longer is treated as this. */
    static final long MAX_RETRY_AFTER_MS = Duration.ofHours(1).toMillis();

    private final Retry retry;
    private final int maxRetries;

    public RetryPolicy(String name, int maxRetries, long initialBackoffMs, long maxBackoffMs) {
        this.maxRetries = maxRetries;
        RetryConfig config = RetryConfig.custom()
                .maxAttempts(maxRetries + 1)
                .retryOnException(e -> e instanceof TransientDeliveryException)
                .intervalBiFunction((Integer attempt, Either<Throwable, Object> outcome) ->
                        waitMillis(attempt, outcome, initialBackoffMs, maxBackoffMs))
                .build();
        this.retry = Retry.of(name, config);
    }

    static long waitMillis(int attempt, Either<Throwable, Object> outcome, long initialMs, long maxMs) {
        if (outcome != null && outcome.isLeft()
                && outcome.getLeft() instanceof TransientDeliveryException transientFailure
                && transientFailure.retryAfterMillis() >= 0) {
            return Math.min(transientFailure.retryAfterMillis(), MAX_RETRY_AFTER_MS);
        }
        long wait = initialMs;
        for (int i = 1; i < attempt && wait < maxMs; i++) {
            wait *= 2;
        }
        return Math.min(wait, maxMs);
    }

    public int maxRetries() {
        return maxRetries;
    }

    /** The underlying resilience4j retry, e.g. to listen to its events. */
    public Retry retry() {
        return retry;
    }

    /** Runs the call, retrying transient failures; rethrows the last failure when retries run out. */
    public <T> T call(Callable<T> call) throws Exception {
        return retry.executeCallable(call);
    }
}

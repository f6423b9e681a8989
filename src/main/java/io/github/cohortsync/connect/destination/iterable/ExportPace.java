package io.github.cohortsync.connect.destination.iterable;

import io.github.cohortsync.connect.delivery.TransientDeliveryException;

/**
 * Spaces list exports: {@code GET /api/lists/getUsers} is limited to 5 requests per minute per project (Iterable's
 * Swagger, {@code api-docs.json} in Iterable/api-client, operation getUsers), so one export starts at least
 * {@code intervalMs} after the previous one, and a 429 holds the next one back by the wait it asks for as well
 * ({@code Retry-After}, else {@code X-RateLimit-Reset}).
 */
final class ExportPace {
    private final long intervalMs;
    private long nextAllowedNanos = System.nanoTime();

    ExportPace(long intervalMs) {
        this.intervalMs = intervalMs;
    }

    /** Waits for this export's turn and claims it; pages sent concurrently take turns. */
    synchronized void awaitTurn(String what) throws TransientDeliveryException {
        try {
            long waitNanos;
            while ((waitNanos = nextAllowedNanos - System.nanoTime()) > 0) {
                wait(Math.max(1, waitNanos / 1_000_000), 0);
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new TransientDeliveryException(what + " was interrupted while waiting for its turn to export a"
                    + " list", -1, e);
        }
        nextAllowedNanos = System.nanoTime() + intervalMs * 1_000_000;
    }

    /** After a 429: no export before {@code retryAfterMillis} (the interval when it said nothing) from now. */
    synchronized void holdBack(long retryAfterMillis) {
        long holdMs = Math.max(retryAfterMillis, intervalMs);
        nextAllowedNanos = Math.max(nextAllowedNanos, System.nanoTime() + holdMs * 1_000_000);
    }
}

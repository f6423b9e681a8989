package io.github.cohortsync.connect.sync.send;

import java.util.concurrent.Callable;
import java.util.concurrent.CancellationException;
import java.util.concurrent.TimeUnit;
import java.util.function.BooleanSupplier;

import org.slf4j.Logger;

import io.github.cohortsync.connect.delivery.TransientDeliveryException;
import io.github.cohortsync.connect.destination.CallGate;
import io.github.cohortsync.connect.destination.Page;
import io.github.cohortsync.connect.metrics.SyncStats;

/** When one sender's calls may go, and what each call's answer does to its hold, its rate and its limit. */
final class CallPacing {
    /** Held by a Retry-After any page got: every page of the sender waits it out before its next call. */
    private final RateLimitHold hold;
    /** The static cap on calls per second, if any. */
    private final RequestRate rate;
    /** How many pages may be in flight now. */
    private final ConcurrencyLimit limit;
    private final SyncStats stats;
    /** The sender's logger: operators filter the hold and limit lines by it, as before they moved here. */
    private final Logger log;
    /**
     * The sender's job was cancelled or is being wrapped up: a wait that ends, or a call that fails, then ends as a
     * cancel.
     */
    private final BooleanSupplier cancelled;
    /** The lines saying a hold started: at most one a minute. */
    private final LogThrottle holdLines = new LogThrottle(1, TimeUnit.MINUTES, System::nanoTime);

    CallPacing(RateLimitHold hold, RequestRate rate, ConcurrencyLimit limit, SyncStats stats, Logger log,
               BooleanSupplier cancelled) {
        this.hold = hold;
        this.rate = rate;
        this.limit = limit;
        this.stats = stats;
        this.log = log;
        this.cancelled = cancelled;
        stats.concurrencyLimit.set(limit.limit());
    }

    /** The job stops starting calls: pages waiting out a hold stop waiting (they end as cancels). */
    void stopWaiting() {
        hold.wakeWaiters();
    }

    /** How many pages may be in flight now. */
    int limit() {
        return limit.limit();
    }

    /**
     * Waits for a try's turn: until no Retry-After hold is on, the request rate allows a call and fewer calls than
     * the concurrency limit are on the wire; then the call counts as started. A hold that began while the page
     * waited for room is waited out before the call goes. Each wait ends early, not as a transient failure, when
     * the job is cancelled or the sender closes.
     */
    ConcurrencyLimit.Call awaitTurn() throws InterruptedException {
        while (true) {
            // A Retry-After another page got holds this one too; interrupted (not transient) on cancel and close.
            hold.awaitClear(cancelled);
            rate.awaitTurn();
            if (cancelled.getAsBoolean()) {
                throw new CancellationException();
            }
            ConcurrencyLimit.Call call = limit.acquire();
            if (cancelled.getAsBoolean()) {
                limit.ignored(call);
                throw new CancellationException();
            }
            if (hold.remainingMillis() == 0) {
                return call;
            }
            limit.ignored(call);
        }
    }

    /**
     * What a call that a destination wrapper adds to a try (a split's part) waits for: the hold and the request rate,
     * as {@link #awaitTurn} does; the try already holds its place under the concurrency limit. A cancelled job's
     * wait ends as a cancel.
     */
    CallGate extraCallGate() {
        return () -> {
            do {
                hold.awaitClear(cancelled);
                rate.awaitTurn();
                if (cancelled.getAsBoolean()) {
                    throw new CancellationException();
                }
                // A hold that began during the rate's wait is waited out too.
            } while (hold.remainingMillis() > 0);
        };
    }

    /**
     * Makes {@code page}'s call, started on the concurrency limit, and tells the limit how it ended: a 2xx (or a
     * refusal the destination decided on) as a round trip, back pressure as such, anything else as saying nothing of
     * the destination's load. A transient failure of a cancelled job ends as a cancel with that failure as its cause.
     */
    <T> T measure(ConcurrencyLimit.Call call, Page page, Callable<T> send) throws Exception {
        try {
            T result = send.call();
            long roundTrip = System.nanoTime() - call.startNanos();
            stats.roundTrips.record(roundTrip);
            limit.succeeded(call, roundTrip);
            return result;
        } catch (TransientDeliveryException e) {
            if (cancelled.getAsBoolean()) {
                // The cancel aborted the call (its socket closed), or the job is wrapped up: nothing to retry.
                limit.ignored(call);
                CancellationException cancel = new CancellationException("Cancelled: " + page.describe());
                cancel.initCause(e);
                throw cancel;
            }
            String pushBack = pushBack(e);
            if (pushBack != null) {
                limit.pushedBack(call, pushBack);
            } else {
                limit.ignored(call);
            }
            onTransientFailure(e);
            throw e;
        } catch (Throwable t) {
            // A permanent failure fails the task; a cancel or a bug says nothing of the destination's load.
            limit.ignored(call);
            throw t;
        } finally {
            limitMoved();
        }
    }

    /**
     * What in a transient failure says the destination is overloaded or limiting us, or null: a 429, 503, 504 or 408,
     * a timeout or I/O error (no status), or any answer that asks to wait. A 500 or 502 says nothing of load.
     */
    static String pushBack(TransientDeliveryException e) {
        int status = e.status();
        if (status == 429 || status == 503 || status == 504 || status == 408) {
            return "HTTP " + status;
        }
        if (status < 0) {
            return "timeout or I/O error";
        }
        return e.retryAfterMillis() > 0 ? "HTTP " + status + " with Retry-After" : null;
    }

    /** Publishes the limit, and logs a big move (at most one line a minute). */
    private void limitMoved() {
        stats.concurrencyLimit.set(limit.limit());
        String move = limit.takeBigMove();
        if (move != null) {
            log.info(move);
        }
    }

    /** Counts a 429 and, when the destination said how long to wait, holds every page of the task for that long. */
    private void onTransientFailure(TransientDeliveryException e) {
        if (e.status() == 429) {
            stats.rateLimitedAnswers.incrementAndGet();
        }
        long wait = e.retryAfterMillis();
        if (wait > 0 && hold.holdFor(wait)) {
            // At most one line a minute: under a rate limit every page in flight may get its own 429 at once.
            long holds = holdLines.event();
            if (holds > 0) {
                log.info("The destination asked to wait {} ms (HTTP {}); no page of this task starts a call until"
                                + " then ({} holds started or lengthened since the last such line; JMX"
                                + " RateLimitHeldMs adds up the waits)", Math.min(wait, RateLimitHold.MAX_HOLD_MS),
                        e.status() < 0 ? "status unknown" : e.status(), holds);
            }
        }
    }
}

package io.github.cohortsync.connect.sync.send;

import java.util.concurrent.TimeUnit;
import java.util.function.LongSupplier;

/**
 * How many pages of one task may be in flight at once: between 1 and the cap ({@code sync.max.in.flight.requests}),
 * adapted by additive increase and multiplicative decrease (AIMD) over windows of about one round trip (at least the
 * window's mean round trip and the floor), as TCP and Vector's Adaptive Request Concurrency do. Fixed at the cap when
 * adaptation is off.
 *
 * <ul>
 *   <li>Back pressure (HTTP 429, 503, 504, 408, a timeout or an I/O error, or any answer asking to wait) decreases
 *       the limit once per window: answers to calls that started before the last decrease were sent at the old limit
 *       and do not decrease it again. So do round trips that rose above {@link #RISEN} times the floor (plus
 *       {@link #SLACK_NANOS}) at the end of a window.</li>
 *   <li>A decrease first sets the known ceiling, by Little's law: the calls that succeeded since the previous
 *       decrease, times the round trip, over the time since (at most the limit then). That is the concurrency the
 *       destination carried over the whole cycle, Retry-After holds included; under a token bucket it is the
 *       refill rate, not the burst the bucket saved during a hold, which the limit reaches before each 429 (when
 *       nothing got through, the ceiling is the limit times the factor below). The limit then falls to
 *       {@link #BACK_PRESSURE_DECREASE} of itself ({@link #RTT_DECREASE} for risen round trips), but to no less
 *       than {@link #PROBE_BAND} of the ceiling and no more than the ceiling.</li>
 *   <li>At the end of a window without back pressure, when its round trips stay near their floor (at most
 *       {@link #NEAR_FLOOR} times the floor plus the slack) and it used the whole limit, the limit grows, as TCP's
 *       does: until the first decrease it doubles (slow start: a full sync's pages reach the destination's pace
 *       within a few round trips); under a known ceiling it grows by 1 per {@link #PROBE_WINDOWS} windows, so that
 *       probing a rate limit from just below costs few refused calls. Once the limit reached twice the ceiling
 *       without back pressure, the ceiling is forgotten (the destination took more) and the limit grows by 1 per
 *       window.</li>
 *   <li>The floor is the lowest mean round trip of a window; it follows the destination up slowly (a tenth of the gap
 *       per window), so a destination that became slower for good does not keep the limit down forever.</li>
 * </ul>
 *
 * Why not Netflix's concurrency-limits (0.5.4, read at tag v0.5.4): its {@code Gradient2Limit} ignores dropped calls,
 * so a 429 or 503 would never lower it; {@code VegasLimit} takes a fast 429's round trip as its new no-load floor and
 * skips the update, and lowers additively; {@code AIMDLimit} lowers on every dropped call (16 pages answered 429 at
 * once would divide the limit by 2^16) and grows on every call (doubling per round trip), and its
 * {@code WindowedLimit} discards windows of fewer than 10 calls, which loses the 503s of a task sending a few pages
 * with retry waits of seconds. What fits is the per-window rule above, and with it the library's part would be its
 * two lines of arithmetic; so this is written here, with no new dependency in the plugin.
 */
final class ConcurrencyLimit {
    /** Factor applied on back pressure (within the bounds the ceiling sets). */
    static final double BACK_PRESSURE_DECREASE = 0.5;
    /** Factor applied when round trips rose well above their floor (within the bounds the ceiling sets). */
    static final double RTT_DECREASE = 0.75;
    /** Round trips at most this many times the floor (plus the slack) count as near it. */
    static final double NEAR_FLOOR = 1.5;
    /** Round trips above this many times the floor (plus the slack) count as risen. */
    static final double RISEN = 2.0;
    /** A decrease leaves the limit at no less than this share of the known ceiling. */
    static final double PROBE_BAND = 0.9;
    /** Windows per 1 of growth under a known ceiling. */
    static final int PROBE_WINDOWS = 8;
    /** Absolute slack over the floor, so that the jitter of a loopback or LAN round trip is not taken as a rise. */
    static final long SLACK_NANOS = TimeUnit.MILLISECONDS.toNanos(5);

    /** The longest a limit that moved a lot goes unreported in the log. */
    static final long LOG_INTERVAL_NANOS = TimeUnit.MINUTES.toNanos(1);

    /** A call on the wire: when it started and the limit's decrease count then. */
    record Call(long startNanos, long decreasesAtStart) {
    }

    /** Why the limit last moved, for the log line that reports big moves. */
    enum Reason {
        BACK_PRESSURE("the destination pushed back"),
        ROUND_TRIPS_ROSE("round trips rose well above their floor"),
        NEAR_FLOOR("answers were 2xx with round trips near their floor"),
        SLOW_START("answers were 2xx with round trips near their floor, no back pressure yet");

        private final String text;

        Reason(String text) {
            this.text = text;
        }

        @Override
        public String toString() {
            return text;
        }
    }

    private final int cap;
    private final boolean adaptive;
    private final LongSupplier nanoClock;

    private int limit;
    private int inFlight;
    private long decreases;
    /**
     * What the destination carried at the last decrease (class comment), while the limit has not grown to twice it
     * since; 0 when none is known.
     */
    private int ceiling;
    /** Calls answered 2xx since the last decrease (or the first call), and when that was (0: no call yet). */
    private long successesSinceDecrease;
    private long cycleStart;
    /** Windows that could have grown the limit since it last grew under the ceiling. */
    private int probeWindows;
    /** Why the last move happened, and (for back pressure) what pushed back. */
    private Reason lastReason;
    private String lastDetail = "";

    /** The limit the log last reported (or started at), and when; for {@link #takeBigMove}. */
    private int loggedLimit;
    private long loggedAt;
    private boolean logged;

    private long windowStart;
    private long windowRttSum;
    private int windowSamples;
    private int windowMaxInFlight;
    /** Lowest mean round trip of a window, following the destination up slowly; 0 until the first window. */
    private long floorNanos;
    private long lastWindowMeanNanos;

    /**
     * @param cap      the most pages in flight ({@code sync.max.in.flight.requests})
     * @param initial  the limit to start at (clamped to 1..cap)
     * @param adaptive false: the limit stays at the cap
     */
    ConcurrencyLimit(int cap, int initial, boolean adaptive, LongSupplier nanoClock) {
        if (cap < 1) {
            throw new IllegalArgumentException("cap must be at least 1, got " + cap);
        }
        this.cap = cap;
        this.adaptive = adaptive && cap > 1;
        this.nanoClock = nanoClock;
        this.limit = this.adaptive ? Math.max(1, Math.min(cap, initial)) : cap;
        this.windowStart = nanoClock.getAsLong();
        this.loggedLimit = limit;
    }

    /**
     * When the limit moved a lot (to at least twice, or at most half, the limit last reported) and the last report is
     * at least a minute old: the line to log, from what to what and why; else null. At most one a minute.
     */
    synchronized String takeBigMove() {
        long now = nanoClock.getAsLong();
        if (logged && now - loggedAt < LOG_INTERVAL_NANOS) {
            return null;
        }
        if (limit < 2 * loggedLimit && 2 * limit > loggedLimit) {
            return null;
        }
        String line = "Pages in flight limit moved from " + loggedLimit + " to " + limit + " (cap " + cap + "): "
                + lastReason() + "; mean round trip " + TimeUnit.NANOSECONDS.toMillis(lastWindowMeanNanos)
                + " ms, floor " + TimeUnit.NANOSECONDS.toMillis(floorNanos) + " ms";
        loggedLimit = limit;
        loggedAt = now;
        logged = true;
        return line;
    }

    /** The current limit of pages in flight. */
    synchronized int limit() {
        return limit;
    }

    synchronized boolean adaptive() {
        return adaptive;
    }

    /** Why the limit last moved (null before its first move), with what pushed back when it was back pressure. */
    synchronized String lastReason() {
        if (lastReason == null) {
            return null;
        }
        return lastDetail.isEmpty() ? lastReason.toString() : lastReason + " (" + lastDetail + ")";
    }

    /**
     * Waits until fewer calls than the limit are on the wire, then starts one ({@link #start}). Every try of every
     * page takes its turn here, retries included: after a decrease the pages already running retry at the new
     * limit, not all at once when a Retry-After hold ends.
     *
     * @throws InterruptedException when the waiting thread is interrupted (the job is cancelled or the sender closes)
     */
    synchronized Call acquire() throws InterruptedException {
        while (inFlight >= limit) {
            wait();
        }
        return start();
    }

    /**
     * A call starts now. A window that lasted its mean round trip ends first: the limit is decided when the next call
     * would go, so a window holds every answer that came back while it lasted.
     */
    synchronized Call start() {
        long now = nanoClock.getAsLong();
        if (windowSamples > 0 && now - windowStart >= Math.max(floorNanos, windowRttSum / windowSamples)) {
            endWindow(now);
        }
        if (cycleStart == 0) {
            cycleStart = now;
        }
        inFlight++;
        windowMaxInFlight = Math.max(windowMaxInFlight, inFlight);
        return new Call(now, decreases);
    }

    /** The call got a 2xx answer after {@code roundTripNanos}: a round trip of the window. */
    synchronized void succeeded(Call call, long roundTripNanos) {
        inFlight--;
        notifyAll();
        // Every 2xx answered since the last decrease counts in what the destination carried (Little's law counts the
        // calls completed within the interval), also one sent before it.
        successesSinceDecrease++;
        if (call.decreasesAtStart() != decreases) {
            // Sent at the limit before the last decrease: its round trip says nothing of the new one.
            return;
        }
        windowRttSum += Math.max(0, roundTripNanos);
        windowSamples++;
    }

    /** The destination pushed back on the call ({@code what}: e.g. "HTTP 429", "timeout or I/O error"). */
    synchronized void pushedBack(Call call, String what) {
        inFlight--;
        notifyAll();
        if (!adaptive || call.decreasesAtStart() != decreases) {
            // Started before the last decrease: sent at the old limit, already accounted for.
            return;
        }
        decrease(BACK_PRESSURE_DECREASE, Reason.BACK_PRESSURE, what);
    }

    /**
     * The call ended in a way that says nothing of the destination's load (a 500, a cancel, a bug), or never went (a
     * hold began while it waited for room).
     */
    synchronized void ignored(Call call) {
        inFlight--;
        notifyAll();
    }

    private void endWindow(long now) {
        long mean = windowRttSum / windowSamples;
        int used = windowMaxInFlight;
        resetWindow(now);
        lastWindowMeanNanos = mean;
        if (floorNanos == 0 || mean < floorNanos) {
            floorNanos = mean;
        } else {
            floorNanos += (mean - floorNanos) / 10;
        }
        if (!adaptive) {
            return;
        }
        if (mean > RISEN * floorNanos + SLACK_NANOS) {
            decrease(RTT_DECREASE, Reason.ROUND_TRIPS_ROSE, "");
        } else if (mean <= NEAR_FLOOR * floorNanos + SLACK_NANOS && used >= limit && limit < cap) {
            grow();
        }
    }

    /** A window that could grow the limit: doubles it before any decrease, else adds 1 (per probe, under a ceiling). */
    private void grow() {
        if (decreases == 0) {
            limit = Math.min(cap, 2 * limit);
            lastReason = Reason.SLOW_START;
        } else if (ceiling == 0) {
            limit++;
            lastReason = Reason.NEAR_FLOOR;
        } else if (++probeWindows >= PROBE_WINDOWS) {
            probeWindows = 0;
            limit++;
            lastReason = Reason.NEAR_FLOOR;
        } else {
            return;
        }
        lastDetail = "";
        if (ceiling > 0 && limit >= 2 * ceiling) {
            ceiling = 0;
        }
    }

    private void decrease(double factor, Reason reason, String detail) {
        int lowered = Math.max(1, (int) (limit * factor));
        long now = nanoClock.getAsLong();
        long roundTrip = roundTripNanos();
        long cycle = Math.max(roundTrip, now - cycleStart);
        // Nothing got through since the last decrease (or ever): no measure of what the destination carries; the
        // factor alone decides, as in plain AIMD.
        long carried = successesSinceDecrease == 0 || cycle <= 0 ? lowered
                : Math.round((double) successesSinceDecrease * roundTrip / cycle);
        ceiling = (int) Math.max(1, Math.min(limit, carried));
        successesSinceDecrease = 0;
        cycleStart = now;
        probeWindows = 0;
        decreases++;
        lastReason = reason;
        lastDetail = detail;
        limit = Math.max(1, Math.min(ceiling, Math.max(lowered, (int) (PROBE_BAND * ceiling))));
        resetWindow(nanoClock.getAsLong());
    }

    /** The round trip of late: the last window's mean (at least the floor), or the current one's before any ended. */
    private long roundTripNanos() {
        long known = Math.max(floorNanos, lastWindowMeanNanos);
        if (known == 0 && windowSamples > 0) {
            return windowRttSum / windowSamples;
        }
        return known;
    }

    private void resetWindow(long now) {
        windowStart = now;
        windowRttSum = 0;
        windowSamples = 0;
        windowMaxInFlight = inFlight;
    }
}

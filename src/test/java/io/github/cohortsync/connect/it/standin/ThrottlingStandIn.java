package io.github.cohortsync.connect.it.standin;

/**
 * A stand-in that can answer "too many requests" to the next N calls: which calls count, and the vendor's answer
 * (429 with Retry-After: 1 for all of them so far), each subclass says next to its rules.
 */
public abstract class ThrottlingStandIn extends StandIn {
    private int throttle;
    private int throttled;

    /** Throttles the next {@code n} calls of the kind the stand-in names, changing nothing. */
    public synchronized void throttleNext(int n) {
        throttle = n;
    }

    /** How many calls were throttled. */
    public synchronized int throttled() {
        return throttled;
    }

    /** Whether to throttle this call: true for the next {@code n} of {@link #throttleNext}, counting them. */
    protected final synchronized boolean throttling() {
        if (throttle <= 0) {
            return false;
        }
        throttle--;
        throttled++;
        return true;
    }
}

package io.github.cohortsync.connect.destination;

/**
 * What a call a destination wrapper adds to a page's try (a split's part) waits for before it goes: the sender's
 * {@code Retry-After} hold and its request rate, as the try's own call did. The try already holds its place under
 * the concurrency limit, so a gate does not take another.
 */
@FunctionalInterface
public interface CallGate {
    /** No wait: the calls go at once. */
    CallGate OPEN = () -> { };

    /**
     * Returns when the next call may go.
     *
     * @throws InterruptedException when the wait was interrupted (the sync is being cancelled)
     */
    void awaitCall() throws InterruptedException;
}

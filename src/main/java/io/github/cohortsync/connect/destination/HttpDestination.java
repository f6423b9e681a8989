package io.github.cohortsync.connect.destination;

import io.github.cohortsync.connect.http.DestinationCalls;

/**
 * A destination that reaches its vendor over HTTP: every call goes through its {@link DestinationCalls}, which also
 * cancels and closes them. Subclasses keep their bodies, their answer parsing and their limits.
 */
public abstract class HttpDestination implements Destination {
    /** The destination's one call path, with its secrets and auth hint. */
    protected final DestinationCalls calls;

    protected HttpDestination(DestinationCalls calls) {
        this.calls = calls;
    }

    @Override
    public final void cancelInFlight() {
        calls.cancelInFlight();
    }

    @Override
    public void close() {
        calls.close();
    }
}

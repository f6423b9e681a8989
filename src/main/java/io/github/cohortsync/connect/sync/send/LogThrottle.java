package io.github.cohortsync.connect.sync.send;

import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.LongSupplier;

/**
 * At most one log line per interval for an event that can come in bursts (every page in flight answered 429 at
 * once), with the count of events since the last line; safe to call from every page sender.
 */
final class LogThrottle {
    private final long intervalNanos;
    private final LongSupplier nanoClock;
    /** When the last line was logged; {@code Long.MIN_VALUE} before the first. */
    private final AtomicLong loggedAt = new AtomicLong(Long.MIN_VALUE);
    private final AtomicLong events = new AtomicLong();

    LogThrottle(long interval, TimeUnit unit, LongSupplier nanoClock) {
        this.intervalNanos = unit.toNanos(interval);
        this.nanoClock = nanoClock;
    }

    /**
     * Counts an event; when a line is due (the first ever, or the interval passed since the last), returns how many
     * events it covers (this one included) and restarts the count; else 0: log nothing.
     */
    long event() {
        long count = events.incrementAndGet();
        long now = nanoClock.getAsLong();
        long last = loggedAt.get();
        if (last != Long.MIN_VALUE && now - last < intervalNanos) {
            return 0;
        }
        if (!loggedAt.compareAndSet(last, now)) {
            return 0;
        }
        events.addAndGet(-count);
        return count;
    }
}

package io.github.cohortsync.connect.sync.send;

import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.BooleanSupplier;
import java.util.function.LongSupplier;

/**
 * A task's hold on its destination after the destination asked it to wait (a 429 or 503 with {@code Retry-After}):
 * until the hold ends no page of the task starts a call, so a rate limit is not hammered by the other pages in flight.
 * Shared by every page sender of one {@link SyncSender}; a later answer can only lengthen the hold, never shorten it.
 * Waits happen on the sender's threads only, are bounded by the hold (itself at most {@link #MAX_HOLD_MS}) and end
 * early when the waiting thread is interrupted (cancel, close).
 */
final class RateLimitHold {
    /** The longest hold, the same bound the retry policy puts on a Retry-After (an hour). */
    static final long MAX_HOLD_MS = TimeUnit.HOURS.toMillis(1);

    private final LongSupplier nanoClock;
    private final AtomicLong heldMs;
    /** When the hold ends, on {@link #nanoClock}; guarded by {@code this}. */
    private long until;
    private boolean holding;

    /** @param heldMs where the time pages spent waiting is added up (the task's {@code RateLimitHeldMs}) */
    RateLimitHold(AtomicLong heldMs) {
        this(heldMs, System::nanoTime);
    }

    RateLimitHold(AtomicLong heldMs, LongSupplier nanoClock) {
        this.heldMs = heldMs;
        this.nanoClock = nanoClock;
    }

    /**
     * Holds every page for {@code millis} from now (capped at {@link #MAX_HOLD_MS}); 0 or less holds nothing. True
     * when this started or lengthened the hold, false when a hold already in place lasts longer.
     */
    synchronized boolean holdFor(long millis) {
        if (millis <= 0) {
            return false;
        }
        long end = nanoClock.getAsLong() + TimeUnit.MILLISECONDS.toNanos(Math.min(millis, MAX_HOLD_MS));
        if (remainingMillis() > 0 && end - until <= 0) {
            return false;
        }
        until = end;
        holding = true;
        return true;
    }

    /** Wakes the pages waiting out the hold, so that they check whether to give up (the job is wrapped up). */
    synchronized void wakeWaiters() {
        notifyAll();
    }

    /** Milliseconds left of the hold; 0 when there is none. */
    synchronized long remainingMillis() {
        if (!holding) {
            return 0;
        }
        long left = until - nanoClock.getAsLong();
        if (left <= 0) {
            holding = false;
            return 0;
        }
        return TimeUnit.NANOSECONDS.toMillis(left) + 1;
    }

    /**
     * Returns once the hold is over (at once when there is none), adding the time waited to the held total.
     *
     * @throws InterruptedException when the waiting thread is interrupted (the job is cancelled or the sender closes)
     */
    void awaitClear() throws InterruptedException {
        awaitClear(() -> false);
    }

    /**
     * Returns once the hold is over, or once {@code giveUp} is true when checked: at the start and after each
     * {@link #wakeWaiters}.
     *
     * @throws InterruptedException when the waiting thread is interrupted (the job is cancelled or the sender closes)
     */
    void awaitClear(BooleanSupplier giveUp) throws InterruptedException {
        long start = nanoClock.getAsLong();
        boolean waited = false;
        try {
            synchronized (this) {
                long left;
                while ((left = remainingMillis()) > 0 && !giveUp.getAsBoolean()) {
                    waited = true;
                    wait(left);
                }
            }
        } finally {
            if (waited) {
                heldMs.addAndGet(TimeUnit.NANOSECONDS.toMillis(nanoClock.getAsLong() - start));
            }
        }
    }
}

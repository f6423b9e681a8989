package io.github.cohortsync.connect.metrics;

import java.util.concurrent.TimeUnit;
import java.util.function.LongSupplier;

/**
 * Round trips of a task's destination calls over the last minute, for their percentiles: one histogram per second
 * (60 of them, reused as the minute moves on), with buckets 1/8 of a power of two wide (about 9%), from 1 µs to
 * about 18 minutes. Bounded memory whatever the rate of calls; a percentile is the middle of its bucket.
 */
public final class RoundTrips {
    private static final int SECONDS = 60;
    private static final int BUCKETS_PER_DOUBLING = 8;
    private static final int BUCKETS = 31 * BUCKETS_PER_DOUBLING;

    private final LongSupplier nanoClock;
    private final int[][] counts = new int[SECONDS][BUCKETS];
    /** The second (since the clock's origin) each slot holds; slots of older seconds are stale. */
    private final long[] slotSecond = new long[SECONDS];

    public RoundTrips() {
        this(System::nanoTime);
    }

    public RoundTrips(LongSupplier nanoClock) {
        this.nanoClock = nanoClock;
        java.util.Arrays.fill(slotSecond, Long.MIN_VALUE);
    }

    /** Records one round trip. */
    public synchronized void record(long nanos) {
        long second = TimeUnit.NANOSECONDS.toSeconds(nanoClock.getAsLong());
        int slot = (int) Math.floorMod(second, (long) SECONDS);
        if (slotSecond[slot] != second) {
            java.util.Arrays.fill(counts[slot], 0);
            slotSecond[slot] = second;
        }
        counts[slot][bucket(nanos)]++;
    }

    /** The {@code percent} percentile of the last minute's round trips in milliseconds; 0 when there were none. */
    public synchronized double percentileMs(double percent) {
        long now = TimeUnit.NANOSECONDS.toSeconds(nanoClock.getAsLong());
        long[] merged = new long[BUCKETS];
        long total = 0;
        for (int slot = 0; slot < SECONDS; slot++) {
            if (slotSecond[slot] != Long.MIN_VALUE && now - slotSecond[slot] < SECONDS) {
                for (int b = 0; b < BUCKETS; b++) {
                    merged[b] += counts[slot][b];
                    total += counts[slot][b];
                }
            }
        }
        if (total == 0) {
            return 0;
        }
        long rank = (long) Math.ceil(percent / 100.0 * total);
        long seen = 0;
        for (int b = 0; b < BUCKETS; b++) {
            seen += merged[b];
            if (seen >= Math.max(1, rank)) {
                return middleMicros(b) / 1000.0;
            }
        }
        return middleMicros(BUCKETS - 1) / 1000.0;
    }

    static int bucket(long nanos) {
        double micros = Math.max(1.0, nanos / 1000.0);
        int b = (int) (Math.log(micros) / Math.log(2) * BUCKETS_PER_DOUBLING);
        return Math.min(BUCKETS - 1, Math.max(0, b));
    }

    /** The geometric middle of a bucket, in microseconds. */
    static double middleMicros(int bucket) {
        return Math.pow(2, (bucket + 0.5) / BUCKETS_PER_DOUBLING);
    }
}

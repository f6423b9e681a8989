package io.github.cohortsync.connect.destination.braze;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicLong;

/**
 * The cohorts this task has put each Braze user in, to count the users whose array attribute holds more cohort
 * names than the account keeps: Braze truncates an array custom attribute beyond its maximum length (25 by default,
 * raised per attribute up to 100 or more; braze-docs {@code _docs/_user_guide/data_and_analytics/custom_data/
 * custom_attributes.md}, Arrays) without an error, dropping the oldest values. Holds per user the 64-bit hashes of
 * its cohort ids (about 100 bytes per user plus 8 per cohort); a task sees only its own partitions' users.
 */
final class AttributeLengths {
    private final int maxLength;
    private final ConcurrentHashMap<String, long[]> cohortsByUser = new ConcurrentHashMap<>();
    private final AtomicLong usersOver = new AtomicLong();

    AttributeLengths(int maxLength) {
        this.maxLength = maxLength;
    }

    /**
     * Records that these users entered (or left) the cohort, and returns those whose list went over the maximum
     * length with this change.
     */
    List<String> apply(String cohortId, List<String> externalIds, boolean add) {
        long cohort = hash(cohortId);
        List<String> wentOver = new ArrayList<>();
        for (String id : externalIds) {
            int[] sizes = new int[2];
            cohortsByUser.compute(id, (user, cohorts) -> {
                long[] current = cohorts == null ? new long[0] : cohorts;
                sizes[0] = current.length;
                int at = Arrays.binarySearch(current, cohort);
                long[] next = current;
                if (add && at < 0) {
                    int insert = -at - 1;
                    next = new long[current.length + 1];
                    System.arraycopy(current, 0, next, 0, insert);
                    next[insert] = cohort;
                    System.arraycopy(current, insert, next, insert + 1, current.length - insert);
                } else if (!add && at >= 0) {
                    next = new long[current.length - 1];
                    System.arraycopy(current, 0, next, 0, at);
                    System.arraycopy(current, at + 1, next, at, current.length - at - 1);
                }
                sizes[1] = next.length;
                return next.length == 0 ? null : next;
            });
            if (sizes[0] <= maxLength && sizes[1] > maxLength) {
                usersOver.incrementAndGet();
                wentOver.add(id);
            } else if (sizes[0] > maxLength && sizes[1] <= maxLength) {
                usersOver.decrementAndGet();
            }
        }
        return wentOver;
    }

    /** Users this task knows to be in more cohorts than the attribute keeps, now. */
    long usersOver() {
        return usersOver.get();
    }

    int maxLength() {
        return maxLength;
    }

    /** FNV-1a, 64 bits, over the id's UTF-16 chars. */
    private static long hash(String text) {
        long hash = 0xcbf29ce484222325L;
        for (int i = 0; i < text.length(); i++) {
            hash ^= text.charAt(i);
            hash *= 0x100000001b3L;
        }
        return hash;
    }
}

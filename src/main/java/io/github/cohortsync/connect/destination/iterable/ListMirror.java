package io.github.cohortsync.connect.destination.iterable;

import java.nio.charset.StandardCharsets;
import java.util.Arrays;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;

import io.github.cohortsync.connect.destination.Page;
import io.github.cohortsync.connect.record.MembershipChange;

/**
 * Remembers, per cohort, the emails of the members a snapshot subscribed, so that once its last page is delivered the
 * list's other subscribers can be found and unsubscribed. Holds one 64-bit hash per member (8 bytes), not the emails:
 * a stranger whose hash collides with a member's stays subscribed, which is harmless and vanishingly rare.
 */
final class ListMirror {

    /** The members of one snapshot of one cohort, as recorded so far. */
    static final class Members {
        private final String sessionId;
        private long[] hashes = new long[1024];
        private int size;
        private long withoutEmail;
        private boolean sorted;

        private Members(String sessionId) {
            this.sessionId = sessionId;
        }

        private synchronized void add(MembershipChange member) {
            String email = member.email();
            if (email == null || email.isBlank()) {
                withoutEmail++;
                return;
            }
            if (size == hashes.length) {
                hashes = Arrays.copyOf(hashes, size * 2);
            }
            hashes[size++] = hash(email);
            sorted = false;
        }

        /** Members the list export cannot name (matched by user id only): the list cannot be mirrored by email. */
        synchronized long withoutEmail() {
            return withoutEmail;
        }

        synchronized boolean contains(String email) {
            if (!sorted) {
                Arrays.sort(hashes, 0, size);
                sorted = true;
            }
            return Arrays.binarySearch(hashes, 0, size, hash(email)) >= 0;
        }
    }

    private final Map<String, Members> byCohort = new ConcurrentHashMap<>();

    /** Records the members of a {@code members} page; a page of a new session starts the cohort afresh. */
    Members record(Page page) {
        Members members = byCohort.compute(page.cohort().id(), (id, current) ->
                current == null || !current.sessionId.equals(page.sessionId()) ? new Members(page.sessionId())
                        : current);
        // A retried page is recorded twice: duplicates change nothing for contains().
        page.members().forEach(members::add);
        return members;
    }

    /** Forgets a cohort's snapshot once its list was mirrored. */
    void forget(Page page) {
        byCohort.remove(page.cohort().id());
    }

    /** FNV-1a over the lower-cased email's UTF-8 bytes (Iterable compares emails without case). */
    static long hash(String email) {
        long hash = 0xcbf29ce484222325L;
        for (byte b : email.trim().toLowerCase(Locale.ROOT).getBytes(StandardCharsets.UTF_8)) {
            hash ^= b & 0xff;
            hash *= 0x100000001b3L;
        }
        return hash;
    }
}

package io.github.cohortsync.connect.destination;

import java.nio.charset.StandardCharsets;
import java.util.Arrays;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;

import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import io.github.cohortsync.connect.config.CohortSyncConfig;
import io.github.cohortsync.connect.record.MembershipChange;

/**
 * Remembers, per cohort, the emails of the members a snapshot subscribed, so that once its last page is delivered the
 * list's (or segment's) other members can be found and removed (Iterable lists, Mailchimp segments). Holds one
 * 64-bit hash per member (8 bytes), not the emails:
 * a stranger whose hash collides with a member's stays subscribed, which is harmless and vanishingly rare.
 */
public final class ListMirror {
    private static final Logger log = LoggerFactory.getLogger(ListMirror.class);

    /**
     * Whether the boolean {@code key} asks for mirroring and the connector can: a task sees only its partitions'
     * members, so with several tasks mirroring one task's snapshot would remove the members another task read; the
     * mirror needs tasks.max=1 (a WARN says it is ignored otherwise).
     */
    public static boolean wanted(CohortSyncConfig config, String key) {
        if (!config.getBoolean(key)) {
            return false;
        }
        Object tasksMax = config.originals().get("tasks.max");
        if (tasksMax != null && !"1".equals(tasksMax.toString().trim())) {
            log.warn("{} is ignored with tasks.max={}: each task sees only part of a cohort, so lists are not"
                    + " mirrored (set tasks.max=1 to mirror them)", key, tasksMax);
            return false;
        }
        return true;
    }

    /** The members of one snapshot of one cohort, as recorded so far. */
    public static final class Members {
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
        public synchronized long withoutEmail() {
            return withoutEmail;
        }

        public synchronized boolean contains(String email) {
            if (!sorted) {
                Arrays.sort(hashes, 0, size);
                sorted = true;
            }
            return Arrays.binarySearch(hashes, 0, size, hash(email)) >= 0;
        }
    }

    private final Map<String, Members> byCohort = new ConcurrentHashMap<>();

    /** Records the members of a {@code members} page; a page of a new session starts the cohort afresh. */
    public Members record(Page page) {
        Members members = byCohort.compute(page.cohort().id(), (id, current) ->
                current == null || !current.sessionId.equals(page.sessionId()) ? new Members(page.sessionId())
                        : current);
        // A retried page is recorded twice: duplicates change nothing for contains().
        page.members().forEach(members::add);
        return members;
    }

    /** Forgets a cohort's snapshot once its list was mirrored. */
    public void forget(Page page) {
        byCohort.remove(page.cohort().id());
    }

    /** FNV-1a over the lower-cased email's UTF-8 bytes (Iterable and Mailchimp compare emails without case). */
    public static long hash(String email) {
        long hash = 0xcbf29ce484222325L;
        for (byte b : email.trim().toLowerCase(Locale.ROOT).getBytes(StandardCharsets.UTF_8)) {
            hash ^= b & 0xff;
            hash *= 0x100000001b3L;
        }
        return hash;
    }
}

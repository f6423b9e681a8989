package io.github.cohortsync.connect.sync.snapshot;

import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;
import java.util.Map;
import java.util.function.Function;
import java.util.function.Supplier;

import io.github.cohortsync.connect.destination.Page;
import io.github.cohortsync.connect.destination.PageAction;
import io.github.cohortsync.connect.record.CohortRef;
import io.github.cohortsync.connect.record.MembershipChange;
import io.github.cohortsync.connect.sync.snapshot.NettedSnapshot.CohortCount;

/**
 * Cuts a netted snapshot into pages, a few at a time so that only those are in memory: per cohort, its members as
 * {@code members} pages and, for destinations that want them, its leavers as {@code remove_members} pages, each
 * numbered 1..N with the exact total under a session id of their own (one per cohort and action).
 */
public final class SnapshotPages {
    private final List<CohortCount> cohorts;
    private final Map<String, CohortRef> knownCohorts;
    private final String defaultProjectId;
    private final boolean withLeavers;
    private final int batchSize;
    private final Supplier<String> sessionIds;
    private final Function<String, String> rememberedNames;
    private final Iterator<MembershipChange> members;
    private final Iterator<MembershipChange> leavers;

    private int cohortIndex = -1;
    private boolean leaverPhase = true;
    private long remaining;
    private int pageNumber;
    private int totalPages;
    private String sessionId;
    private CohortRef cohort;

    /**
     * @param knownCohorts the latest descriptive fields per cohort id (tombstones carry none)
     * @param withLeavers  whether users who left are sent too (as removals), for destinations that need them
     */
    public SnapshotPages(NettedSnapshot snapshot, Map<String, CohortRef> knownCohorts, String defaultProjectId,
                         boolean withLeavers, int batchSize, Supplier<String> sessionIds) {
        this(snapshot, knownCohorts, defaultProjectId, withLeavers, batchSize, sessionIds, id -> null);
    }

    /** @param rememberedNames the last name seen of a cohort across restarts, for cohorts no record here names */
    public SnapshotPages(NettedSnapshot snapshot, Map<String, CohortRef> knownCohorts, String defaultProjectId,
                         boolean withLeavers, int batchSize, Supplier<String> sessionIds,
                         Function<String, String> rememberedNames) {
        this.rememberedNames = rememberedNames;
        this.cohorts = snapshot.cohorts();
        this.knownCohorts = knownCohorts;
        this.defaultProjectId = defaultProjectId;
        this.withLeavers = withLeavers;
        this.batchSize = batchSize;
        this.sessionIds = sessionIds;
        this.members = snapshot.members();
        this.leavers = snapshot.leavers();
    }

    /** True while pages remain. */
    public boolean hasNext() {
        while (remaining == 0) {
            if (!nextGroup()) {
                return false;
            }
        }
        return true;
    }

    /** The next pages in order, holding together at most {@code maxMembers} members (but always one page). */
    public List<Page> next(int maxMembers) {
        List<Page> pages = new ArrayList<>();
        int held = 0;
        while (hasNext() && (pages.isEmpty() || held + Math.min(remaining, batchSize) <= maxMembers)) {
            int size = (int) Math.min(remaining, batchSize);
            Iterator<MembershipChange> source = leaverPhase ? leavers : members;
            List<MembershipChange> slice = new ArrayList<>(size);
            for (int i = 0; i < size; i++) {
                slice.add(source.next());
            }
            remaining -= size;
            held += size;
            pages.add(new Page(cohort, leaverPhase ? PageAction.REMOVE_MEMBERS : PageAction.MEMBERS, sessionId,
                    ++pageNumber, totalPages, slice));
        }
        return pages;
    }

    /** Moves to the next non-empty group: a cohort's members, then (if wanted) its leavers, then the next cohort. */
    private boolean nextGroup() {
        if (!leaverPhase) {
            leaverPhase = true;
            // Leavers are a stream of their own: when they are not wanted, it is simply never read. Their pages are
            // a session of their own, numbered from 1: one action per session id.
            startGroup(withLeavers ? cohorts.get(cohortIndex).leavers() : 0);
            if (remaining > 0) {
                sessionId = sessionIds.get();
            }
            return true;
        }
        if (cohortIndex + 1 >= cohorts.size()) {
            return false;
        }
        CohortCount next = cohorts.get(++cohortIndex);
        cohort = knownCohorts.getOrDefault(next.cohortId(), new CohortRef(next.cohortId(), null, null, null))
                .orElse(new CohortRef(next.cohortId(), rememberedNames.apply(next.cohortId()), null,
                        defaultProjectId));
        sessionId = sessionIds.get();
        leaverPhase = false;
        startGroup(next.members());
        return true;
    }

    private void startGroup(long size) {
        remaining = size;
        pageNumber = 0;
        totalPages = (int) ((size + batchSize - 1) / batchSize);
    }
}

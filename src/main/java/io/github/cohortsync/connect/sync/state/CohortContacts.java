package io.github.cohortsync.connect.sync.state;

import java.util.Collection;
import java.util.Set;
import java.util.TreeSet;

import io.github.cohortsync.connect.destination.Page;
import io.github.cohortsync.connect.record.CohortRef;

/**
 * Decides when a full sync ({@code members} pages) is due besides a first run, as Mixpanel sends one: a cohort's
 * first contact (a cohort the destination never accepted a page of), a refresh after the destination has failed
 * for longer than a configured time, and a refresh requested by changing the refresh generation. Also remembers
 * each cohort's last name, so that a cohort met only through removals after a restart is still named. What it
 * knows lives in a {@link CohortStateStore}.
 *
 * <p>Threads: {@link #delivered} is called on the sender's thread, everything else on the task's.
 */
public final class CohortContacts {
    private final CohortStateStore store;
    private final String generation;
    private final long refreshAfterFailureMs;
    private volatile long lastDeliveryMs = -1;
    private long failuresSeen;
    private long lastCheckMs = -1;

    /**
     * @param generation            the configured refresh generation ("" by default)
     * @param refreshAfterFailureMs how long the destination may fail before a full refresh; 0: never
     */
    public CohortContacts(CohortStateStore store, String generation, long refreshAfterFailureMs) {
        this.store = store;
        this.generation = generation;
        this.refreshAfterFailureMs = refreshAfterFailureMs;
    }

    /** A page the destination accepted: its cohort had its first contact, and its name is remembered. */
    public void delivered(Page page) {
        lastDeliveryMs = System.currentTimeMillis();
        CohortRef cohort = page.cohort();
        store.sawName(cohort.id(), cohort.name());
        store.contacted(cohort.id());
    }

    /** The last name seen of a cohort, across restarts; null when none was ever seen. */
    public String rememberedName(String cohortId) {
        return store.name(cohortId);
    }

    /** The cohorts among these that the destination never accepted a page of (as far as this task knows). */
    public Set<String> withoutFirstContact(Collection<String> cohortIds) {
        Set<String> fresh = new TreeSet<>();
        for (String id : cohortIds) {
            if (!store.isContacted(id)) {
                fresh.add(id);
            }
        }
        return fresh;
    }

    /** True when the configured refresh generation differs from the one of the last delivered full sync. */
    public boolean refreshRequested() {
        String last = store.generation();
        return !generation.equals(last == null ? "" : last);
    }

    /**
     * Follows the destination's failures: {@code failures} is a counter of failed attempts (retries and given-up
     * syncs). The destination is failing from the first failure after the last accepted page until a page is
     * accepted again; the time counts across restarts.
     */
    public void observeFailures(long nowMs, long failures) {
        boolean deliveredSinceCheck = lastDeliveryMs >= 0 && lastDeliveryMs >= lastCheckMs;
        lastCheckMs = nowMs;
        if (deliveredSinceCheck) {
            store.failingSinceMs(-1);
            failuresSeen = failures;
            store.save();
            return;
        }
        if (failures > failuresSeen) {
            failuresSeen = failures;
            if (store.failingSinceMs() < 0) {
                store.failingSinceMs(nowMs);
                store.save();
            }
        }
    }

    /** Since when the destination has been failing, or -1. */
    public long failingSinceMs() {
        return store.failingSinceMs();
    }

    /** True once the destination has failed for longer than the configured time. */
    public boolean failedTooLong(long nowMs) {
        long since = store.failingSinceMs();
        return refreshAfterFailureMs > 0 && since >= 0 && nowMs - since > refreshAfterFailureMs;
    }

    /** A full sync of every assigned partition was delivered: the requested generation is done. */
    public void fullSyncDelivered() {
        store.generation(generation);
        store.failingSinceMs(-1);
        store.save();
    }

    /** Writes what changed. */
    public void save() {
        store.save();
    }
}

package io.github.cohortsync.connect.metrics;

import java.util.concurrent.atomic.AtomicLong;

/** A task's counters, updated by the task thread and the sender thread. */
public final class SyncStats {
    public final AtomicLong recordsRead = new AtomicLong();
    public final AtomicLong recordsFiltered = new AtomicLong();
    public final AtomicLong badRecords = new AtomicLong();
    public final AtomicLong changesNettedAway = new AtomicLong();
    /** Changes not sent because the delivery journal shows they were delivered before a restart or rebalance. */
    public final AtomicLong changesSkippedAsDelivered = new AtomicLong();
    public final AtomicLong membersAdded = new AtomicLong();
    public final AtomicLong membersRemoved = new AtomicLong();
    public final AtomicLong membersFull = new AtomicLong();
    public final AtomicLong requests = new AtomicLong();
    public final AtomicLong retries = new AtomicLong();
    public final AtomicLong rejections = new AtomicLong();
    /** Answers with HTTP 429 (too many requests), retried or not. */
    public final AtomicLong rateLimitedAnswers = new AtomicLong();
    /** Milliseconds pages spent waiting for a Retry-After hold to end, added up over the pages that waited. */
    public final AtomicLong rateLimitHeldMs = new AtomicLong();
    /** How many pages may be in flight now (the adaptive limit, or the fixed number). */
    public final AtomicLong concurrencyLimit = new AtomicLong();
    /** Round trips of the calls the destination answered, over the last minute. */
    public final RoundTrips roundTrips = new RoundTrips();
    public final AtomicLong failedSyncs = new AtomicLong();
    public final AtomicLong failures = new AtomicLong();
    public final AtomicLong syncsCompleted = new AtomicLong();
    public final AtomicLong lastSyncLatencyMs = new AtomicLong();
    public final AtomicLong bufferSize = new AtomicLong();
    /** Netted snapshot changes written to spill files, and the number of those files. */
    public final AtomicLong snapshotChangesSpilled = new AtomicLong();
    public final AtomicLong snapshotSpillFiles = new AtomicLong();
    /** Snapshots delivered by this task; with sync.mode=one_time, 1 once its export is done. */
    public final AtomicLong snapshotsCompleted = new AtomicLong();
    /** With sync.mode=one_time: 1 once every assigned partition's export is delivered (the task is idle), else 0. */
    public final AtomicLong oneTimeExportComplete = new AtomicLong();
    /**
     * Cohorts whose full sync this task sent from only part of their topic's partitions (other tasks send the
     * rest as their own sessions); each cohort is counted once per task.
     */
    public final AtomicLong splitFullSyncCohorts = new AtomicLong();

    /**
     * Counts a delivered page: one request (retries are counted apart), its rejections, and its members by what the
     * page did with them (added, removed, or sent as a full snapshot).
     */
    public void pageDelivered(int added, int removed, int full, int rejected) {
        requests.incrementAndGet();
        rejections.addAndGet(rejected);
        membersAdded.addAndGet(added);
        membersRemoved.addAndGet(removed);
        membersFull.addAndGet(full);
    }

    @Override
    public String toString() {
        return "read=" + recordsRead + " filtered=" + recordsFiltered + " bad=" + badRecords
                + " nettedAway=" + changesNettedAway + " skippedAsDelivered=" + changesSkippedAsDelivered
                + " added=" + membersAdded + " removed=" + membersRemoved
                + " requests=" + requests + " retries=" + retries + " rateLimited=" + rateLimitedAnswers
                + " heldMs=" + rateLimitHeldMs + " inFlightLimit=" + concurrencyLimit + " rejections=" + rejections
                + " failedSyncs=" + failedSyncs + " failures=" + failures + " snapshotMembers=" + membersFull
                + " snapshotsCompleted=" + snapshotsCompleted;
    }
}

package io.github.cohortsync.connect.metrics;

/** A task's counters as JMX attributes, under {@code kafka.connect.cohortsync:type=task-metrics}. */
public interface TaskMetricsMBean {
    long getRecordsRead();

    long getRecordsFiltered();

    long getBadRecords();

    long getChangesNettedAway();

    long getChangesSkippedAsDelivered();

    long getMembersAdded();

    long getMembersRemoved();

    long getRequests();

    long getRetries();

    long getRateLimitedAnswers();

    long getRateLimitHeldMs();

    /** Pages this task may have in flight now: the adaptive limit, or the fixed sync.max.in.flight.requests. */
    long getConcurrencyLimit();

    /** Median round trip of the destination's answered calls over the last minute, in ms; 0 without calls. */
    double getRoundTripP50Ms();

    /** 99th percentile round trip of the destination's answered calls over the last minute, in ms. */
    double getRoundTripP99Ms();

    long getRejections();

    long getFailedSyncs();

    long getFailures();

    long getSyncsCompleted();

    long getLastSyncLatencyMs();

    long getBufferSize();

    long getSnapshotMembersSent();

    long getSnapshotChangesSpilled();

    long getSnapshotSpillFiles();

    long getSnapshotsCompleted();

    long getOneTimeExportComplete();

    long getSplitFullSyncCohorts();
}

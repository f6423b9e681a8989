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

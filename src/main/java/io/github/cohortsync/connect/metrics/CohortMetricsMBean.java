package io.github.cohortsync.connect.metrics;

/** One cohort's sync results in one task, over JMX (docs/monitoring.md). */
public interface CohortMetricsMBean {
    /** Members the destination accepted since the task started. */
    long getMembersDelivered();

    /** Members the destination refused since the task started. */
    long getMembersRejected();

    /** Members accepted in the cohort's last finished sync. */
    long getLastSyncMembersDelivered();

    /** Members refused in the cohort's last finished sync. */
    long getLastSyncMembersRejected();

    /** delivered / (delivered + rejected) over the last finished sync; 1.0 when it sent nobody. */
    double getMatchRate();

    /** When the cohort's last sync finished, epoch milliseconds; 0 before the first. */
    long getLastSyncTime();

    /** The last failure of a sync that carried this cohort (no user data); empty when none. */
    String getLastError();

    /** When that failure happened, epoch milliseconds; 0 when none. */
    long getLastErrorTime();
}

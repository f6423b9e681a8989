package io.github.cohortsync.connect.metrics;

import javax.management.ObjectName;

/** One cohort's counters in one task, published as an MBean by {@link CohortMetricsRegistry}. */
public final class CohortMetrics implements CohortMetricsMBean {
    private final ObjectName name;
    private long membersDelivered;
    private long membersRejected;
    private long lastDelivered;
    private long lastRejected;
    private long lastSyncTime;
    private String lastError = "";
    private long lastErrorTime;

    CohortMetrics(ObjectName name) {
        this.name = name;
    }

    ObjectName name() {
        return name;
    }

    synchronized void synced(long delivered, long rejected, long atMs) {
        membersDelivered += delivered;
        membersRejected += rejected;
        lastDelivered = delivered;
        lastRejected = rejected;
        lastSyncTime = atMs;
    }

    synchronized void failed(String error, long atMs) {
        lastError = error == null ? "" : error;
        lastErrorTime = atMs;
    }

    @Override
    public synchronized long getMembersDelivered() {
        return membersDelivered;
    }

    @Override
    public synchronized long getMembersRejected() {
        return membersRejected;
    }

    @Override
    public synchronized long getLastSyncMembersDelivered() {
        return lastDelivered;
    }

    @Override
    public synchronized long getLastSyncMembersRejected() {
        return lastRejected;
    }

    @Override
    public synchronized double getMatchRate() {
        long total = lastDelivered + lastRejected;
        return total == 0 ? 1.0 : (double) lastDelivered / total;
    }

    @Override
    public synchronized long getLastSyncTime() {
        return lastSyncTime;
    }

    @Override
    public synchronized String getLastError() {
        return lastError;
    }

    @Override
    public synchronized long getLastErrorTime() {
        return lastErrorTime;
    }
}

package io.github.cohortsync.connect.metrics;

import javax.management.JMException;
import javax.management.ObjectName;

import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/** Publishes a task's {@link SyncStats} over JMX for as long as the task runs. */
public final class TaskMetrics implements TaskMetricsMBean, AutoCloseable {
    public static final String DOMAIN = "kafka.connect.cohortsync";
    private static final Logger log = LoggerFactory.getLogger(TaskMetrics.class);

    private final SyncStats stats;
    private final ObjectName name;

    private TaskMetrics(SyncStats stats, ObjectName name) {
        this.stats = stats;
        this.name = name;
    }

    public static ObjectName objectName(String connector, String task) throws JMException {
        return new ObjectName(DOMAIN + ":type=task-metrics,connector=" + ObjectName.quote(connector)
                + ",task=" + ObjectName.quote(task));
    }

    /** Registers the task's metrics, replacing a stale registration of the same task; never fails the task. */
    public static TaskMetrics register(SyncStats stats, String connector, String task) {
        return MBeans.register(() -> objectName(connector, task), name -> new TaskMetrics(stats, name), log,
                "the task's JMX metrics");
    }

    @Override
    public void close() {
        MBeans.unregister(name, log, "the task's JMX metrics");
    }

    @Override
    public long getRecordsRead() {
        return stats.recordsRead.get();
    }

    @Override
    public long getRecordsFiltered() {
        return stats.recordsFiltered.get();
    }

    @Override
    public long getBadRecords() {
        return stats.badRecords.get();
    }

    @Override
    public long getChangesNettedAway() {
        return stats.changesNettedAway.get();
    }

    @Override
    public long getChangesSkippedAsDelivered() {
        return stats.changesSkippedAsDelivered.get();
    }

    @Override
    public long getMembersAdded() {
        return stats.membersAdded.get();
    }

    @Override
    public long getMembersRemoved() {
        return stats.membersRemoved.get();
    }

    @Override
    public long getRequests() {
        return stats.requests.get();
    }

    @Override
    public long getRetries() {
        return stats.retries.get();
    }

    @Override
    public long getRateLimitedAnswers() {
        return stats.rateLimitedAnswers.get();
    }

    @Override
    public long getRateLimitHeldMs() {
        return stats.rateLimitHeldMs.get();
    }

    @Override
    public long getConcurrencyLimit() {
        return stats.concurrencyLimit.get();
    }

    @Override
    public double getRoundTripP50Ms() {
        return stats.roundTrips.percentileMs(50);
    }

    @Override
    public double getRoundTripP99Ms() {
        return stats.roundTrips.percentileMs(99);
    }

    @Override
    public long getRejections() {
        return stats.rejections.get();
    }

    @Override
    public long getFailedSyncs() {
        return stats.failedSyncs.get();
    }

    @Override
    public long getFailures() {
        return stats.failures.get();
    }

    @Override
    public long getSyncsCompleted() {
        return stats.syncsCompleted.get();
    }

    @Override
    public long getLastSyncLatencyMs() {
        return stats.lastSyncLatencyMs.get();
    }

    @Override
    public long getBufferSize() {
        return stats.bufferSize.get();
    }

    @Override
    public long getSnapshotMembersSent() {
        return stats.membersFull.get();
    }

    @Override
    public long getSnapshotChangesSpilled() {
        return stats.snapshotChangesSpilled.get();
    }

    @Override
    public long getSnapshotSpillFiles() {
        return stats.snapshotSpillFiles.get();
    }

    @Override
    public long getSnapshotsCompleted() {
        return stats.snapshotsCompleted.get();
    }

    @Override
    public long getOneTimeExportComplete() {
        return stats.oneTimeExportComplete.get();
    }

    @Override
    public long getSplitFullSyncCohorts() {
        return stats.splitFullSyncCohorts.get();
    }
}

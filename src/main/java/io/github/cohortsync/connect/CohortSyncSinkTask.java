package io.github.cohortsync.connect;

import java.time.Duration;
import java.util.Collection;
import java.util.Map;
import java.util.Set;

import org.apache.kafka.clients.consumer.OffsetAndMetadata;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.record.TimestampType;
import org.apache.kafka.connect.errors.ConnectException;
import org.apache.kafka.connect.sink.ErrantRecordReporter;
import org.apache.kafka.connect.sink.SinkRecord;
import org.apache.kafka.connect.sink.SinkTask;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import io.github.cohortsync.connect.config.CohortSyncConfig;
import io.github.cohortsync.connect.destination.Destination;
import io.github.cohortsync.connect.destination.Destinations;
import io.github.cohortsync.connect.destination.Rejection;
import io.github.cohortsync.connect.http.RetryPolicy;
import io.github.cohortsync.connect.metrics.SyncStats;
import io.github.cohortsync.connect.metrics.TaskMetrics;
import io.github.cohortsync.connect.record.BadRecordException;
import io.github.cohortsync.connect.record.MembershipChange;
import io.github.cohortsync.connect.record.RecordParser;
import io.github.cohortsync.connect.sync.OffsetTracker;
import io.github.cohortsync.connect.sync.SyncBuffer;
import io.github.cohortsync.connect.sync.SyncJob;
import io.github.cohortsync.connect.sync.SyncSender;

/**
 * Reads membership changes, nets them, and hands a sync to the sender when one is due; commits only what was
 * delivered. Never waits on the network in {@code put} or {@code preCommit}.
 */
public class CohortSyncSinkTask extends SinkTask {
    private static final Logger log = LoggerFactory.getLogger(CohortSyncSinkTask.class);
    /** How often the framework is asked to call back while a sync is in flight, to collect its outcome. */
    private static final long IN_FLIGHT_POLL_MS = 200;

    private CohortSyncConfig config;
    private RecordParser parser;
    private Set<String> cohortsInclude;
    private SyncBuffer buffer;
    private OffsetTracker tracker;
    private SyncSender sender;
    private SyncStats stats;
    private TaskMetrics metrics;
    private long jobStartedNanos;
    private ErrantRecordReporter reporter;
    private boolean tolerateErrors;
    /** The sync handed to the sender, or waiting to be handed to it again; null when none. */
    private SyncJob currentJob;
    private boolean paused;
    private ConnectException failure;

    @Override
    public String version() {
        return Version.get();
    }

    @Override
    public void start(Map<String, String> props) {
        config = new CohortSyncConfig(props);
        parser = new RecordParser();
        cohortsInclude = config.cohortsInclude();
        tracker = new OffsetTracker();
        stats = new SyncStats();
        tolerateErrors = "all".equalsIgnoreCase(props.getOrDefault("errors.tolerance", "none").trim());
        reporter = errantRecordReporter();
        String name = props.getOrDefault("name", "cohort-sync");
        metrics = TaskMetrics.register(stats, name, props.getOrDefault(CohortSyncSinkConnector.TASK_ID, "0"));
        Destination destination = Destinations.create(config, name);
        buffer = new SyncBuffer(config.projectId(), destination::readsProperty);
        sender = new SyncSender("cohort-sync-sender-" + name, destination,
                RetryPolicy.fromConfig(name, config), config.syncIntervalMs(), stats);
        log.info("Cohort sync task started: destination={}, sync.interval.ms={}, buffer.max.changes={},"
                        + " batch.max.size={}, cohorts.include={}", config.destination().configValue(),
                config.syncIntervalMs(), config.bufferMaxChanges(), config.batchMaxSize(),
                cohortsInclude.isEmpty() ? "(all)" : cohortsInclude);
    }

    private ErrantRecordReporter errantRecordReporter() {
        try {
            return context.errantRecordReporter();
        } catch (NoSuchMethodError | NoClassDefFoundError e) {
            return null;
        }
    }

    @Override
    public void put(Collection<SinkRecord> records) {
        throwIfFailed();
        long now = System.currentTimeMillis();
        for (SinkRecord record : records) {
            stats.recordsRead.incrementAndGet();
            TopicPartition partition = new TopicPartition(record.topic(), record.kafkaPartition());
            MembershipChange change;
            try {
                change = parser.parse(record);
            } catch (BadRecordException e) {
                handleBadRecord(record, e);
                buffer.absorbOffset(partition, record.kafkaOffset(), now);
                continue;
            }
            if (!cohortsInclude.isEmpty() && !cohortsInclude.contains(change.cohort().id())) {
                stats.recordsFiltered.incrementAndGet();
                buffer.absorbOffset(partition, record.kafkaOffset(), now);
                continue;
            }
            buffer.add(change, now);
            if (buffer.size() >= config.bufferMaxChanges()) {
                advance(now);
            }
        }
        advance(now);
    }

    @Override
    public Map<TopicPartition, OffsetAndMetadata> preCommit(Map<TopicPartition, OffsetAndMetadata> currentOffsets) {
        try {
            if (failure == null) {
                advance(System.currentTimeMillis());
            }
        } catch (ConnectException e) {
            // Kept in failure and thrown by the next put(), which fails the task; commit what is safe.
        }
        return tracker.safeOffsets(currentOffsets.keySet());
    }

    /**
     * Collects a finished sync, starts the next one when due, and pauses or resumes consumption. Never blocks.
     */
    private void advance(long now) {
        sender.takeOutcome().ifPresent(this::onOutcome);
        throwIfFailed();
        boolean full = buffer.size() >= config.bufferMaxChanges();
        if (currentJob == null && !buffer.isEmpty() && (full || buffer.isDue(now, config.syncIntervalMs()))) {
            SyncJob job = buffer.drain(config.batchMaxSize(), now, config.syncIntervalMs());
            stats.changesNettedAway.addAndGet(job.changesRead() - job.changesSent());
            if (job.pages().isEmpty()) {
                tracker.completed(job.offsets());
            } else {
                currentJob = job;
                jobStartedNanos = System.nanoTime();
                sender.submit(job);
            }
        } else if (currentJob != null && !sender.isBusy()) {
            // A sync cancelled by a rebalance that still holds changes of kept partitions.
            sender.submit(currentJob);
        }
        stats.bufferSize.set(buffer.size());
        applyBackpressure();
        if (currentJob != null) {
            context.timeout(IN_FLIGHT_POLL_MS);
        } else if (!buffer.isEmpty()) {
            context.timeout(Math.max(1, config.syncIntervalMs()));
        }
    }

    private void onOutcome(SyncSender.Outcome outcome) {
        SyncJob job = outcome.job();
        if (outcome instanceof SyncSender.Delivered) {
            reportRejections(job);
            tracker.completed(job.offsets());
            stats.syncsCompleted.incrementAndGet();
            stats.lastSyncLatencyMs.set((System.nanoTime() - jobStartedNanos) / 1_000_000);
            currentJob = null;
            // Commit soon: the fewer delivered-but-uncommitted changes, the fewer resends after a crash.
            context.requestCommit();
        } else if (outcome instanceof SyncSender.Failed failed) {
            failure = new ConnectException("Cohort sync failed permanently: " + failed.cause().getMessage()
                    + ". Fix the cause and restart the task; changes not yet delivered were not committed and"
                    + " will be sent again (" + job.deliveredPages() + " of " + job.pages().size()
                    + " pages of this sync were delivered).", failed.cause());
        }
        // Cancelled: the job stays current and is handed to the sender again.
    }

    private void reportRejections(SyncJob job) {
        for (Rejection rejection : job.rejections()) {
            MembershipChange member = rejection.member();
            String message = "Destination rejected the member of cohort " + member.cohort().id() + " read at "
                    + member.coordinates() + ": " + rejection.reason();
            // Rejections never fail the task: with errors.tolerance=none the reporter would, so they are logged only.
            if (reporter != null && tolerateErrors) {
                // With a timestamp: the worker's reporter unboxes it when it writes to the dead letter queue.
                SinkRecord record = new SinkRecord(member.topic(), member.partition(), null, null, null,
                        Map.of("cohort_id", member.cohort().id(), "distinct_id", member.distinctId()),
                        member.offset(), member.timestampMillis(), TimestampType.CREATE_TIME);
                reporter.report(record, new ConnectException(message));
            }
            log.warn(message);
        }
    }

    /** Pauses consumption while the buffer is full and a sync is still in flight; resumes once it is drained. */
    private void applyBackpressure() {
        boolean full = buffer.size() >= config.bufferMaxChanges();
        if (full && !paused) {
            TopicPartition[] assigned = context.assignment().toArray(new TopicPartition[0]);
            context.pause(assigned);
            paused = true;
            log.info("Buffer full ({} changes) while a sync is in flight: pausing consumption of {} partitions",
                    buffer.size(), assigned.length);
        } else if (!full && paused) {
            context.resume(context.assignment().toArray(new TopicPartition[0]));
            paused = false;
            log.info("Sync caught up: resuming consumption");
        }
    }

    private void handleBadRecord(SinkRecord record, BadRecordException e) {
        stats.badRecords.incrementAndGet();
        if (!tolerateErrors) {
            throw new ConnectException(e.getMessage() + ". Fix the producer or map the record with an SMT;"
                    + " to skip bad records instead, set errors.tolerance=all and errors.deadletterqueue.topic.name.",
                    e);
        }
        if (reporter != null) {
            reporter.report(record, e);
            log.warn("{} (sent to the errant record reporter)", e.getMessage());
        } else {
            log.warn("{} (skipped: errors.tolerance=all with neither a dead letter queue nor errors.log.enable)",
                    e.getMessage());
        }
    }

    private void throwIfFailed() {
        if (failure != null) {
            throw failure;
        }
    }

    @Override
    public void open(Collection<TopicPartition> partitions) {
        log.info("Assigned {} partitions", partitions.size());
        if (paused) {
            context.pause(partitions.toArray(new TopicPartition[0]));
        }
    }

    /**
     * Revoked partitions: a sync in flight gets a bounded wait to finish; if it cannot, it is cancelled and loses
     * the revoked partitions' members, which their next owner reads and sends again from the last commit.
     */
    @Override
    public void close(Collection<TopicPartition> partitions) {
        if (sender == null) {
            return;
        }
        if (currentJob != null) {
            Duration wait = Duration.ofMillis(Math.min(30_000, config.httpTimeoutMs()));
            if (!sender.awaitIdle(wait)) {
                log.warn("Sync still in flight after {} ms while partitions are revoked: cancelling it; its"
                        + " undelivered changes are not committed", wait.toMillis());
                sender.cancel(Duration.ofSeconds(5));
            }
            sender.takeOutcome().ifPresent(this::onOutcome);
            if (currentJob != null) {
                currentJob.forget(partitions);
                if (currentJob.isComplete() && !sender.isBusy()) {
                    tracker.completed(currentJob.offsets());
                    currentJob = null;
                }
            }
        }
        buffer.forget(partitions);
        tracker.forget(partitions);
    }

    @Override
    public void stop() {
        if (sender != null) {
            sender.close();
        }
        if (metrics != null) {
            metrics.close();
        }
        log.info("Cohort sync task stopped: {}", stats);
    }

    /** This task's counters, for tests and metrics. */
    SyncStats stats() {
        return stats;
    }
}

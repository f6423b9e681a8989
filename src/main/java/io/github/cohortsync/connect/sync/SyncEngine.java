package io.github.cohortsync.connect.sync;

import java.nio.file.Path;
import java.time.Duration;
import java.util.Collection;
import java.util.HashMap;
import java.util.HashSet;
import java.util.Map;
import java.util.Optional;
import java.util.Set;

import org.apache.kafka.clients.consumer.OffsetAndMetadata;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.connect.errors.ConnectException;
import org.apache.kafka.connect.sink.SinkTaskContext;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import io.github.cohortsync.connect.config.CohortSyncConfig;
import io.github.cohortsync.connect.config.FileNames;
import io.github.cohortsync.connect.destination.Destination;
import io.github.cohortsync.connect.metrics.CohortMetricsRegistry;
import io.github.cohortsync.connect.metrics.SyncStats;
import io.github.cohortsync.connect.record.MembershipChange;
import io.github.cohortsync.connect.report.ReportWriter;
import io.github.cohortsync.connect.sync.SyncBuffer.Drain;
import io.github.cohortsync.connect.sync.journal.DeliveryJournal;
import io.github.cohortsync.connect.sync.journal.TopicIds;
import io.github.cohortsync.connect.sync.send.SyncJob;
import io.github.cohortsync.connect.sync.send.SyncSender;
import io.github.cohortsync.connect.sync.snapshot.OffsetsLookup;
import io.github.cohortsync.connect.sync.snapshot.SnapshotPhase;
import io.github.cohortsync.connect.sync.state.CohortContacts;
import io.github.cohortsync.connect.sync.state.CohortStateStore;

/**
 * The diff cycle of one task: decides when a sync is due, builds it from the buffer (or a snapshot), hands it to the
 * sender, acts on its outcome, and is the one owner of what was delivered versus what was read: {@link #safeOffsets}
 * is the only source of committed offsets. Runs on the task thread and never waits on the network there. The way to
 * the destination, and what a sync leaves behind besides its offsets, are the {@link DeliveryPipeline}'s.
 */
public final class SyncEngine {
    private static final Logger log = LoggerFactory.getLogger(SyncEngine.class);
    /** How often the framework is asked to call back while a sync is in flight, to collect its outcome. */
    private static final long IN_FLIGHT_POLL_MS = 200;

    /**
     * How long a sync in flight may take to end once cancelled because the task stops. The worker gives all its
     * tasks together task.shutdown.graceful.timeout.ms (default 5 s) from the stop request to the end of
     * {@code stop()}, which also holds the final offset commit, the sender's shutdown and the consumer's close; a
     * cancel aborts the calls and the retry waits at once, so it normally ends within milliseconds.
     */
    static final Duration STOP_CANCEL_BOUND = Duration.ofSeconds(2);

    /**
     * Why partitions are closed. Connect calls {@code SinkTask.close} in both cases without saying which (in
     * WorkerSinkTask, a rebalance closes them from the consumer's rebalance listener, a stop from the task thread's
     * final commit before {@code SinkTask.stop}); the task tells them apart by its caller.
     */
    public enum Closing {
        /**
         * Revoked by a rebalance while the task keeps running: a sync in flight starts no new call; its calls on the
         * wire get a bounded wait.
         */
        REVOKED,
        /**
         * Closed for good because the task stops (connector deleted, stopped or restarted, worker shutdown): a sync
         * in flight is cancelled at once, not waited for.
         */
        STOPPING
    }

    /** Where a record read by {@code put} goes. */
    public enum Route {
        /** Into the snapshot being read: sent as part of a full sync. */
        SNAPSHOT,
        /** Into the netting buffer: sent as a diff. */
        DIFF,
        /** Nowhere: a one-time export ignores (and never commits) records past its snapshot. */
        IGNORED
    }

    /**
     * Where each sync's outcomes go besides the offsets: the report topic (null: none) and the per-cohort MBeans
     * (null: none). Both are closed by {@link #stop}.
     */
    public record Reporting(ReportWriter report, CohortMetricsRegistry cohortMetrics) {
        public static final Reporting NONE = new Reporting(null, null);
    }

    private final CohortSyncConfig config;
    private final SinkTaskContext context;
    private final SyncStats stats;
    private final SyncBuffer buffer;
    private final OffsetTracker tracker = new OffsetTracker();
    /** Finished syncs' offsets, held until their report records are acknowledged; the one way into the tracker. */
    private final ReportedOffsets finished;
    /** Builds the sender and what it sends to; journal notes, report, dead letters, metrics and logs of each sync. */
    private final DeliveryPipeline pipeline;
    private final SyncSender sender;
    private final PartitionPauser pauser;
    /** Changes delivered but maybe not committed, so a restart on this host skips them; never null. */
    private final DeliveryJournal journal;
    /** First contacts, refreshes and cohort names, remembered across restarts next to the journal. */
    private final CohortContacts contacts;
    /** Full syncs: first run, first contact, refresh, one-time export. */
    private final SnapshotPhase snapshots;
    /** The sync handed to the sender, or waiting to be handed to it again; null when none. */
    private SyncJob currentJob;
    /** When the current sync, whose retries ran out, is handed to the sender again; 0 when it may go at once. */
    private long retryAtMs;
    private ConnectException failure;

    /**
     * @param offsetsLookup reads offsets to decide and bound snapshots; null when snapshots are off
     * @param spillDir where a snapshot spills what does not fit the heap
     * @param reporting the report topic and per-cohort metrics, or {@link Reporting#NONE}
     */
    public SyncEngine(CohortSyncConfig config, String name, String taskId, Destination destination,
                      OffsetsLookup offsetsLookup, Path spillDir, SinkTaskContext context, SyncStats stats,
                      DeadLetters deadLetters, Reporting reporting) {
        this.config = config;
        this.context = context;
        this.stats = stats;
        this.pauser = new PartitionPauser(context);
        this.contacts = new CohortContacts(CohortStateStore.open(config.deliveryJournalDir(name)
                .resolve("cohorts-task-" + FileNames.safe(taskId) + ".json")), config.snapshotRefreshGeneration(),
                config.snapshotRefreshAfterFailureMs());
        this.buffer = new SyncBuffer(config.projectId(), destination::readsProperty)
                .rememberingNames(contacts::rememberedName);
        this.journal = config.deliveryJournalEnabled() && !config.dryRun()
                ? DeliveryJournal.open(config.deliveryJournalDir(name), config.destinationFingerprint())
                : DeliveryJournal.disabled();
        this.pipeline = new DeliveryPipeline(config, name, destination, stats, deadLetters, reporting.report(),
                reporting.cohortMetrics(), journal, contacts);
        this.sender = pipeline.sender();
        this.finished = pipeline.reportedOffsets(tracker);
        pipeline.reportNettedAway(buffer);
        this.snapshots = new SnapshotPhase(config, context, stats, offsetsLookup, spillDir,
                destination.snapshotIncludesLeavers(), destination::readsProperty, contacts, journal);
        snapshots.runBy(new SnapshotPhase.Engine() {
            @Override
            public void abandonJob() {
                SyncEngine.this.abandonJob();
            }

            @Override
            public void forgetBuffered(Collection<TopicPartition> partitions) {
                buffer.forget(partitions);
            }
        });
    }

    /** Throws the permanent failure of a sync, once there is one: the task then fails with its message. */
    public void throwIfFailed() {
        if (failure == null) {
            failure = pipeline.reportFailure();
        }
        if (failure != null) {
            throw failure;
        }
    }

    /** A record was read at this offset: the tracker notes it, and it says where the record's change goes. */
    public Route read(TopicPartition partition, long offset) {
        if (tracker.read(partition, offset)) {
            // Where consumption of the partition starts: the journal checks nobody else committed since its mark.
            journal.read(partition, offset);
        }
        if (snapshots.read(partition, offset)) {
            return Route.SNAPSHOT;
        }
        return config.oneTime() ? Route.IGNORED : Route.DIFF;
    }

    /** A record with nothing to send: a snapshot's boundary covers it, else the buffer counts it as handled. */
    public void absorb(TopicPartition partition, long offset, Route route, long now) {
        if (route == Route.DIFF) {
            buffer.absorbOffset(partition, offset, now);
        }
    }

    /** Takes a change to send: into the snapshot, or nets it into the buffer (syncing at once when it is full). */
    public void add(MembershipChange change, TopicPartition partition, Route route, long now) {
        if (route == Route.SNAPSHOT) {
            snapshots.add(change, partition);
            return;
        }
        buffer.add(change, now);
        if (buffer.size() >= config.bufferMaxChanges()) {
            advance(now, false);
        }
    }

    /** After a poll: an empty poll of unpaused partitions means this task has read everything there is for now. */
    public void polled(long now, boolean noRecords) {
        if (noRecords && log.isDebugEnabled()) {
            log.debug("put: no records, buffered: {}, sync in flight: {}", buffer.size(), currentJob != null);
        }
        // A paused task's polls are always empty: that is backpressure, not idleness.
        advance(now, noRecords && pauser.isEmpty());
    }

    /** The offsets safe to commit: every change below them was delivered or rejected. Never blocks. */
    public Map<TopicPartition, OffsetAndMetadata> safeOffsets(Map<TopicPartition, OffsetAndMetadata> consumed) {
        try {
            snapshots.observePositions(consumed);
            if (failure == null) {
                advance(System.currentTimeMillis(), false);
            }
        } catch (ConnectException e) {
            // Thrown by the next put(), which fails the task; commit what is safe.
            if (failure == null) {
                failure = e;
            }
        }
        // Only offsets whose report records the broker acknowledged: never a gap in the report below a commit.
        finished.release();
        Map<TopicPartition, OffsetAndMetadata> safe = tracker.safeOffsets(consumed.keySet());
        if (!safe.isEmpty()) {
            Map<TopicPartition, Long> offsets = new HashMap<>();
            safe.forEach((partition, offset) -> offsets.put(partition, offset.offset()));
            journal.committing(offsets);
        }
        if (log.isDebugEnabled()) {
            log.debug("preCommit: safe {} of consumed {}, sync in flight: {}, buffered: {}",
                    safe.values().stream().mapToLong(OffsetAndMetadata::offset).sum(),
                    consumed.values().stream().mapToLong(OffsetAndMetadata::offset).sum(),
                    currentJob != null, buffer.size());
        }
        return safe;
    }

    /**
     * Collects a finished sync, starts the next one when due, and pauses or resumes consumption. Never blocks.
     *
     * @param idle the last poll returned no records (the task has caught up with its partitions)
     */
    private void advance(long now, boolean idle) {
        sender.takeOutcome().ifPresent(this::onOutcome);
        throwIfFailed();
        contacts.observeFailures(now, stats.retries.get() + stats.failedSyncs.get());
        if (snapshots.enabled() && !config.oneTime() && currentJob != null && contacts.failedTooLong(now)
                && !snapshots.fullInProgress()) {
            snapshots.refreshAfterFailure();
        }
        if (snapshots.inProgress()) {
            advanceSnapshot(now);
        } else if (!config.oneTime()) {
            advanceDiffs(now, idle);
        }
        stats.bufferSize.set(buffer.size());
        applyPauses(Set.of());
        if (finished.release()) {
            // A sync's report was acknowledged after the sync itself asked for a commit.
            context.requestCommit();
        }
        if (currentJob != null || snapshots.inProgress() || finished.waiting()) {
            context.timeout(IN_FLIGHT_POLL_MS);
        } else if (!buffer.isEmpty()) {
            // Called back when the buffer is due, not a whole interval from now: no change waits longer than that.
            context.timeout(Math.max(1, buffer.msUntilDue(now, config.syncIntervalMs())));
        }
    }

    private void advanceDiffs(long now, boolean idle) {
        boolean full = buffer.size() >= config.bufferMaxChanges();
        boolean due = buffer.isDue(now, config.syncIntervalMs());
        boolean early = idle && config.syncOnIdle();
        if (currentJob == null && !sender.isBusy() && !buffer.isEmpty() && (full || due || early)) {
            Set<String> firstContacts = snapshots.startFirstContacts(buffer.cohortIds(), tracker::readPositions);
            if (!firstContacts.isEmpty()) {
                buffer.dropCohorts(firstContacts);
                return;
            }
            // An idle sync sends everything, partial pages included: nothing more is coming to fill them now.
            Drain drain = Drain.pagesOf(config.batchMaxSize()).skipping(pipeline::alreadyDelivered);
            SyncJob job = buffer.drain(early && !due ? drain : drain.unlessDue(now, config.syncIntervalMs()));
            pipeline.drained(job, due ? "due" : early ? "idle" : "buffer full");
            if (job.pages().isEmpty()) {
                finished.completed(job.offsets());
                if (job.changesSkipped() > 0) {
                    context.requestCommit();
                }
            } else {
                submit(job);
            }
        } else {
            // A sync whose retries ran out, or cancelled by a rebalance while it holds changes of kept partitions.
            resubmitWhenDue(now);
        }
    }

    private void submit(SyncJob job) {
        pipeline.starting(job);
        currentJob = job;
        retryAtMs = 0;
        sender.submit(job);
    }

    /**
     * Hands the current sync to the sender again, with only its undelivered pages, once its retry is due. Only when
     * the sender is idle, not merely not busy: a try that ended after this cycle's {@code takeOutcome} still has its
     * outcome waiting (a GaveUp sets {@code retryAtMs} only once taken), and submitting over it would lose it.
     */
    private void resubmitWhenDue(long now) {
        if (currentJob != null && sender.isIdle() && now >= retryAtMs) {
            sender.submit(currentJob);
        }
    }

    private void onOutcome(SyncSender.Outcome outcome) {
        SyncJob job = outcome.job();
        if (job != currentJob) {
            // A part of an abandoned snapshot that ended after it was given up: its offsets must not move.
            return;
        }
        if (outcome instanceof SyncSender.Delivered) {
            pipeline.syncDelivered(job);
            finished.completed(job.offsets());
            currentJob = null;
            // Commit soon: the fewer delivered-but-uncommitted changes, the fewer resends after a crash.
            context.requestCommit();
        } else if (outcome instanceof SyncSender.GaveUp gaveUp) {
            // SPEC section 3: the task stays RUNNING, keeps the buffer and tries this sync again a cycle later.
            retryAtMs = System.currentTimeMillis() + config.syncIntervalMs();
            pipeline.syncGaveUp(job, gaveUp.cause(), config.syncIntervalMs());
        } else if (outcome instanceof SyncSender.Failed failed) {
            failure = pipeline.syncFailed(job, failed.cause());
        }
        // Cancelled: the job stays current and is handed to the sender again at once.
    }

    /**
     * Pauses or resumes partitions so that exactly the wanted ones are paused: while a snapshot is read, the
     * partitions not being read (diffs wait until the snapshot is delivered); while it is sent, all; after a
     * one-time export, all; otherwise all while the buffer is full, none when it is not.
     */
    private void applyPauses(Collection<TopicPartition> assignedNow) {
        Set<TopicPartition> wanted = new HashSet<>();
        boolean full = buffer.size() >= config.bufferMaxChanges();
        if (snapshots.inProgress()) {
            wanted.addAll(context.assignment());
            wanted.removeAll(snapshots.stillReading());
        } else if (config.oneTime() || full) {
            wanted.addAll(context.assignment());
        }
        int newlyPaused = pauser.apply(wanted, assignedNow);
        if (newlyPaused > 0 && !snapshots.inProgress() && !config.oneTime()) {
            log.info("Buffer full ({} changes) while a sync is in flight: pausing consumption of {} partitions",
                    buffer.size(), newlyPaused);
        }
    }

    /** Newly assigned partitions, their topics' ids not read: see {@link #open(Collection, TopicIds)}. */
    public void open(Collection<TopicPartition> partitions) {
        open(partitions, TopicIds.none());
    }

    /**
     * Newly assigned partitions: the journal opens them (a journal of an earlier topic of the same name, by the
     * ids read from {@code topicIds}, is started afresh), a snapshot may start, and they are paused or resumed.
     */
    public void open(Collection<TopicPartition> partitions, TopicIds topicIds) {
        tracker.forget(partitions);
        journal.open(partitions, journal.isEnabled() ? topicIds.of(partitions) : Map.of());
        snapshots.open(partitions);
        applyPauses(partitions);
    }

    /** Partitions revoked by a rebalance: see {@link #close(Collection, Closing)}. */
    public void close(Collection<TopicPartition> partitions) {
        close(partitions, Closing.REVOKED);
    }

    /**
     * Closed partitions. Revoked by a rebalance: a sync in flight starts no new call and the calls on the wire get a
     * bounded wait to end (then they are cancelled); the revoked partitions' members not delivered by then are read and
     * sent again by their next owner from the last commit. Closed because the task stops: nothing is waited for, a sync
     * in flight is cancelled at once (only an outcome that is already there, such as a sync delivered since the last
     * poll, still counts). Either way no offset moves past an undelivered change: Connect took this close's offsets
     * from {@link #safeOffsets} just before, so even a sync that ends during the wait is committed only by the
     * partitions' next owner (whose journal skips what was delivered, on this host).
     */
    public void close(Collection<TopicPartition> partitions, Closing closing) {
        boolean stopping = closing == Closing.STOPPING;
        Duration wait = stopping ? Duration.ZERO : Duration.ofMillis(Math.min(30_000, config.httpTimeoutMs()));
        if (snapshots.inProgress()) {
            if (snapshots.coversAny(partitions)) {
                finishLastSnapshotPart(wait);
            }
            if (snapshots.coversAny(partitions)) {
                if (stopping) {
                    // Nothing of the snapshot was committed; stop() closes it and the next run starts it afresh.
                    cancelForStop(partitions);
                    sender.takeOutcome();
                    currentJob = null;
                } else {
                    snapshots.restart(partitions, Map.of());
                }
            }
        } else if (currentJob != null) {
            if (stopping) {
                cancelForStop(partitions);
            } else {
                awaitOrCancel(wait);
            }
            forgetFromCurrentJob(partitions);
        }
        buffer.forget(partitions);
        finished.forget(partitions);
        tracker.forget(partitions);
        journal.close(partitions);
        pauser.forget(partitions);
    }

    /** The task stops with a sync in flight: cancels it, bounded so that the task stops within the worker's bound. */
    private void cancelForStop(Collection<TopicPartition> partitions) {
        if (!sender.isBusy()) {
            return;
        }
        log.info("The task stops while a sync is in flight (partitions closed: {}): cancelling it; its undelivered"
                + " changes are not committed and are read again from the last commit", partitions.size());
        if (!sender.cancel(STOP_CANCEL_BOUND)) {
            log.warn("The sync in flight did not end within {} ms of its cancel while the task stops",
                    STOP_CANCEL_BOUND.toMillis());
        }
    }

    /**
     * Partitions are revoked with a sync in flight: it starts no new call and its calls on the wire get the bounded
     * wait to end (what they deliver is journaled, so a next owner on this host skips it); its other pages are left
     * to the next owner. Waiting for the whole sync would hold up the whole group's rebalance for nothing: Connect
     * took this close's offsets before it, so nothing the wait delivers is committed by this close anyway.
     */
    private void awaitOrCancel(Duration wait) {
        if (!sender.wrapUp(wait)) {
            log.warn("Calls of the sync in flight still unanswered after {} ms while partitions are revoked:"
                    + " cancelling them; their changes are not committed", wait.toMillis());
            sender.cancel(Duration.ofSeconds(5));
        }
    }

    /** Takes the outcome of the sync, if it ended, and drops the closed partitions' changes from it. */
    private void forgetFromCurrentJob(Collection<TopicPartition> partitions) {
        sender.takeOutcome().ifPresent(this::onOutcome);
        if (currentJob != null) {
            currentJob.forget(partitions);
            if (currentJob.isComplete() && !sender.isBusy()) {
                finished.completed(currentJob.offsets());
                currentJob = null;
            }
        }
    }

    /**
     * Before a snapshot is given up for revoked partitions: when its last part is in flight (or was delivered since
     * the last poll), it gets the same bounded wait as a diff, and a snapshot delivered in full is completed rather
     * than started over. Otherwise a full sync the destination already has (a refresh of a new generation, a first
     * contact) would not count, and the partitions' next owner would send it all again.
     */
    private void finishLastSnapshotPart(Duration wait) {
        if (currentJob == null || !snapshots.allPartsHandedOut()) {
            return;
        }
        if (!sender.awaitIdle(wait)) {
            return;
        }
        sender.takeOutcome().ifPresent(this::onOutcome);
        if (currentJob == null && failure == null) {
            log.info("The snapshot's last part was delivered while partitions are revoked: it counts as delivered");
            snapshots.complete();
        }
    }

    /** Once the snapshot is read, hands it to the sender part by part; diffs wait until it is done. */
    private void advanceSnapshot(long now) {
        if (!snapshots.readyToSend()) {
            return;
        }
        if (currentJob != null) {
            // A part whose retries ran out, or cancelled on its own (a rebalance restarts the snapshot instead).
            resubmitWhenDue(now);
            return;
        }
        while (!sender.isBusy()) {
            Optional<SyncJob> next = snapshots.nextJob();
            if (next.isEmpty()) {
                snapshots.complete();
                return;
            }
            SyncJob job = next.get();
            stats.changesNettedAway.addAndGet(job.changesRead() - job.changesSent());
            if (!job.pages().isEmpty()) {
                submit(job);
                return;
            }
            finished.completed(job.offsets());
        }
    }

    /** Cancels the job in flight and forgets it: a snapshot given up or replaced, whose offsets must not move. */
    private void abandonJob() {
        sender.cancel(Duration.ofSeconds(5));
        sender.takeOutcome();
        currentJob = null;
    }

    /** Stops the sender with a bounded wait; what was not delivered is simply not committed. */
    public void stop() {
        sender.close();
        snapshots.close();
        journal.close();
        contacts.save();
        pipeline.close();
    }
}

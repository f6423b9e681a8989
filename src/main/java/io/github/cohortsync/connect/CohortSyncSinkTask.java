package io.github.cohortsync.connect;

import java.nio.file.Path;
import java.time.Duration;
import java.util.Collection;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.function.BiFunction;
import java.util.stream.Collectors;

import org.apache.kafka.clients.consumer.OffsetAndMetadata;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.connect.errors.ConnectException;
import org.apache.kafka.connect.errors.DataException;
import org.apache.kafka.connect.sink.ErrantRecordReporter;
import org.apache.kafka.connect.sink.SinkRecord;
import org.apache.kafka.connect.sink.SinkTask;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import io.github.cohortsync.connect.config.CohortSyncConfig;
import io.github.cohortsync.connect.config.FileNames;
import io.github.cohortsync.connect.destination.Destination;
import io.github.cohortsync.connect.destination.Destinations;
import io.github.cohortsync.connect.destination.Rejection;
import io.github.cohortsync.connect.metrics.SyncStats;
import io.github.cohortsync.connect.metrics.TaskMetrics;
import io.github.cohortsync.connect.record.BadRecordException;
import io.github.cohortsync.connect.record.DeadLetterRecord;
import io.github.cohortsync.connect.record.MembershipChange;
import io.github.cohortsync.connect.record.RecordParser;
import io.github.cohortsync.connect.sync.AdminOffsetsLookup;
import io.github.cohortsync.connect.sync.CohortContacts;
import io.github.cohortsync.connect.sync.CohortStateStore;
import io.github.cohortsync.connect.sync.DeliveryJournal;
import io.github.cohortsync.connect.sync.NettedSnapshot.CohortCount;
import io.github.cohortsync.connect.sync.OffsetTracker;
import io.github.cohortsync.connect.sync.OffsetsLookup;
import io.github.cohortsync.connect.sync.Snapshot;
import io.github.cohortsync.connect.sync.SnapshotPlan;
import io.github.cohortsync.connect.sync.SnapshotPlan.Range;
import io.github.cohortsync.connect.sync.SnapshotStore;
import io.github.cohortsync.connect.sync.SyncBuffer;
import io.github.cohortsync.connect.sync.SyncJob;
import io.github.cohortsync.connect.sync.SyncSender;
import io.github.cohortsync.connect.sync.TopicWarnings;

/**
 * Reads membership changes, nets them, and hands a sync to the sender when one is due; commits only what was
 * delivered. Never waits on the network in {@code put} or {@code preCommit}.
 */
public class CohortSyncSinkTask extends SinkTask {
    private static final Logger log = LoggerFactory.getLogger(CohortSyncSinkTask.class);
    /** How often the framework is asked to call back while a sync is in flight, to collect its outcome. */
    private static final long IN_FLIGHT_POLL_MS = 200;
    /**
     * The bound of each admin call that decides and bounds a snapshot: at start and on assignment, and (rarely) before
     * a first contact or a refresh after a failure.
     */
    private static final Duration SNAPSHOT_LOOKUP_TIMEOUT = Duration.ofSeconds(30);
    /** Cohorts named in the INFO line of a delivered snapshot; the rest are counted. */
    private static final int COHORTS_LOGGED = 20;

    private final BiFunction<CohortSyncConfig, String, OffsetsLookup> offsetsLookups;

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
    /** Partitions this task paused: for backpressure, while a snapshot is read or sent, or once a one-time export is done. */
    private final Set<TopicPartition> paused = new HashSet<>();
    private ConnectException failure;
    /** Reads committed and end offsets to decide and bound snapshots; null when snapshots are disabled. */
    private OffsetsLookup offsetsLookup;
    /** The snapshot being read or sent; while there is one, no diff is sent. */
    private Snapshot snapshot;
    private Path spillDir;
    private boolean snapshotIncludesLeavers;
    /** Tombstone retention and split full sync warnings, from the topics' facts. */
    private TopicWarnings topicWarnings;
    /** Changes delivered but maybe not committed, so a restart on this host skips them; never null. */
    private DeliveryJournal journal = DeliveryJournal.disabled();
    /** First contacts, refreshes and cohort names, remembered across restarts next to the journal. */
    private CohortContacts contacts;

    public CohortSyncSinkTask() {
        this((config, groupId) -> AdminOffsetsLookup.create(config.snapshotAdminConfig(), groupId,
                SNAPSHOT_LOOKUP_TIMEOUT));
    }

    /** With another way to read offsets, for tests. */
    CohortSyncSinkTask(BiFunction<CohortSyncConfig, String, OffsetsLookup> offsetsLookups) {
        this.offsetsLookups = offsetsLookups;
    }

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
        String taskId = props.getOrDefault(CohortSyncSinkConnector.TASK_ID, "0");
        Destination destination = Destinations.create(config, name);
        snapshotIncludesLeavers = destination.snapshotIncludesLeavers();
        contacts = new CohortContacts(CohortStateStore.open(config.deliveryJournalDir(name)
                .resolve("cohorts-task-" + FileNames.safe(taskId) + ".json")), config.snapshotRefreshGeneration(),
                config.snapshotRefreshAfterFailureMs());
        CohortContacts contacted = contacts;
        buffer = new SyncBuffer(config.projectId(), destination::readsProperty)
                .rememberingNames(contacts::rememberedName);
        journal = config.deliveryJournalEnabled()
                ? DeliveryJournal.open(config.deliveryJournalDir(name), config.destinationFingerprint())
                : DeliveryJournal.disabled();
        DeliveryJournal journaled = journal;
        sender = new SyncSender("cohort-sync-sender-" + name, destination,
                config.retryPolicy(name), config.syncIntervalMs(), stats, (job, page, rejections) -> {
                    contacted.delivered(page);
                    if (job.isDiff()) {
                        // Pages of a diff job may be delivered concurrently: the journal takes concurrent calls.
                        journaled.delivered(page, rejections);
                    }
                }, config.syncMaxInFlightRequests());
        if (config.snapshotBootstrapServers() != null) {
            offsetsLookup = offsetsLookups.apply(config, props.getOrDefault("consumer.override.group.id",
                    "connect-" + name));
            spillDir = config.snapshotSpillDir()
                    .resolve("cohort-sync-" + FileNames.safe(name) + "-task-" + taskId);
        } else if (config.snapshotEnabled() && !config.oneTime()) {
            log.warn("snapshot.bootstrap.servers is not set: only add_members / remove_members diffs are sent, and no"
                    + " cohort gets a full first sync ('members'); receivers such as Flagsmith refuse diffs of a cohort"
                    + " they never got as 'members'. Set snapshot.bootstrap.servers, or snapshot.enabled=false to"
                    + " silence this warning.");
        }
        topicWarnings = new TopicWarnings(offsetsLookup, config.tombstoneRetentionWarnMs(), stats);
        log.info("Cohort sync task started: destination={}, sync.mode={}, snapshots={}, sync.interval.ms={},"
                        + " buffer.max.changes={}, batch.max.size={}, sync.max.in.flight.requests={},"
                        + " cohorts.include={}",
                config.destination().configValue(), config.oneTime() ? "one_time" : "dynamic",
                offsetsLookup == null ? "off" : "on first run, first contact and refresh",
                config.syncIntervalMs(), config.bufferMaxChanges(), config.batchMaxSize(),
                config.syncMaxInFlightRequests(),
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
        if (records.isEmpty() && log.isDebugEnabled()) {
            log.debug("put: no records, buffered: {}, sync in flight: {}", buffer.size(), currentJob != null);
        }
        for (SinkRecord record : records) {
            stats.recordsRead.incrementAndGet();
            TopicPartition partition = new TopicPartition(record.topic(), record.kafkaPartition());
            journal.read(partition, record.kafkaOffset());
            contacts.read(partition, record.kafkaOffset());
            boolean inSnapshot = snapshot != null && snapshot.covers(partition)
                    && snapshot.read(partition, record.kafkaOffset());
            if (!inSnapshot && config.oneTime()) {
                // A one-time export sends its snapshot only: later records are neither sent nor committed.
                continue;
            }
            MembershipChange change;
            try {
                change = parser.parse(record);
            } catch (BadRecordException e) {
                handleBadRecord(record, e);
                absorbOffset(partition, record, inSnapshot, now);
                continue;
            }
            if (!cohortsInclude.isEmpty() && !cohortsInclude.contains(change.cohort().id())) {
                stats.recordsFiltered.incrementAndGet();
                absorbOffset(partition, record, inSnapshot, now);
                continue;
            }
            if (inSnapshot) {
                // A snapshot of some cohorts (their first contact) skips the others: their changes were read before.
                if (snapshot.wants(change.cohort().id())) {
                    snapshot.add(change);
                    topicWarnings.snapshotRead(change.cohort().id(), partition);
                }
                continue;
            }
            buffer.add(change, now);
            if (buffer.size() >= config.bufferMaxChanges()) {
                advance(now, false);
            }
        }
        // No records from a poll of unpaused partitions: this task has read everything there is for now. (A paused
        // task's polls are always empty: that is backpressure, not idleness.)
        advance(now, records.isEmpty() && paused.isEmpty());
    }

    /** A record with nothing to send: a snapshot's boundary covers it, else the buffer counts it as handled. */
    private void absorbOffset(TopicPartition partition, SinkRecord record, boolean inSnapshot, long now) {
        if (!inSnapshot) {
            buffer.absorbOffset(partition, record.kafkaOffset(), now);
        }
    }

    @Override
    public Map<TopicPartition, OffsetAndMetadata> preCommit(Map<TopicPartition, OffsetAndMetadata> currentOffsets) {
        try {
            if (snapshot != null) {
                snapshot.observePositions(currentOffsets);
            }
            if (failure == null) {
                advance(System.currentTimeMillis(), false);
            }
        } catch (ConnectException e) {
            // Thrown by the next put(), which fails the task; commit what is safe.
            if (failure == null) {
                failure = e;
            }
        }
        Map<TopicPartition, OffsetAndMetadata> safe = tracker.safeOffsets(currentOffsets.keySet());
        if (!safe.isEmpty()) {
            Map<TopicPartition, Long> offsets = new HashMap<>();
            safe.forEach((partition, offset) -> offsets.put(partition, offset.offset()));
            journal.committing(offsets);
        }
        if (log.isDebugEnabled()) {
            log.debug("preCommit: safe {} of consumed {}, sync in flight: {}, buffered: {}",
                    safe.values().stream().mapToLong(OffsetAndMetadata::offset).sum(),
                    currentOffsets.values().stream().mapToLong(OffsetAndMetadata::offset).sum(),
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
        if (offsetsLookup != null && !config.oneTime() && currentJob != null && contacts.failedTooLong(now)
                && (snapshot == null || snapshot.isPartial())) {
            refreshAfterFailure();
        }
        if (snapshot != null) {
            advanceSnapshot();
        } else if (!config.oneTime()) {
            advanceDiffs(now, idle);
        }
        stats.bufferSize.set(buffer.size());
        applyPauses(Set.of());
        if (currentJob != null || snapshot != null) {
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
            if (startFirstContacts()) {
                return;
            }
            // An idle sync sends everything, partial pages included: nothing more is coming to fill them now.
            SyncJob job = early && !due ? buffer.drainAll(config.batchMaxSize(), journal::isDelivered)
                    : buffer.drain(config.batchMaxSize(), now, config.syncIntervalMs(), journal::isDelivered);
            stats.changesNettedAway.addAndGet(job.changesRead() - job.changesSent() - job.changesSkipped());
            if (log.isDebugEnabled()) {
                log.debug("Sync started ({}): {} changes read, {} members in {} pages",
                        due ? "due" : early ? "idle" : "buffer full", job.changesRead(), job.changesSent(),
                        job.pages().size());
            }
            if (job.changesSkipped() > 0) {
                stats.changesSkippedAsDelivered.addAndGet(job.changesSkipped());
                log.info("Skipped {} changes the delivery journal shows were delivered before a restart or"
                        + " rebalance; sending {}", job.changesSkipped(), job.changesSent());
            }
            if (job.pages().isEmpty()) {
                tracker.completed(job.offsets());
                if (job.changesSkipped() > 0) {
                    context.requestCommit();
                }
            } else {
                // Before any page goes out: a delivery the journal then misses cannot make an older entry look
                // current.
                journal.sending(job.undeliveredMembers());
                submit(job);
            }
        } else if (currentJob != null && !sender.isBusy()) {
            // A sync cancelled by a rebalance that still holds changes of kept partitions.
            sender.submit(currentJob);
        }
    }

    private void submit(SyncJob job) {
        currentJob = job;
        jobStartedNanos = System.nanoTime();
        sender.submit(job);
    }

    private void onOutcome(SyncSender.Outcome outcome) {
        SyncJob job = outcome.job();
        if (job != currentJob) {
            // A part of an abandoned snapshot that ended after it was given up: its offsets must not move.
            return;
        }
        if (outcome instanceof SyncSender.Delivered) {
            contacts.save();
            reportRejections(job);
            tracker.completed(job.offsets());
            stats.syncsCompleted.incrementAndGet();
            stats.lastSyncLatencyMs.set((System.nanoTime() - jobStartedNanos) / 1_000_000);
            log.debug("Sync delivered: {} pages in {} ms", job.pages().size(), stats.lastSyncLatencyMs.get());
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
                reportReplayable(member, new ConnectException(message));
            }
            log.warn(message);
        }
    }

    /** Reports the rejected change as a record that re-applies it when produced into the source topic. */
    private void reportReplayable(MembershipChange member, ConnectException error) {
        try {
            DeadLetterRecord.report(reporter, member, error);
        } catch (DataException e) {
            log.warn("The rejection of the member read at {} could not be written to the dead letter queue by the"
                    + " connector's converters: {}", member.coordinates(), e.getMessage());
        }
    }

    /**
     * Pauses or resumes partitions so that exactly the wanted ones are paused: while a snapshot is read, the
     * partitions not being read (diffs wait until the snapshot is delivered); while it is sent, all; after a
     * one-time export, all; otherwise all while the buffer is full, none when it is not. Newly assigned
     * partitions are paused or resumed whatever this task last asked.
     */
    private void applyPauses(Collection<TopicPartition> assignedNow) {
        Set<TopicPartition> assigned = context.assignment();
        Set<TopicPartition> wanted = new HashSet<>();
        boolean full = buffer.size() >= config.bufferMaxChanges();
        if (snapshot != null) {
            wanted.addAll(assigned);
            wanted.removeAll(snapshot.stillReading());
        } else if (config.oneTime() || full) {
            wanted.addAll(assigned);
        }
        Set<TopicPartition> toPause = new HashSet<>(wanted);
        toPause.removeAll(paused);
        toPause.addAll(assignedNow.stream().filter(wanted::contains).toList());
        Set<TopicPartition> toResume = new HashSet<>(paused);
        toResume.retainAll(assigned);
        toResume.addAll(assignedNow);
        toResume.removeAll(wanted);
        if (!toPause.isEmpty()) {
            context.pause(toPause.toArray(new TopicPartition[0]));
            if (snapshot == null && !config.oneTime()) {
                log.info("Buffer full ({} changes) while a sync is in flight: pausing consumption of {} partitions",
                        buffer.size(), toPause.size());
            }
        }
        if (!toResume.isEmpty()) {
            context.resume(toResume.toArray(new TopicPartition[0]));
            long wasPaused = toResume.stream().filter(paused::contains).count();
            if (wasPaused > 0) {
                log.info("Resuming consumption of {} partitions", wasPaused);
            }
        }
        paused.clear();
        paused.addAll(wanted);
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

    /**
     * Newly assigned partitions are paused or resumed explicitly, never left to the worker: it re-pauses a partition
     * the task paused before a rebalance, even when the task resumed while it owned nothing (between revocation and
     * assignment), which would otherwise leave that partition paused for good.
     */
    @Override
    public void open(Collection<TopicPartition> partitions) {
        log.info("Assigned {} partitions", partitions.size());
        topicWarnings.assigned(partitions);
        journal.open(partitions);
        planSnapshot(partitions);
        applyPauses(partitions);
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
        Duration wait = Duration.ofMillis(Math.min(30_000, config.httpTimeoutMs()));
        if (snapshot != null) {
            if (snapshot.coversAny(partitions)) {
                finishLastSnapshotPart(wait);
            }
            if (snapshot != null && snapshot.coversAny(partitions)) {
                restartSnapshot(partitions, Map.of());
            }
        } else if (currentJob != null) {
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
        contacts.forget(partitions);
        journal.close(partitions);
        paused.removeAll(partitions);
    }

    /**
     * Before a snapshot is given up for revoked partitions: when its last part is in flight (or was delivered since
     * the last poll), it gets the same bounded wait as a diff, and a snapshot delivered in full is completed rather
     * than started over. Otherwise a full sync the destination already has (a refresh of a new generation, a first
     * contact) would not count, and the partitions' next owner would send it all again.
     */
    private void finishLastSnapshotPart(Duration wait) {
        if (currentJob == null || !snapshot.allPartsHandedOut()) {
            return;
        }
        if (!sender.awaitIdle(wait)) {
            return;
        }
        sender.takeOutcome().ifPresent(this::onOutcome);
        if (currentJob == null && failure == null) {
            log.info("The snapshot's last part was delivered while partitions are revoked: it counts as delivered");
            completeSnapshot();
        }
    }

    // ---- Snapshots (full sync on a first run, and sync.mode=one_time) ----

    /** Decides which newly assigned partitions start with a snapshot, and adds them to it. */
    private void planSnapshot(Collection<TopicPartition> partitions) {
        if (offsetsLookup == null || partitions.isEmpty()) {
            return;
        }
        // A first contact in progress is started over as a full snapshot that includes the new partitions: their
        // part of those cohorts was never read by this task.
        boolean refresh = !config.oneTime() && (contacts.refreshRequested()
                || contacts.failedTooLong(System.currentTimeMillis()) || (snapshot != null && snapshot.isPartial()));
        SnapshotPlan plan = refresh ? SnapshotPlan.refresh(offsetsLookup.offsets(partitions))
                : SnapshotPlan.decide(config.oneTime(), offsetsLookup.offsets(partitions));
        if (refresh) {
            log.info("Full refresh of {} newly assigned partitions: {}", partitions.size(),
                    contacts.refreshRequested()
                            ? "snapshot.refresh.generation differs from the one of the last delivered full sync"
                            : contacts.failedTooLong(System.currentTimeMillis())
                            ? "the destination has failed since " + java.time.Instant.ofEpochMilli(
                                    contacts.failingSinceMs()) + ", longer than snapshot.refresh.after.failure.ms"
                            : "a first contact was in progress");
            rewind(plan.rewind());
        }
        if (!plan.alreadyExported().isEmpty()) {
            log.info("The one-time export of {} of the assigned partitions was already delivered (their offsets are"
                    + " committed): they stay paused. To export again, stop the connector, reset its offsets and"
                    + " resume it.", plan.alreadyExported().size());
        }
        if (plan.snapshot().isEmpty()) {
            if (config.oneTime() && snapshot == null) {
                stats.oneTimeExportComplete.set(1);
            }
            return;
        }
        stats.oneTimeExportComplete.set(0);
        // A snapshot sets the destination's state of members the journal may hold as delivered.
        journal.reset();
        if (snapshot == null) {
            snapshot = newSnapshot(plan.snapshot());
        } else if (snapshot.isReading() && !snapshot.isPartial()) {
            snapshot.extend(plan.snapshot());
        } else {
            restartSnapshot(Set.of(), plan.snapshot());
        }
        if (snapshot != null) {
            snapshot.awaitRewind(plan.rewind().keySet());
        }
        log.info("Snapshot of {} partitions ({}): the records below offsets {} are netted and sent as one full sync"
                + " before any diff", plan.snapshot().size(), refresh ? "a full refresh" : "their first run",
                boundaries(plan.snapshot()));
    }

    private Snapshot newSnapshot(Map<TopicPartition, Range> ranges) {
        return newSnapshot(ranges, null);
    }

    /** @param cohorts the cohorts of a first-contact snapshot, null for a full one */
    private Snapshot newSnapshot(Map<TopicPartition, Range> ranges, Set<String> cohorts) {
        topicWarnings.snapshotStarted();
        return new Snapshot(ranges, new SnapshotStore(config.bufferMaxChanges(), spillDir, stats),
                config.projectId(), snapshotIncludesLeavers, config.batchMaxSize(), cohorts,
                contacts::rememberedName);
    }

    /** Asks the framework to read these partitions again from these offsets. */
    private void rewind(Map<TopicPartition, Long> offsets) {
        if (!offsets.isEmpty()) {
            context.offset(offsets);
        }
    }

    /**
     * Before a diff sync: cohorts the destination never had a page of start with a snapshot of their complete
     * membership (read again from the log start up to where this task has read), sent as 'members' pages before
     * the diffs of the other cohorts, which stay buffered. True when such a snapshot was started.
     */
    private boolean startFirstContacts() {
        if (offsetsLookup == null) {
            // Full syncs are off (snapshot.enabled=false or no servers): the diff is the first contact, and the
            // cohort counts as contacted once the destination accepts one of its pages.
            return false;
        }
        Set<String> fresh = contacts.withoutFirstContact(buffer.cohortIds());
        if (fresh.isEmpty()) {
            return false;
        }
        Set<TopicPartition> assigned = context.assignment();
        SnapshotPlan plan = SnapshotPlan.firstContact(offsetsLookup.offsets(assigned),
                contacts.readPositions(assigned));
        if (plan.snapshot().isEmpty()) {
            return false;
        }
        buffer.dropCohorts(fresh);
        rewind(plan.rewind());
        snapshot = newSnapshot(plan.snapshot(), fresh);
        snapshot.awaitRewind(plan.rewind().keySet());
        log.info("First contact of {} cohorts ({}): their complete membership is read again from {} partitions and"
                + " sent as 'members' pages before the next diff", fresh.size(),
                fresh.stream().limit(COHORTS_LOGGED).collect(Collectors.joining(", "))
                        + (fresh.size() > COHORTS_LOGGED ? ", ..." : ""), plan.snapshot().size());
        return true;
    }

    /**
     * The destination has failed for longer than snapshot.refresh.after.failure.ms: the pending sync is given up
     * and replaced by a full refresh of every assigned partition, read again from its log start.
     */
    private void refreshAfterFailure() {
        log.warn("The destination has failed since {}, longer than snapshot.refresh.after.failure.ms={}: the pending"
                        + " sync is replaced by a full refresh of every cohort ('members' pages)",
                java.time.Instant.ofEpochMilli(contacts.failingSinceMs()), config.snapshotRefreshAfterFailureMs());
        sender.cancel(Duration.ofSeconds(5));
        sender.takeOutcome();
        currentJob = null;
        if (snapshot != null) {
            snapshot.close();
            snapshot = null;
        }
        Set<TopicPartition> assigned = context.assignment();
        buffer.forget(assigned);
        SnapshotPlan plan = SnapshotPlan.refresh(offsetsLookup.offsets(assigned));
        journal.reset();
        rewind(plan.rewind());
        snapshot = newSnapshot(plan.snapshot());
        snapshot.awaitRewind(plan.rewind().keySet());
    }

    /**
     * Gives up the snapshot in progress (revoked partitions, or new first-run partitions once it is being sent)
     * and starts one over the partitions it still owns plus {@code added}: what it sent is superseded by the new
     * full sync, and nothing of it was committed.
     */
    private void restartSnapshot(Collection<TopicPartition> revoked, Map<TopicPartition, Range> added) {
        Map<TopicPartition, Range> kept = new HashMap<>(snapshot.ranges());
        kept.keySet().removeAll(revoked);
        kept.keySet().retainAll(context.assignment());
        if (currentJob != null) {
            sender.cancel(Duration.ofSeconds(5));
            sender.takeOutcome();
            currentJob = null;
        }
        snapshot.close();
        snapshot = null;
        Map<TopicPartition, Long> rewind = new HashMap<>();
        kept.forEach((partition, range) -> rewind.put(partition, range.start()));
        if (!rewind.isEmpty()) {
            context.offset(rewind);
            buffer.forget(rewind.keySet());
        }
        kept.putAll(added);
        log.info("The snapshot in progress is started over for {} partitions after a rebalance; nothing of it was"
                + " committed", kept.size());
        if (!kept.isEmpty()) {
            // A full one even when the given-up one was of some cohorts: the buffered diffs of the others were
            // forgotten with the rewind, so the new snapshot must carry every cohort.
            snapshot = newSnapshot(kept);
            snapshot.awaitRewind(rewind.keySet());
        }
    }

    /** Once the snapshot is read, nets it and hands it to the sender part by part; diffs wait until it is done. */
    private void advanceSnapshot() {
        if (snapshot.isReading()) {
            if (!snapshot.tryFinishReading()) {
                return;
            }
            log.info("Snapshot read up to its boundaries and netted ({} changes spilled to {} files): sending it",
                    stats.snapshotChangesSpilled.get(), stats.snapshotSpillFiles.get());
        }
        if (currentJob != null) {
            if (!sender.isBusy()) {
                // A part cancelled on its own (a rebalance restarts the snapshot instead): send it again.
                sender.submit(currentJob);
            }
            return;
        }
        while (!sender.isBusy()) {
            Optional<SyncJob> next = snapshot.nextJob(Math.max(config.bufferMaxChanges(), config.batchMaxSize()));
            if (next.isEmpty()) {
                completeSnapshot();
                return;
            }
            SyncJob job = next.get();
            stats.changesNettedAway.addAndGet(job.changesRead() - job.changesSent());
            if (!job.pages().isEmpty()) {
                submit(job);
                return;
            }
            tracker.completed(job.offsets());
        }
    }

    private void completeSnapshot() {
        if (snapshot.isPartial()) {
            contacts.save();
        } else if (!config.oneTime()) {
            contacts.fullSyncDelivered();
        }
        List<CohortCount> counts = snapshot.counts();
        int partitions = snapshot.ranges().size();
        topicWarnings.snapshotDelivered(snapshot.ranges().keySet());
        snapshot.close();
        snapshot = null;
        stats.snapshotsCompleted.incrementAndGet();
        String perCohort = counts.stream().limit(COHORTS_LOGGED)
                .map(c -> "cohort " + c.cohortId() + ": " + c.members() + " members, " + c.leavers() + " left")
                .collect(Collectors.joining("; "))
                + (counts.size() > COHORTS_LOGGED ? "; and " + (counts.size() - COHORTS_LOGGED) + " more cohorts" : "");
        if (config.oneTime()) {
            stats.oneTimeExportComplete.set(1);
            log.info("One-time export delivered from {} partitions ({}); the task stays idle with its partitions"
                    + " paused until it is restarted or deleted", partitions, counts.isEmpty() ? "no cohorts" : perCohort);
        } else {
            log.info("Snapshot delivered from {} partitions ({}); continuing with diffs", partitions,
                    counts.isEmpty() ? "no cohorts" : perCohort);
        }
        context.requestCommit();
    }

    private static String boundaries(Map<TopicPartition, Range> ranges) {
        return ranges.entrySet().stream().map(e -> e.getKey() + "@" + e.getValue().end())
                .sorted().collect(Collectors.joining(", "));
    }

    @Override
    public void stop() {
        if (sender != null) {
            sender.close();
        }
        if (snapshot != null) {
            snapshot.close();
            snapshot = null;
        }
        if (offsetsLookup != null) {
            offsetsLookup.close();
        }
        if (metrics != null) {
            metrics.close();
        }
        journal.close();
        if (contacts != null) {
            contacts.save();
        }
        log.info("Cohort sync task stopped: {}", stats);
    }

    /** This task's counters, for tests and metrics. */
    SyncStats stats() {
        return stats;
    }
}

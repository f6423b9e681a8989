package io.github.cohortsync.connect.sync;

import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.Collection;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.stream.Collectors;

import org.apache.kafka.clients.consumer.OffsetAndMetadata;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.connect.errors.ConnectException;
import org.apache.kafka.connect.sink.SinkTaskContext;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import io.github.cohortsync.connect.config.CohortSyncConfig;
import io.github.cohortsync.connect.destination.Destination;
import io.github.cohortsync.connect.http.RetryPolicy;
import io.github.cohortsync.connect.metrics.SyncStats;
import io.github.cohortsync.connect.record.DeadLetters;
import io.github.cohortsync.connect.record.MembershipChange;
import io.github.cohortsync.connect.sync.SyncBuffer.Drain;
import io.github.cohortsync.connect.sync.journal.DeliveryJournal;
import io.github.cohortsync.connect.sync.send.SyncJob;
import io.github.cohortsync.connect.sync.send.SyncSender;
import io.github.cohortsync.connect.sync.snapshot.NettedSnapshot.CohortCount;
import io.github.cohortsync.connect.sync.snapshot.OffsetsLookup;
import io.github.cohortsync.connect.sync.snapshot.Snapshot;
import io.github.cohortsync.connect.sync.snapshot.SnapshotPlan;
import io.github.cohortsync.connect.sync.snapshot.SnapshotPlan.Range;
import io.github.cohortsync.connect.sync.snapshot.SnapshotStore;
import io.github.cohortsync.connect.sync.snapshot.TopicWarnings;
import io.github.cohortsync.connect.sync.state.CohortContacts;
import io.github.cohortsync.connect.sync.state.CohortStateStore;

/**
 * The diff cycle of one task: decides when a sync is due, builds it from the buffer (or a snapshot), hands it to the
 * sender, acts on its outcome, and is the one owner of what was delivered versus what was read: {@link #safeOffsets}
 * is the only source of committed offsets. Runs on the task thread and never waits on the network there.
 */
public final class SyncEngine {
    private static final Logger log = LoggerFactory.getLogger(SyncEngine.class);
    /** How often the framework is asked to call back while a sync is in flight, to collect its outcome. */
    private static final long IN_FLIGHT_POLL_MS = 200;
    /** Cohorts named in the INFO line of a delivered snapshot; the rest are counted. */
    private static final int COHORTS_LOGGED = 20;

    /** Where a record read by {@code put} goes. */
    public enum Route {
        /** Into the snapshot being read: sent as part of a full sync. */
        SNAPSHOT,
        /** Into the netting buffer: sent as a diff. */
        DIFF,
        /** Nowhere: a one-time export ignores (and never commits) records past its snapshot. */
        IGNORED
    }

    private final CohortSyncConfig config;
    private final SinkTaskContext context;
    private final SyncStats stats;
    private final DeadLetters deadLetters;
    private final SyncBuffer buffer;
    private final OffsetTracker tracker = new OffsetTracker();
    private final SyncSender sender;
    /** The one retry layer: each page's bounded retries; a sync that runs out of them is tried again by a cycle. */
    private final RetryPolicy retryPolicy;
    private final PartitionPauser pauser;
    /** Changes delivered but maybe not committed, so a restart on this host skips them; never null. */
    private final DeliveryJournal journal;
    /** First contacts, refreshes and cohort names, remembered across restarts next to the journal. */
    private final CohortContacts contacts;
    /** Reads committed and end offsets to decide and bound snapshots; null when snapshots are disabled. */
    private final OffsetsLookup offsetsLookup;
    /** Tombstone retention and split full sync warnings, from the topics' facts. */
    private final TopicWarnings topicWarnings;
    private final Path spillDir;
    private final boolean snapshotIncludesLeavers;
    /** The sync handed to the sender, or waiting to be handed to it again; null when none. */
    private SyncJob currentJob;
    private long jobStartedNanos;
    /** When the current sync, whose retries ran out, is handed to the sender again; 0 when it may go at once. */
    private long retryAtMs;
    private ConnectException failure;
    /** The snapshot being read or sent; while there is one, no diff is sent. */
    private Snapshot snapshot;

    /**
     * @param offsetsLookup reads offsets to decide and bound snapshots; null when snapshots are off
     * @param spillDir where a snapshot spills what does not fit the heap
     */
    public SyncEngine(CohortSyncConfig config, String name, String taskId, Destination destination,
                      OffsetsLookup offsetsLookup, Path spillDir, SinkTaskContext context, SyncStats stats,
                      DeadLetters deadLetters) {
        this.config = config;
        this.context = context;
        this.stats = stats;
        this.deadLetters = deadLetters;
        this.offsetsLookup = offsetsLookup;
        this.spillDir = spillDir;
        this.pauser = new PartitionPauser(context);
        this.snapshotIncludesLeavers = destination.snapshotIncludesLeavers();
        this.contacts = new CohortContacts(CohortStateStore.open(config.deliveryJournalDir(name)
                .resolve("cohorts-task-" + FileNames.safe(taskId) + ".json")), config.snapshotRefreshGeneration(),
                config.snapshotRefreshAfterFailureMs());
        this.buffer = new SyncBuffer(config.projectId(), destination::readsProperty)
                .rememberingNames(contacts::rememberedName);
        this.journal = config.deliveryJournalEnabled()
                ? DeliveryJournal.open(config.deliveryJournalDir(name), config.destinationFingerprint())
                : DeliveryJournal.disabled();
        this.retryPolicy = RetryPolicy.fromConfig(name, config);
        this.sender = SyncSender.builder("cohort-sync-sender-" + name, destination, retryPolicy, stats)
                .listener(this::pageDelivered).maxInFlight(config.syncMaxInFlightRequests()).build();
        this.topicWarnings = new TopicWarnings(offsetsLookup, config.tombstoneRetentionWarnMs(), stats);
    }

    /** On the sender thread: pages of a diff job may be delivered concurrently, and the journal takes that. */
    private void pageDelivered(SyncJob job, io.github.cohortsync.connect.destination.Page page,
                               List<io.github.cohortsync.connect.destination.Rejection> rejections) {
        contacts.delivered(page);
        if (job.isDiff()) {
            journal.delivered(page, rejections);
        }
    }

    /** Throws the permanent failure of a sync, once there is one: the task then fails with its message. */
    public void throwIfFailed() {
        if (failure != null) {
            throw failure;
        }
    }

    /** A record was read at this offset: tells the journal and the contacts, and says where its change goes. */
    public Route read(TopicPartition partition, long offset) {
        journal.read(partition, offset);
        contacts.read(partition, offset);
        if (snapshot != null && snapshot.covers(partition) && snapshot.read(partition, offset)) {
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
            // A snapshot of some cohorts (their first contact) skips the others: their changes were read before.
            if (snapshot.wants(change.cohort().id())) {
                snapshot.add(change);
                topicWarnings.snapshotRead(change.cohort().id(), partition);
            }
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
            if (snapshot != null) {
                snapshot.observePositions(consumed);
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
            Drain drain = Drain.pagesOf(config.batchMaxSize()).skipping(journal::isDelivered);
            SyncJob job = buffer.drain(early && !due ? drain : drain.unlessDue(now, config.syncIntervalMs()));
            logStarted(job, due ? "due" : early ? "idle" : "buffer full");
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
        } else {
            // A sync whose retries ran out, or cancelled by a rebalance while it holds changes of kept partitions.
            resubmitWhenDue(now);
        }
    }

    private void logStarted(SyncJob job, String why) {
        stats.changesNettedAway.addAndGet(job.changesRead() - job.changesSent() - job.changesSkipped());
        if (log.isDebugEnabled()) {
            log.debug("Sync started ({}): {} changes read, {} members in {} pages", why, job.changesRead(),
                    job.changesSent(), job.pages().size());
        }
        if (job.changesSkipped() > 0) {
            stats.changesSkippedAsDelivered.addAndGet(job.changesSkipped());
            log.info("Skipped {} changes the delivery journal shows were delivered before a restart or"
                    + " rebalance; sending {}", job.changesSkipped(), job.changesSent());
        }
    }

    private void submit(SyncJob job) {
        currentJob = job;
        retryAtMs = 0;
        jobStartedNanos = System.nanoTime();
        sender.submit(job);
    }

    /** Hands the current sync to the sender again, with only its undelivered pages, once its retry is due. */
    private void resubmitWhenDue(long now) {
        if (currentJob != null && !sender.isBusy() && now >= retryAtMs) {
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
            contacts.save();
            deadLetters.rejected(job.rejections());
            tracker.completed(job.offsets());
            stats.syncsCompleted.incrementAndGet();
            stats.lastSyncLatencyMs.set((System.nanoTime() - jobStartedNanos) / 1_000_000);
            log.debug("Sync delivered: {} pages in {} ms", job.pages().size(), stats.lastSyncLatencyMs.get());
            currentJob = null;
            // Commit soon: the fewer delivered-but-uncommitted changes, the fewer resends after a crash.
            context.requestCommit();
        } else if (outcome instanceof SyncSender.GaveUp gaveUp) {
            // SPEC section 3: the task stays RUNNING, keeps the buffer and tries this sync again a cycle later.
            retryAtMs = System.currentTimeMillis() + config.syncIntervalMs();
            log.warn("Sync gave up after {} retries with {} of {} pages delivered: {}. Nothing past these changes is"
                            + " committed; the sync is tried again in {} ms.", retryPolicy.maxRetries(),
                    job.deliveredPages(), job.pages().size(), gaveUp.cause().getMessage(), config.syncIntervalMs());
        } else if (outcome instanceof SyncSender.Failed failed) {
            failure = new ConnectException("Cohort sync failed permanently: " + failed.cause().getMessage()
                    + ". Fix the cause and restart the task; changes not yet delivered were not committed and"
                    + " will be sent again (" + job.deliveredPages() + " of " + job.pages().size()
                    + " pages of this sync were delivered).", failed.cause());
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
        if (snapshot != null) {
            wanted.addAll(context.assignment());
            wanted.removeAll(snapshot.stillReading());
        } else if (config.oneTime() || full) {
            wanted.addAll(context.assignment());
        }
        int newlyPaused = pauser.apply(wanted, assignedNow);
        if (newlyPaused > 0 && snapshot == null && !config.oneTime()) {
            log.info("Buffer full ({} changes) while a sync is in flight: pausing consumption of {} partitions",
                    buffer.size(), newlyPaused);
        }
    }

    /** Newly assigned partitions: the journal opens them, a snapshot may start, and they are paused or resumed. */
    public void open(Collection<TopicPartition> partitions) {
        topicWarnings.assigned(partitions);
        journal.open(partitions);
        planSnapshot(partitions);
        applyPauses(partitions);
    }

    /**
     * Revoked partitions: a sync in flight gets a bounded wait to finish; if it cannot, it is cancelled and loses
     * the revoked partitions' members, which their next owner reads and sends again from the last commit.
     */
    public void close(Collection<TopicPartition> partitions) {
        Duration wait = Duration.ofMillis(Math.min(30_000, config.httpTimeoutMs()));
        if (snapshot != null) {
            if (snapshot.coversAny(partitions)) {
                finishLastSnapshotPart(wait);
            }
            if (snapshot != null && snapshot.coversAny(partitions)) {
                restartSnapshot(partitions, Map.of());
            }
        } else if (currentJob != null) {
            finishOrCancel(wait, partitions);
        }
        buffer.forget(partitions);
        tracker.forget(partitions);
        contacts.forget(partitions);
        journal.close(partitions);
        pauser.forget(partitions);
    }

    private void finishOrCancel(Duration wait, Collection<TopicPartition> partitions) {
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
            log.info("Full refresh of {} newly assigned partitions: {}", partitions.size(), refreshReason());
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
        startPlanned(plan);
        log.info("Snapshot of {} partitions ({}): the records below offsets {} are netted and sent as one full sync"
                + " before any diff", plan.snapshot().size(), refresh ? "a full refresh" : "their first run",
                boundaries(plan.snapshot()));
    }

    private String refreshReason() {
        if (contacts.refreshRequested()) {
            return "snapshot.refresh.generation differs from the one of the last delivered full sync";
        }
        if (contacts.failedTooLong(System.currentTimeMillis())) {
            return "the destination has failed since " + Instant.ofEpochMilli(contacts.failingSinceMs())
                    + ", longer than snapshot.refresh.after.failure.ms";
        }
        return "a first contact was in progress";
    }

    /** Starts, extends or restarts the snapshot with the plan's partitions. */
    private void startPlanned(SnapshotPlan plan) {
        stats.oneTimeExportComplete.set(0);
        // A snapshot sets the destination's state of members the journal may hold as delivered.
        journal.reset();
        if (snapshot == null) {
            snapshot = newSnapshot(plan.snapshot(), null);
        } else if (snapshot.isReading() && !snapshot.isPartial()) {
            snapshot.extend(plan.snapshot());
        } else {
            restartSnapshot(Set.of(), plan.snapshot());
        }
        if (snapshot != null) {
            snapshot.awaitRewind(plan.rewind().keySet());
        }
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
                Instant.ofEpochMilli(contacts.failingSinceMs()), config.snapshotRefreshAfterFailureMs());
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
        snapshot = newSnapshot(plan.snapshot(), null);
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
            snapshot = newSnapshot(kept, null);
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
            // A part whose retries ran out, or cancelled on its own (a rebalance restarts the snapshot instead).
            resubmitWhenDue(System.currentTimeMillis());
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
        String perCohort = counts.isEmpty() ? "no cohorts" : counts.stream().limit(COHORTS_LOGGED)
                .map(c -> "cohort " + c.cohortId() + ": " + c.members() + " members, " + c.leavers() + " left")
                .collect(Collectors.joining("; "))
                + (counts.size() > COHORTS_LOGGED ? "; and " + (counts.size() - COHORTS_LOGGED) + " more cohorts" : "");
        if (config.oneTime()) {
            stats.oneTimeExportComplete.set(1);
            log.info("One-time export delivered from {} partitions ({}); the task stays idle with its partitions"
                    + " paused until it is restarted or deleted", partitions, perCohort);
        } else {
            log.info("Snapshot delivered from {} partitions ({}); continuing with diffs", partitions, perCohort);
        }
        context.requestCommit();
    }

    private static String boundaries(Map<TopicPartition, Range> ranges) {
        return ranges.entrySet().stream().map(e -> e.getKey() + "@" + e.getValue().end())
                .sorted().collect(Collectors.joining(", "));
    }

    /** Stops the sender with a bounded wait; what was not delivered is simply not committed. */
    public void stop() {
        sender.close();
        if (snapshot != null) {
            snapshot.close();
            snapshot = null;
        }
        if (offsetsLookup != null) {
            offsetsLookup.close();
        }
        journal.close();
        contacts.save();
    }
}

package io.github.cohortsync.connect.sync.snapshot;

import java.nio.file.Path;
import java.time.Instant;
import java.util.Collection;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.function.Function;
import java.util.function.Predicate;
import java.util.stream.Collectors;

import org.apache.kafka.clients.consumer.OffsetAndMetadata;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.connect.sink.SinkTaskContext;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import io.github.cohortsync.connect.config.CohortSyncConfig;
import io.github.cohortsync.connect.metrics.SyncStats;
import io.github.cohortsync.connect.record.MembershipChange;
import io.github.cohortsync.connect.sync.journal.DeliveryJournal;
import io.github.cohortsync.connect.sync.send.SyncJob;
import io.github.cohortsync.connect.sync.snapshot.NettedSnapshot.CohortCount;
import io.github.cohortsync.connect.sync.snapshot.SnapshotPlan.Range;
import io.github.cohortsync.connect.sync.state.CohortContacts;

/**
 * The snapshot phase of a task (a full sync on a first run, a first contact, a refresh, or {@code sync.mode=one_time}):
 * decides when one starts, which partitions it reads again and up to where, and hands its netted parts out as jobs.
 * While a snapshot is in progress no diff is sent. The engine that runs it sends its parts and owns their offsets.
 */
public final class SnapshotPhase implements AutoCloseable {
    private static final Logger log = LoggerFactory.getLogger(SnapshotPhase.class);
    /** Cohorts named in the INFO lines of a first contact and of a delivered snapshot; the rest are counted. */
    private static final int COHORTS_LOGGED = 20;

    /** What the phase asks of the engine when it gives a snapshot up or starts one over. */
    public interface Engine {
        /** Cancels the job in flight (a part of the given-up snapshot, or a pending diff) and forgets it. */
        void abandonJob();

        /** Forgets the buffered diffs of partitions that are read again from earlier offsets. */
        void forgetBuffered(Collection<TopicPartition> partitions);
    }

    private final CohortSyncConfig config;
    private final SinkTaskContext context;
    private final SyncStats stats;
    /** Reads committed and end offsets to decide and bound snapshots; null when snapshots are disabled. */
    private final OffsetsLookup offsetsLookup;
    private final Path spillDir;
    private final boolean includesLeavers;
    /** The properties the destination reads: the only ones a snapshot keeps (in memory and in its spill files). */
    private final Predicate<String> keptProperty;
    private final CohortContacts contacts;
    private final DeliveryJournal journal;
    /** Tombstone retention and split full sync warnings, from the topics' facts. */
    private final TopicWarnings topicWarnings;
    private Engine engine;
    /** The snapshot being read or sent; null when none. */
    private Snapshot snapshot;

    /**
     * @param offsetsLookup null when snapshots are off
     * @param includesLeavers the destination's full sync carries the members who left
     * @param keptProperty    which keys of a change's properties the destination reads
     */
    public SnapshotPhase(CohortSyncConfig config, SinkTaskContext context, SyncStats stats, OffsetsLookup offsetsLookup,
                         Path spillDir, boolean includesLeavers, Predicate<String> keptProperty,
                         CohortContacts contacts, DeliveryJournal journal) {
        this.config = config;
        this.context = context;
        this.stats = stats;
        this.offsetsLookup = offsetsLookup;
        this.spillDir = spillDir;
        this.includesLeavers = includesLeavers;
        this.keptProperty = keptProperty;
        this.contacts = contacts;
        this.journal = journal;
        this.topicWarnings = new TopicWarnings(offsetsLookup, config.tombstoneRetentionWarnMs(), stats);
    }

    /** Set once by the engine that runs this phase. */
    public void runBy(Engine engine) {
        this.engine = engine;
    }

    /** True when snapshots are on (the offsets they need can be read). */
    public boolean enabled() {
        return offsetsLookup != null;
    }

    /** True while a snapshot is read or sent. */
    public boolean inProgress() {
        return snapshot != null;
    }

    /** True while a full snapshot (not a first contact of some cohorts) is read or sent. */
    public boolean fullInProgress() {
        return snapshot != null && !snapshot.isPartial();
    }

    /** True when the record at this offset belongs to the snapshot being read. */
    public boolean read(TopicPartition partition, long offset) {
        return snapshot != null && snapshot.covers(partition) && snapshot.read(partition, offset);
    }

    /** A change read into the snapshot; a snapshot of some cohorts (their first contact) skips the others. */
    public void add(MembershipChange change, TopicPartition partition) {
        if (snapshot.wants(change.cohort().id())) {
            snapshot.add(change);
            topicWarnings.snapshotRead(change.cohort().id(), partition);
        }
    }

    /** The consumer's positions, which show when a rewound partition is read up to its boundary. */
    public void observePositions(Map<TopicPartition, OffsetAndMetadata> consumed) {
        if (snapshot != null) {
            snapshot.observePositions(consumed);
        }
    }

    /** Partitions the snapshot still reads; every other assigned partition stays paused while it is in progress. */
    public Set<TopicPartition> stillReading() {
        return snapshot.stillReading();
    }

    public boolean coversAny(Collection<TopicPartition> partitions) {
        return snapshot != null && snapshot.coversAny(partitions);
    }

    /** True when every part was handed out: the one in flight, if any, is the last. */
    public boolean allPartsHandedOut() {
        return snapshot.allPartsHandedOut();
    }

    /** True once the snapshot is read up to its boundaries and netted (logged once). */
    public boolean readyToSend() {
        if (!snapshot.isReading()) {
            return true;
        }
        if (!snapshot.tryFinishReading()) {
            return false;
        }
        log.info("Snapshot read up to its boundaries and netted ({} changes spilled to {} files): sending it",
                stats.snapshotChangesSpilled.get(), stats.snapshotSpillFiles.get());
        return true;
    }

    /** The next part to send, empty once every part was handed out. */
    public Optional<SyncJob> nextJob() {
        return snapshot.nextJob(Math.max(config.bufferMaxChanges(), config.batchMaxSize()));
    }

    /** Newly assigned partitions: warns about their topics, and decides which start with a snapshot. */
    public void open(Collection<TopicPartition> partitions) {
        topicWarnings.assigned(partitions);
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
            restart(Set.of(), plan.snapshot());
        }
        if (snapshot != null) {
            snapshot.awaitRewind(plan.rewind().keySet());
        }
    }

    /** @param cohorts the cohorts of a first-contact snapshot, null for a full one */
    private Snapshot newSnapshot(Map<TopicPartition, Range> ranges, Set<String> cohorts) {
        topicWarnings.snapshotStarted();
        return new Snapshot(ranges, new SnapshotStore(config.bufferMaxChanges(), spillDir, stats),
                config.projectId(), includesLeavers, config.batchMaxSize(), cohorts, contacts::rememberedName)
                .keeping(keptProperty);
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
     * the diffs of the other cohorts, which stay buffered.
     *
     * @param buffered the cohorts of the buffered diffs
     * @param readPositions per partition, one past the last offset this task read (the engine's tracker)
     * @return the cohorts whose first contact started (their buffered diffs are superseded), empty when none
     */
    public Set<String> startFirstContacts(Set<String> buffered,
                                          Function<Collection<TopicPartition>, Map<TopicPartition, Long>> readPositions) {
        if (offsetsLookup == null) {
            // Full syncs are off (snapshot.enabled=false or no servers): the diff is the first contact, and the
            // cohort counts as contacted once the destination accepts one of its pages.
            return Set.of();
        }
        Set<String> fresh = contacts.withoutFirstContact(buffered);
        if (fresh.isEmpty()) {
            return Set.of();
        }
        Set<TopicPartition> assigned = context.assignment();
        SnapshotPlan plan = SnapshotPlan.firstContact(offsetsLookup.offsets(assigned),
                readPositions.apply(assigned));
        if (plan.snapshot().isEmpty()) {
            return Set.of();
        }
        rewind(plan.rewind());
        snapshot = newSnapshot(plan.snapshot(), fresh);
        snapshot.awaitRewind(plan.rewind().keySet());
        log.info("First contact of {} cohorts ({}): their complete membership is read again from {} partitions and"
                + " sent as 'members' pages before the next diff", fresh.size(),
                fresh.stream().limit(COHORTS_LOGGED).collect(Collectors.joining(", "))
                        + (fresh.size() > COHORTS_LOGGED ? ", ..." : ""), plan.snapshot().size());
        return fresh;
    }

    /**
     * The destination has failed for longer than snapshot.refresh.after.failure.ms: the pending sync is given up
     * and replaced by a full refresh of every assigned partition, read again from its log start.
     */
    public void refreshAfterFailure() {
        log.warn("The destination has failed since {}, longer than snapshot.refresh.after.failure.ms={}: the pending"
                        + " sync is replaced by a full refresh of every cohort ('members' pages)",
                Instant.ofEpochMilli(contacts.failingSinceMs()), config.snapshotRefreshAfterFailureMs());
        engine.abandonJob();
        if (snapshot != null) {
            snapshot.close();
            snapshot = null;
        }
        Set<TopicPartition> assigned = context.assignment();
        engine.forgetBuffered(assigned);
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
    public void restart(Collection<TopicPartition> revoked, Map<TopicPartition, Range> added) {
        Map<TopicPartition, Range> kept = new HashMap<>(snapshot.ranges());
        kept.keySet().removeAll(revoked);
        kept.keySet().retainAll(context.assignment());
        engine.abandonJob();
        snapshot.close();
        snapshot = null;
        Map<TopicPartition, Long> rewind = new HashMap<>();
        kept.forEach((partition, range) -> rewind.put(partition, range.start()));
        if (!rewind.isEmpty()) {
            context.offset(rewind);
            engine.forgetBuffered(rewind.keySet());
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

    /** Every part was delivered: remembers the full sync or the first contacts, and asks for a commit. */
    public void complete() {
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

    @Override
    public void close() {
        if (snapshot != null) {
            snapshot.close();
            snapshot = null;
        }
        if (offsetsLookup != null) {
            offsetsLookup.close();
        }
    }
}

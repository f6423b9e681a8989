package io.github.cohortsync.connect.sync.snapshot;

import java.util.Collection;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.UUID;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.Executor;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.function.Function;
import java.util.function.Predicate;
import java.util.function.Supplier;

import org.apache.kafka.clients.consumer.OffsetAndMetadata;
import org.apache.kafka.common.TopicPartition;

import io.github.cohortsync.connect.destination.Page;
import io.github.cohortsync.connect.record.CohortRef;
import io.github.cohortsync.connect.record.MembershipChange;
import io.github.cohortsync.connect.sync.send.SyncJob;
import io.github.cohortsync.connect.sync.snapshot.NettedSnapshot.CohortCount;
import io.github.cohortsync.connect.sync.snapshot.SnapshotPlan.Range;

/**
 * One snapshot of a task's first-run partitions: records below each partition's boundary are netted completely
 * (in a {@link SnapshotStore}) before anything is sent; then the snapshot is handed out as jobs of a bounded number
 * of pages. Only the last job carries offsets, so nothing of a snapshot is committed before all of it is delivered.
 */
public final class Snapshot implements AutoCloseable {
    private final Map<TopicPartition, Range> ranges = new HashMap<>();
    private final Map<TopicPartition, Long> positions = new HashMap<>();
    /** Partitions rewound for this snapshot whose rewind the consumer has not shown yet. */
    private final Set<TopicPartition> awaitingRewind = new HashSet<>();
    private final SnapshotStore store;
    private final Map<String, CohortRef> knownCohorts = new HashMap<>();
    private final String defaultProjectId;
    private final boolean withLeavers;
    private final int batchSize;
    /** The cohorts this snapshot is a full sync of; null for every cohort. */
    private final Set<String> cohorts;
    private final Function<String, String> rememberedNames;
    /** The properties kept of each change: the ones the destination reads (all by default). */
    private Predicate<String> keptProperty = key -> true;
    private long changesRead;
    private long membersSent;
    private NettedSnapshot netted;
    /** The merge of spill files, run off the task thread so that a large snapshot never stalls the consumer. */
    private CompletableFuture<NettedSnapshot> merging;
    private SnapshotPages pages;
    /**
     * The next part's pages, built on another thread while the part before is sent (reading and decoding them from
     * the spill files took the task thread tens of milliseconds per part, while the sender waited); null when none.
     */
    private CompletableFuture<Part> prefetched;
    private boolean lastJobHandedOut;

    /** A part's pages, and whether they are the snapshot's last. */
    private record Part(List<Page> pages, boolean last) {
    }

    private static final Executor DAEMON = runnable -> {
        Thread thread = new Thread(runnable, "cohort-sync-snapshot-pages");
        thread.setDaemon(true);
        thread.start();
    };

    /**
     * @param withLeavers whether users who left are sent as removals (for destinations that must be told)
     */
    public Snapshot(Map<TopicPartition, Range> ranges, SnapshotStore store, String defaultProjectId,
                    boolean withLeavers, int batchSize) {
        this(ranges, store, defaultProjectId, withLeavers, batchSize, null, id -> null);
    }

    /**
     * @param cohorts         the cohorts to sync in full (their first contact), null for all; a snapshot of some
     *                        cohorts commits no offsets: its records were read before, and the diffs of the other
     *                        cohorts read with them commit them once this snapshot is delivered
     * @param rememberedNames the last name seen of a cohort across restarts, for cohorts no record here names
     */
    public Snapshot(Map<TopicPartition, Range> ranges, SnapshotStore store, String defaultProjectId,
                    boolean withLeavers, int batchSize, Set<String> cohorts,
                    Function<String, String> rememberedNames) {
        this.cohorts = cohorts == null ? null : Set.copyOf(cohorts);
        this.rememberedNames = rememberedNames;
        this.store = store;
        this.defaultProjectId = defaultProjectId;
        this.withLeavers = withLeavers;
        this.batchSize = batchSize;
        extend(ranges);
    }

    /** Keeps only the properties the destination reads, in memory and in the spill files. */
    public Snapshot keeping(Predicate<String> keptProperty) {
        this.keptProperty = keptProperty;
        return this;
    }

    /** True when a change of this cohort belongs to the snapshot (read below its partition's boundary). */
    public boolean wants(String cohortId) {
        return cohorts == null || cohorts.contains(cohortId);
    }

    /** True for a snapshot of some cohorts only (first contacts), which commits no offsets. */
    public boolean isPartial() {
        return cohorts != null;
    }

    /** Adds partitions to a snapshot that is still being read. */
    public void extend(Map<TopicPartition, Range> more) {
        if (!isReading()) {
            throw new IllegalStateException("The snapshot is already being sent");
        }
        ranges.putAll(more);
    }

    public Map<TopicPartition, Range> ranges() {
        return Map.copyOf(ranges);
    }

    public boolean covers(TopicPartition partition) {
        return ranges.containsKey(partition);
    }

    /** True until every partition was read up to its boundary and the snapshot was netted. */
    public boolean isReading() {
        return pages == null;
    }

    /**
     * These partitions are read again from their range's start (the task asked the framework to rewind them): until
     * the consumer shows the rewind (a record below the boundary, or a position at the start), what it reports is
     * where it was before and does not count as read.
     */
    public void awaitRewind(Collection<TopicPartition> partitions) {
        partitions.stream().filter(ranges::containsKey).forEach(awaitingRewind::add);
    }

    /** Notes that a record of a covered partition was read; true when it belongs to the snapshot. */
    public boolean read(TopicPartition partition, long offset) {
        long end = ranges.get(partition).end();
        if (awaitingRewind.contains(partition)) {
            if (offset >= end) {
                // Fetched before the rewind: it is read again after the snapshot's records.
                return false;
            }
            awaitingRewind.remove(partition);
        }
        positions.merge(partition, offset + 1, Math::max);
        return offset < end;
    }

    /** Adds a change read below its partition's boundary. */
    public void add(MembershipChange change) {
        CohortRef known = knownCohorts.get(change.cohort().id());
        CohortRef ref = change.cohort().orElse(known);
        if (!ref.equals(known)) {
            knownCohorts.put(ref.id(), ref);
            known = ref;
        }
        // Lean, as the diff buffer keeps changes: one shared cohort instance, only the properties that are sent.
        store.add(change.retaining(known, keptProperty));
        changesRead++;
    }

    /** Notes how far the framework has read each partition (records dropped by transforms included). */
    public void observePositions(Map<TopicPartition, OffsetAndMetadata> current) {
        current.forEach((partition, offset) -> {
            if (offset != null && ranges.containsKey(partition)) {
                if (awaitingRewind.contains(partition)) {
                    if (offset.offset() > ranges.get(partition).start()) {
                        return;
                    }
                    awaitingRewind.remove(partition);
                }
                positions.merge(partition, offset.offset(), Math::max);
            }
        });
    }

    /** Covered partitions not yet read up to their boundary. */
    public Set<TopicPartition> stillReading() {
        Set<TopicPartition> reading = new HashSet<>();
        ranges.forEach((partition, range) -> {
            if (positions.getOrDefault(partition, range.start()) < range.end()) {
                reading.add(partition);
            }
        });
        return reading;
    }

    /** Once every partition was read up to its boundary, nets the snapshot; true when it is ready to send. */
    public boolean tryFinishReading() {
        return tryFinishReading(() -> UUID.randomUUID().toString());
    }

    boolean tryFinishReading(Supplier<String> sessionIds) {
        if (pages != null) {
            return true;
        }
        if (merging == null) {
            if (!stillReading().isEmpty()) {
                return false;
            }
            if (!store.needsMerge()) {
                return startPages(store.finish(), sessionIds);
            }
            merging = CompletableFuture.supplyAsync(store::finish, runnable -> {
                Thread thread = new Thread(runnable, "cohort-sync-snapshot-merge");
                thread.setDaemon(true);
                thread.start();
            });
        }
        if (!merging.isDone()) {
            return false;
        }
        try {
            return startPages(merging.join(), sessionIds);
        } catch (CompletionException e) {
            throw e.getCause() instanceof RuntimeException cause ? cause : e;
        }
    }

    private boolean startPages(NettedSnapshot nettedSnapshot, Supplier<String> sessionIds) {
        netted = nettedSnapshot;
        pages = new SnapshotPages(netted, knownCohorts, defaultProjectId, withLeavers, batchSize, sessionIds,
                rememberedNames);
        return true;
    }

    /**
     * The next part of the snapshot to deliver, of at most {@code maxMembers} members in whole pages; the last part
     * (possibly without pages) carries the boundaries as the offsets to commit. Empty once the last part was handed
     * out.
     */
    public Optional<SyncJob> nextJob(int maxMembers) {
        if (pages == null) {
            throw new IllegalStateException("The snapshot is still being read");
        }
        if (lastJobHandedOut) {
            return Optional.empty();
        }
        Part part;
        if (prefetched != null) {
            try {
                part = prefetched.join();
            } catch (CompletionException e) {
                throw e.getCause() instanceof RuntimeException cause ? cause : e;
            } finally {
                prefetched = null;
            }
        } else {
            part = part(maxMembers);
        }
        long members = part.pages().stream().mapToLong(page -> page.members().size()).sum();
        membersSent += members;
        lastJobHandedOut = part.last();
        if (!part.last()) {
            // At most two parts' pages are held: the one handed out and the next one.
            prefetched = CompletableFuture.supplyAsync(() -> part(maxMembers), DAEMON);
        }
        return Optional.of(new SyncJob(part.pages(), part.last() && !isPartial() ? boundaries() : new HashMap<>(),
                part.last() ? changesRead : 0,
                part.last() ? membersSent : 0));
    }

    /** Reads the next part's pages; on the task thread or, for the parts after the first, on their own thread. */
    private Part part(int maxMembers) {
        List<Page> chunk = pages.hasNext() ? pages.next(maxMembers) : List.of();
        return new Part(chunk, !pages.hasNext());
    }

    /** True once the last part was handed out (it may still be in flight). */
    public boolean allPartsHandedOut() {
        return lastJobHandedOut;
    }

    /** Per partition, the offset committed once the snapshot is delivered: its boundary. */
    public Map<TopicPartition, Long> boundaries() {
        Map<TopicPartition, Long> offsets = new HashMap<>();
        ranges.forEach((partition, range) -> offsets.put(partition, range.end()));
        return offsets;
    }

    /** Per cohort, how many members and leavers the snapshot held; known once it was netted. */
    public List<CohortCount> counts() {
        return netted == null ? List.of() : netted.cohorts();
    }

    /** True when one of these partitions is covered. */
    public boolean coversAny(Collection<TopicPartition> partitions) {
        return partitions.stream().anyMatch(ranges::containsKey);
    }

    /** Drops what was read and deletes the spill files. */
    @Override
    public void close() {
        if (prefetched != null) {
            // Let the part being read end before its files are closed and deleted (tens of milliseconds).
            try {
                prefetched.get(10, TimeUnit.SECONDS);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            } catch (ExecutionException | TimeoutException | java.util.concurrent.CancellationException e) {
                // given up with the snapshot
            }
            prefetched = null;
        }
        if (netted != null) {
            netted.close();
        }
        store.close();
    }
}

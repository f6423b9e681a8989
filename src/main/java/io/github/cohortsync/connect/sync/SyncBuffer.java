package io.github.cohortsync.connect.sync;

import java.util.ArrayList;
import java.util.Collection;
import java.util.HashMap;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.UUID;
import java.util.function.Consumer;
import java.util.function.Function;
import java.util.function.Predicate;
import java.util.function.Supplier;

import org.apache.kafka.common.TopicPartition;

import io.github.cohortsync.connect.destination.Page;
import io.github.cohortsync.connect.destination.PageAction;
import io.github.cohortsync.connect.record.Action;
import io.github.cohortsync.connect.record.CohortRef;
import io.github.cohortsync.connect.record.MembershipChange;
import io.github.cohortsync.connect.sync.send.SyncJob;

/**
 * The changes read since the last sync, netted per (cohort, user), and the offsets they cover.
 *
 * <p>Only the latest change per (cohort, user) is sent: it is the user's current state, as in a compacted topic.
 * A user who enters and leaves within one buffer is therefore sent once, as removed, rather than not at all: after
 * a crash or rebalance the changes since the last commit are read again, and the first of them may already have
 * reached the destination, so cancelling an add against a later remove could leave a stale member there.
 *
 * <p>A sync forced by a full buffer before the interval is up sends only whole pages: the partial last page of a
 * cohort's adds or removes stays for the next sync, where it fills a page with newer changes of that cohort. It
 * never waits longer than it would have anyway: once the oldest buffered change has waited an interval, the sync
 * is due and sends everything. Offsets are committed only up to the oldest change kept back.
 */
public final class SyncBuffer {

    private record MemberKey(String cohortId, String distinctId) {
    }

    /**
     * A netted change and when its (cohort, user) was first read into this buffer; {@code replacedEarlier} when it
     * replaced an earlier change of its (cohort, user) in this buffer.
     */
    private record Buffered(MembershipChange change, long readAtMs, boolean replacedEarlier) {
    }

    /** In the order (cohort, user)s were first read: oldest first. */
    private final Map<MemberKey, Buffered> entries = new LinkedHashMap<>();
    private final Map<TopicPartition, Long> nextOffsets = new HashMap<>();
    /** The latest descriptive fields per cohort, kept across syncs so tombstones can be named. */
    private final Map<String, CohortRef> knownCohorts = new HashMap<>();
    private final String defaultProjectId;
    private final Predicate<String> keptProperty;
    private long changesAbsorbed;
    private long startedAtMs = -1;
    /** The last name seen of a cohort across restarts, for cohorts no buffered record named. */
    private Function<String, String> rememberedNames = id -> null;
    /** Told of each change a later change of its member replaced. */
    private Consumer<MembershipChange> nettedAway = change -> { };

    /** @param defaultProjectId the project of cohorts whose records never named one; may be null */
    public SyncBuffer(String defaultProjectId) {
        this(defaultProjectId, key -> true);
    }

    /**
     * @param defaultProjectId the project of cohorts whose records never named one; may be null
     * @param keptProperty     which keys of a change's properties to keep: the ones the destination reads
     */
    public SyncBuffer(String defaultProjectId, Predicate<String> keptProperty) {
        this.defaultProjectId = defaultProjectId;
        this.keptProperty = keptProperty;
    }

    /** Tells {@code listener} of each change a later change of the same member in the same cohort replaces. */
    public SyncBuffer reportingNettedAway(Consumer<MembershipChange> listener) {
        this.nettedAway = listener;
        return this;
    }

    /** Names the pages of cohorts no record named (a cohort met only through tombstones) with their last name. */
    public SyncBuffer rememberingNames(Function<String, String> names) {
        this.rememberedNames = names;
        return this;
    }

    /** The cohorts of the buffered changes. */
    public Set<String> cohortIds() {
        Set<String> ids = new HashSet<>();
        entries.keySet().forEach(key -> ids.add(key.cohortId()));
        return ids;
    }

    /**
     * Drops the buffered changes of these cohorts, whose full sync reads them again; their offsets stay, to be
     * committed with the next sync.
     */
    public void dropCohorts(Set<String> cohortIds) {
        int before = entries.size();
        entries.keySet().removeIf(key -> cohortIds.contains(key.cohortId()));
        changesAbsorbed = Math.max(entries.size(), changesAbsorbed - (before - entries.size()));
    }

    /**
     * Adds a change; a later change of the same user in the same cohort replaces an earlier one. The change is kept
     * lean: its cohort's fields are shared with the other changes of that cohort, and only kept properties stay. A
     * removal that carries no user data (a tombstone) keeps the email, names, phone and properties of the change it
     * replaces, so destinations that match users by those can still remove the user.
     */
    public void add(MembershipChange change, long nowMs) {
        CohortRef known = knownCohorts.get(change.cohort().id());
        CohortRef ref = change.cohort().orElse(known);
        if (!ref.equals(known)) {
            knownCohorts.put(ref.id(), ref);
            known = ref;
        }
        // A replaced change keeps its place and read time: its user has been waiting since then.
        entries.merge(new MemberKey(known.id(), change.distinctId()),
                new Buffered(change.retaining(known, keptProperty), nowMs, false),
                (older, newer) -> {
                    nettedAway.accept(older.change());
                    return new Buffered(withIdentityOf(older.change(), newer.change()), older.readAtMs(), true);
                });
        changesAbsorbed++;
        absorbOffset(new TopicPartition(change.topic(), change.partition()), change.offset(), nowMs);
    }

    private static MembershipChange withIdentityOf(MembershipChange earlier, MembershipChange change) {
        boolean anonymousRemoval = change.action() == Action.REMOVE && change.email() == null
                && change.phoneNumber() == null && change.properties().isEmpty();
        if (earlier == null || !anonymousRemoval) {
            return change;
        }
        return new MembershipChange(change.cohort(), change.distinctId(), change.action(), earlier.email(),
                earlier.firstName(), earlier.lastName(), earlier.phoneNumber(), earlier.properties(),
                change.timestampMillis(), change.topic(), change.partition(), change.offset());
    }

    /** Counts a record that carries no change to send (filtered out or reported as bad) as handled. */
    public void absorbOffset(TopicPartition partition, long offset, long nowMs) {
        nextOffsets.merge(partition, offset + 1, Math::max);
        if (startedAtMs < 0) {
            startedAtMs = nowMs;
        }
    }

    /** Netted changes held (one per user and cohort). */
    public int size() {
        return entries.size();
    }

    public boolean isEmpty() {
        return entries.isEmpty() && nextOffsets.isEmpty();
    }

    /** True once the oldest buffered record has waited a whole interval. */
    public boolean isDue(long nowMs, long intervalMs) {
        return startedAtMs >= 0 && nowMs - startedAtMs >= intervalMs;
    }

    /** Milliseconds until {@link #isDue} turns true (0 when it is); a whole interval when nothing is buffered. */
    public long msUntilDue(long nowMs, long intervalMs) {
        return startedAtMs < 0 ? intervalMs : Math.max(0, startedAtMs + intervalMs - nowMs);
    }

    /** Forgets everything read from these partitions: it is uncommitted and their next owner reads it again. */
    public void forget(Collection<TopicPartition> partitions) {
        entries.values().removeIf(entry -> partitions.contains(
                new TopicPartition(entry.change().topic(), entry.change().partition())));
        nextOffsets.keySet().removeAll(partitions);
        if (isEmpty()) {
            startedAtMs = -1;
        } else if (!entries.isEmpty()) {
            startedAtMs = entries.values().iterator().next().readAtMs();
        }
    }

    /** How to drain the buffer: the page size, and optionally partial pages kept back, skipped changes, ids. */
    public static final class Drain {
        private final int batchSize;
        private long nowMs;
        private long intervalMs = -1;
        private boolean keepPartialPages;
        private Predicate<MembershipChange> alreadyDelivered = change -> false;
        private Supplier<String> sessionIds = () -> UUID.randomUUID().toString();

        private Drain(int batchSize) {
            this.batchSize = batchSize;
        }

        /** Everything, as pages of at most {@code batchSize} members. */
        public static Drain pagesOf(int batchSize) {
            return new Drain(batchSize);
        }

        /**
         * When the sync is not yet due at {@code nowMs} (the buffer filled up first), partial last pages stay in the
         * buffer, unless that would keep back more than half of it or leave nothing to send.
         */
        public Drain unlessDue(long nowMs, long intervalMs) {
            this.nowMs = nowMs;
            this.intervalMs = intervalMs;
            return this;
        }

        /**
         * Leaves out the changes {@code alreadyDelivered} names (the delivery journal's): they count as settled, so
         * their offsets are committed with the job's.
         */
        public Drain skipping(Predicate<MembershipChange> alreadyDelivered) {
            this.alreadyDelivered = alreadyDelivered;
            return this;
        }

        /** Keeps partial last pages back (as a sync that is not due does), for tests. */
        Drain keepPartialPages(boolean keep) {
            this.keepPartialPages = keep;
            return this;
        }

        /** Session ids of the pages, for tests; random by default. */
        Drain sessionIds(Supplier<String> ids) {
            this.sessionIds = ids;
            return this;
        }
    }

    /** Hands a sync over as a job of pages, and starts empty but for partial pages the options keep back. */
    public SyncJob drain(Drain options) {
        boolean keep = options.keepPartialPages
                || (options.intervalMs >= 0 && !isDue(options.nowMs, options.intervalMs));
        return drain(options.batchSize, keep, options.sessionIds, options.alreadyDelivered);
    }

    private SyncJob drain(int batchSize, boolean keepPartialPages, Supplier<String> sessionIds,
                          Predicate<MembershipChange> alreadyDelivered) {
        Map<String, List<MembershipChange>> adds = new LinkedHashMap<>();
        Map<String, List<MembershipChange>> removes = new LinkedHashMap<>();
        long skipped = 0;
        for (Buffered entry : entries.values()) {
            MembershipChange change = entry.change();
            // A change that replaced an earlier one of its user is always sent: another owner of the partition may
            // have delivered that earlier change after this change's journaled delivery, which no local journal
            // can know of, so the destination may hold the earlier state.
            if (!entry.replacedEarlier() && alreadyDelivered.test(change)) {
                skipped++;
                continue;
            }
            (change.action() == Action.ADD ? adds : removes)
                    .computeIfAbsent(change.cohort().id(), id -> new ArrayList<>()).add(change);
        }
        List<MembershipChange> keptBack = keepPartialPages ? partialPages(adds, removes, batchSize) : List.of();
        List<Page> pages = new ArrayList<>();
        long changesSent = paginate(adds, removes, batchSize, sessionIds, pages);
        return handOver(pages, changesSent, skipped, keptBack);
    }

    /** Adds the pages of each cohort's adds, then removes, to {@code pages}; returns how many changes they hold. */
    private long paginate(Map<String, List<MembershipChange>> adds, Map<String, List<MembershipChange>> removes,
                          int batchSize, Supplier<String> sessionIds, List<Page> pages) {
        List<String> cohortIds = new ArrayList<>(adds.keySet());
        removes.keySet().stream().filter(id -> !adds.containsKey(id)).forEach(cohortIds::add);
        long changesSent = 0;
        for (String cohortId : cohortIds) {
            CohortRef cohort = knownCohorts.get(cohortId)
                    .orElse(new CohortRef(cohortId, rememberedNames.apply(cohortId), null, defaultProjectId));
            // One session per action: within a session id, page_count runs 1..total_pages once (Mixpanel's
            // total_pages is the number of messages of the session).
            changesSent += addPages(pages, cohort, sessionIds, PageAction.ADD_MEMBERS, adds.get(cohortId), batchSize);
            changesSent += addPages(pages, cohort, sessionIds, PageAction.REMOVE_MEMBERS, removes.get(cohortId),
                    batchSize);
        }
        return changesSent;
    }

    /** The job of these pages with the offsets it covers; the buffer keeps only the changes kept back. */
    private SyncJob handOver(List<Page> pages, long changesSent, long skipped, List<MembershipChange> keptBack) {
        if (keptBack.isEmpty()) {
            SyncJob job = new SyncJob(pages, new HashMap<>(nextOffsets), changesAbsorbed, changesSent, true, skipped);
            entries.clear();
            nextOffsets.clear();
            changesAbsorbed = 0;
            startedAtMs = -1;
            return job;
        }
        // Commit only below the oldest change kept back; the rest of each partition is committed by a later sync.
        Map<TopicPartition, Long> offsets = new HashMap<>(nextOffsets);
        Set<MemberKey> kept = new HashSet<>();
        for (MembershipChange change : keptBack) {
            offsets.merge(new TopicPartition(change.topic(), change.partition()), change.offset(), Math::min);
            kept.add(new MemberKey(change.cohort().id(), change.distinctId()));
        }
        SyncJob job = new SyncJob(pages, offsets, changesAbsorbed - keptBack.size(), changesSent, true, skipped);
        entries.keySet().retainAll(kept);
        nextOffsets.keySet().removeIf(partition -> offsets.get(partition).equals(nextOffsets.get(partition)));
        changesAbsorbed = keptBack.size();
        startedAtMs = entries.values().iterator().next().readAtMs();
        return job;
    }

    /**
     * Takes the partial last page of each cohort's adds and removes out of the lists and returns them, or returns
     * nothing (and leaves the lists) when that would keep back more than half of the changes or send none.
     */
    private static List<MembershipChange> partialPages(Map<String, List<MembershipChange>> adds,
                                                       Map<String, List<MembershipChange>> removes,
                                                       int batchSize) {
        List<List<MembershipChange>> groups = new ArrayList<>(adds.values());
        groups.addAll(removes.values());
        long total = 0;
        long partial = 0;
        for (List<MembershipChange> group : groups) {
            total += group.size();
            partial += group.size() % batchSize;
        }
        if (partial == 0 || partial == total || partial > total / 2) {
            return List.of();
        }
        List<MembershipChange> keptBack = new ArrayList<>();
        for (List<MembershipChange> group : groups) {
            List<MembershipChange> tail = group.subList(group.size() - group.size() % batchSize, group.size());
            keptBack.addAll(tail);
            tail.clear();
        }
        adds.values().removeIf(List::isEmpty);
        removes.values().removeIf(List::isEmpty);
        return keptBack;
    }

    private static int addPages(List<Page> pages, CohortRef cohort, Supplier<String> sessionIds, PageAction action,
                                List<MembershipChange> members, int batchSize) {
        if (members == null || members.isEmpty()) {
            return 0;
        }
        String sessionId = sessionIds.get();
        int total = (members.size() + batchSize - 1) / batchSize;
        for (int i = 0; i < total; i++) {
            List<MembershipChange> slice = members.subList(i * batchSize, Math.min(members.size(), (i + 1) * batchSize));
            pages.add(new Page(cohort, action, sessionId, i + 1, total, slice));
        }
        return members.size();
    }
}

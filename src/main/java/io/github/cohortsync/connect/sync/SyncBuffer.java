package io.github.cohortsync.connect.sync;

import java.util.ArrayList;
import java.util.Collection;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.function.Supplier;

import org.apache.kafka.common.TopicPartition;

import io.github.cohortsync.connect.destination.Page;
import io.github.cohortsync.connect.destination.PageAction;
import io.github.cohortsync.connect.record.Action;
import io.github.cohortsync.connect.record.CohortRef;
import io.github.cohortsync.connect.record.MembershipChange;

/**
 * The changes read since the last sync, netted per (cohort, user), and the offsets they cover.
 *
 * <p>Netting assumes the source alternates adds and removes per user: the state before the buffer is the opposite
 * of the first buffered action, so a user who enters and leaves (or leaves and re-enters) within one buffer is
 * netted away entirely and costs no call; otherwise the latest change is sent.
 */
public final class SyncBuffer {

    private record MemberKey(String cohortId, String distinctId) {
    }

    /** The first buffered action of a user in a cohort, and the latest change. */
    private static final class Entry {
        final Action first;
        MembershipChange latest;

        Entry(MembershipChange change) {
            this.first = change.action();
            this.latest = change;
        }

        boolean nettedAway() {
            return latest.action() != first;
        }
    }

    private final Map<MemberKey, Entry> entries = new HashMap<>();
    private final Map<TopicPartition, Long> nextOffsets = new HashMap<>();
    /** The latest descriptive fields per cohort, kept across syncs so tombstones can be named. */
    private final Map<String, CohortRef> knownCohorts = new HashMap<>();
    private long changesAbsorbed;
    private long startedAtMs = -1;

    /** Adds a change; a later change of the same user in the same cohort replaces an earlier one. */
    public void add(MembershipChange change, long nowMs) {
        CohortRef ref = change.cohort().orElse(knownCohorts.get(change.cohort().id()));
        knownCohorts.put(ref.id(), ref);
        MemberKey key = new MemberKey(ref.id(), change.distinctId());
        Entry entry = entries.get(key);
        if (entry == null) {
            entries.put(key, new Entry(change));
        } else {
            entry.latest = change;
        }
        changesAbsorbed++;
        absorbOffset(new TopicPartition(change.topic(), change.partition()), change.offset(), nowMs);
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

    /** Forgets everything read from these partitions: it is uncommitted and their next owner reads it again. */
    public void forget(Collection<TopicPartition> partitions) {
        entries.values().removeIf(e -> partitions.contains(
                new TopicPartition(e.latest.topic(), e.latest.partition())));
        nextOffsets.keySet().removeAll(partitions);
        if (isEmpty()) {
            startedAtMs = -1;
        }
    }

    /** Hands everything over as a job of pages of at most {@code batchSize} members, and starts empty. */
    public SyncJob drain(int batchSize) {
        return drain(batchSize, () -> UUID.randomUUID().toString());
    }

    SyncJob drain(int batchSize, Supplier<String> sessionIds) {
        Map<String, List<MembershipChange>> adds = new LinkedHashMap<>();
        Map<String, List<MembershipChange>> removes = new LinkedHashMap<>();
        for (Entry entry : entries.values()) {
            if (entry.nettedAway()) {
                continue;
            }
            MembershipChange change = entry.latest;
            (change.action() == Action.ADD ? adds : removes)
                    .computeIfAbsent(change.cohort().id(), id -> new ArrayList<>()).add(change);
        }
        List<Page> pages = new ArrayList<>();
        List<String> cohortIds = new ArrayList<>(adds.keySet());
        removes.keySet().stream().filter(id -> !adds.containsKey(id)).forEach(cohortIds::add);
        long changesSent = 0;
        for (String cohortId : cohortIds) {
            CohortRef cohort = knownCohorts.get(cohortId);
            String sessionId = sessionIds.get();
            changesSent += addPages(pages, cohort, sessionId, PageAction.ADD_MEMBERS, adds.get(cohortId), batchSize);
            changesSent += addPages(pages, cohort, sessionId, PageAction.REMOVE_MEMBERS, removes.get(cohortId),
                    batchSize);
        }
        SyncJob job = new SyncJob(pages, new HashMap<>(nextOffsets), changesAbsorbed, changesSent);
        entries.clear();
        nextOffsets.clear();
        changesAbsorbed = 0;
        startedAtMs = -1;
        return job;
    }

    private static int addPages(List<Page> pages, CohortRef cohort, String sessionId, PageAction action,
                                List<MembershipChange> members, int batchSize) {
        if (members == null || members.isEmpty()) {
            return 0;
        }
        int total = (members.size() + batchSize - 1) / batchSize;
        for (int i = 0; i < total; i++) {
            List<MembershipChange> slice = members.subList(i * batchSize, Math.min(members.size(), (i + 1) * batchSize));
            pages.add(new Page(cohort, action, sessionId, i + 1, total, slice));
        }
        return members.size();
    }
}

package io.github.cohortsync.connect.sync.send;

import java.util.ArrayList;
import java.util.Collection;
import java.util.List;
import java.util.Map;

import org.apache.kafka.common.TopicPartition;

import io.github.cohortsync.connect.destination.Page;
import io.github.cohortsync.connect.destination.Rejection;
import io.github.cohortsync.connect.record.MembershipChange;

/**
 * One sync: the pages to send, which of them were delivered, and per partition the offset that may be committed
 * once every page is delivered. Retrying a job sends only the pages not yet delivered.
 */
public final class SyncJob {
    private final List<Page> pages;
    private final boolean[] delivered;
    private final Map<TopicPartition, Long> offsets;
    private final long changesRead;
    private final long changesSent;
    private final List<Rejection> rejections = new ArrayList<>();
    private final boolean diff;
    private final long changesSkipped;

    /** A part of a snapshot. */
    public SyncJob(List<Page> pages, Map<TopicPartition, Long> offsets, long changesRead, long changesSent) {
        this(pages, offsets, changesRead, changesSent, false, 0);
    }

    /** A sync of diffs; {@code changesSkipped} were left out as already delivered (the journal). */
    public SyncJob(List<Page> pages, Map<TopicPartition, Long> offsets, long changesRead, long changesSent,
                   boolean diff, long changesSkipped) {
        this.pages = new ArrayList<>(pages);
        this.delivered = new boolean[pages.size()];
        this.offsets = offsets;
        this.changesRead = changesRead;
        this.changesSent = changesSent;
        this.diff = diff;
        this.changesSkipped = changesSkipped;
    }

    /** True for a sync of diffs (add and remove pages), which the delivery journal records; false for a snapshot. */
    public boolean isDiff() {
        return diff;
    }

    /** Members left out because the delivery journal shows they were already delivered. */
    public long changesSkipped() {
        return changesSkipped;
    }

    /** Every member of the pages not yet delivered. */
    public synchronized List<MembershipChange> undeliveredMembers() {
        List<MembershipChange> members = new ArrayList<>();
        for (int i = 0; i < pages.size(); i++) {
            if (!delivered[i]) {
                members.addAll(pages.get(i).members());
            }
        }
        return members;
    }

    public List<Page> pages() {
        return pages;
    }

    public synchronized boolean isDelivered(int page) {
        return delivered[page];
    }

    public synchronized void markDelivered(int page, List<Rejection> pageRejections) {
        delivered[page] = true;
        rejections.addAll(pageRejections);
    }

    public synchronized boolean isComplete() {
        for (boolean done : delivered) {
            if (!done) {
                return false;
            }
        }
        return true;
    }

    public synchronized int deliveredPages() {
        int count = 0;
        for (boolean done : delivered) {
            count += done ? 1 : 0;
        }
        return count;
    }

    /** The offsets safe to commit once the job is complete: per partition, one past the last record covered. */
    public Map<TopicPartition, Long> offsets() {
        return offsets;
    }

    /** Members the destination refused in delivered pages, to be reported before the offsets move. */
    public synchronized List<Rejection> rejections() {
        return List.copyOf(rejections);
    }

    /** Records absorbed into this job (including those netted away). */
    public long changesRead() {
        return changesRead;
    }

    /** Members the job sends after netting. */
    public long changesSent() {
        return changesSent;
    }

    /**
     * Drops the members and offsets of revoked partitions from the undelivered pages: their next owner reads and
     * sends them again, so this task must not send them later, out of order.
     */
    public synchronized void forget(Collection<TopicPartition> partitions) {
        offsets.keySet().removeAll(partitions);
        for (int i = 0; i < pages.size(); i++) {
            if (delivered[i]) {
                continue;
            }
            List<MembershipChange> kept = pages.get(i).members().stream()
                    .filter(m -> !partitions.contains(new TopicPartition(m.topic(), m.partition())))
                    .toList();
            pages.set(i, pages.get(i).withMembers(kept));
            if (kept.isEmpty()) {
                delivered[i] = true;
            }
        }
    }
}

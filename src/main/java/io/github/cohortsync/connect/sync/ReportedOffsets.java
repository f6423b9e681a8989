package io.github.cohortsync.connect.sync;

import java.util.ArrayDeque;
import java.util.Collection;
import java.util.Deque;
import java.util.HashMap;
import java.util.Map;

import org.apache.kafka.common.TopicPartition;

import io.github.cohortsync.connect.report.ReportWriter;

/**
 * Holds the offsets of finished syncs back until the report records written before they finished are acknowledged,
 * then hands them to the {@link OffsetTracker}, in the order the syncs finished. Without a report they pass at once.
 */
final class ReportedOffsets {
    private record Held(ReportWriter.Epoch epoch, Map<TopicPartition, Long> offsets) {
    }

    private final ReportWriter report;
    private final OffsetTracker tracker;
    private final Deque<Held> held = new ArrayDeque<>();

    /** @param report null when no report is written */
    ReportedOffsets(ReportWriter report, OffsetTracker tracker) {
        this.report = report;
        this.tracker = tracker;
    }

    /** A job covering these offsets is done: committable once the report written so far is acknowledged. */
    void completed(Map<TopicPartition, Long> offsets) {
        if (report == null) {
            tracker.completed(offsets);
            return;
        }
        held.addLast(new Held(report.mark(), new HashMap<>(offsets)));
        release();
    }

    /** Hands over the offsets whose report is acknowledged; true when any were. Never waits. */
    boolean release() {
        boolean any = false;
        while (!held.isEmpty() && report.acknowledged(held.peekFirst().epoch())) {
            tracker.completed(held.removeFirst().offsets());
            any = true;
        }
        return any;
    }

    /** True while some finished sync waits for its report. */
    boolean waiting() {
        return !held.isEmpty();
    }

    /** Revoked partitions: their next owner reads them again from the last commit. */
    void forget(Collection<TopicPartition> partitions) {
        held.forEach(h -> h.offsets().keySet().removeAll(partitions));
    }
}

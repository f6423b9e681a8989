package io.github.cohortsync.connect;

import java.util.ArrayList;
import java.util.Collections;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.Future;

import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.connect.sink.ErrantRecordReporter;
import org.apache.kafka.connect.sink.SinkRecord;
import org.apache.kafka.connect.sink.SinkTaskContext;

/** A sink task context that records what the task asked of the framework. */
public final class FakeSinkTaskContext implements SinkTaskContext {
    /** A record reported to the errant record reporter, with its error. */
    public record Reported(SinkRecord record, Throwable error) {
    }

    private final Set<TopicPartition> assignment = new HashSet<>();
    private final Set<TopicPartition> paused = Collections.synchronizedSet(new HashSet<>());
    public final List<Reported> reported = Collections.synchronizedList(new ArrayList<>());
    private final boolean withReporter;
    public volatile long lastTimeout = -1;
    public volatile int commitRequests;

    public FakeSinkTaskContext(boolean withReporter, TopicPartition... assigned) {
        this.withReporter = withReporter;
        assignment.addAll(List.of(assigned));
    }

    @Override
    public Map<String, String> configs() {
        return Map.of();
    }

    private final Map<TopicPartition, Long> rewinds = new java.util.concurrent.ConcurrentHashMap<>();

    @Override
    public void offset(Map<TopicPartition, Long> offsets) {
        rewinds.putAll(offsets);
    }

    @Override
    public void offset(TopicPartition tp, long offset) {
        rewinds.put(tp, offset);
    }

    /** The offsets the task asked the consumer to rewind to. */
    public Map<TopicPartition, Long> rewinds() {
        return Map.copyOf(rewinds);
    }

    @Override
    public void timeout(long timeoutMs) {
        lastTimeout = timeoutMs;
    }

    @Override
    public Set<TopicPartition> assignment() {
        return Set.copyOf(assignment);
    }

    @Override
    public void pause(TopicPartition... partitions) {
        paused.addAll(List.of(partitions));
    }

    @Override
    public void resume(TopicPartition... partitions) {
        paused.removeAll(List.of(partitions));
    }

    /** The partitions paused in the consumer: those the task asked to pause and still owns. */
    public Set<TopicPartition> paused() {
        Set<TopicPartition> owned = new HashSet<>(paused);
        owned.retainAll(assignment);
        return owned;
    }

    /** A rebalance takes every partition away; like the worker, the context still remembers the pause requests. */
    public void revokeAll() {
        assignment.clear();
    }

    /**
     * A rebalance hands out these partitions; like the worker, the context pauses again those of them the task
     * had asked to pause before the rebalance and forgets the others.
     */
    public void assign(TopicPartition... partitions) {
        assignment.addAll(List.of(partitions));
        paused.retainAll(assignment);
    }

    @Override
    public void requestCommit() {
        commitRequests++;
    }

    @Override
    public org.apache.kafka.common.metrics.PluginMetrics pluginMetrics() {
        return null;
    }

    @Override
    public ErrantRecordReporter errantRecordReporter() {
        if (!withReporter) {
            return null;
        }
        return new ErrantRecordReporter() {
            @Override
            public Future<Void> report(SinkRecord record, Throwable error) {
                reported.add(new Reported(record, error));
                return CompletableFuture.completedFuture(null);
            }
        };
    }
}

package io.github.cohortsync.connect.bench.jmh;

import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OperationsPerInvocation;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.Warmup;
import org.openjdk.jmh.infra.Blackhole;

import io.github.cohortsync.connect.record.MembershipChange;
import io.github.cohortsync.connect.record.RecordParser;
import io.github.cohortsync.connect.sync.SyncBuffer;
import io.github.cohortsync.connect.sync.SyncBuffer.Drain;
import io.github.cohortsync.connect.sync.send.SyncJob;

/** Netting parsed changes into a fresh buffer and draining it into pages (bench/jmh.sh; docs/benchmarks.md). */
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.NANOSECONDS)
@Warmup(iterations = 6, time = 3)
@Measurement(iterations = 5, time = 2)
@Fork(1)
public class BufferBenchmark {
    private static final int CHANGES = ParserBenchmark.CHANGES;

    /** Parsed changes for the buffer benchmark, which does not depend on the timestamp form. */
    @State(Scope.Thread)
    public static class Changes {
        List<MembershipChange> changes;

        @Setup
        public void setUp() {
            RecordParser parser = new RecordParser();
            changes = new ArrayList<>(CHANGES);
            for (int i = 0; i < CHANGES; i++) {
                changes.add(parser.parse(ParserBenchmark.record(i, "iso")));
            }
        }
    }

    /**
     * {@value #CHANGES} parsed changes (10% removes, 10% repeats of a (cohort, user)) netted into a fresh buffer and
     * drained into pages of 1000; the time is per change.
     */
    @Benchmark
    @OperationsPerInvocation(ParserBenchmark.CHANGES)
    public void bufferAddAndDrain(Changes state, Blackhole blackhole) {
        // As for the webhook without webhook.properties: no property is kept.
        SyncBuffer buffer = new SyncBuffer("2195193", key -> false);
        long now = 1_795_000_000_000L;
        for (MembershipChange change : state.changes) {
            buffer.add(change, now);
        }
        SyncJob job = buffer.drain(Drain.pagesOf(1000));
        blackhole.consume(job);
    }
}

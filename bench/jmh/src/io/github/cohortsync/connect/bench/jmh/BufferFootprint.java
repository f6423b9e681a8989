package io.github.cohortsync.connect.bench.jmh;

import java.lang.management.ManagementFactory;
import java.lang.management.MemoryMXBean;

import io.github.cohortsync.connect.record.RecordParser;
import io.github.cohortsync.connect.sync.SyncBuffer;

/**
 * Retained heap of a full buffer: parses and buffers {@code buffer.max.changes} (default 100,000) distinct changes
 * shaped like the benchmark's records, then reports the used heap after full collections, minus the empty baseline,
 * per change (bench/jmh.sh footprint; docs/benchmarks.md). Not a JMH benchmark: it measures memory, not time.
 */
public final class BufferFootprint {

    private BufferFootprint() {
    }

    public static void main(String[] args) {
        int changes = args.length > 0 ? Integer.parseInt(args[0]) : 100_000;
        RecordParser parser = new RecordParser();
        long before = usedAfterGc();
        SyncBuffer buffer = newBuffer();
        for (int i = 0; i < changes; i++) {
            // Distinct users: every change stays in the buffer, as under a backlog.
            buffer.add(parser.parse(ParserBenchmark.record(i, "iso", i)), 1_795_000_000_000L);
        }
        long after = usedAfterGc();
        System.out.printf("buffer of %d changes: %.1f MB retained, %d bytes per change%n", buffer.size(),
                (after - before) / 1e6, (after - before) / buffer.size());
    }

    /** As for the webhook without webhook.properties (on the code before the lean buffer: keeps everything). */
    static SyncBuffer newBuffer() {
        return new SyncBuffer("2195193", key -> false);
    }

    private static long usedAfterGc() {
        MemoryMXBean memory = ManagementFactory.getMemoryMXBean();
        for (int i = 0; i < 3; i++) {
            System.gc();
        }
        return memory.getHeapMemoryUsage().getUsed();
    }
}

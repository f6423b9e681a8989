package io.github.cohortsync.connect;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.Collection;
import java.util.HashMap;
import java.util.Map;
import java.util.TreeMap;
import java.util.stream.Collectors;

import org.apache.kafka.clients.consumer.OffsetAndMetadata;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.connect.errors.ConnectException;

/**
 * The connector's task with a hook in {@code preCommit} that stops it at a chosen point of the commit cycle, so that
 * a test can SIGKILL the worker exactly there. Active only in a JVM started with the system property
 * {@value #DIR_PROPERTY} (a forked worker); elsewhere it is the plain task.
 *
 * <p>The test writes the point's name to the file {@code arm} in that directory. The hook writes the file
 * {@code reached} (the point, the task's partitions and the offsets preCommit returned) when it gets there, and
 * {@code assignment} (the task's partitions) whenever partitions are assigned or revoked.
 */
public class CommitCycleHookTask extends CohortSyncSinkTask {
    public static final String DIR_PROPERTY = "cohortsync.it.commitCycleDir";

    /** Where the hook stops or reports, relative to the commit of the offsets of a sync just delivered. */
    public enum Point {
        /** Blocked on entering the first preCommit after a sync was delivered: that sync's mark is not written. */
        BEFORE_PRE_COMMIT,
        /** Blocked after preCommit returned higher offsets (their mark written), before the framework commits them. */
        BETWEEN_PRE_COMMIT_AND_COMMIT,
        /** Reports the first higher offsets preCommit returned and runs on; the test kills once they are committed. */
        AFTER_COMMIT
    }

    private final Path dir = directory();
    private final Map<TopicPartition, Long> returned = new HashMap<>();
    private long syncsAtLastPreCommit;

    private static Path directory() {
        String dir = System.getProperty(DIR_PROPERTY);
        return dir == null ? null : Path.of(dir);
    }

    @Override
    public Map<TopicPartition, OffsetAndMetadata> preCommit(Map<TopicPartition, OffsetAndMetadata> currentOffsets) {
        Point armed = armed();
        if (armed == Point.BEFORE_PRE_COMMIT && stats().syncsCompleted.get() > syncsAtLastPreCommit) {
            report(armed, Map.of());
            blockUntilKilled();
        }
        Map<TopicPartition, OffsetAndMetadata> offsets = super.preCommit(currentOffsets);
        syncsAtLastPreCommit = stats().syncsCompleted.get();
        boolean higher = offsets.entrySet().stream()
                .anyMatch(e -> e.getValue().offset() > returned.getOrDefault(e.getKey(), -1L));
        offsets.forEach((partition, offset) -> returned.merge(partition, offset.offset(), Math::max));
        if (higher && armed == Point.BETWEEN_PRE_COMMIT_AND_COMMIT) {
            report(armed, offsets);
            blockUntilKilled();
        }
        if (higher && armed == Point.AFTER_COMMIT) {
            report(armed, offsets);
            delete("arm");
        }
        return offsets;
    }

    @Override
    public void open(Collection<TopicPartition> partitions) {
        super.open(partitions);
        writeAssignment();
    }

    @Override
    public void close(Collection<TopicPartition> partitions) {
        super.close(partitions);
        writeAssignment();
    }

    private Point armed() {
        if (dir == null || !Files.exists(dir.resolve("arm"))) {
            return null;
        }
        try {
            return Point.valueOf(Files.readString(dir.resolve("arm")).trim());
        } catch (IOException e) {
            return null;
        }
    }

    private void writeAssignment() {
        if (dir != null) {
            write("assignment", partitions(context.assignment()));
        }
    }

    private void report(Point point, Map<TopicPartition, OffsetAndMetadata> offsets) {
        Map<String, Long> sorted = new TreeMap<>();
        offsets.forEach((partition, offset) -> sorted.put(partition.topic() + ":" + partition.partition(),
                offset.offset()));
        write("reached", "point=" + point + "\npartitions=" + partitions(context.assignment()) + "\noffsets="
                + sorted.entrySet().stream().map(e -> e.getKey() + "=" + e.getValue())
                        .collect(Collectors.joining(",")) + "\n");
    }

    private static String partitions(Collection<TopicPartition> partitions) {
        return partitions.stream().map(p -> p.topic() + ":" + p.partition()).sorted()
                .collect(Collectors.joining(","));
    }

    private void write(String name, String text) {
        try {
            Path temp = Files.createTempFile(dir, name, ".tmp");
            Files.writeString(temp, text);
            Files.move(temp, dir.resolve(name), StandardCopyOption.REPLACE_EXISTING, StandardCopyOption.ATOMIC_MOVE);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    private void delete(String name) {
        try {
            Files.deleteIfExists(dir.resolve(name));
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /** Holds the task thread (the framework commits nothing meanwhile) until the test kills the JVM. */
    private static void blockUntilKilled() {
        long until = System.nanoTime() + 300_000_000_000L;
        while (System.nanoTime() < until) {
            try {
                Thread.sleep(1_000);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                break;
            }
        }
        throw new ConnectException("The commit-cycle hook was not killed within 5 minutes");
    }
}

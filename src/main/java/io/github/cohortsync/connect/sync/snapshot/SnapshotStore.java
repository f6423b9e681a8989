package io.github.cohortsync.connect.sync.snapshot;

import java.io.Closeable;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashMap;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.NoSuchElementException;
import java.util.PriorityQueue;
import java.util.stream.Stream;

import org.apache.kafka.connect.errors.ConnectException;

import io.github.cohortsync.connect.metrics.SyncStats;
import io.github.cohortsync.connect.record.Action;
import io.github.cohortsync.connect.record.MembershipChange;

/**
 * Nets a snapshot's changes per (cohort, user) with bounded heap: at most {@code maxInMemory} netted changes are
 * held; beyond that they are written to disk as a sorted run, and the runs are merged (later runs win) when the
 * snapshot is complete. Spill files live in one directory per task, deleted on {@link #close()}.
 */
public final class SnapshotStore implements AutoCloseable {
    static final Comparator<MembershipChange> KEY_ORDER =
            Comparator.comparing((MembershipChange c) -> c.cohort().id()).thenComparing(MembershipChange::distinctId);

    /**
     * Changes per sorted run at most, even when more may be held: a change held in memory until its run is written
     * survives young collections and is copied by each of them, so smaller runs cost less GC than they add to the
     * merge (a 1M-member full sync spent 3.4 s in GC against the ceiling's 0.6 s with runs of 100,000; see
     * docs/benchmarks.md "Full sync").
     */
    static final int RUN_CHANGES = 20_000;

    private record MemberKey(String cohortId, String distinctId) {
    }

    private final Map<MemberKey, MembershipChange> entries = new HashMap<>();
    private final int maxInMemory;
    private final Path dir;
    private final SyncStats stats;
    private final List<Path> runs = new ArrayList<>();
    private final List<Closeable> openReaders = new ArrayList<>();
    /** Set by {@link #close()}: a merge in progress on another thread stops at its next change. */
    private volatile boolean closed;

    /** @param dir this task's own spill directory: created when first needed, deleted on close */
    public SnapshotStore(int maxInMemory, Path dir, SyncStats stats) {
        this.maxInMemory = Math.min(maxInMemory, RUN_CHANGES);
        this.dir = dir;
        this.stats = stats;
    }

    /** Adds a change; a later change of the same user in the same cohort replaces an earlier one. */
    public void add(MembershipChange change) {
        entries.put(new MemberKey(change.cohort().id(), change.distinctId()), change);
        if (entries.size() >= maxInMemory) {
            spill();
        }
    }

    /** Netted changes held in memory now. */
    public int inMemory() {
        return entries.size();
    }

    /** Sorted runs written to disk so far. */
    public int spilledRuns() {
        return runs.size();
    }

    /** True when {@link #finish()} has runs to merge, which takes a while for a large snapshot. */
    public boolean needsMerge() {
        return !runs.isEmpty();
    }

    /**
     * Nets everything added, in memory when nothing was spilled, else by merging the runs into two files. May run on
     * another thread than {@link #add}, once adding is over.
     */
    public synchronized NettedSnapshot finish() {
        if (runs.isEmpty()) {
            List<MembershipChange> sorted = new ArrayList<>(entries.values());
            entries.clear();
            sorted.sort(KEY_ORDER);
            return new InMemory(sorted);
        }
        spill();
        return merge();
    }

    private void spill() {
        if (entries.isEmpty()) {
            return;
        }
        List<MembershipChange> sorted = new ArrayList<>(entries.values());
        sorted.sort(KEY_ORDER);
        Path run = dir.resolve("run-" + runs.size() + ".bin");
        try {
            Files.createDirectories(dir);
            try (OutputStream out = Files.newOutputStream(run)) {
                SpillCodec.Writer writer = new SpillCodec.Writer(out);
                for (MembershipChange change : sorted) {
                    writer.write(change);
                }
                writer.flush();
            }
        } catch (IOException | UncheckedIOException e) {
            throw diskFailure("write a snapshot spill file", e);
        }
        runs.add(run);
        entries.clear();
        stats.snapshotChangesSpilled.addAndGet(sorted.size());
        stats.snapshotSpillFiles.incrementAndGet();
    }

    private ConnectException diskFailure(String what, Exception e) {
        return new ConnectException("Could not " + what + " in " + dir.toAbsolutePath() + ": " + e
                + ". The snapshot is larger than buffer.max.changes and is spilled to disk: free disk space there or"
                + " set snapshot.spill.dir to a writable directory with room for it, then restart the task.", e);
    }

    /** A k-way merge of the sorted runs: for each (cohort, user) the change of the latest run wins. */
    private NettedSnapshot merge() {
        Path membersFile = dir.resolve("members.bin");
        Path leaversFile = dir.resolve("leavers.bin");
        Map<String, long[]> counts = new LinkedHashMap<>();
        PriorityQueue<Head> heads = new PriorityQueue<>(Comparator.comparing(Head::change, KEY_ORDER)
                .thenComparing(Head::run));
        List<RunReader> readers = new ArrayList<>();
        try (OutputStream membersOut = Files.newOutputStream(membersFile);
             OutputStream leaversOut = Files.newOutputStream(leaversFile)) {
            SpillCodec.Writer members = new SpillCodec.Writer(membersOut);
            SpillCodec.Writer leavers = new SpillCodec.Writer(leaversOut);
            for (int i = 0; i < runs.size(); i++) {
                RunReader reader = new RunReader(runs.get(i));
                readers.add(reader);
                if (reader.hasNext()) {
                    heads.add(new Head(reader.next(), i, reader));
                }
            }
            while (!heads.isEmpty()) {
                if (closed) {
                    throw new ConnectException("The snapshot was given up while its spill files were merged");
                }
                Head head = heads.poll();
                MembershipChange latest = head.change();
                head.pushNext(heads);
                // Equal keys come out in run order: the last one polled is the latest change.
                while (!heads.isEmpty() && KEY_ORDER.compare(heads.peek().change(), latest) == 0) {
                    Head same = heads.poll();
                    latest = same.change();
                    same.pushNext(heads);
                }
                boolean member = latest.action() == Action.ADD;
                (member ? members : leavers).write(latest);
                counts.computeIfAbsent(latest.cohort().id(), id -> new long[2])[member ? 0 : 1]++;
            }
            members.flush();
            leavers.flush();
        } catch (IOException | UncheckedIOException e) {
            throw diskFailure("merge the snapshot's spill files", e);
        } finally {
            readers.forEach(RunReader::closeQuietly);
        }
        deleteRuns();
        List<NettedSnapshot.CohortCount> cohorts = new ArrayList<>();
        counts.forEach((id, c) -> cohorts.add(new NettedSnapshot.CohortCount(id, c[0], c[1])));
        return new Spilled(cohorts, membersFile, leaversFile);
    }

    /** The next unread change of one run. */
    private record Head(MembershipChange change, int run, RunReader reader) {
        void pushNext(PriorityQueue<Head> heads) {
            if (reader.hasNext()) {
                heads.add(new Head(reader.next(), run, reader));
            }
        }
    }

    private void deleteRuns() {
        for (Path run : runs) {
            try {
                Files.deleteIfExists(run);
            } catch (IOException e) {
                // Deleted with the directory on close.
            }
        }
        runs.clear();
    }

    /** Deletes this task's spill directory and everything in it. */
    @Override
    public void close() {
        closed = true;
        synchronized (this) {
            deleteAll();
        }
    }

    private void deleteAll() {
        entries.clear();
        synchronized (openReaders) {
            openReaders.forEach(reader -> {
                try {
                    reader.close();
                } catch (IOException e) {
                    // being deleted anyway
                }
            });
            openReaders.clear();
        }
        runs.clear();
        if (!Files.exists(dir)) {
            return;
        }
        try (Stream<Path> files = Files.walk(dir)) {
            files.sorted(Comparator.reverseOrder()).forEach(path -> {
                try {
                    Files.deleteIfExists(path);
                } catch (IOException e) {
                    throw new UncheckedIOException(e);
                }
            });
        } catch (IOException | UncheckedIOException e) {
            throw new ConnectException("Could not delete the snapshot spill directory " + dir.toAbsolutePath()
                    + ": " + e, e);
        }
    }

    /** Reads one spill file change by change. */
    private final class RunReader implements Iterator<MembershipChange>, Closeable {
        private final InputStream in;
        private final SpillCodec.Reader reader;
        private MembershipChange next;

        RunReader(Path file) throws IOException {
            this.in = Files.newInputStream(file);
            this.reader = new SpillCodec.Reader(in);
            synchronized (openReaders) {
                openReaders.add(this);
            }
            this.next = reader.read();
        }

        @Override
        public boolean hasNext() {
            return next != null;
        }

        @Override
        public MembershipChange next() {
            if (next == null) {
                throw new NoSuchElementException();
            }
            MembershipChange change = next;
            try {
                next = reader.read();
                if (next == null) {
                    close();
                }
            } catch (IOException e) {
                throw new UncheckedIOException(e);
            }
            return change;
        }

        @Override
        public void close() throws IOException {
            in.close();
        }

        void closeQuietly() {
            try {
                close();
            } catch (IOException e) {
                // reading is over
            }
        }
    }

    private static final class InMemory implements NettedSnapshot {
        private final List<MembershipChange> members = new ArrayList<>();
        private final List<MembershipChange> leavers = new ArrayList<>();
        private final List<CohortCount> cohorts = new ArrayList<>();

        InMemory(List<MembershipChange> sorted) {
            Map<String, long[]> counts = new LinkedHashMap<>();
            for (MembershipChange change : sorted) {
                boolean member = change.action() == Action.ADD;
                (member ? members : leavers).add(change);
                counts.computeIfAbsent(change.cohort().id(), id -> new long[2])[member ? 0 : 1]++;
            }
            counts.forEach((id, c) -> cohorts.add(new CohortCount(id, c[0], c[1])));
        }

        @Override
        public List<CohortCount> cohorts() {
            return cohorts;
        }

        @Override
        public Iterator<MembershipChange> members() {
            return members.iterator();
        }

        @Override
        public Iterator<MembershipChange> leavers() {
            return leavers.iterator();
        }

        @Override
        public void close() {
            members.clear();
            leavers.clear();
        }
    }

    private final class Spilled implements NettedSnapshot {
        private final List<CohortCount> cohorts;
        private final Path membersFile;
        private final Path leaversFile;

        Spilled(List<CohortCount> cohorts, Path membersFile, Path leaversFile) {
            this.cohorts = List.copyOf(cohorts);
            this.membersFile = membersFile;
            this.leaversFile = leaversFile;
        }

        @Override
        public List<CohortCount> cohorts() {
            return cohorts;
        }

        @Override
        public Iterator<MembershipChange> members() {
            return open(membersFile);
        }

        @Override
        public Iterator<MembershipChange> leavers() {
            return open(leaversFile);
        }

        private Iterator<MembershipChange> open(Path file) {
            try {
                return new RunReader(file);
            } catch (IOException e) {
                throw diskFailure("read the merged snapshot", e);
            }
        }

        @Override
        public void close() {
            SnapshotStore.this.close();
        }
    }
}

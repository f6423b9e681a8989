package io.github.cohortsync.connect.sync.journal;

import static io.github.cohortsync.connect.sync.journal.JournalFile.ADDED;
import static io.github.cohortsync.connect.sync.journal.JournalFile.COMMIT_MARK;
import static io.github.cohortsync.connect.sync.journal.JournalFile.MARK;
import static io.github.cohortsync.connect.sync.journal.JournalFile.REMOVED;
import static io.github.cohortsync.connect.sync.journal.JournalFile.SENDING;
import static io.github.cohortsync.connect.sync.journal.JournalFile.START_MARK;
import static io.github.cohortsync.connect.sync.journal.JournalFile.TOPIC_ID;

import java.io.IOException;
import java.nio.channels.OverlappingFileLockException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Collection;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;

import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.Uuid;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import io.github.cohortsync.connect.config.FileNames;
import io.github.cohortsync.connect.destination.Page;
import io.github.cohortsync.connect.destination.Rejection;
import io.github.cohortsync.connect.record.Action;
import io.github.cohortsync.connect.record.MembershipChange;
import io.github.cohortsync.connect.sync.journal.JournalFile.Block;

/**
 * A local record of the diff changes a destination accepted but whose offsets may not be committed yet, so that a
 * task restarted on the same host sends again only what was not delivered. One file per (connector, partition).
 *
 * <p>What is kept per (cohort, user) of a partition is the <em>latest</em> event, in the order it was written:
 * "about to be sent" (written before any page of a sync goes out) or "delivered at offset o
 * with action a" (written after the destination accepted the page). A change read again is skipped only when the
 * latest event of its (cohort, user) is its own delivery: same offset, same action. So:
 * <ul>
 *   <li>an entry is written only after the destination accepted the change; losing, truncating or ignoring the
 *       journal only means sending again, never skipping something undelivered;</li>
 *   <li>an older change of the same user sent after a newer one (a restart that reads a shorter batch) makes the
 *       newer entry stale: its "about to be sent" event comes after it, so the newer change is sent again rather
 *       than skipped over a stale state;</li>
 *   <li>a delivery whose entry was never written (killed between the answer and the write) is preceded by its
 *       "about to be sent" event, so nothing of that user is skipped.</li>
 * </ul>
 * Rejected members are not journaled: they are sent (and reported) again. Snapshot syncs are never journaled and
 * reset the journal of every assigned partition, because they change the destination's state of members whose
 * entries the journal holds.
 *
 * <p>A file that a task of another JVM holds (file lock), that was written for another destination (fingerprint),
 * or that cannot be written, is not used: the partition runs without a journal, as before (duplicates after a
 * restart, never losses). Within one JVM a partition's file has one owner at a time; a task that lost the
 * partition can no longer write it.
 *
 * <p>Each file holds the Kafka id of the topic it was written for. A file of a topic that was deleted and created
 * again under the same name (another id) is started afresh when the partition is opened: the new topic's offsets
 * start again at 0, where the old topic's marks and deliveries would otherwise be trusted. A file without an id (an
 * older version's, or written while the id could not be read) is trusted as before and gets the id once it is known.
 */
public final class DeliveryJournal implements AutoCloseable {
    private static final Logger log = LoggerFactory.getLogger(DeliveryJournal.class);

    /** Compaction happens once the file holds this many entries and more than twice the live ones. */
    static final int COMPACT_MIN_ENTRIES = 4096;

    /**
     * How many marks of the last session a restart may start at: its start and its latest commits. A commit whose
     * mark was written in preCommit may never land (the worker killed before the framework sent it, or the commit
     * failed), so consumption restarts at an earlier mark of the same session; docs/reliability.md, Case 6, proves
     * when that is safe.
     */
    static final int RECENT_MARKS = 8;

    /** The one writer of each journal file in this JVM. */
    private static final Map<Path, PartitionFile> OWNERS = new HashMap<>();

    private final Path dir;
    private final long fingerprint;
    private final boolean enabled;
    private final Map<TopicPartition, PartitionFile> files = new HashMap<>();
    /** A copy of {@link #files} for lookups without a lock, replaced whenever files are opened or closed. */
    private volatile Map<TopicPartition, PartitionFile> view = Map.of();
    /** Partitions opened but not yet read from: their first record shows where consumption starts. */
    private final Set<TopicPartition> awaitingFirst = new HashSet<>();

    private DeliveryJournal(Path dir, long fingerprint, boolean enabled) {
        this.dir = dir;
        this.fingerprint = fingerprint;
        this.enabled = enabled;
    }

    /** A journal that keeps nothing: every change is sent. */
    public static DeliveryJournal disabled() {
        return new DeliveryJournal(null, 0, false);
    }

    /**
     * A journal in {@code dir}; when the directory cannot be created or written, a WARN names it and the task runs
     * without a journal.
     *
     * @param fingerprint identifies the destination and the settings that decide where and what is sent
     */
    public static DeliveryJournal open(Path dir, long fingerprint) {
        try {
            Files.createDirectories(dir);
            Path probe = Files.createTempFile(dir, ".probe", ".tmp");
            Files.delete(probe);
            return new DeliveryJournal(dir, fingerprint, true);
        } catch (IOException | RuntimeException e) {
            log.warn("Delivery journal directory {} is not writable ({}): running without a journal, so a restarted"
                    + " task sends again every change whose offset was not committed", dir, e.toString());
            return disabled();
        }
    }

    public boolean isEnabled() {
        return enabled;
    }

    /** The hash of a change's (cohort, user), as journaled. */
    public static long memberHash(String cohortId, String distinctId) {
        long h = 0xcbf29ce484222325L;
        h = fnv(h, cohortId);
        h = (h ^ 0x1_0000) * 0x100000001b3L;
        h = fnv(h, distinctId);
        // splitmix64 finalizer: spreads FNV's weak high bits.
        h = (h ^ (h >>> 30)) * 0xbf58476d1ce4e5b9L;
        h = (h ^ (h >>> 27)) * 0x94d049bb133111ebL;
        return h ^ (h >>> 31);
    }

    /** FNV-1a over the UTF-16 code units (a separator outside their range keeps fields apart). */
    private static long fnv(long h, String text) {
        if (text == null) {
            return (h ^ 0x2_0000) * 0x100000001b3L;
        }
        for (int i = 0; i < text.length(); i++) {
            h = (h ^ text.charAt(i)) * 0x100000001b3L;
        }
        return h;
    }

    static Path fileOf(Path dir, TopicPartition partition) {
        return dir.resolve(FileNames.safe(partition.topic()) + "-" + partition.partition()
                + ".journal");
    }

    /** Takes these partitions' files over and reads them; their topics' ids are not known. */
    public void open(Collection<TopicPartition> partitions) {
        open(partitions, Map.of());
    }

    /**
     * Takes these partitions' files over and reads them; a file written for another topic of the same name than the
     * one in {@code topicIds} is started afresh. A topic missing from {@code topicIds} keeps its file as it is.
     */
    public synchronized void open(Collection<TopicPartition> partitions, Map<String, Uuid> topicIds) {
        if (!enabled) {
            return;
        }
        for (TopicPartition partition : partitions) {
            PartitionFile old = files.remove(partition);
            if (old != null) {
                old.release();
            }
            PartitionFile file = PartitionFile.acquire(fileOf(dir, partition), partition, fingerprint,
                    topicIds.get(partition.topic()));
            if (file != null) {
                files.put(partition, file);
                awaitingFirst.add(partition);
            }
        }
        view = Map.copyOf(files);
    }

    /** Gives these partitions' files up: their next owner reads them. */
    public synchronized void close(Collection<TopicPartition> partitions) {
        for (TopicPartition partition : partitions) {
            PartitionFile file = files.remove(partition);
            if (file != null) {
                file.release();
            }
            awaitingFirst.remove(partition);
        }
        view = Map.copyOf(files);
    }

    @Override
    public synchronized void close() {
        close(new ArrayList<>(files.keySet()));
    }

    /**
     * Called with each record read (before it is buffered). The first record of a partition after it was opened
     * shows where consumption starts (the committed offset): older entries are dropped, and when it does not start
     * exactly at one of the recent marks of this journal's last session (another owner committed in between, or the
     * offsets were reset) the journal of the partition is reset.
     */
    public void read(TopicPartition partition, long offset) {
        if (awaitingFirst.isEmpty()) {
            return;
        }
        PartitionFile file;
        synchronized (this) {
            if (!awaitingFirst.remove(partition)) {
                return;
            }
            file = files.get(partition);
        }
        if (file != null) {
            file.startsAt(offset);
        }
    }

    /** True when this change's own delivery is the latest event of its (cohort, user): sending it again is moot. */
    public boolean isDelivered(MembershipChange change) {
        PartitionFile file = fileOf(change);
        return file != null && file.isDelivered(memberHash(change.cohort().id(), change.distinctId()),
                change.offset(), kind(change.action()));
    }

    /**
     * Writes that these changes are about to be sent; call before any of them is sent. Forced to disk when one of
     * them is older than its member's journaled delivery (a restart re-sending an older change): only then could
     * losing this entry in an operating system crash make that delivery look current.
     */
    public void sending(Collection<MembershipChange> changes) {
        group(changes, null, true).forEach((file, block) -> file.append(block, true));
    }

    /**
     * Writes (to the operating system, not forced) that the destination accepted a page; its rejected members are
     * left out (they are sent again).
     */
    public void delivered(Page page, List<Rejection> rejections) {
        Set<MembershipChange> rejected = new HashSet<>();
        for (Rejection rejection : rejections) {
            rejected.add(rejection.member());
        }
        group(page.members(), rejected, false).forEach((file, block) -> file.append(block, false));
    }

    /** Offsets preCommit returned: entries below them are no longer needed. */
    public void committing(Map<TopicPartition, Long> offsets) {
        offsets.forEach((partition, offset) -> {
            PartitionFile file;
            synchronized (this) {
                file = files.get(partition);
            }
            if (file != null) {
                file.committing(offset);
            }
        });
    }

    /** Forgets everything journaled for the assigned partitions: a snapshot is about to set the destination's state. */
    public void reset() {
        List<PartitionFile> all;
        synchronized (this) {
            all = new ArrayList<>(files.values());
        }
        all.forEach(PartitionFile::reset);
    }

    /** Live entries of a partition, for tests. */
    synchronized int liveEntries(TopicPartition partition) {
        PartitionFile file = files.get(partition);
        return file == null ? -1 : file.live();
    }

    /** The recent marks of a partition's last session, oldest first; for tests. */
    synchronized List<Long> recentMarks(TopicPartition partition) {
        PartitionFile file = files.get(partition);
        return file == null ? List.of() : file.recentMarks();
    }

    /** The topic id a partition's file holds, null when none; for tests. */
    synchronized Uuid topicId(TopicPartition partition) {
        PartitionFile file = files.get(partition);
        return file == null ? null : file.topicId;
    }

    /** Entries in a partition's file, for tests. */
    synchronized int fileEntries(TopicPartition partition) {
        PartitionFile file = files.get(partition);
        return file == null ? -1 : file.fileEntries;
    }

    /** Closes a partition's file under its journal, so that its next write fails; for tests. */
    synchronized void breakFileForTest(TopicPartition partition) {
        files.get(partition).file.closeQuietly();
    }

    private PartitionFile fileOf(MembershipChange change) {
        Map<TopicPartition, PartitionFile> current = view;
        return current.isEmpty() ? null : current.get(new TopicPartition(change.topic(), change.partition()));
    }

    /** One block of entries per file; members of partitions without a journal are left out. */
    private Map<PartitionFile, Block> group(Collection<MembershipChange> changes, Set<MembershipChange> leftOut,
                                            boolean sending) {
        Map<PartitionFile, Block> byFile = new HashMap<>();
        if (!enabled || view.isEmpty()) {
            return byFile;
        }
        for (MembershipChange change : changes) {
            if (leftOut != null && !leftOut.isEmpty() && leftOut.contains(change)) {
                continue;
            }
            PartitionFile file = fileOf(change);
            if (file != null) {
                byFile.computeIfAbsent(file, f -> new Block(changes.size())).add(change.offset(),
                        memberHash(change.cohort().id(), change.distinctId()),
                        sending ? SENDING : kind(change.action()));
            }
        }
        return byFile;
    }

    private static byte kind(Action action) {
        return action == Action.ADD ? ADDED : REMOVED;
    }

    /** One partition's file and its live entries: per member hash, the delivered offset and action. */
    static final class PartitionFile {
        private final Path path;
        private final TopicPartition partition;
        private final long fingerprint;
        private final JournalFile file;
        /** Member hash to (offset << 1 | 1 when removed), for members whose latest event is a delivery. */
        private final LongLongMap latest = new LongLongMap();
        /**
         * The last session's marks, oldest first, at most {@link #RECENT_MARKS}: where it started reading, then the
         * offsets its preCommit returned. A restart that starts at one of them keeps the journal.
         */
        private final ArrayDeque<Long> recent = new ArrayDeque<>();
        /** The latest mark: where this journal's last session started reading, or the last offset it committed. */
        private long mark = -1;
        /**
         * False while the file holds only marks of a version that wrote session starts as commit marks: then only
         * its highest mark is trusted, as that version did.
         */
        private boolean sessions;
        /** The id of the topic the file was written for; null when it holds none. */
        private Uuid topicId;
        private int fileEntries;
        private boolean dead;

        private PartitionFile(Path path, TopicPartition partition, long fingerprint) {
            this.path = path;
            this.partition = partition;
            this.fingerprint = fingerprint;
            this.file = new JournalFile(path, partition);
        }

        /**
         * Opens and reads the file as its one owner in this JVM; null (after a WARN) when it cannot be used.
         *
         * @param topicId the live topic's id, null when not known
         */
        static PartitionFile acquire(Path path, TopicPartition partition, long fingerprint, Uuid topicId) {
            synchronized (OWNERS) {
                PartitionFile previous = OWNERS.remove(path);
                if (previous != null) {
                    // Its task has not given it up: it will not write again.
                    previous.kill();
                }
                PartitionFile file = new PartitionFile(path, partition, fingerprint);
                boolean locked;
                try {
                    locked = file.load();
                } catch (IOException | OverlappingFileLockException e) {
                    log.warn("Delivery journal of {} cannot be used ({}): running it without a journal", partition,
                            e.toString());
                    file.kill();
                    return null;
                }
                if (!locked) {
                    log.warn("Delivery journal of {} is held by another process: running it without a journal",
                            partition);
                    file.kill();
                    return null;
                }
                file.ofTopic(topicId);
                OWNERS.put(path, file);
                return file;
            }
        }

        void release() {
            synchronized (OWNERS) {
                OWNERS.remove(path, this);
            }
            kill();
        }

        private synchronized void kill() {
            dead = true;
            file.closeQuietly();
        }

        /** Locks and reads the file; false when another process holds it. */
        private synchronized boolean load() throws IOException {
            if (!file.openLocked()) {
                return false;
            }
            fileEntries = file.read(fingerprint, this::apply);
            return true;
        }

        /**
         * Compares the topic id the file holds with the live topic's: a file of an earlier topic of the same name is
         * started afresh; a file without an id gets the live one. Nothing changes when the live id is not known.
         */
        private synchronized void ofTopic(Uuid live) {
            if (dead || live == null || Uuid.ZERO_UUID.equals(live) || live.equals(topicId)) {
                return;
            }
            if (topicId != null) {
                // Its marks are offsets of the deleted topic: the new one starts again at 0, where they would match.
                log.info("Delivery journal of {} was written for topic id {}, but the topic now has id {} (it was"
                        + " deleted and created again): starting it afresh", partition, topicId, live);
                topicId = live;
                resetLocked(false);
                return;
            }
            topicId = live;
            try {
                file.append(topicIdBlock(), false);
                fileEntries++;
            } catch (IOException | RuntimeException e) {
                fail(e);
            }
        }

        private Block topicIdBlock() {
            Block block = new Block(1);
            block.add(topicId.getMostSignificantBits(), topicId.getLeastSignificantBits(), TOPIC_ID);
            return block;
        }

        /** Empties the file and what was read from it; the topic id, when known, is written again. */
        private void writeHeader() throws IOException {
            file.writeHeader(fingerprint);
            latest.clear();
            recent.clear();
            mark = -1;
            sessions = false;
            fileEntries = 0;
            if (topicId != null) {
                file.append(topicIdBlock(), false);
                fileEntries = 1;
            }
        }

        private void apply(long offset, long member, byte kind) {
            switch (kind) {
                case SENDING -> latest.remove(member);
                case ADDED -> latest.put(member, offset << 1);
                case REMOVED -> latest.put(member, offset << 1 | 1);
                case MARK -> applyMark(offset, member == START_MARK);
                case TOPIC_ID -> topicId = new Uuid(offset, member);
                default -> {
                    // Unknown kinds are written by no version; ignore.
                }
            }
        }

        private void applyMark(long offset, boolean start) {
            if (start) {
                sessions = true;
                recent.clear();
                mark = offset;
            } else {
                mark = Math.max(mark, offset);
            }
            recent.addLast(offset);
            while (recent.size() > RECENT_MARKS) {
                recent.removeFirst();
            }
        }

        /**
         * Whether consumption starting at {@code offset} keeps the journal: it is one of the last session's recent
         * marks, so no other owner's commit lies between that session and now but for one coincidence
         * (docs/reliability.md, Case 6). A file of the version before session starts were told apart trusts its
         * highest mark only, as that version did.
         */
        private boolean trusts(long offset) {
            return sessions ? recent.contains(offset) : offset == mark;
        }

        synchronized boolean isDelivered(long member, long offset, byte kind) {
            return !dead && latest.get(member, -1) == (offset << 1 | (kind == REMOVED ? 1 : 0));
        }

        synchronized int live() {
            return latest.size();
        }

        /** The last session's recent marks, oldest first; for tests. */
        synchronized List<Long> recentMarks() {
            return List.copyOf(recent);
        }

        /**
         * Appends one block of entries, forced to disk when {@code forceIfOlder} and an entry is older than its
         * member's live delivery. A write that fails stops the journal of this partition and deletes its file.
         */
        synchronized void append(Block block, boolean forceIfOlder) {
            if (dead || block.entries() == 0) {
                return;
            }
            boolean[] force = {false};
            if (forceIfOlder) {
                block.forEach((offset, member, kind) -> {
                    long delivered = latest.get(member, -1);
                    force[0] |= delivered >= 0 && (delivered >>> 1) > offset;
                });
            }
            try {
                file.append(block, force[0]);
            } catch (IOException | RuntimeException e) {
                fail(e);
                return;
            }
            block.forEach(this::apply);
            fileEntries += block.entries();
        }

        private void fail(Exception e) {
            log.warn("Delivery journal of {} could not be written ({}): running it without a journal from now on",
                    partition, e.toString());
            dead = true;
            latest.clear();
            file.discard();
        }

        /** The first record read after the file was opened: a new session starts there. */
        synchronized void startsAt(long offset) {
            if (dead) {
                return;
            }
            if (mark >= 0 && latest.size() > 0) {
                if (!trusts(offset)) {
                    // Consumption does not start at a mark of this journal's last session: another owner committed
                    // in between (it may have sent changes this journal does not know of, including older changes
                    // below where this session starts), or the offsets were reset.
                    log.info("Delivery journal of {}: consumption starts at offset {}, none of its last session's"
                            + " marks; starting it afresh", partition, offset);
                    resetLocked(false);
                } else if (offset != mark) {
                    log.info("Delivery journal of {}: consumption starts at offset {}, an earlier mark of its last"
                            + " session than {} (that commit never landed); keeping it", partition, offset, mark);
                }
            }
            pruneBelow(offset);
            mark(offset, START_MARK);
        }

        synchronized void committing(long offset) {
            if (dead) {
                return;
            }
            if (offset > mark) {
                mark(offset, COMMIT_MARK);
                // Kept from the oldest recent mark on: a restart may start there if the later commits never land.
                pruneBelow(recent.isEmpty() ? offset : recent.getFirst());
            }
            if (!dead && fileEntries >= COMPACT_MIN_ENTRIES && fileEntries > 2 * latest.size()) {
                compact();
            }
        }

        private void mark(long offset, long which) {
            Block block = new Block(1);
            block.add(offset, which, MARK);
            append(block, false);
        }

        private void pruneBelow(long offset) {
            latest.retain((member, entry) -> (entry >>> 1) < offset ? 0 : 1);
        }

        synchronized void reset() {
            if (!dead) {
                resetLocked(true);
            }
        }

        /** Empties the file; {@code keepMarks} writes the session's recent marks again (a snapshot mid-session). */
        private void resetLocked(boolean keepMarks) {
            try {
                Block marks = marksBlock(0);
                writeHeader();
                if (keepMarks) {
                    // An empty block is not written.
                    append(marks, false);
                }
            } catch (IOException | RuntimeException e) {
                fail(e);
            }
        }

        /**
         * The recent marks as a block (empty when there are none), with room for {@code room} more entries: the
         * oldest as the session's start (a restart may start at it as at the session's real start), the others as
         * commits.
         */
        private Block marksBlock(int room) {
            Block block = new Block(Math.max(1, recent.size() + room));
            boolean first = true;
            for (long offset : recent) {
                block.add(offset, first ? START_MARK : COMMIT_MARK, MARK);
                first = false;
            }
            return block;
        }

        /** Rewrites the file with its recent marks and live entries, in place (a torn rewrite only loses entries). */
        private void compact() {
            Block live = marksBlock(latest.size());
            latest.forEach((member, entry) -> {
                live.add(entry >>> 1, member, (entry & 1) == 1 ? REMOVED : ADDED);
                return 0;
            });
            try {
                writeHeader();
                // Not forced: a rewrite cut short keeps a subset of the live entries, which only causes resends.
                append(live, false);
            } catch (IOException | RuntimeException e) {
                fail(e);
            }
        }
    }
}

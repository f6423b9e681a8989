package io.github.cohortsync.connect.sync.journal;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;

import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.Uuid;
import org.apache.log4j.Logger;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import io.github.cohortsync.connect.LogCapture;
import io.github.cohortsync.connect.destination.Page;
import io.github.cohortsync.connect.destination.PageAction;
import io.github.cohortsync.connect.destination.Rejection;
import io.github.cohortsync.connect.record.Action;
import io.github.cohortsync.connect.record.CohortRef;
import io.github.cohortsync.connect.record.MembershipChange;

class DeliveryJournalTest {
    private static final String TOPIC = "members";
    private static final TopicPartition P0 = new TopicPartition(TOPIC, 0);
    private static final TopicPartition P1 = new TopicPartition(TOPIC, 1);
    private static final long FINGERPRINT = 42L;

    @TempDir
    Path dir;

    private final List<DeliveryJournal> opened = new ArrayList<>();

    @AfterEach
    void closeAll() {
        opened.forEach(DeliveryJournal::close);
    }

    private DeliveryJournal journal(long fingerprint, TopicPartition... partitions) {
        DeliveryJournal journal = DeliveryJournal.open(dir, fingerprint);
        journal.open(List.of(partitions));
        opened.add(journal);
        return journal;
    }

    /** A journal whose partition is read from offset 0 on: a first session. */
    private DeliveryJournal started(TopicPartition partition) {
        DeliveryJournal journal = journal(FINGERPRINT, partition);
        journal.read(partition, 0);
        return journal;
    }

    /** The journal a restarted task opens: the first record it reads is at {@code firstOffset}. */
    private DeliveryJournal reopen(DeliveryJournal previous, long firstOffset, TopicPartition... partitions) {
        previous.close();
        DeliveryJournal journal = journal(FINGERPRINT, partitions);
        for (TopicPartition partition : partitions) {
            journal.read(partition, firstOffset);
        }
        return journal;
    }

    private static MembershipChange change(int partition, long offset, String user, Action action) {
        return new MembershipChange(new CohortRef("c1", "Cohort", null, null), user, action, null, null, null, null,
                Map.of(), 0L, TOPIC, partition, offset);
    }

    private static Page page(MembershipChange... members) {
        PageAction action = members[0].action() == Action.ADD ? PageAction.ADD_MEMBERS : PageAction.REMOVE_MEMBERS;
        return new Page(new CohortRef("c1", "Cohort", null, null), action, "s", 1, 1, List.of(members));
    }

    /** What a sync does: "about to send", then "delivered" once the destination accepted the page. */
    private static void deliver(DeliveryJournal journal, MembershipChange... members) {
        journal.sending(List.of(members));
        journal.delivered(page(members), List.of());
    }

    @Test
    void aDeliveredChangeIsKnownAfterARestartAndOnlyThatChange() {
        DeliveryJournal journal = started(P0);
        MembershipChange a = change(0, 3, "u1", Action.ADD);
        deliver(journal, a);
        assertThat(journal.isDelivered(a)).isTrue();

        DeliveryJournal restarted = reopen(journal, 0, P0);

        assertThat(restarted.isDelivered(a)).isTrue();
        assertThat(restarted.isDelivered(change(0, 4, "u1", Action.ADD))).as("another offset").isFalse();
        assertThat(restarted.isDelivered(change(0, 3, "u1", Action.REMOVE))).as("another action").isFalse();
        assertThat(restarted.isDelivered(change(0, 3, "u2", Action.ADD))).as("another user").isFalse();
        assertThat(restarted.isDelivered(change(1, 3, "u1", Action.ADD))).as("another partition").isFalse();
    }

    @Test
    void aChangeAboutToBeSentButNeverAcceptedIsNotDelivered() {
        DeliveryJournal journal = started(P0);
        MembershipChange a = change(0, 3, "u1", Action.ADD);
        journal.sending(List.of(a));

        assertThat(journal.isDelivered(a)).isFalse();
        assertThat(reopen(journal, 0, P0).isDelivered(a)).isFalse();
    }

    @Test
    void rejectedMembersAreNotJournaled() {
        DeliveryJournal journal = started(P0);
        MembershipChange ok = change(0, 1, "u1", Action.ADD);
        MembershipChange refused = change(0, 2, "u2", Action.ADD);
        journal.sending(List.of(ok, refused));
        journal.delivered(page(ok, refused), List.of(new Rejection(refused, "invalid")));

        assertThat(journal.isDelivered(ok)).isTrue();
        assertThat(journal.isDelivered(refused)).isFalse();
    }

    /**
     * A restart reads a shorter batch and sends an older change of a user whose newer change was delivered: the
     * newer entry is stale from then on, and the newer change must be sent again when it is read.
     */
    @Test
    void anOlderChangeSentAfterANewerOneMakesTheNewerEntryStale() {
        DeliveryJournal journal = started(P0);
        MembershipChange added = change(0, 1, "u1", Action.ADD);
        MembershipChange removed = change(0, 5, "u1", Action.REMOVE);
        deliver(journal, removed);

        DeliveryJournal restarted = reopen(journal, 0, P0);
        restarted.sending(List.of(added));
        assertThat(restarted.isDelivered(removed)).isFalse();
        assertThat(reopen(restarted, 0, P0).isDelivered(removed))
                .as("even when the older change's delivery was never journaled (killed before it)").isFalse();
    }

    @Test
    void aTornTailIsIgnoredAndLaterBlocksAreReadable() throws IOException {
        DeliveryJournal journal = started(P0);
        MembershipChange first = change(0, 1, "u1", Action.ADD);
        MembershipChange second = change(0, 2, "u2", Action.ADD);
        deliver(journal, first);
        deliver(journal, second);
        journal.close();
        Path file = DeliveryJournal.fileOf(dir, P0);
        // Cut the last block in the middle, as a write that never completed.
        long size = Files.size(file);
        try (var channel = Files.newByteChannel(file, StandardOpenOption.WRITE)) {
            channel.truncate(size - 5);
        }

        DeliveryJournal restarted = reopen(journal, 0, P0);
        assertThat(restarted.isDelivered(first)).isTrue();
        assertThat(restarted.isDelivered(second)).isFalse();
        MembershipChange third = change(0, 3, "u3", Action.ADD);
        deliver(restarted, third);

        DeliveryJournal again = reopen(restarted, 0, P0);
        assertThat(again.isDelivered(first)).isTrue();
        assertThat(again.isDelivered(third)).as("appended after the torn tail was cut").isTrue();
    }

    @Test
    void aDamagedBlockEndsTheJournalThere() throws IOException {
        DeliveryJournal journal = started(P0);
        MembershipChange first = change(0, 1, "u1", Action.ADD);
        deliver(journal, first);
        journal.close();
        Path file = DeliveryJournal.fileOf(dir, P0);
        byte[] bytes = Files.readAllBytes(file);
        bytes[bytes.length - 3] ^= 0x55;
        Files.write(file, bytes);

        assertThat(reopen(journal, 0, P0).isDelivered(first)).isFalse();
    }

    @Test
    void aJournalOfAnotherDestinationIsIgnoredAndReplaced() throws IOException {
        DeliveryJournal journal = started(P0);
        MembershipChange a = change(0, 1, "u1", Action.ADD);
        deliver(journal, a);
        journal.close();

        DeliveryJournal other = journal(FINGERPRINT + 1, P0);
        other.read(P0, 0);
        assertThat(other.isDelivered(a)).isFalse();
        other.close();
        ByteBuffer header = ByteBuffer.wrap(Files.readAllBytes(DeliveryJournal.fileOf(dir, P0)));
        assertThat(header.getInt()).isEqualTo(JournalFile.MAGIC);
        assertThat(header.getInt()).isEqualTo(JournalFile.VERSION);
        assertThat(header.getLong()).as("rewritten for the new destination").isEqualTo(FINGERPRINT + 1);
    }

    @Test
    void committedOffsetsAndWhereReadingStartsPruneOlderEntries() {
        DeliveryJournal journal = started(P0);
        MembershipChange low = change(0, 2, "u1", Action.ADD);
        MembershipChange mid = change(0, 6, "u2", Action.ADD);
        MembershipChange high = change(0, 9, "u3", Action.ADD);
        deliver(journal, low, mid, high);

        journal.committing(Map.of(P0, 5L));
        assertThat(journal.isDelivered(low)).as("kept while a restart may start at 0 (if the commit of 5 never"
                + " lands)").isTrue();
        assertThat(journal.isDelivered(mid)).isTrue();

        DeliveryJournal restarted = reopen(journal, 5, P0);
        assertThat(restarted.isDelivered(low)).as("in the file, but below the first offset read").isFalse();
        assertThat(restarted.isDelivered(mid)).isTrue();
        assertThat(restarted.isDelivered(high)).isTrue();
        assertThat(restarted.liveEntries(P0)).isEqualTo(2);
    }

    @Test
    void readingThatStartsPastEveryOffsetItKnowsMeansAnotherOwnerCommittedAndResetsIt() {
        DeliveryJournal journal = started(P0);
        MembershipChange a = change(0, 8, "u1", Action.ADD);
        deliver(journal, a);
        journal.committing(Map.of(P0, 4L));

        DeliveryJournal same = reopen(journal, 4, P0);
        assertThat(same.isDelivered(a)).as("starts where its own commit left it").isTrue();
        DeliveryJournal after = reopen(same, 6, P0);
        assertThat(after.isDelivered(a)).as("another owner committed up to 6 in between").isFalse();
    }

    @Test
    void readingThatStartsBelowItsLastCommitResetsIt() {
        // 3 is none of this journal's marks (2, 4): another owner committed it, or the offsets were reset. Another
        // owner may have sent older changes of u1 below 3 after u1's delivery at 8, which this session will not read
        // again, so the delivery at 8 no longer shows the destination's state.
        DeliveryJournal journal = journal(FINGERPRINT, P0);
        journal.read(P0, 2);
        MembershipChange a = change(0, 8, "u1", Action.ADD);
        deliver(journal, a);
        journal.committing(Map.of(P0, 4L));

        DeliveryJournal restarted = reopen(journal, 3, P0);

        assertThat(restarted.isDelivered(a)).isFalse();
        assertThat(restarted.liveEntries(P0)).isZero();
    }

    /**
     * The worker was killed between preCommit (which wrote the mark of 9) and the framework's commit of 9: the
     * restart starts at 5, the last commit that landed. The journal keeps what was delivered from 5 on.
     */
    @Test
    void aRestartAtAnEarlierMarkOfTheLastSessionKeepsTheJournal() {
        DeliveryJournal journal = started(P0);
        MembershipChange low = change(0, 3, "u1", Action.ADD);
        MembershipChange mid = change(0, 6, "u2", Action.ADD);
        MembershipChange high = change(0, 10, "u3", Action.REMOVE);
        deliver(journal, low);
        journal.committing(Map.of(P0, 5L));
        deliver(journal, mid);
        journal.committing(Map.of(P0, 9L));
        deliver(journal, high);
        assertThat(journal.recentMarks(P0)).containsExactly(0L, 5L, 9L);

        DeliveryJournal restarted = reopen(journal, 5, P0);

        assertThat(restarted.isDelivered(low)).as("below where reading starts").isFalse();
        assertThat(restarted.isDelivered(mid)).isTrue();
        assertThat(restarted.isDelivered(high)).isTrue();
        assertThat(restarted.recentMarks(P0)).as("a new session, started at 5").containsExactly(5L);
        assertThat(reopen(restarted, 0, P0).isDelivered(high)).as("0 was a mark of an earlier session only")
                .isFalse();
    }

    @Test
    void aRestartAtTheLastMarkKeepsTheJournal() {
        DeliveryJournal journal = started(P0);
        MembershipChange a = change(0, 6, "u1", Action.ADD);
        journal.committing(Map.of(P0, 5L));
        deliver(journal, a);

        assertThat(reopen(journal, 5, P0).isDelivered(a)).isTrue();
    }

    @Test
    void aRestartAtAnOffsetThatIsNoMarkResetsTheJournal() {
        DeliveryJournal journal = started(P0);
        MembershipChange a = change(0, 8, "u1", Action.ADD);
        deliver(journal, a);
        journal.committing(Map.of(P0, 5L));
        journal.committing(Map.of(P0, 9L));

        DeliveryJournal restarted = reopen(journal, 7, P0);

        assertThat(restarted.isDelivered(a)).isFalse();
        assertThat(restarted.liveEntries(P0)).isZero();
        assertThat(restarted.recentMarks(P0)).containsExactly(7L);
    }

    /**
     * A task on another host (or without this journal) owned the partition between two sessions of this journal
     * and committed 12: none of this journal's marks, so it is started afresh. A task of this host that owned it in
     * between wrote its own marks to the same file, and its last session is the one whose marks count.
     */
    @Test
    void aCommitOfAnotherOwnerBetweenSessionsResetsTheJournalButOneOfThisHostsOwnersDoesNot() {
        DeliveryJournal journal = started(P0);
        MembershipChange a = change(0, 14, "u1", Action.ADD);
        journal.committing(Map.of(P0, 5L));
        deliver(journal, a);
        journal.committing(Map.of(P0, 9L));

        assertThat(reopen(journal, 12, P0).isDelivered(a)).as("another host committed 12").isFalse();

        DeliveryJournal second = started(P1);
        MembershipChange b = change(1, 14, "u1", Action.ADD);
        second.committing(Map.of(P1, 5L));
        deliver(second, b);
        second.committing(Map.of(P1, 9L));
        // Another task of this host reads from 9 and commits 12, 13 (its commit of 13 never lands).
        DeliveryJournal thisHost = reopen(second, 9, P1);
        thisHost.committing(Map.of(P1, 12L));
        thisHost.committing(Map.of(P1, 13L));
        DeliveryJournal back = reopen(thisHost, 12, P1);
        assertThat(back.isDelivered(b)).isTrue();
        assertThat(reopen(back, 5, P1).isDelivered(b)).as("5 is a mark of an earlier session only").isFalse();
    }

    @Test
    void onlyTheLastFewMarksAreTrusted() {
        DeliveryJournal journal = started(P0);
        MembershipChange a = change(0, 100, "u1", Action.ADD);
        deliver(journal, a);
        for (long offset = 1; offset <= DeliveryJournal.RECENT_MARKS; offset++) {
            journal.committing(Map.of(P0, offset));
        }
        assertThat(journal.recentMarks(P0)).hasSize(DeliveryJournal.RECENT_MARKS).doesNotContain(0L);

        DeliveryJournal oldestKept = reopen(journal, 1, P0);
        assertThat(oldestKept.isDelivered(a)).isTrue();
        for (long offset = 2; offset <= DeliveryJournal.RECENT_MARKS + 1; offset++) {
            oldestKept.committing(Map.of(P0, offset));
        }
        assertThat(reopen(oldestKept, 1, P0).isDelivered(a)).as("the session's start, no longer a recent mark")
                .isFalse();
    }

    /**
     * A file of the version that wrote every mark alike (session starts as commits, no way to tell sessions apart)
     * is read: its highest mark is trusted, as by that version, and no other.
     */
    @Test
    void aFileOfThePreviousFormatTrustsItsHighestMarkOnly() throws IOException {
        MembershipChange a = change(0, 12, "u1", Action.ADD);
        MembershipChange b = change(1, 12, "u1", Action.ADD);
        writePreviousFormat(P0, a);
        writePreviousFormat(P1, b);

        DeliveryJournal journal = journal(FINGERPRINT, P0, P1);
        journal.read(P0, 9);
        journal.read(P1, 5);

        assertThat(journal.isDelivered(a)).as("started at its highest mark").isTrue();
        assertThat(journal.isDelivered(b)).as("an earlier mark of a file that cannot tell sessions apart").isFalse();
        assertThat(journal.recentMarks(P0)).containsExactly(9L);
        assertThat(reopen(journal, 9, P0).isDelivered(a)).as("rewritten with a session start, still read")
                .isTrue();
    }

    /** Marks 0, 5 and 9 and a delivery, as the version before session starts were told apart wrote them. */
    private void writePreviousFormat(TopicPartition partition, MembershipChange delivered) throws IOException {
        JournalFile file = new JournalFile(DeliveryJournal.fileOf(dir, partition), partition);
        try {
            assertThat(file.openLocked()).isTrue();
            file.writeHeader(FINGERPRINT);
            for (long[] entry : new long[][] {{0, 0, JournalFile.MARK}, {5, 0, JournalFile.MARK},
                {delivered.offset(), 0, JournalFile.SENDING}, {9, 0, JournalFile.MARK}}) {
                JournalFile.Block block = new JournalFile.Block(1);
                long member = entry[2] == JournalFile.SENDING
                        ? DeliveryJournal.memberHash(delivered.cohort().id(), delivered.distinctId()) : entry[1];
                block.add(entry[0], member, (byte) entry[2]);
                file.append(block, false);
            }
            JournalFile.Block block = new JournalFile.Block(1);
            block.add(delivered.offset(), DeliveryJournal.memberHash(delivered.cohort().id(),
                    delivered.distinctId()), JournalFile.ADDED);
            file.append(block, false);
        } finally {
            file.closeQuietly();
        }
    }

    /** The journal a task opens when it could read the topic's id ({@code null}: it could not). */
    private DeliveryJournal journalOfTopic(Uuid topicId, long firstOffset) {
        DeliveryJournal journal = DeliveryJournal.open(dir, FINGERPRINT);
        journal.open(List.of(P0), topicId == null ? Map.of() : Map.of(TOPIC, topicId));
        opened.add(journal);
        journal.read(P0, firstOffset);
        return journal;
    }

    /** A session on the topic of this id (null: not known) that delivers one change, then stops. */
    private MembershipChange deliveredOnTopic(Uuid topicId) {
        DeliveryJournal journal = journalOfTopic(topicId, 0);
        MembershipChange a = change(0, 3, "u1", Action.ADD);
        deliver(journal, a);
        assertThat(journal.topicId(P0)).isEqualTo(topicId);
        journal.close();
        return a;
    }

    /**
     * A topic deleted and created again under the same name: its offsets start again at 0, the old session's start
     * mark, so without the id the old deliveries at the same offsets would be skipped.
     */
    @Test
    void aFileOfAnEarlierTopicOfTheSameNameIsStartedAfresh() {
        Uuid old = Uuid.randomUuid();
        Uuid recreated = Uuid.randomUuid();
        DeliveryJournal journal = journalOfTopic(old, 0);
        MembershipChange a = change(0, 3, "u1", Action.ADD);
        deliver(journal, a);
        journal.committing(Map.of(P0, 10L));
        journal.close();

        LogCapture logs = new LogCapture();
        Logger.getLogger(DeliveryJournal.class).addAppender(logs);
        DeliveryJournal onNewTopic;
        try {
            onNewTopic = journalOfTopic(recreated, 0);
        } finally {
            Logger.getLogger(DeliveryJournal.class).removeAppender(logs);
        }

        assertThat(onNewTopic.isDelivered(a)).isFalse();
        assertThat(onNewTopic.liveEntries(P0)).isZero();
        assertThat(onNewTopic.recentMarks(P0)).as("only the new topic's session start").containsExactly(0L);
        assertThat(onNewTopic.topicId(P0)).isEqualTo(recreated);
        assertThat(String.join("\n", logs.lines))
                .contains("Delivery journal of members-0 was written for topic id " + old)
                .contains("now has id " + recreated).contains("starting it afresh");
        onNewTopic.close();
        MembershipChange b = change(0, 3, "u2", Action.ADD);
        DeliveryJournal again = journalOfTopic(recreated, 0);
        deliver(again, b);
        assertThat(reopen(again, 0, P0).isDelivered(b)).as("the new topic's own journal is kept").isTrue();
    }

    /**
     * A file written on the topic {@code written} and opened with the live id {@code live} (null: not known) is kept
     * and holds {@code held}; a later assignment with another id starts it afresh.
     */
    private void assertKeptAndThenANewIdNoticed(Uuid written, Uuid live, Uuid held) {
        MembershipChange a = deliveredOnTopic(written);

        DeliveryJournal reopened = journalOfTopic(live, 0);
        assertThat(reopened.isDelivered(a)).isTrue();
        assertThat(reopened.topicId(P0)).isEqualTo(held);
        reopened.close();

        assertThat(journalOfTopic(Uuid.randomUuid(), 0).isDelivered(a)).as("then a re-created topic is noticed")
                .isFalse();
    }

    @Test
    void theSameTopicIdKeepsTheJournal() {
        Uuid id = Uuid.randomUuid();
        assertKeptAndThenANewIdNoticed(id, id, id);
    }

    /** The upgrade path: a file written before topic ids were kept is trusted as before, and gets the live id. */
    @Test
    void aFileWithoutATopicIdIsTrustedAndGetsTheLiveOne() {
        Uuid id = Uuid.randomUuid();
        assertKeptAndThenANewIdNoticed(null, id, id);
    }

    /** When the id cannot be read the journal behaves as before and keeps the id it holds for the next time. */
    @Test
    void anUnknownTopicIdKeepsTheFileAndTheIdItHolds() {
        Uuid id = Uuid.randomUuid();
        assertKeptAndThenANewIdNoticed(id, null, id);
    }

    /** A reset (a snapshot, another owner's commit) and a compaction rewrite the file: the id is written again. */
    @Test
    void theTopicIdSurvivesAResetAndACompaction() {
        Uuid id = Uuid.randomUuid();
        DeliveryJournal journal = journalOfTopic(id, 0);
        deliver(journal, change(0, 3, "u1", Action.ADD));
        journal.reset();
        journal.close();
        DeliveryJournal afterReset = journalOfTopic(null, 0);
        assertThat(afterReset.topicId(P0)).isEqualTo(id);

        int total = DeliveryJournal.COMPACT_MIN_ENTRIES;
        List<MembershipChange> all = new ArrayList<>();
        for (int i = 0; i < total; i++) {
            all.add(change(0, i, "u" + i, Action.ADD));
        }
        afterReset.sending(all);
        all.forEach(member -> afterReset.delivered(page(member), List.of()));
        // Enough commits that the session's start leaves the recent marks: the entries below them are compacted away.
        for (int i = DeliveryJournal.RECENT_MARKS - 1; i >= 0; i--) {
            afterReset.committing(Map.of(P0, (long) total - 10 - i));
        }
        assertThat(afterReset.fileEntries(P0)).as("compacted").isLessThan(total);
        afterReset.close();

        DeliveryJournal afterCompaction = journalOfTopic(null, 0);
        assertThat(afterCompaction.topicId(P0)).isEqualTo(id);
    }

    @Test
    void aLargeFileIsCompactedToItsLiveEntries() {
        DeliveryJournal journal = started(P0);
        int total = DeliveryJournal.COMPACT_MIN_ENTRIES;
        List<MembershipChange> all = new ArrayList<>();
        for (int i = 0; i < total; i++) {
            all.add(change(0, i, "u" + i, Action.ADD));
        }
        journal.sending(all);
        all.forEach(member -> journal.delivered(page(member), List.of()));
        assertThat(journal.fileEntries(P0)).isGreaterThanOrEqualTo(2 * total);

        // Commits of total - 17 .. total - 10: the session's start (0) is no longer among its recent marks, so
        // entries below total - 17 are no longer needed.
        int marks = DeliveryJournal.RECENT_MARKS;
        for (int i = marks - 1; i >= 0; i--) {
            journal.committing(Map.of(P0, (long) total - 10 - i));
        }

        assertThat(journal.recentMarks(P0)).hasSize(marks).startsWith((long) total - 10 - (marks - 1))
                .endsWith((long) total - 10);
        assertThat(journal.liveEntries(P0)).isEqualTo(10 + marks - 1);
        assertThat(journal.fileEntries(P0)).as("the live entries and the recent marks")
                .isEqualTo(10 + marks - 1 + marks);
        // The file kept the recent marks: a restart at the oldest one (the later commits never landed) keeps it.
        long oldest = total - 10 - (marks - 1);
        DeliveryJournal restarted = reopen(journal, oldest, P0);
        assertThat(restarted.isDelivered(change(0, total - 1, "u" + (total - 1), Action.ADD))).isTrue();
        assertThat(restarted.isDelivered(change(0, oldest, "u" + oldest, Action.ADD))).isTrue();
        assertThat(restarted.isDelivered(change(0, oldest - 1, "u" + (oldest - 1), Action.ADD))).isFalse();
        assertThat(restarted.liveEntries(P0)).isEqualTo(10 + marks - 1);
    }

    @Test
    void aResetForgetsEveryEntry() {
        DeliveryJournal journal = journal(FINGERPRINT, P0, P1);
        journal.read(P0, 0);
        journal.read(P1, 0);
        MembershipChange a = change(0, 1, "u1", Action.ADD);
        MembershipChange b = change(1, 1, "u1", Action.ADD);
        deliver(journal, a, b);

        journal.reset();

        assertThat(journal.isDelivered(a)).isFalse();
        assertThat(journal.isDelivered(b)).isFalse();
        assertThat(reopen(journal, 0, P0, P1).isDelivered(a)).isFalse();
    }

    @Test
    void aTaskThatLostAPartitionCannotWriteItsJournalAnyMore() {
        DeliveryJournal first = started(P0);
        DeliveryJournal second = started(P0);
        MembershipChange a = change(0, 1, "u1", Action.ADD);

        deliver(first, a);

        assertThat(second.isDelivered(a)).isFalse();
        assertThat(reopen(second, 0, P0).isDelivered(a)).as("the first owner wrote nothing").isFalse();
    }

    @Test
    void partitionsNotOpenedAreNotJournaled() {
        DeliveryJournal journal = journal(FINGERPRINT, P0);
        MembershipChange other = change(1, 1, "u1", Action.ADD);
        deliver(journal, other);
        assertThat(journal.isDelivered(other)).isFalse();
        assertThat(Files.exists(DeliveryJournal.fileOf(dir, P1))).isFalse();
    }

    @Test
    void anUnwritableDirectoryIsNamedOnceAndTheTaskRunsWithoutAJournal() throws IOException {
        Path notADirectory = Files.createFile(dir.resolve("plain-file"));
        LogCapture capture = new LogCapture();
        Logger.getLogger(DeliveryJournal.class).addAppender(capture);
        try {
            DeliveryJournal journal = DeliveryJournal.open(notADirectory.resolve("journal"), FINGERPRINT);
            journal.open(List.of(P0));
            journal.read(P0, 0);
            MembershipChange a = change(0, 1, "u1", Action.ADD);
            deliver(journal, a);

            assertThat(journal.isEnabled()).isFalse();
            assertThat(journal.isDelivered(a)).isFalse();
            assertThat(capture.lines).filteredOn(line -> line.contains("not writable")).hasSize(1)
                    .allMatch(line -> line.contains(notADirectory.toString()));
        } finally {
            Logger.getLogger(DeliveryJournal.class).removeAppender(capture);
        }
    }

    @Test
    void aWriteThatFailsStopsThePartitionsJournalAndDeletesItsFile() {
        DeliveryJournal journal = started(P0);
        MembershipChange a = change(0, 1, "u1", Action.ADD);
        deliver(journal, a);
        journal.breakFileForTest(P0);

        MembershipChange b = change(0, 2, "u2", Action.ADD);
        deliver(journal, b);

        assertThat(journal.isDelivered(a)).as("forgotten with the file").isFalse();
        assertThat(journal.isDelivered(b)).isFalse();
        assertThat(DeliveryJournal.fileOf(dir, P0)).doesNotExist();
        assertThat(reopen(journal, 0, P0).isDelivered(a)).isFalse();
    }

    @Test
    void memberHashesDifferForSwappedFields() {
        assertThat(DeliveryJournal.memberHash("ab", "c")).isNotEqualTo(DeliveryJournal.memberHash("a", "bc"));
        assertThat(DeliveryJournal.memberHash("1", "u")).isEqualTo(DeliveryJournal.memberHash("1", "u"));
    }

    @Test
    void pagesDeliveredConcurrentlyAreAllJournaled() throws Exception {
        // The sender delivers the pages of one diff sync on several threads, each telling the journal.
        DeliveryJournal journal = journal(FINGERPRINT, P0, P1);
        journal.read(P0, 0);
        journal.read(P1, 0);
        List<MembershipChange> all = new ArrayList<>();
        List<Page> pages = new ArrayList<>();
        for (int i = 0; i < 400; i++) {
            MembershipChange member = change(i % 2, i, "u" + i, i % 3 == 0 ? Action.REMOVE : Action.ADD);
            all.add(member);
            pages.add(page(member));
        }
        journal.sending(all);
        ExecutorService threads = Executors.newFixedThreadPool(8);
        CountDownLatch start = new CountDownLatch(1);
        List<Future<?>> done = new ArrayList<>();
        try {
            for (Page page : pages) {
                done.add(threads.submit(() -> {
                    start.await();
                    journal.delivered(page, List.of());
                    return null;
                }));
            }
            start.countDown();
            for (Future<?> each : done) {
                each.get(20, TimeUnit.SECONDS);
            }
        } finally {
            threads.shutdownNow();
        }

        assertThat(all).allMatch(journal::isDelivered);
        DeliveryJournal restarted = reopen(journal, 0, P0, P1);
        assertThat(all).as("every block readable after a restart").allMatch(restarted::isDelivered);
    }
}

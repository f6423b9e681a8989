package io.github.cohortsync.connect.sync;

import static io.github.cohortsync.connect.Records.change;
import static io.github.cohortsync.connect.Records.tombstone;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.tuple;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.Set;
import java.util.concurrent.atomic.AtomicInteger;

import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.connect.sink.SinkRecord;
import org.junit.jupiter.api.RepeatedTest;
import org.junit.jupiter.api.Test;

import io.github.cohortsync.connect.Records;
import io.github.cohortsync.connect.destination.Page;
import io.github.cohortsync.connect.destination.PageAction;
import io.github.cohortsync.connect.record.Action;
import io.github.cohortsync.connect.record.MembershipChange;
import io.github.cohortsync.connect.record.RecordParser;
import io.github.cohortsync.connect.sync.SyncBuffer.Drain;
import io.github.cohortsync.connect.sync.send.SyncJob;

class SyncBufferTest {
    private static final TopicPartition P0 = new TopicPartition(Records.TOPIC, 0);
    private static final TopicPartition P1 = new TopicPartition(Records.TOPIC, 1);

    private final RecordParser parser = new RecordParser();
    private final SyncBuffer buffer = new SyncBuffer("proj-default");
    private long offset;

    private void add(Records record) {
        add(record, 0);
    }

    private void add(Records record, int partition) {
        SinkRecord sinkRecord = record.at(partition, offset++).build();
        buffer.add(parser.parse(sinkRecord), 0);
    }

    private static List<String> ids(Page page) {
        return page.members().stream().map(MembershipChange::distinctId).toList();
    }

    @Test
    void changesTheJournalShowsDeliveredAreLeftOutCountedAndCommitted() {
        add(change("c", "u1"));
        add(change("c", "u2"));
        add(change("c", "u3"), 1);
        add(change("c", "u2").remove());
        Set<String> delivered = Set.of("u1", "u3");

        SyncJob job = buffer.drain(Drain.pagesOf(1).unlessDue(0, 1).skipping(member -> delivered.contains(member.distinctId())));

        assertThat(job.changesSkipped()).isEqualTo(2);
        assertThat(job.changesSent()).isEqualTo(1);
        assertThat(job.isDiff()).isTrue();
        assertThat(job.pages()).extracting(Page::action, SyncBufferTest::ids)
                .containsExactly(tuple(PageAction.REMOVE_MEMBERS, List.of("u2")));
        assertThat(job.offsets()).as("skipped changes are settled: their offsets are committed")
                .containsExactlyInAnyOrderEntriesOf(Map.of(P0, 4L, P1, 3L));
        assertThat(buffer.isEmpty()).isTrue();
    }

    @Test
    void aChangeThatReplacedAnEarlierOneIsSentEvenWhenTheJournalShowsItDelivered() {
        // Another owner may have delivered the add after this host journaled the remove: only sending the remove
        // again makes the destination's state right.
        add(change("c", "u1"));
        add(change("c", "u1").remove());
        add(change("c", "u2").remove());

        SyncJob job = buffer.drain(Drain.pagesOf(10).unlessDue(0, 1).skipping(member -> true));

        assertThat(job.changesSkipped()).isEqualTo(1);
        assertThat(job.pages()).extracting(Page::action, SyncBufferTest::ids)
                .containsExactly(tuple(PageAction.REMOVE_MEMBERS, List.of("u1")));
    }

    @Test
    void aSyncWhoseChangesWereAllDeliveredHasNoPagesAndCommitsTheirOffsets() {
        add(change("c", "u1"));
        add(change("c", "u2"));

        SyncJob job = buffer.drain(Drain.pagesOf(10).unlessDue(0, 1).skipping(member -> true));

        assertThat(job.pages()).isEmpty();
        assertThat(job.changesSkipped()).isEqualTo(2);
        assertThat(job.offsets()).containsExactlyEntriesOf(Map.of(P0, 2L));
    }

    @Test
    void aUserWhoEntersAndLeavesWithinOneBufferIsSentOnceAsRemoved() {
        add(change("c", "u1"));
        add(change("c", "u1").remove());
        add(change("c", "u2"));
        add(change("c", "u2").with("email", "a@example.com"));
        add(change("c", "u2").with("email", "b@example.com"));

        SyncJob job = buffer.drain(Drain.pagesOf(1000));

        assertThat(job.pages()).extracting(Page::action).containsExactly(PageAction.ADD_MEMBERS,
                PageAction.REMOVE_MEMBERS);
        assertThat(ids(job.pages().get(0))).containsExactly("u2");
        assertThat(ids(job.pages().get(1))).containsExactly("u1");
        assertThat(job.changesRead()).isEqualTo(5);
        assertThat(job.changesSent()).isEqualTo(2);
    }

    @Test
    void aUserWhoLeavesAndComesBackIsSentAsAMember() {
        add(change("c", "u1").remove());
        add(change("c", "u1"));

        SyncJob job = buffer.drain(Drain.pagesOf(1000));

        assertThat(job.pages()).singleElement().satisfies(page -> {
            assertThat(page.action()).isEqualTo(PageAction.ADD_MEMBERS);
            assertThat(ids(page)).containsExactly("u1");
        });
    }

    @Test
    void theLatestChangeWinsAndTombstonesRemove() {
        add(change("c", "u1"));
        add(change("c", "u1").with("email", "new@example.com"));
        add(change("c", "u2").remove());
        add(tombstone("c", "u3"));

        SyncJob job = buffer.drain(Drain.pagesOf(1000));

        Page adds = job.pages().get(0);
        Page removes = job.pages().get(1);
        assertThat(adds.action()).isEqualTo(PageAction.ADD_MEMBERS);
        assertThat(adds.members()).singleElement().extracting(MembershipChange::email).isEqualTo("new@example.com");
        assertThat(removes.action()).isEqualTo(PageAction.REMOVE_MEMBERS);
        assertThat(ids(removes)).containsExactlyInAnyOrder("u2", "u3");
    }

    @Test
    void aTombstoneKeepsTheUserDataOfTheChangeItReplacesInTheSameBuffer() {
        add(change("c", "u1").with("email", "u1@example.com").with("phone_number", "+15550001")
                .with("properties", Map.of("$braze_external_id", "ext-1")));
        add(tombstone("c", "u1"));
        add(change("c", "u2").with("email", "u2@example.com"));
        add(change("c", "u2").remove().with("email", "other@example.com"));
        add(tombstone("c", "u3"));

        List<MembershipChange> removed = buffer.drain(Drain.pagesOf(1000)).pages().get(0).members();

        assertThat(removed).extracting(MembershipChange::distinctId, MembershipChange::email,
                        MembershipChange::phoneNumber, m -> m.properties().get("$braze_external_id"),
                        MembershipChange::offset)
                .containsExactlyInAnyOrder(
                        tuple("u1", "u1@example.com", "+15550001", "ext-1", 1L),
                        tuple("u2", "other@example.com", null, null, 3L),
                        tuple("u3", null, null, null, 4L));
        assertThat(removed).allSatisfy(m -> assertThat(m.action()).isEqualTo(
                Action.REMOVE));
    }

    @Test
    void aTombstoneAfterASyncHasNoUserDataToKeep() {
        add(change("c", "u1").with("email", "u1@example.com"));
        buffer.drain(Drain.pagesOf(1000));
        add(tombstone("c", "u1"));

        assertThat(buffer.drain(Drain.pagesOf(1000)).pages().get(0).members()).singleElement()
                .satisfies(m -> assertThat(m.email()).isNull());
    }

    @Test
    void tombstonesCarryTheCohortNameAndProjectSeenEarlier() {
        add(change("c", "u1").with("cohort_name", "Churn risk").with("project_id", "proj-7"));
        buffer.drain(Drain.pagesOf(1000));
        add(tombstone("c", "u1"));

        Page page = buffer.drain(Drain.pagesOf(1000)).pages().get(0);

        assertThat(page.cohort().name()).isEqualTo("Churn risk");
        assertThat(page.cohort().projectId()).isEqualTo("proj-7");
    }

    @Test
    void cohortsWithoutAProjectGetTheConfiguredOne() {
        add(change("c", "u1"));
        add(tombstone("d", "u1"));

        assertThat(buffer.drain(Drain.pagesOf(1000)).pages()).extracting(p -> p.cohort().projectId())
                .containsOnly("proj-default");
    }

    @Test
    void keepsOnlyThePropertiesTheDestinationReads() {
        SyncBuffer lean = new SyncBuffer(null, "$user_id"::equals);
        lean.add(parser.parse(change("c", "u1").with("properties", Map.of("$user_id", "x1", "plan", "pro"))
                .at(0, 1).build()), 0);
        lean.add(parser.parse(change("c", "u2").with("properties", Map.of("plan", "pro")).at(0, 2).build()), 0);

        List<MembershipChange> members = lean.drain(Drain.pagesOf(1000)).pages().get(0).members();

        assertThat(members).extracting(MembershipChange::properties)
                .containsExactlyInAnyOrder(Map.of("$user_id", "x1"), Map.of());
    }

    @Test
    void changesOfOneCohortShareOneCohortRefWithItsLatestFields() {
        add(change("c", "u1").with("cohort_name", "Old name"));
        add(change("c", "u2").with("cohort_name", "New name"));
        add(tombstone("c", "u3"));
        add(change("c", "u4").with("cohort_name", "New name"));

        List<Page> pages = buffer.drain(Drain.pagesOf(1000)).pages();

        Map<String, MembershipChange> byUser = new HashMap<>();
        pages.forEach(page -> page.members().forEach(m -> byUser.put(m.distinctId(), m)));
        assertThat(byUser.get("u1").cohort().name()).isEqualTo("Old name");
        assertThat(byUser.get("u2").cohort().name()).isEqualTo("New name");
        assertThat(byUser.get("u2").cohort()).isSameAs(byUser.get("u3").cohort()).isSameAs(byUser.get("u4").cohort());
        assertThat(pages).allSatisfy(page -> assertThat(page.cohort().name()).isEqualTo("New name"));
    }

    @Test
    void pagesHoldAtMostTheBatchSizeAndNumberFromOne() {
        for (int i = 0; i < 25; i++) {
            add(change("c", "u" + i));
        }
        for (int i = 0; i < 3; i++) {
            add(change("c", "r" + i).remove());
        }
        AtomicInteger sessions = new AtomicInteger();

        SyncJob job = buffer.drain(Drain.pagesOf(10).sessionIds(() -> "session-" + sessions.incrementAndGet()));

        assertThat(job.pages()).extracting(Page::action, Page::pageNumber, Page::totalPages, p -> p.members().size())
                .containsExactly(
                        tuple(PageAction.ADD_MEMBERS, 1, 3, 10),
                        tuple(PageAction.ADD_MEMBERS, 2, 3, 10),
                        tuple(PageAction.ADD_MEMBERS, 3, 3, 5),
                        tuple(PageAction.REMOVE_MEMBERS, 1, 1, 3));
        // One session per action, so that within a session id page_count runs 1..total_pages once.
        assertThat(job.pages()).extracting(Page::sessionId)
                .containsExactly("session-1", "session-1", "session-1", "session-2");
        assertThat(job.pages()).extracting(Page::idempotencyKey).doesNotHaveDuplicates();
    }

    @Test
    void eachCohortGetsItsOwnSession() {
        add(change("a", "u"));
        add(change("b", "u"));

        SyncJob job = buffer.drain(Drain.pagesOf(1000));

        assertThat(job.pages()).extracting(p -> p.cohort().id()).containsExactlyInAnyOrder("a", "b");
        assertThat(job.pages()).extracting(Page::sessionId).doesNotHaveDuplicates();
    }

    @Test
    void coversOnePastTheHighestOffsetPerPartitionIncludingSkippedRecords() {
        add(change("c", "u1"), 0);
        add(change("c", "u2"), 1);
        buffer.absorbOffset(P0, 50, 0);

        SyncJob job = buffer.drain(Drain.pagesOf(1000));

        assertThat(job.offsets()).containsEntry(P0, 51L).containsEntry(P1, 2L);
        assertThat(buffer.isEmpty()).isTrue();
    }

    @Test
    void isDueAnIntervalAfterTheFirstBufferedRecord() {
        assertThat(buffer.isDue(10_000, 100)).isFalse();
        buffer.add(parser.parse(change("c", "u").build()), 1_000);
        buffer.add(parser.parse(change("c", "v").build()), 1_050);

        assertThat(buffer.isDue(1_099, 100)).isFalse();
        assertThat(buffer.isDue(1_100, 100)).isTrue();
        buffer.drain(Drain.pagesOf(10));
        assertThat(buffer.isDue(5_000, 100)).isFalse();
    }

    @Test
    void msUntilDueCountsFromTheFirstBufferedRecord() {
        assertThat(buffer.msUntilDue(10_000, 100)).as("nothing buffered: a whole interval").isEqualTo(100);
        buffer.add(parser.parse(change("c", "u").build()), 1_000);
        buffer.add(parser.parse(change("c", "v").build()), 1_050);

        assertThat(buffer.msUntilDue(1_060, 100)).isEqualTo(40);
        assertThat(buffer.msUntilDue(1_100, 100)).isZero();
        assertThat(buffer.msUntilDue(5_000, 100)).as("overdue").isZero();
        buffer.drain(Drain.pagesOf(10));
        assertThat(buffer.msUntilDue(5_000, 100)).isEqualTo(100);
    }

    @Test
    void aSyncForcedByAFullBufferKeepsPartialPagesForTheNextSync() {
        for (int i = 1; i <= 6; i++) {
            add(change("c", "u" + i), 0);
        }
        for (int i = 1; i <= 6; i++) {
            add(change("d", "v" + i), 1);
        }
        add(change("c", "u7"), 1);
        add(change("d", "r1").remove(), 0);

        SyncJob first = buffer.drain(Drain.pagesOf(3).unlessDue(0, 1000));

        assertThat(first.pages()).extracting(Page::pageNumber, Page::totalPages, p -> p.members().size())
                .containsOnly(org.assertj.core.groups.Tuple.tuple(1, 2, 3), org.assertj.core.groups.Tuple.tuple(2, 2, 3));
        assertThat(first.pages()).hasSize(4);
        assertThat(first.offsets()).as("committed only below the changes kept back")
                .containsEntry(P0, 13L).containsEntry(P1, 12L);
        assertThat(first.changesRead()).isEqualTo(12);
        assertThat(first.changesSent()).isEqualTo(12);
        assertThat(buffer.size()).isEqualTo(2);

        SyncJob second = buffer.drain(Drain.pagesOf(3).unlessDue(0, 1000));

        assertThat(second.pages()).as("nothing left to fill a page: everything goes")
                .flatExtracting(SyncBufferTest::ids).containsExactlyInAnyOrder("u7", "r1");
        assertThat(second.offsets()).containsEntry(P0, 14L).containsEntry(P1, 13L);
        assertThat(second.changesRead()).isEqualTo(2);
        assertThat(buffer.isEmpty()).isTrue();
    }

    @Test
    void aKeptBackPartialPageFillsThePageOfTheNextSyncOldestFirst() {
        for (int i = 1; i <= 4; i++) {
            add(change("c", "u" + i));
        }
        buffer.drain(Drain.pagesOf(3).unlessDue(0, 1000));
        add(change("c", "u5"));
        add(change("c", "u6"));

        SyncJob job = buffer.drain(Drain.pagesOf(3).unlessDue(0, 1000));

        assertThat(job.pages()).singleElement().satisfies(page -> assertThat(ids(page))
                .containsExactly("u4", "u5", "u6"));
        assertThat(job.offsets()).containsEntry(P0, 6L);
        assertThat(buffer.isEmpty()).isTrue();
    }

    @Test
    void aDueSyncSendsPartialPagesAndAKeptBackChangeMakesTheBufferDueFromItsReadTime() {
        buffer.add(parser.parse(change("c", "u1").at(0, 0).build()), 1_000);
        for (int i = 2; i <= 4; i++) {
            buffer.add(parser.parse(change("c", "u" + i).at(0, i).build()), 1_500);
        }
        buffer.drain(Drain.pagesOf(3).unlessDue(1_600, 1_000));
        assertThat(buffer.size()).isOne();
        assertThat(buffer.isDue(2_499, 1_000)).isFalse();
        assertThat(buffer.isDue(2_500, 1_000)).as("u4 was read at 1500").isTrue();

        buffer.add(parser.parse(change("c", "u5").at(0, 5).build()), 2_400);
        SyncJob due = buffer.drain(Drain.pagesOf(3).unlessDue(2_500, 1_000));

        assertThat(due.pages()).flatExtracting(SyncBufferTest::ids).containsExactly("u4", "u5");
        assertThat(buffer.isEmpty()).isTrue();
    }

    @Test
    void keepsNothingBackWhenThatWouldHoldMoreThanHalfTheBufferOrSendNothing() {
        for (int i = 1; i <= 4; i++) {
            add(change("c", "u" + i));
        }
        add(change("d", "v1"));
        add(change("d", "v2"));
        add(change("e", "w1"));
        add(change("e", "w2"));

        assertThat(buffer.drain(Drain.pagesOf(3).unlessDue(0, 1000)).changesSent()).as("5 of 8 would stay").isEqualTo(8);

        add(change("c", "u1"));
        add(change("d", "v1"));

        assertThat(buffer.drain(Drain.pagesOf(3).unlessDue(0, 1000)).changesSent()).as("no whole page").isEqualTo(2);
        assertThat(buffer.isEmpty()).isTrue();
    }

    @Test
    void forgetsRevokedPartitions() {
        add(change("c", "u1"), 0);
        add(change("c", "u2"), 1);

        buffer.forget(List.of(P1));
        SyncJob job = buffer.drain(Drain.pagesOf(1000));

        assertThat(ids(job.pages().get(0))).containsExactly("u1");
        assertThat(job.offsets()).containsOnlyKeys(P0);
    }

    @Test
    void aJobForgetsRevokedPartitionsOnlyInUndeliveredPages() {
        add(change("c", "u1"), 0);
        add(change("c", "u2"), 1);
        add(change("c", "u3"), 1);
        SyncJob job = buffer.drain(Drain.pagesOf(2));
        job.markDelivered(0, List.of());

        job.forget(List.of(P1));

        assertThat(ids(job.pages().get(0))).hasSize(2);
        assertThat(job.isComplete()).isTrue();
        assertThat(job.offsets()).doesNotContainKey(P1);
    }

    /**
     * A source that alternates adds and removes per user (as a cohort engine does), synced at random points, with
     * replays of already delivered changes as after a crash: the destination ends in the topic's final state.
     */
    @RepeatedTest(20)
    void randomHistoriesEndInTheExactMembership() {
        Random random = new Random();
        long seed = random.nextLong();
        random.setSeed(seed);
        Map<String, Set<String>> truth = new HashMap<>();
        Map<String, Set<String>> destination = new HashMap<>();
        int cohorts = 1 + random.nextInt(4);
        int users = 1 + random.nextInt(60);
        List<Records> history = new ArrayList<>();
        for (int step = 0; step < 2_000; step++) {
            String cohort = "c" + random.nextInt(cohorts);
            String user = "u" + random.nextInt(users);
            Set<String> members = truth.computeIfAbsent(cohort, c -> new HashSet<>());
            boolean member = members.contains(user);
            Records record = member
                    ? (random.nextBoolean() ? change(cohort, user).remove() : tombstone(cohort, user))
                    : change(cohort, user);
            if (member) {
                members.remove(user);
            } else {
                members.add(user);
            }
            history.add(record);
            add(record);
            if (random.nextInt(50) == 0) {
                apply(buffer.drain(Drain.pagesOf(1 + random.nextInt(20))), destination);
                if (random.nextInt(4) == 0) {
                    // A crash after delivery but before the commit: everything since an earlier commit is read again.
                    int committed = random.nextInt(history.size());
                    for (Records replayed : history.subList(committed, history.size())) {
                        add(replayed);
                    }
                }
            }
        }
        apply(buffer.drain(Drain.pagesOf(7)), destination);

        truth.values().removeIf(Set::isEmpty);
        destination.values().removeIf(Set::isEmpty);
        assertThat(destination).as("seed %d", seed).isEqualTo(truth);
    }

    /**
     * Syncs forced by a full buffer keep partial pages back; crashes lose the buffer and replay the topic from the
     * committed offset. Whatever is kept back, the destination ends in the topic's final state.
     */
    @RepeatedTest(20)
    void keptBackPartialPagesNeverLetACommitSkipAChange() {
        Random random = new Random();
        long seed = random.nextLong();
        random.setSeed(seed);
        Map<String, Set<String>> truth = new HashMap<>();
        Map<String, Set<String>> destination = new HashMap<>();
        int cohorts = 1 + random.nextInt(3);
        int users = 5 + random.nextInt(80);
        List<Records> history = new ArrayList<>();
        SyncBuffer current = new SyncBuffer(null);
        long committed = 0;
        int read = 0;
        for (int step = 0; step < 3_000; step++) {
            String cohort = "c" + random.nextInt(cohorts);
            String user = "u" + random.nextInt(users);
            Set<String> members = truth.computeIfAbsent(cohort, c -> new HashSet<>());
            boolean member = members.contains(user);
            history.add(member ? change(cohort, user).remove() : change(cohort, user));
            if (member) {
                members.remove(user);
            } else {
                members.add(user);
            }
            for (; read < history.size(); read++) {
                current.add(parser.parse(history.get(read).at(0, read).build()), 0);
            }
            if (random.nextInt(40) == 0) {
                SyncJob job = current.drain(Drain.pagesOf(1 + random.nextInt(10)).keepPartialPages(random.nextBoolean()).sessionIds(() -> "s"));
                apply(job, destination);
                committed = Math.max(committed, job.offsets().getOrDefault(P0, committed));
                if (random.nextInt(5) == 0) {
                    current = new SyncBuffer(null);
                    read = (int) committed;
                }
            }
        }
        for (; read < history.size(); read++) {
            current.add(parser.parse(history.get(read).at(0, read).build()), 0);
        }
        apply(current.drain(Drain.pagesOf(7)), destination);

        truth.values().removeIf(Set::isEmpty);
        destination.values().removeIf(Set::isEmpty);
        assertThat(destination).as("seed %d", seed).isEqualTo(truth);
    }

    private static void apply(SyncJob job, Map<String, Set<String>> destination) {
        Set<String> seen = new HashSet<>();
        for (Page page : job.pages()) {
            Set<String> members = destination.computeIfAbsent(page.cohort().id(), c -> new HashSet<>());
            for (MembershipChange change : page.members()) {
                assertThat(seen.add(page.cohort().id() + "/" + change.distinctId()))
                        .as("a user appears once per sync").isTrue();
                if (page.action() == PageAction.ADD_MEMBERS) {
                    members.add(change.distinctId());
                } else {
                    members.remove(change.distinctId());
                }
            }
        }
        List<Page> pages = new ArrayList<>(job.pages());
        assertThat(pages).allSatisfy(p -> assertThat(p.pageNumber()).isBetween(1, p.totalPages()));
    }
}

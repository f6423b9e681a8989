package io.github.cohortsync.connect.sync.snapshot;

import static io.github.cohortsync.connect.Records.change;
import static io.github.cohortsync.connect.Records.tombstone;
import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.atomic.AtomicInteger;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import io.github.cohortsync.connect.destination.Page;
import io.github.cohortsync.connect.destination.PageAction;
import io.github.cohortsync.connect.metrics.SyncStats;
import io.github.cohortsync.connect.record.CohortRef;
import io.github.cohortsync.connect.record.RecordParser;

class SnapshotPagesTest {
    private final RecordParser parser = new RecordParser();
    private final AtomicInteger sessions = new AtomicInteger();
    private long offset;

    @TempDir
    Path tmp;

    private NettedSnapshot snapshot(int maxInMemory, int membersOfA, int membersOfB, int leaversOfB) {
        SnapshotStore store = new SnapshotStore(maxInMemory, tmp.resolve("task"), new SyncStats());
        for (int i = 0; i < membersOfA; i++) {
            store.add(parser.parse(change("a", String.format("u%05d", i)).at(0, offset++).build()));
        }
        for (int i = 0; i < membersOfB; i++) {
            store.add(parser.parse(change("b", String.format("u%05d", i)).at(0, offset++).build()));
        }
        for (int i = 0; i < leaversOfB; i++) {
            store.add(parser.parse(tombstone("b", String.format("x%05d", i)).at(0, offset++).build()));
        }
        return store.finish();
    }

    private List<Page> all(SnapshotPages pages, int maxMembers) {
        List<Page> result = new ArrayList<>();
        while (pages.hasNext()) {
            List<Page> chunk = pages.next(maxMembers);
            assertThat(chunk).isNotEmpty();
            assertThat(chunk.stream().mapToInt(p -> p.members().size()).sum()).isLessThanOrEqualTo(
                    Math.max(maxMembers, chunk.get(0).members().size()));
            result.addAll(chunk);
        }
        return result;
    }

    private static String shape(Page page) {
        return page.cohort().id() + " " + page.action().wireName() + " " + page.pageNumber() + "/" + page.totalPages()
                + " (" + page.members().size() + ")";
    }

    @Test
    void eachCohortsMembersArePagedOneToNWithTheExactTotalAndOneSession() {
        SnapshotPages pages = new SnapshotPages(snapshot(100_000, 2500, 1000, 7),
                Map.of("a", new CohortRef("a", "Cohort a", null, "p1")), "proj-default", false, 1000,
                () -> "s" + sessions.incrementAndGet());

        List<Page> sent = all(pages, 1500);

        assertThat(sent).extracting(SnapshotPagesTest::shape).containsExactly(
                "a members 1/3 (1000)", "a members 2/3 (1000)", "a members 3/3 (500)",
                "b members 1/1 (1000)");
        assertThat(sent.subList(0, 3)).extracting(Page::sessionId).containsOnly("s1");
        assertThat(sent.get(3).sessionId()).isEqualTo("s2");
        assertThat(sent.get(0).cohort()).isEqualTo(new CohortRef("a", "Cohort a", null, "p1"));
        assertThat(sent.get(3).cohort()).isEqualTo(new CohortRef("b", null, null, "proj-default"));
        assertThat(sent).extracting(Page::idempotencyKey).doesNotHaveDuplicates();
    }

    @Test
    void leaversFollowTheirCohortsMembersInASessionOfTheirOwnWhenTheDestinationWantsThem() {
        SnapshotPages pages = new SnapshotPages(snapshot(300, 10, 1000, 450), Map.of(), null, true, 400,
                () -> "s" + sessions.incrementAndGet());

        List<Page> sent = all(pages, 1);

        assertThat(sent).extracting(SnapshotPagesTest::shape).containsExactly(
                "a members 1/1 (10)",
                "b members 1/3 (400)", "b members 2/3 (400)", "b members 3/3 (200)",
                "b remove_members 1/2 (400)", "b remove_members 2/2 (50)");
        // One action per session id: page_count runs 1..total_pages once within each.
        assertThat(sent.subList(1, 4)).extracting(Page::sessionId).containsOnly("s2");
        assertThat(sent.subList(4, 6)).extracting(Page::sessionId).containsOnly("s3");
        assertThat(sent.get(4).members()).allSatisfy(m -> assertThat(m.distinctId()).startsWith("x"));
        assertThat(sent.stream().filter(p -> p.action() == PageAction.MEMBERS)
                .flatMap(p -> p.members().stream())).allSatisfy(m -> assertThat(m.distinctId()).startsWith("u"));
    }

    @Test
    void aSnapshotOfOnlyLeaversHasNoPagesForDestinationsThatSendMembersOnly() {
        SnapshotPages pages = new SnapshotPages(snapshot(100, 0, 0, 5), Map.of(), null, false, 1000,
                () -> "s" + sessions.incrementAndGet());

        assertThat(pages.hasNext()).isFalse();
    }
}

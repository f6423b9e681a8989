package io.github.cohortsync.connect.sync.snapshot;

import static io.github.cohortsync.connect.Records.change;
import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;

import org.apache.kafka.common.TopicPartition;
import org.awaitility.Awaitility;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import io.github.cohortsync.connect.Records;
import io.github.cohortsync.connect.destination.Page;
import io.github.cohortsync.connect.destination.PageAction;
import io.github.cohortsync.connect.metrics.SyncStats;
import io.github.cohortsync.connect.record.RecordParser;
import io.github.cohortsync.connect.sync.send.SyncJob;
import io.github.cohortsync.connect.sync.snapshot.SnapshotPlan.Range;

/** A spilled snapshot handed out part by part, the next part read while the one before is out. */
class SnapshotTest {
    private static final TopicPartition PARTITION = new TopicPartition(Records.TOPIC, 0);
    private final RecordParser parser = new RecordParser();
    private final SyncStats stats = new SyncStats();

    @TempDir
    Path tmp;

    private Snapshot readSnapshot(int members, Path dir) {
        Snapshot snapshot = new Snapshot(Map.of(PARTITION, new Range(0, members)), new SnapshotStore(50, dir, stats),
                null, false, 100, null, id -> null).keeping(key -> key.equals("plan"));
        for (int i = 0; i < members; i++) {
            assertThat(snapshot.read(PARTITION, i)).isTrue();
            snapshot.add(parser.parse(change("c1", String.format("u%05d", members - i))
                    .with("properties", Map.of("plan", "pro", "secret", "not sent")).at(0, i).build()));
        }
        // The spill files are merged on another thread: the snapshot is ready once that is done.
        Awaitility.await().atMost(Duration.ofSeconds(60)).until(snapshot::tryFinishReading);
        return snapshot;
    }

    @Test
    void partsComeInPageOrderAndOnlyTheLastCarriesTheOffsets() {
        Path dir = tmp.resolve("task-0");
        List<Page> pages = new ArrayList<>();
        List<SyncJob> jobs = new ArrayList<>();
        try (Snapshot snapshot = readSnapshot(2_550, dir)) {
            assertThat(stats.snapshotSpillFiles.get()).isGreaterThan(10);
            for (Optional<SyncJob> job = snapshot.nextJob(1000); job.isPresent(); job = snapshot.nextJob(1000)) {
                jobs.add(job.get());
                pages.addAll(job.get().pages());
            }
            assertThat(snapshot.allPartsHandedOut()).isTrue();
        }

        assertThat(jobs).hasSize(3);
        assertThat(jobs.get(0).offsets()).isEmpty();
        assertThat(jobs.get(1).offsets()).isEmpty();
        assertThat(jobs.get(2).offsets()).containsExactly(Map.entry(PARTITION, 2_550L));
        assertThat(pages).extracting(Page::pageNumber).containsExactlyElementsOf(
                java.util.stream.IntStream.rangeClosed(1, 26).boxed().toList());
        assertThat(pages).allSatisfy(page -> {
            assertThat(page.totalPages()).isEqualTo(26);
            assertThat(page.action()).isEqualTo(PageAction.MEMBERS);
            assertThat(page.sessionId()).isEqualTo(pages.get(0).sessionId());
            assertThat(page.cohort().name()).isEqualTo("Cohort c1");
        });
        List<String> ids = pages.stream().flatMap(page -> page.members().stream())
                .map(member -> member.distinctId()).toList();
        assertThat(ids).hasSize(2_550).isSorted().doesNotHaveDuplicates();
        // Only the properties the destination reads are kept, through the spill files too.
        assertThat(pages.get(7).members().get(3).properties()).isEqualTo(Map.of("plan", "pro"));
        assertThat(dir).doesNotExist();
    }

    /** Given up after its first part (a rebalance): the part being read ahead ends, and the files are deleted. */
    @Test
    void closingWhileTheNextPartIsReadDeletesTheSpillFiles() {
        Path dir = tmp.resolve("task-1");
        Snapshot snapshot = readSnapshot(3_000, dir);
        assertThat(snapshot.nextJob(1000)).get().extracting(job -> job.pages().size()).isEqualTo(10);

        snapshot.close();

        assertThat(dir).doesNotExist();
    }
}

package io.github.cohortsync.connect.sync.snapshot;

import static io.github.cohortsync.connect.Records.change;
import static io.github.cohortsync.connect.Records.tombstone;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.Iterator;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.TreeMap;

import org.apache.kafka.connect.errors.ConnectException;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import io.github.cohortsync.connect.Records;
import io.github.cohortsync.connect.metrics.SyncStats;
import io.github.cohortsync.connect.record.Action;
import io.github.cohortsync.connect.record.MembershipChange;
import io.github.cohortsync.connect.record.RecordParser;
import io.github.cohortsync.connect.sync.snapshot.NettedSnapshot.CohortCount;

class SnapshotStoreTest {
    private final RecordParser parser = new RecordParser();
    private final SyncStats stats = new SyncStats();
    private long offset;

    @TempDir
    Path tmp;

    private MembershipChange parse(Records record) {
        return parser.parse(record.at(0, offset++).build());
    }

    private static List<String> drain(Iterator<MembershipChange> changes) {
        List<String> keys = new ArrayList<>();
        changes.forEachRemaining(c -> keys.add(c.cohort().id() + "/" + c.distinctId()));
        return keys;
    }

    @Test
    void aSmallSnapshotIsNettedInMemoryInCohortAndUserOrder() {
        try (SnapshotStore store = new SnapshotStore(100, tmp.resolve("task"), stats)) {
            store.add(parse(change("b", "u2")));
            store.add(parse(change("a", "u9")));
            store.add(parse(change("a", "u1")));
            store.add(parse(change("a", "u1").remove()));
            store.add(parse(tombstone("b", "u3")));

            NettedSnapshot snapshot = store.finish();

            assertThat(drain(snapshot.members())).containsExactly("a/u9", "b/u2");
            assertThat(drain(snapshot.leavers())).containsExactly("a/u1", "b/u3");
            assertThat(snapshot.cohorts()).containsExactly(new CohortCount("a", 1, 1), new CohortCount("b", 1, 1));
            assertThat(stats.snapshotSpillFiles.get()).isZero();
            assertThat(tmp.resolve("task")).doesNotExist();
        }
    }

    /** Many changes of few users over many runs: the merge keeps, per user, the latest change across the runs. */
    @Test
    void spilledRunsMergeToTheLatestChangePerUserWithBoundedHeap() {
        Random random = new Random(7);
        Map<String, MembershipChange> expected = new TreeMap<>();
        Path dir = tmp.resolve("task-0");
        try (SnapshotStore store = new SnapshotStore(50, dir, stats)) {
            for (int i = 0; i < 5_000; i++) {
                String cohort = "c" + random.nextInt(3);
                String user = "u" + random.nextInt(400);
                Records record = switch (random.nextInt(4)) {
                    case 0 -> tombstone(cohort, user);
                    case 1 -> change(cohort, user).remove();
                    default -> change(cohort, user).with("email", user + "-" + i + "@example.com")
                            .with("properties", Map.of("plan", "pro", "seats", i));
                };
                MembershipChange change = parse(record);
                store.add(change);
                expected.put(cohort + "/" + user, change);
                assertThat(store.inMemory()).isLessThan(50);
            }
            assertThat(stats.snapshotSpillFiles.get()).isGreaterThan(10);
            assertThat(stats.snapshotChangesSpilled.get()).isGreaterThan(500);

            NettedSnapshot snapshot = store.finish();

            List<String> wantedMembers = expected.entrySet().stream()
                    .filter(e -> e.getValue().action() == Action.ADD).map(Map.Entry::getKey).toList();
            List<String> wantedLeavers = expected.entrySet().stream()
                    .filter(e -> e.getValue().action() == Action.REMOVE).map(Map.Entry::getKey).toList();
            assertThat(drain(snapshot.members())).containsExactlyElementsOf(wantedMembers);
            assertThat(drain(snapshot.leavers())).containsExactlyElementsOf(wantedLeavers);
            Map<String, MembershipChange> merged = new HashMap<>();
            snapshot.members().forEachRemaining(c -> merged.put(c.cohort().id() + "/" + c.distinctId(), c));
            // The whole change survives the round trip through the spill files, profile and coordinates included.
            merged.forEach((key, change) -> assertThat(change).isEqualTo(expected.get(key)));
            long members = snapshot.cohorts().stream().mapToLong(CohortCount::members).sum();
            long leavers = snapshot.cohorts().stream().mapToLong(CohortCount::leavers).sum();
            assertThat(members).isEqualTo(wantedMembers.size());
            assertThat(leavers).isEqualTo(wantedLeavers.size());
            assertThat(dir).isDirectory();
        }
        assertThat(dir).as("spill directory deleted on close").doesNotExist();
    }

    @Test
    void anUnwritableSpillDirectoryFailsWithAMessageNamingIt() throws IOException {
        Path notADirectory = Files.writeString(tmp.resolve("occupied"), "a file where the directory should be");
        try (SnapshotStore store = new SnapshotStore(2, notADirectory.resolve("task-0"), stats)) {
            store.add(parse(change("a", "u1")));

            assertThatThrownBy(() -> store.add(parse(change("a", "u2"))))
                    .isInstanceOf(ConnectException.class)
                    .hasMessageContaining("Could not write a snapshot spill file in " + notADirectory.resolve("task-0"))
                    .hasMessageContaining("snapshot.spill.dir");
        }
    }
}

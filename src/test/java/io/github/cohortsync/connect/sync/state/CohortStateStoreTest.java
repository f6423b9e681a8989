package io.github.cohortsync.connect.sync.state;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class CohortStateStoreTest {
    @TempDir
    Path dir;

    private Path file() {
        return dir.resolve("connector").resolve("cohorts-task-0.json");
    }

    @Test
    void namesFirstContactsGenerationAndFailureSurviveARestart() {
        CohortStateStore store = CohortStateStore.open(file());
        store.sawName("1", "Churned users");
        store.contacted("1");
        store.sawName("2", "Trial");
        store.generation("g2");
        store.failingSinceMs(1234);
        store.save();

        CohortStateStore again = CohortStateStore.open(file());
        assertThat(again.name("1")).isEqualTo("Churned users");
        assertThat(again.isContacted("1")).isTrue();
        assertThat(again.name("2")).isEqualTo("Trial");
        assertThat(again.isContacted("2")).isFalse();
        assertThat(again.generation()).isEqualTo("g2");
        assertThat(again.failingSinceMs()).isEqualTo(1234);
        assertThat(again.name("3")).isNull();
    }

    @Test
    void aBlankOrNullNameNeverReplacesARememberedOne() {
        CohortStateStore store = CohortStateStore.open(file());
        store.sawName("1", "Churned users");
        store.sawName("1", null);
        store.sawName("1", " ");
        store.sawName("1", "x".repeat(CohortStateStore.MAX_NAME_CHARS + 1));
        assertThat(store.name("1")).isEqualTo("Churned users");
        store.sawName("1", "Renamed");
        assertThat(store.name("1")).isEqualTo("Renamed");
    }

    /** A crash while the file is written leaves a torn temporary file and the old file: start reads the old one. */
    @Test
    void aTornWriteNeverBreaksStart() throws IOException {
        CohortStateStore store = CohortStateStore.open(file());
        store.sawName("1", "Churned users");
        store.contacted("1");
        store.save();
        Files.writeString(file().resolveSibling("cohorts-task-0.json.tmp"), "{\"version\":1,\"cohorts\":[{\"id\":",
                StandardCharsets.UTF_8);

        CohortStateStore again = CohortStateStore.open(file());
        assertThat(again.isContacted("1")).isTrue();
        assertThat(file().resolveSibling("cohorts-task-0.json.tmp")).doesNotExist();
    }

    /** A damaged file (cut short, or not this format) is ignored: the task starts with nothing remembered. */
    @Test
    void aDamagedFileStartsWithNothingRemembered() throws IOException {
        Files.createDirectories(file().getParent());
        Files.writeString(file(), "{\"version\":1,\"generation\":\"g\",\"cohorts\":[{\"id\":\"1\",\"na",
                StandardCharsets.UTF_8);
        CohortStateStore store = CohortStateStore.open(file());
        assertThat(store.size()).isZero();
        assertThat(store.generation()).isNull();
        store.contacted("9");
        store.save();
        assertThat(CohortStateStore.open(file()).isContacted("9")).isTrue();

        Files.writeString(file(), "[1,2,3]", StandardCharsets.UTF_8);
        assertThat(CohortStateStore.open(file()).size()).isZero();
    }

    @Test
    void atMostMaxCohortsAreRememberedTheLeastRecentlyUsedGoFirst() {
        CohortStateStore store = CohortStateStore.open(file());
        for (int i = 0; i < CohortStateStore.MAX_COHORTS; i++) {
            store.contacted("c" + i);
        }
        assertThat(store.isContacted("c0")).isTrue();
        store.contacted("new");
        assertThat(store.size()).isEqualTo(CohortStateStore.MAX_COHORTS);
        assertThat(store.isContacted("c1")).as("least recently used: forgotten").isFalse();
        assertThat(store.isContacted("c0")).isTrue();
        store.save();
        assertThat(CohortStateStore.open(file()).size()).isEqualTo(CohortStateStore.MAX_COHORTS);
    }

    /** A directory that cannot be written keeps the store in memory: the task still runs. */
    @Test
    void anUnwritableDirectoryKeepsTheStoreInMemory() throws IOException {
        Path blocker = dir.resolve("blocker");
        Files.writeString(blocker, "a file where the directory should be");
        CohortStateStore store = CohortStateStore.open(blocker.resolve("c").resolve("cohorts-task-0.json"));
        store.contacted("1");
        store.save();
        assertThat(store.isContacted("1")).isTrue();
    }
}

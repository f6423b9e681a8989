package io.github.cohortsync.connect.sync.journal;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;

import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.Uuid;
import org.apache.kafka.connect.errors.ConnectException;
import org.apache.log4j.Logger;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

import io.github.cohortsync.connect.LogCapture;

/** Reading topic ids never fails the task: whatever cannot be read is named in the log and left out. */
class TopicIdsTest {
    private static final TopicPartition A0 = new TopicPartition("alpha", 0);
    private static final TopicPartition A1 = new TopicPartition("alpha", 1);
    private static final TopicPartition B0 = new TopicPartition("beta", 0);

    private final LogCapture logs = new LogCapture();

    @BeforeEach
    void capture() {
        Logger.getLogger(TopicIds.class).addAppender(logs);
    }

    @AfterEach
    void release() {
        Logger.getLogger(TopicIds.class).removeAppender(logs);
    }

    @Test
    void theIdsReadAreReturnedOncePerTopic() {
        Uuid alpha = Uuid.randomUuid();
        Uuid beta = Uuid.randomUuid();
        List<List<String>> asked = new ArrayList<>();
        TopicIds ids = TopicIds.readBy(topics -> {
            asked.add(List.copyOf(topics));
            return Map.of("alpha", alpha, "beta", beta);
        });

        assertThat(ids.of(List.of(A0, A1, B0))).containsExactlyInAnyOrderEntriesOf(Map.of("alpha", alpha, "beta", beta));
        assertThat(asked).containsExactly(List.of("alpha", "beta"));
        assertThat(logs.lines).isEmpty();
    }

    @Test
    void aFailedLookupNamesTheTopicsAndReturnsNoIds() {
        TopicIds ids = TopicIds.readBy(topics -> {
            throw new ConnectException("Could not describe topics [alpha] on 127.0.0.1:9 within 30000 ms");
        });

        assertThat(ids.of(List.of(A0))).isEmpty();
        assertThat(logs.lines).singleElement().asString().contains("Could not read the topic id of [alpha]")
                .contains("127.0.0.1:9").contains("not noticed");
    }

    @Test
    void aTopicWithoutAnIdIsNamedAndLeftOut() {
        Uuid alpha = Uuid.randomUuid();
        TopicIds ids = TopicIds.readBy(topics -> Map.of("alpha", alpha, "beta", Uuid.ZERO_UUID));

        assertThat(ids.of(List.of(A0, B0))).containsExactlyEntriesOf(Map.of("alpha", alpha));
        assertThat(logs.lines).singleElement().asString().contains("no topic id for [beta]");
    }

    @Test
    void withoutAnAdminClientEachTopicIsNamedOnce() {
        TopicIds ids = TopicIds.unavailable();

        assertThat(ids.of(List.of(A0))).isEmpty();
        assertThat(ids.of(List.of(A1, B0))).isEmpty();
        assertThat(ids.of(List.of(A0, B0))).isEmpty();

        assertThat(logs.lines).hasSize(2);
        assertThat(logs.lines.get(0)).contains("[alpha]").contains("snapshot.bootstrap.servers is not set")
                .contains("delivery.journal.dir");
        assertThat(logs.lines.get(1)).contains("[beta]");
    }

    @Test
    void noneReadsNothingAndSaysNothing() {
        assertThat(TopicIds.none().of(List.of(A0))).isEmpty();
        assertThat(logs.lines).isEmpty();
    }
}

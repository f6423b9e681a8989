package io.github.cohortsync.connect.sync.snapshot;

import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.io.IOException;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.time.Duration;
import java.util.List;
import java.util.Map;

import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.connect.errors.ConnectException;
import org.junit.jupiter.api.Test;

/** The admin client's failures name what to check; the working path is covered by SnapshotSyncIT. */
class AdminOffsetsLookupTest {

    @Test
    void bootstrapServersThatDoNotResolveFailWithAHint() {
        assertThatThrownBy(() -> AdminOffsetsLookup.create(
                Map.of("bootstrap.servers", "no-such-broker.invalid:9092"), "connect-x", Duration.ofSeconds(1)))
                .isInstanceOf(ConnectException.class)
                .hasMessageContaining("no-such-broker.invalid:9092")
                .hasMessageContaining("check snapshot.bootstrap.servers");
    }

    @Test
    void anUnreachableClusterFailsTheLookupWithinItsTimeout() throws IOException {
        // A local port that accepts connections but never speaks Kafka.
        try (ServerSocket silent = new ServerSocket(0, 50, InetAddress.getByName("127.0.0.1"));
             AdminOffsetsLookup lookup = AdminOffsetsLookup.create(
                     Map.of("bootstrap.servers", "127.0.0.1:" + silent.getLocalPort()), "connect-x",
                     Duration.ofMillis(1500))) {
            assertThatThrownBy(() -> lookup.offsets(List.of(new TopicPartition("t", 0))))
                    .isInstanceOf(ConnectException.class)
                    .hasMessageContaining("consumer group connect-x")
                    .hasMessageContaining("127.0.0.1:" + silent.getLocalPort())
                    .hasMessageContaining("check snapshot.bootstrap.servers");
            assertThatThrownBy(() -> lookup.topicIds(List.of("members")))
                    .isInstanceOf(ConnectException.class)
                    .hasMessageContaining("Could not describe topics [members]")
                    .hasMessageContaining("127.0.0.1:" + silent.getLocalPort())
                    .hasMessageContaining("within 1500 ms");
        }
    }
}

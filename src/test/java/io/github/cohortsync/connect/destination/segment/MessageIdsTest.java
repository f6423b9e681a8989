package io.github.cohortsync.connect.destination.segment;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.charset.StandardCharsets;
import java.util.Map;
import java.util.SplittableRandom;
import java.util.UUID;

import org.junit.jupiter.api.Test;

import io.github.cohortsync.connect.record.Action;
import io.github.cohortsync.connect.record.CohortRef;
import io.github.cohortsync.connect.record.MembershipChange;

class MessageIdsTest {
    private static final CohortRef COHORT = new CohortRef("1", "c", null, null);

    private static MembershipChange at(String topic, int partition, long offset) {
        return new MembershipChange(COHORT, "u", Action.ADD, null, null, null, null, Map.of(), 0L, topic, partition,
                offset);
    }

    /** What the code before the lean body computed, and what Segment has seen as messageIds. */
    private static String nameUuid(String connector, String topic, int partition, long offset) {
        return UUID.nameUUIDFromBytes((connector + "\n" + topic + "\n" + partition + "\n" + offset)
                .getBytes(StandardCharsets.UTF_8)).toString();
    }

    @Test
    void areTheNameBasedUuidsOfTheRecordsCoordinates() {
        String[] connectors = {"cohorts-to-segment", "", "connecteur-é-😀"};
        String[] topics = {"cohort-membership", "t", "", "tøpic", "x".repeat(300), null};
        int[] partitions = {0, 1, 9, 10, 99, 2_147_483_647, -1, Integer.MIN_VALUE};
        long[] offsets = {0L, 9L, 10L, 1_000_000L, Long.MAX_VALUE, -1L, -10L, Long.MIN_VALUE};
        for (String connector : connectors) {
            MessageIds ids = new MessageIds(connector);
            char[] out = new char[MessageIds.LENGTH];
            for (String topic : topics) {
                for (int partition : partitions) {
                    for (long offset : offsets) {
                        String expected = nameUuid(connector, topic, partition, offset);
                        ids.write(at(topic, partition, offset), out);
                        assertThat(new String(out)).isEqualTo(expected);
                        assertThat(ids.messageId(at(topic, partition, offset))).isEqualTo(expected);
                    }
                }
            }
        }
    }

    @Test
    void matchTheNameBasedUuidsForManyOffsetsInTurnOfTopics() {
        SplittableRandom random = new SplittableRandom(42);
        MessageIds ids = new MessageIds("bench");
        for (int i = 0; i < 20_000; i++) {
            String topic = i % 5 == 0 ? "other-topic" : "cohort-membership";
            int partition = random.nextInt(64);
            long offset = random.nextLong(Long.MAX_VALUE);
            assertThat(ids.messageId(at(topic, partition, offset)))
                    .isEqualTo(nameUuid("bench", topic, partition, offset));
        }
    }
}

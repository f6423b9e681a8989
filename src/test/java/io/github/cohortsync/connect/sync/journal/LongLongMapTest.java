package io.github.cohortsync.connect.sync.journal;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.HashMap;
import java.util.Map;
import java.util.Random;

import org.junit.jupiter.api.Test;

class LongLongMapTest {

    @Test
    void behavesAsAHashMapUnderRandomPutsRemovesAndPrunes() {
        Random random = new Random(7);
        LongLongMap map = new LongLongMap();
        Map<Long, Long> expected = new HashMap<>();
        for (int step = 0; step < 200_000; step++) {
            // A small key range forces collisions, removals inside probe chains and the key 0.
            long key = random.nextInt(5_000) - 100;
            int op = random.nextInt(10);
            if (op < 6) {
                long value = random.nextLong() & Long.MAX_VALUE;
                map.put(key, value);
                expected.put(key, value);
            } else if (op < 9) {
                map.remove(key);
                expected.remove(key);
            } else if (step % 1000 == 0) {
                long limit = random.nextLong() & Long.MAX_VALUE;
                map.retain((k, v) -> v < limit ? 0 : 1);
                expected.values().removeIf(v -> v < limit);
            }
            assertThat(map.get(key, -1)).isEqualTo(expected.getOrDefault(key, -1L));
        }
        assertThat(map.size()).isEqualTo(expected.size());
        Map<Long, Long> seen = new HashMap<>();
        map.forEach((k, v) -> {
            seen.put(k, v);
            return 0;
        });
        assertThat(seen).isEqualTo(expected);
        map.clear();
        assertThat(map.size()).isZero();
        assertThat(map.get(0, -1)).isEqualTo(-1);
    }
}

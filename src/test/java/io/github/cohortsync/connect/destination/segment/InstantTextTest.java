package io.github.cohortsync.connect.destination.segment;

import static org.assertj.core.api.Assertions.assertThat;

import java.time.Instant;
import java.util.SplittableRandom;

import org.junit.jupiter.api.Test;

class InstantTextTest {
    private static String text(long millis) {
        char[] out = new char[InstantText.MAX_LENGTH];
        int length = InstantText.write(millis, out);
        return length < 0 ? null : new String(out, 0, length);
    }

    @Test
    void writesWhatInstantToStringWritesAtTheEdges() {
        long[] edges = {0L, 1L, -1L, 999L, 1_000L, 59_999L, 86_399_999L, 86_400_000L, -86_400_000L,
            1_700_000_000_000L, 1_700_000_000_010L, 1_700_000_000_100L, 951_782_400_000L, 951_868_799_999L,
            -2_203_891_200_000L, 4_107_542_400_000L, 1_709_164_800_999L, 253_402_300_799_999L,
            InstantText.MIN_MILLIS, InstantText.MIN_MILLIS + 1, -62_135_596_800_000L, -30_610_224_000_000L};
        for (long millis : edges) {
            assertThat(text(millis)).as("%d", millis).isEqualTo(Instant.ofEpochMilli(millis).toString());
        }
        assertThat(text(InstantText.MAX_MILLIS)).isEqualTo("9999-12-31T23:59:59.999Z").hasSize(InstantText.MAX_LENGTH);
        assertThat(text(InstantText.MIN_MILLIS)).isEqualTo("0000-01-01T00:00:00Z");
    }

    @Test
    void writesWhatInstantToStringWritesAcrossTheYearsZeroToNineThousandNineHundredNinetyNine() {
        SplittableRandom random = new SplittableRandom(20261125);
        for (int i = 0; i < 200_000; i++) {
            long millis = random.nextLong(InstantText.MIN_MILLIS, InstantText.MAX_MILLIS + 1);
            if (i % 3 == 0) {
                millis -= Math.floorMod(millis, 1000L);
            }
            assertThat(text(millis)).as("%d", millis).isEqualTo(Instant.ofEpochMilli(millis).toString());
        }
        // Every day of 1960-2100 at a random time of day.
        for (long day = -3_653; day <= 47_482; day++) {
            long millis = day * 86_400_000L + random.nextLong(86_400_000L);
            assertThat(text(millis)).as("%d", millis).isEqualTo(Instant.ofEpochMilli(millis).toString());
        }
    }

    @Test
    void leavesInstantsOutsideThoseYearsToInstantToString() {
        char[] out = new char[InstantText.MAX_LENGTH];
        assertThat(InstantText.write(InstantText.MAX_MILLIS + 1, out)).isEqualTo(-1);
        assertThat(InstantText.write(InstantText.MIN_MILLIS - 1, out)).isEqualTo(-1);
        assertThat(InstantText.write(Long.MAX_VALUE, out)).isEqualTo(-1);
        assertThat(InstantText.write(Long.MIN_VALUE, out)).isEqualTo(-1);
        assertThat(out).containsOnly('\0');
    }
}

package io.github.cohortsync.connect.record;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.time.DateTimeException;
import java.time.Instant;
import java.time.ZoneOffset;
import java.time.format.DateTimeFormatter;
import java.util.Random;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

class IsoTimestampsTest {

    @ParameterizedTest
    @ValueSource(strings = {
        "2024-05-01T12:00:00Z", "1970-01-01T00:00:00Z", "9999-12-31T23:59:59.999Z", "0001-01-01T00:00:00Z",
        "2024-02-29T23:59:59Z", "2000-02-29T00:00:00Z", "2024-05-01T12:00:00.5Z", "2024-05-01T12:00:00.12Z",
        "2024-05-01T12:00:00.123Z", "2024-05-01T12:00:00.1239Z", "2024-05-01T12:00:00.123456789Z",
        "2024-05-01T12:00:00+05:30", "2024-05-01T12:00:00-08:00", "2024-05-01T12:00:00.250+00:00",
        "1970-01-01T00:00:00+18:00", "1970-01-01T00:00:00-18:00", "1969-12-31T23:59:59.999Z",
        "2024-05-01T12:00:00", "2024-05-01T12:00:00.007"})
    void readsTheCommonShapeDirectlyAndAsTheFormatterDoes(String text) {
        long direct = IsoTimestamps.fastPath(text);

        assertThat(direct).isNotEqualTo(IsoTimestamps.NOT_COMMON).isEqualTo(IsoTimestamps.withFormatter(text));
        assertThat(IsoTimestamps.toEpochMillis(text)).isEqualTo(direct);
    }

    @ParameterizedTest
    @ValueSource(strings = {
        "2024-05-01T12:00Z", "2024-05-01T12:00:00+05:30:15", "2024-05-01T12:00:00+01:00[Europe/Paris]",
        "2024-05-01T12:00:00Z[UTC]", "+12024-05-01T12:00:00Z",
        "2024-05-01T12:00:00.Z"})
    void leavesOtherIsoShapesToTheFormatter(String text) {
        assertThat(IsoTimestamps.fastPath(text)).isEqualTo(IsoTimestamps.NOT_COMMON);
        assertThat(IsoTimestamps.toEpochMillis(text)).isEqualTo(IsoTimestamps.withFormatter(text));
    }

    @ParameterizedTest
    @ValueSource(strings = {
        "2023-02-29T00:00:00Z", "2024-04-31T00:00:00Z", "2024-13-01T00:00:00Z", "2024-00-10T00:00:00Z",
        "2024-05-00T00:00:00Z", "2024-05-01T24:00:00Z", "2024-05-01T12:60:00Z", "2024-05-01T12:00:60Z",
        "2024-05-01T12:00:00+19:00", "2024-05-01T12:00:00+05:60",
        "2024-05-01T12:00:00.1234567890Z", "2024-05-01T12:00:00ZZ", "2024-05-01T12:00:00 Z", "2024-5-01T12:00:00Z",
        "2024-05-01 12:00:00Z", "2024-05-01T1a:00:00Z", "2024-05-01T12:00:00+0530", "2024-05-01", "yesterday", ""})
    void rejectsWhatIsNoIsoDateTime(String text) {
        assertThat(IsoTimestamps.fastPath(text)).isEqualTo(IsoTimestamps.NOT_COMMON);
        assertThatThrownBy(() -> IsoTimestamps.toEpochMillis(text)).isInstanceOf(DateTimeException.class);
    }

    @Test
    void agreesWithTheFormatterOnManyInstantsOffsetsAndFractions() {
        Random random = new Random(7);
        DateTimeFormatter[] shapes = {
            DateTimeFormatter.ofPattern("uuuu-MM-dd'T'HH:mm:ssXXX"),
            DateTimeFormatter.ofPattern("uuuu-MM-dd'T'HH:mm:ss.SSSXXX"),
            DateTimeFormatter.ofPattern("uuuu-MM-dd'T'HH:mm:ss.SSSSSSXXX"),
            DateTimeFormatter.ofPattern("uuuu-MM-dd'T'HH:mm:ss.S"),
            DateTimeFormatter.ofPattern("uuuu-MM-dd'T'HH:mm:ss"),
        };
        for (int i = 0; i < 20_000; i++) {
            Instant instant = Instant.ofEpochSecond(random.nextLong(-2_000_000_000L, 253_402_300_799L),
                    random.nextInt(1_000_000_000));
            ZoneOffset offset = ZoneOffset.ofTotalSeconds(random.nextInt(-18 * 60, 18 * 60 + 1) * 60);
            String text = shapes[i % shapes.length].format(instant.atOffset(offset));

            assertThat(IsoTimestamps.fastPath(text)).as(text).isEqualTo(IsoTimestamps.withFormatter(text));
        }
    }
}

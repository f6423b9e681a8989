package io.github.cohortsync.connect.sync;

import static io.github.cohortsync.connect.Records.change;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.Future;

import org.apache.kafka.connect.errors.ConnectException;
import org.apache.kafka.connect.errors.DataException;
import org.apache.kafka.connect.sink.ErrantRecordReporter;
import org.apache.kafka.connect.sink.SinkRecord;
import org.junit.jupiter.api.Test;

import io.github.cohortsync.connect.destination.Rejection;
import io.github.cohortsync.connect.record.BadRecordException;
import io.github.cohortsync.connect.record.RecordParser;

class DeadLettersTest {
    /** Keeps what it is given; refuses every record when {@code refuse} is set, as converters that cannot write it. */
    private static final class Reporter implements ErrantRecordReporter {
        final List<SinkRecord> records = new ArrayList<>();
        final List<Throwable> errors = new ArrayList<>();
        boolean refuse;

        @Override
        public Future<Void> report(SinkRecord record, Throwable error) {
            if (refuse) {
                throw new DataException("converter cannot write it");
            }
            records.add(record);
            errors.add(error);
            return CompletableFuture.completedFuture(null);
        }
    }

    private final Reporter reporter = new Reporter();
    private final SinkRecord record = change("c1", "u1").at(0, 7).build();
    private final BadRecordException bad = new BadRecordException(record.topic(), 0, 7, "action", "is missing");
    private final Rejection rejection = new Rejection(new RecordParser().parse(record), "invalid member");

    @Test
    void withoutToleranceABadRecordFailsTheTaskNamingWhereAndHowToSkipIt() {
        DeadLetters deadLetters = new DeadLetters(reporter, false);

        assertThatThrownBy(() -> deadLetters.badRecord(record, bad)).isInstanceOf(ConnectException.class)
                .hasMessageContaining("offset 7").hasMessageContaining("errors.tolerance=all");
        assertThat(reporter.records).isEmpty();
    }

    @Test
    void withToleranceABadRecordGoesToTheReporterOrIsSkippedWithoutOne() {
        new DeadLetters(reporter, true).badRecord(record, bad);
        new DeadLetters(null, true).badRecord(record, bad);

        assertThat(reporter.records).containsExactly(record);
        assertThat(reporter.errors).containsExactly(bad);
    }

    @Test
    void rejectedMembersAreReportedAsReplayableRecordsOnlyWhenErrorsAreTolerated() {
        new DeadLetters(reporter, false).rejected(List.of(rejection));
        assertThat(reporter.records).as("errors.tolerance=none: logged only").isEmpty();

        new DeadLetters(reporter, true).rejected(List.of(rejection));

        assertThat(reporter.records).singleElement()
                .satisfies(replay -> assertThat(replay.kafkaOffset()).isEqualTo(7));
        assertThat(reporter.errors.get(0).getMessage()).contains("cohort c1").contains("invalid member");
    }

    @Test
    void aRejectionTheConvertersCannotWriteIsLoggedAndDoesNotFailTheTask() {
        reporter.refuse = true;

        new DeadLetters(reporter, true).rejected(List.of(rejection));

        assertThat(reporter.records).isEmpty();
    }
}

package io.github.cohortsync.connect.report;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.util.List;
import java.util.Map;

import org.apache.kafka.clients.producer.MockProducer;
import org.apache.kafka.common.errors.RecordTooLargeException;
import org.apache.kafka.common.serialization.ByteArraySerializer;
import org.apache.kafka.connect.errors.ConnectException;
import org.junit.jupiter.api.Test;

import io.github.cohortsync.connect.record.Action;
import io.github.cohortsync.connect.record.CohortRef;
import io.github.cohortsync.connect.record.MembershipChange;

/** Epochs: acknowledged only when every record of them and of the epochs before them was; failures name the topic. */
class ReportWriterTest {
    private final MockProducer<byte[], byte[]> producer = new MockProducer<>(false, null, new ByteArraySerializer(),
            new ByteArraySerializer());
    private final ReportWriter writer = new ReportWriter(producer, "cohort-report",
            new ReportRecords("conn", "0", "webhook", false));

    private static MemberOutcome outcome(String id) {
        return MemberOutcome.nettedAway(new MembershipChange(new CohortRef("7", "C", null, null), id, Action.ADD,
                null, null, null, null, Map.of(), 0, "t", 0, 1), 0);
    }

    @Test
    void anEpochIsAcknowledgedOnlyOnceItsRecordsAndEarlierOnesAre() {
        writer.write(outcome("a"));
        ReportWriter.Epoch first = writer.mark();
        writer.write(outcome("b"));
        ReportWriter.Epoch second = writer.mark();

        assertThat(writer.acknowledged(first)).isFalse();
        assertThat(writer.acknowledged(second)).isFalse();
        assertThat(producer.completeNext()).isTrue();
        assertThat(writer.acknowledged(first)).isTrue();
        assertThat(writer.acknowledged(second)).isFalse();
        assertThat(producer.completeNext()).isTrue();
        assertThat(writer.acknowledged(second)).isTrue();
        assertThat(producer.history()).hasSize(2);
    }

    @Test
    void anEmptyEpochIsAcknowledgedAtOnceUnlessAnEarlierOneWaits() {
        ReportWriter.Epoch empty = writer.mark();
        assertThat(writer.acknowledged(empty)).isTrue();

        writer.write(outcome("a"));
        ReportWriter.Epoch waiting = writer.mark();
        ReportWriter.Epoch emptyAfter = writer.mark();
        assertThat(writer.acknowledged(emptyAfter)).isFalse();
        producer.completeNext();
        assertThat(writer.acknowledged(waiting)).isTrue();
        assertThat(writer.acknowledged(emptyAfter)).isTrue();
    }

    @Test
    void aRefusedRecordFailsWithTheTopicAndItsEpochIsNeverAcknowledged() {
        writer.write(outcome("a"));
        ReportWriter.Epoch epoch = writer.mark();
        producer.errorNext(new RecordTooLargeException("The message is 300 bytes when serialized"));

        assertThat(writer.acknowledged(epoch)).isFalse();
        assertThatThrownBy(writer::throwIfFailed).isInstanceOf(ConnectException.class)
                .hasMessageContaining("report topic cohort-report cannot be written")
                .hasMessageContaining("RecordTooLargeException");
        ReportWriter.Epoch later = writer.mark();
        assertThat(writer.acknowledged(later)).isFalse();
    }

    @Test
    void aClosedProducerFailsTheWriterInsteadOfLosingTheRecord() {
        producer.close();
        writer.write(outcome("a"));

        assertThatThrownBy(writer::throwIfFailed).hasMessageContaining("cohort-report");
        assertThat(List.copyOf(producer.history())).isEmpty();
    }
}

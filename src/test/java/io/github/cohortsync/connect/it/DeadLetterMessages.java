package io.github.cohortsync.connect.it;

import java.nio.charset.StandardCharsets;
import java.util.Map;
import java.util.TreeMap;

import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.ConsumerRecords;
import org.apache.kafka.common.header.Header;

/** What a dead letter queue holds, as the worker's context headers tell it. */
final class DeadLetterMessages {
    private DeadLetterMessages() {
    }

    /**
     * Reads {@code count} dead letters (within the harness timeout) and returns each one's exception message by the
     * offset of the record it stands for ({@code __connect.errors.offset}).
     */
    static Map<String, String> byOffset(ConnectHarness harness, String dlq, int count) {
        ConsumerRecords<byte[], byte[]> dead = harness.connect().kafka().consume(count,
                ConnectHarness.TIMEOUT.toMillis(), dlq);
        Map<String, String> messages = new TreeMap<>();
        dead.forEach(r -> messages.put(header(r, "__connect.errors.offset"),
                header(r, "__connect.errors.exception.message")));
        return messages;
    }

    static String header(ConsumerRecord<byte[], byte[]> record, String name) {
        Header header = record.headers().lastHeader(name);
        return header == null ? null : new String(header.value(), StandardCharsets.UTF_8);
    }
}

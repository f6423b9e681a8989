package io.github.cohortsync.connect.report;

import java.time.Duration;
import java.util.ArrayDeque;
import java.util.Deque;
import java.util.HashMap;
import java.util.Map;
import java.util.concurrent.atomic.AtomicInteger;

import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.Producer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.KafkaException;
import org.apache.kafka.common.serialization.ByteArraySerializer;
import org.apache.kafka.connect.errors.ConnectException;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Writes report records to the report topic without waiting for them, and says which were acknowledged: every
 * record belongs to the epoch open when it was sent; {@link #mark} closes that epoch, and {@link #acknowledged}
 * turns true once every record of it and of the epochs before it was acknowledged by the broker. Offsets handed over
 * with a mark are committed only then. A record the broker refuses (or that cannot be sent) fails the task with a
 * message naming the topic, and its epoch is never acknowledged, so no offset moves past a gap in the report.
 * Thread-safe: pages settle on the sender's threads, netting and skips on the task thread.
 */
public final class ReportWriter implements AutoCloseable {
    private static final Logger log = LoggerFactory.getLogger(ReportWriter.class);
    /** How long start may wait for the topic's metadata unless report.producer.max.block.ms says otherwise. */
    private static final int DEFAULT_MAX_BLOCK_MS = 30_000;

    /** The records of one epoch not yet acknowledged. */
    public static final class Epoch {
        private final AtomicInteger unacknowledged = new AtomicInteger();
        private volatile boolean failed;

        private boolean done() {
            return !failed && unacknowledged.get() == 0;
        }
    }

    private final Producer<byte[], byte[]> producer;
    private final String topic;
    private final ReportRecords records;
    /** Closed epochs whose records are not all acknowledged yet, oldest first. */
    private final Deque<Epoch> closed = new ArrayDeque<>();
    private Epoch open = new Epoch();
    private volatile ConnectException failure;

    public ReportWriter(Producer<byte[], byte[]> producer, String topic, ReportRecords records) {
        this.producer = producer;
        this.topic = topic;
        this.records = records;
    }

    /**
     * A writer with a producer of the given settings (report.producer.* and the bootstrap servers), acks=all and
     * idempotence unless overridden. Checks the topic exists and can be described before the task starts.
     *
     * @throws ConnectException naming the topic when its metadata cannot be read
     */
    public static ReportWriter open(Map<String, Object> settings, String clientId, String topic,
                                    ReportRecords records) {
        Map<String, Object> config = new HashMap<>();
        config.put(ProducerConfig.ACKS_CONFIG, "all");
        config.put(ProducerConfig.ENABLE_IDEMPOTENCE_CONFIG, true);
        config.put(ProducerConfig.MAX_BLOCK_MS_CONFIG, DEFAULT_MAX_BLOCK_MS);
        config.put(ProducerConfig.CLIENT_ID_CONFIG, clientId);
        config.putAll(settings);
        config.put(ProducerConfig.KEY_SERIALIZER_CLASS_CONFIG, ByteArraySerializer.class.getName());
        config.put(ProducerConfig.VALUE_SERIALIZER_CLASS_CONFIG, ByteArraySerializer.class.getName());
        KafkaProducer<byte[], byte[]> producer;
        try {
            producer = new KafkaProducer<>(config);
        } catch (KafkaException e) {
            throw new ConnectException("Could not create the producer of the report topic " + topic + ": "
                    + e.getMessage() + ". Check report.bootstrap.servers and the report.producer.* settings.", e);
        }
        try {
            // Fetches the topic's metadata now, so a missing topic fails the start, not a send on the task thread.
            producer.partitionsFor(topic);
        } catch (KafkaException e) {
            producer.close(Duration.ZERO);
            throw new ConnectException(unwritable(topic, e), e);
        }
        return new ReportWriter(producer, topic, records);
    }

    private static String unwritable(String topic, Exception e) {
        return "The report topic " + topic + " cannot be written: " + e.getClass().getSimpleName() + ": "
                + e.getMessage() + ". Create the topic (or allow this connector's principal to write it) and restart"
                + " the task; nothing past the last reported changes was committed.";
    }

    /**
     * Sends the outcome's record; never waits for its acknowledgement (only, as any producer, for room in its buffer,
     * up to max.block.ms). The lock is not held while sending, so a full buffer never holds up {@link #mark}.
     */
    public void write(MemberOutcome outcome) {
        if (failure != null) {
            return;
        }
        Epoch epoch;
        synchronized (this) {
            // Counted in the open epoch before it can be closed: a mark taken meanwhile waits for this record.
            epoch = open;
            epoch.unacknowledged.incrementAndGet();
        }
        ProducerRecord<byte[], byte[]> record = new ProducerRecord<>(topic, records.key(outcome),
                records.value(outcome));
        try {
            producer.send(record, (metadata, exception) -> {
                if (exception == null) {
                    epoch.unacknowledged.decrementAndGet();
                } else {
                    fail(epoch, exception);
                }
            });
        } catch (KafkaException | IllegalStateException e) {
            fail(epoch, e);
        }
    }

    private void fail(Epoch epoch, Exception e) {
        epoch.failed = true;
        if (failure == null) {
            failure = new ConnectException(unwritable(topic, e), e);
            log.error("{}", failure.getMessage());
        }
    }

    /** Closes the open epoch: the records written so far. */
    public synchronized Epoch mark() {
        Epoch epoch = open;
        closed.addLast(epoch);
        open = new Epoch();
        return epoch;
    }

    /** True once every record of this epoch and of every epoch closed before it was acknowledged. */
    public synchronized boolean acknowledged(Epoch epoch) {
        while (!closed.isEmpty() && closed.peekFirst().done()) {
            closed.removeFirst();
        }
        return !epoch.failed && !closed.contains(epoch);
    }

    /** Throws the first failure to write a record, once there is one. */
    public void throwIfFailed() {
        if (failure != null) {
            throw failure;
        }
    }

    /** Closes the producer, giving records in flight a bounded wait; those not acknowledged were not committed. */
    @Override
    public void close() {
        try {
            producer.close(Duration.ofSeconds(5));
        } catch (KafkaException e) {
            log.warn("Closing the producer of the report topic {}: {}", topic, e.toString());
        }
    }
}

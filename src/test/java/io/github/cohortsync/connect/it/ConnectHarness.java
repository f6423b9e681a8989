package io.github.cohortsync.connect.it;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collection;
import java.util.Comparator;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.stream.Collectors;

import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.OffsetSpec;
import org.apache.kafka.clients.consumer.OffsetAndMetadata;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.clients.producer.RecordMetadata;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.connect.runtime.rest.entities.ConnectorStateInfo;
import org.apache.kafka.connect.util.clusters.EmbeddedConnectCluster;
import org.awaitility.Awaitility;
import org.awaitility.core.ConditionFactory;

/**
 * A real KRaft broker and real Connect worker(s) in the test JVM (no Docker), with a producer and an admin client,
 * plus the helpers the integration tests share: unique topics, connector configs, committed offsets, task states.
 */
public final class ConnectHarness implements AutoCloseable {
    /** The bound of every wait in these tests. */
    public static final Duration TIMEOUT = Duration.ofSeconds(60);

    private static final AtomicInteger SEQUENCE = new AtomicInteger();
    /** The delivery journal's directory for this test JVM, so that no journal outlives its run. */
    private static final Path JOURNAL_DIR = journalDir();
    private static final Comparator<TopicPartition> PARTITION_ORDER =
            Comparator.comparing(TopicPartition::topic).thenComparingInt(TopicPartition::partition);

    private final String name;
    private final Map<String, String> workerProps;
    private final EmbeddedConnectCluster connect;
    private final KafkaProducer<byte[], byte[]> producer;
    private final Admin admin;
    private final Set<String> topicsWithLeaders = ConcurrentHashMap.newKeySet();

    private ConnectHarness(String name, Map<String, String> workerProps, EmbeddedConnectCluster connect) {
        this.name = name;
        this.workerProps = Map.copyOf(workerProps);
        this.connect = connect;
        this.producer = connect.kafka().createProducer(Map.of(
                ProducerConfig.ACKS_CONFIG, "all",
                ProducerConfig.LINGER_MS_CONFIG, 5,
                ProducerConfig.ENABLE_IDEMPOTENCE_CONFIG, true));
        this.admin = connect.kafka().createAdminClient();
    }

    /** Starts one broker and {@code workers} Connect workers that commit offsets every second. */
    public static ConnectHarness start(String name, int workers) {
        return start(name, workers, Map.of());
    }

    public static ConnectHarness start(String name, int workers, Map<String, String> extraWorkerProps) {
        Map<String, String> workerProps = new HashMap<>();
        workerProps.put("offset.flush.interval.ms", "1000");
        workerProps.put("offset.flush.timeout.ms", "5000");
        // Plugins are found through their ServiceLoader manifests only: fast (no classpath scan), and the way
        // workers are recommended to run; a connector jar without its manifest fails these tests.
        workerProps.put("plugin.discovery", "service_load");
        workerProps.putAll(extraWorkerProps);
        // A copy for forked workers: the cluster adds its own keys (listeners, group and topic names) to the map.
        Map<String, String> requested = Map.copyOf(workerProps);
        EmbeddedConnectCluster connect = new EmbeddedConnectCluster.Builder()
                .name(name)
                .numWorkers(workers)
                .numBrokers(1)
                .workerProps(workerProps)
                .build();
        connect.start();
        try {
            connect.assertions().assertAtLeastNumWorkersAreUp(workers, "Connect workers did not start");
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException(e);
        }
        return new ConnectHarness(name, requested, connect);
    }

    /** The cluster's name, from which EmbeddedConnectCluster derives its group and topic names. */
    public String name() {
        return name;
    }

    /** The worker properties this cluster was asked for (the defaults and the extra ones). */
    public Map<String, String> workerProps() {
        return workerProps;
    }

    public EmbeddedConnectCluster connect() {
        return connect;
    }

    public Admin admin() {
        return admin;
    }

    /** A bounded wait, polling every 100 ms. */
    public static ConditionFactory await() {
        return Awaitility.await().atMost(TIMEOUT).pollDelay(Duration.ZERO).pollInterval(Duration.ofMillis(100));
    }

    /** A name no other test in this JVM uses, for topics and connectors. */
    public static String uniqueName(String prefix) {
        return prefix + "-" + SEQUENCE.incrementAndGet();
    }

    /** A new compacted topic of one partition: its first run is a full sync. */
    public String createCompactedTopic(String prefix) {
        String topic = uniqueName(prefix);
        connect.kafka().createTopic(topic, 1, 1, Map.of("cleanup.policy", "compact"));
        return topic;
    }

    public String createTopic(String prefix, int partitions) {
        String topic = uniqueName(prefix);
        connect.kafka().createTopic(topic, partitions);
        return topic;
    }

    /**
     * Waits until the producer knows a leader for every partition of the topic: on a loaded machine a send to a
     * topic created a moment ago could otherwise wait for metadata until its batch expired (seen in CI as "Expiring
     * N record(s) ... since batch creation").
     */
    private void awaitLeaders(String topic) {
        if (topicsWithLeaders.contains(topic)) {
            return;
        }
        Awaitility.await("leaders of " + topic).atMost(TIMEOUT).pollInterval(Duration.ofMillis(100))
                .until(() -> {
                    var partitions = producer.partitionsFor(topic);
                    return !partitions.isEmpty()
                            && partitions.stream().allMatch(p -> p.leader() != null && !p.leader().isEmpty());
                });
        topicsWithLeaders.add(topic);
    }

    /** Produces the records in order and waits until all are acknowledged. */
    public void produce(String topic, Collection<MembershipRecord> records) {
        awaitLeaders(topic);
        List<Future<RecordMetadata>> sent = new ArrayList<>(records.size());
        for (MembershipRecord r : records) {
            sent.add(producer.send(new ProducerRecord<>(topic, r.partition(), bytes(r.keyJson()),
                    bytes(r.valueJson()))));
        }
        producer.flush();
        for (Future<RecordMetadata> future : sent) {
            try {
                future.get(TIMEOUT.toMillis(), TimeUnit.MILLISECONDS);
            } catch (Exception e) {
                throw new IllegalStateException("Could not produce to " + topic, e);
            }
        }
    }

    public void produce(String topic, MembershipRecord... records) {
        produce(topic, List.of(records));
    }

    /** The delivery journal directory of this test JVM's connectors. */
    public static Path journalDirectory() {
        return JOURNAL_DIR;
    }

    private static Path journalDir() {
        try {
            Path dir = Files.createTempDirectory("cohort-sync-journal-");
            dir.toFile().deleteOnExit();
            return dir;
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /** Creates the connector and waits until it and {@code tasks} tasks run. */
    public void startConnector(String name, Map<String, String> config, int tasks) throws InterruptedException {
        connect.configureConnector(name, config);
        connect.assertions().assertConnectorAndExactlyNumTasksAreRunning(name, tasks,
                "Connector " + name + " did not start with " + tasks + " running tasks");
    }

    /** Deletes the connector if it exists; best effort, for clean-up. */
    public void deleteConnectorQuietly(String name) {
        try {
            if (connect.connectors().contains(name)) {
                connect.deleteConnector(name);
                connect.assertions().assertConnectorDoesNotExist(name, "Connector " + name + " was not deleted");
            }
        } catch (Exception e) {
            // the next test uses other names
        }
    }

    public List<ConnectorStateInfo.TaskState> tasks(String connector) {
        return connect.connectorStatus(connector).tasks();
    }

    /** Asserts that the connector and every one of its tasks is RUNNING right now. */
    public void assertAllRunning(String connector) {
        ConnectorStateInfo status = connect.connectorStatus(connector);
        assertThat(status.connector().state()).as("connector state").isEqualTo("RUNNING");
        assertThat(status.tasks()).as("tasks of " + connector).isNotEmpty()
                .allSatisfy(t -> assertThat(t.state()).as("task %d state (trace: %s)", t.id(), t.trace())
                        .isEqualTo("RUNNING"));
    }

    /** Waits until task 0 of the connector is FAILED and returns its trace. */
    public String awaitTaskFailed(String connector) {
        return await().until(() -> {
            List<ConnectorStateInfo.TaskState> tasks = tasks(connector);
            return tasks.isEmpty() || !"FAILED".equals(tasks.get(0).state()) ? null : tasks.get(0).trace();
        }, trace -> trace != null);
    }

    /** The log-end offset of each partition of the topic. */
    public Map<TopicPartition, Long> endOffsets(String topic) {
        try {
            int partitions = admin.describeTopics(Set.of(topic)).allTopicNames().get(30, TimeUnit.SECONDS)
                    .get(topic).partitions().size();
            Map<TopicPartition, OffsetSpec> request = new HashMap<>();
            for (int p = 0; p < partitions; p++) {
                request.put(new TopicPartition(topic, p), OffsetSpec.latest());
            }
            return admin.listOffsets(request).all().get(30, TimeUnit.SECONDS).entrySet().stream()
                    .collect(Collectors.toMap(Map.Entry::getKey, e -> e.getValue().offset(), (a, b) -> a,
                            () -> new TreeMap<>(PARTITION_ORDER)));
        } catch (Exception e) {
            throw new IllegalStateException("Could not read the end offsets of " + topic, e);
        }
    }

    /**
     * The offsets the connector's consumer group ({@code connect-<name>}) committed for the topic's partitions;
     * partitions without a commit are left out.
     */
    public Map<TopicPartition, Long> committedOffsets(String connector, String topic) {
        try {
            Map<TopicPartition, OffsetAndMetadata> offsets = admin.listConsumerGroupOffsets("connect-" + connector)
                    .partitionsToOffsetAndMetadata().get(30, TimeUnit.SECONDS);
            Map<TopicPartition, Long> result = new TreeMap<>(PARTITION_ORDER);
            offsets.forEach((tp, om) -> {
                if (om != null && tp.topic().equals(topic)) {
                    result.put(tp, om.offset());
                }
            });
            return result;
        } catch (Exception e) {
            throw new IllegalStateException("Could not read the committed offsets of connector " + connector, e);
        }
    }

    /** Waits until the connector's committed offsets equal the topic's end offsets on every partition. */
    public void awaitCommittedToEnd(String connector, String topic) {
        Map<TopicPartition, Long> end = endOffsets(topic);
        await().alias("committed offsets of " + connector + " reach " + end)
                .until(() -> committedOffsets(connector, topic), end::equals);
    }

    /** The sum over partitions of the committed offsets (0 when nothing was committed). */
    public long committedTotal(String connector, String topic) {
        return committedOffsets(connector, topic).values().stream().mapToLong(Long::longValue).sum();
    }

    public long endTotal(String topic) {
        return endOffsets(topic).values().stream().mapToLong(Long::longValue).sum();
    }

    @Override
    public void close() {
        try {
            producer.close(Duration.ofSeconds(5));
        } catch (Exception e) {
            // best effort
        }
        try {
            admin.close(Duration.ofSeconds(5));
        } catch (Exception e) {
            // best effort
        }
        connect.stop();
    }

    private static byte[] bytes(String text) {
        return text == null ? null : text.getBytes(StandardCharsets.UTF_8);
    }
}

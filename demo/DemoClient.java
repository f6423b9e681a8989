/*
 * The demo's Kafka client (demo/run.sh), a single file run against the worker's kafka-clients jar:
 *
 *   java -cp 'kafka-libs/*' demo/DemoClient.java create-topic <bootstrap> <topic> <partitions> [compact]
 *   java -cp 'kafka-libs/*' demo/DemoClient.java produce      <bootstrap> <topic> <file>
 *   java -cp 'kafka-libs/*' demo/DemoClient.java end-offsets  <bootstrap> <topic>
 *   java -cp 'kafka-libs/*' demo/DemoClient.java lag          <bootstrap> <group> <topic>
 *
 * produce reads one record per line: the key (a flat JSON object, up to its first '}'), then the value
 * (a JSON document, or null for a tombstone). Blank lines and lines starting with '#' are skipped.
 * end-offsets prints the sum of the topic's end offsets; lag prints how many records of the topic
 * the consumer group has not committed yet.
 */

import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.AdminClientConfig;
import org.apache.kafka.clients.admin.NewTopic;
import org.apache.kafka.clients.admin.OffsetSpec;
import org.apache.kafka.clients.admin.TopicDescription;
import org.apache.kafka.clients.consumer.OffsetAndMetadata;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.clients.producer.RecordMetadata;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.errors.TopicExistsException;
import org.apache.kafka.common.serialization.StringSerializer;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;

public class DemoClient {

    public static void main(String[] args) throws Exception {
        if (args.length < 3) {
            usage();
        }
        String bootstrap = args[1];
        switch (args[0]) {
            case "create-topic" -> createTopic(bootstrap, args[2], Integer.parseInt(arg(args, 3)),
                    args.length > 4 && "compact".equals(args[4]));
            case "produce" -> produce(bootstrap, args[2], Path.of(arg(args, 3)));
            case "end-offsets" -> {
                try (Admin admin = admin(bootstrap)) {
                    System.out.println(endOffsets(admin, args[2]).values().stream().mapToLong(Long::longValue).sum());
                }
            }
            case "lag" -> lag(bootstrap, args[2], arg(args, 3));
            default -> usage();
        }
    }

    private static void createTopic(String bootstrap, String topic, int partitions, boolean compact)
            throws Exception {
        try (Admin admin = admin(bootstrap)) {
            NewTopic newTopic = new NewTopic(topic, partitions, (short) 1);
            if (compact) {
                newTopic.configs(Map.of("cleanup.policy", "compact"));
            }
            admin.createTopics(List.of(newTopic)).all().get(30, TimeUnit.SECONDS);
            System.out.printf("created topic %s (%d partitions%s)%n", topic, partitions, compact ? ", compacted" : "");
        } catch (ExecutionException e) {
            if (!(e.getCause() instanceof TopicExistsException)) {
                throw e;
            }
            System.out.printf("topic %s already exists%n", topic);
        }
    }

    private static void produce(String bootstrap, String topic, Path file) throws Exception {
        Properties props = new Properties();
        props.put(ProducerConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrap);
        props.put(ProducerConfig.ACKS_CONFIG, "all");
        props.put(ProducerConfig.KEY_SERIALIZER_CLASS_CONFIG, StringSerializer.class.getName());
        props.put(ProducerConfig.VALUE_SERIALIZER_CLASS_CONFIG, StringSerializer.class.getName());
        props.put(ProducerConfig.MAX_BLOCK_MS_CONFIG, "30000");
        int count = 0;
        KafkaProducer<String, String> producer = new KafkaProducer<>(props);
        try {
            for (String line : Files.readAllLines(file, StandardCharsets.UTF_8)) {
                String trimmed = line.strip();
                if (trimmed.isEmpty() || trimmed.startsWith("#")) {
                    continue;
                }
                int keyEnd = trimmed.indexOf('}');
                if (!trimmed.startsWith("{") || keyEnd < 0) {
                    throw new IllegalArgumentException("not '<key object> <value>': " + line);
                }
                String key = trimmed.substring(0, keyEnd + 1);
                String value = trimmed.substring(keyEnd + 1).strip();
                if ("null".equals(value)) {
                    value = null;
                }
                RecordMetadata meta = producer.send(new ProducerRecord<>(topic, key, value)).get(30, TimeUnit.SECONDS);
                count++;
                System.out.printf("  %s-%d@%d  %s  %s%n", meta.topic(), meta.partition(), meta.offset(), key,
                        value == null ? "null (tombstone)" : abbreviate(value));
            }
        } finally {
            producer.close(Duration.ofSeconds(10));
        }
        System.out.printf("produced %d records to %s%n", count, topic);
    }

    private static void lag(String bootstrap, String group, String topic) throws Exception {
        try (Admin admin = admin(bootstrap)) {
            Map<TopicPartition, OffsetAndMetadata> committed =
                    admin.listConsumerGroupOffsets(group).partitionsToOffsetAndMetadata().get(30, TimeUnit.SECONDS);
            long lag = 0;
            for (Map.Entry<TopicPartition, Long> end : endOffsets(admin, topic).entrySet()) {
                OffsetAndMetadata done = committed.get(end.getKey());
                lag += end.getValue() - (done == null ? 0 : done.offset());
            }
            System.out.println(lag);
        }
    }

    private static Map<TopicPartition, Long> endOffsets(Admin admin, String topic) throws Exception {
        TopicDescription description =
                admin.describeTopics(List.of(topic)).allTopicNames().get(30, TimeUnit.SECONDS).get(topic);
        Map<TopicPartition, OffsetSpec> request = new HashMap<>();
        description.partitions().forEach(p -> request.put(new TopicPartition(topic, p.partition()), OffsetSpec.latest()));
        Map<TopicPartition, Long> ends = new HashMap<>();
        admin.listOffsets(request).all().get(30, TimeUnit.SECONDS).forEach((tp, info) -> ends.put(tp, info.offset()));
        return ends;
    }

    private static Admin admin(String bootstrap) {
        Properties props = new Properties();
        props.put(AdminClientConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrap);
        props.put(AdminClientConfig.DEFAULT_API_TIMEOUT_MS_CONFIG, "30000");
        return Admin.create(props);
    }

    private static String abbreviate(String value) {
        return value.length() <= 110 ? value : value.substring(0, 107) + "...";
    }

    private static String arg(String[] args, int index) {
        if (index >= args.length) {
            usage();
        }
        return args[index];
    }

    private static void usage() {
        System.err.println("usage: DemoClient create-topic <bootstrap> <topic> <partitions> [compact]\n"
                + "       DemoClient produce <bootstrap> <topic> <file>\n"
                + "       DemoClient end-offsets <bootstrap> <topic>\n"
                + "       DemoClient lag <bootstrap> <group> <topic>");
        System.exit(2);
    }
}

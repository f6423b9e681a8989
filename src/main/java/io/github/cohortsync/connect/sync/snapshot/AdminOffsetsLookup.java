package io.github.cohortsync.connect.sync.snapshot;

import java.time.Duration;
import java.util.Collection;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;

import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.Config;
import org.apache.kafka.clients.admin.ConfigEntry;
import org.apache.kafka.clients.admin.ListOffsetsResult.ListOffsetsResultInfo;
import org.apache.kafka.clients.admin.OffsetSpec;
import org.apache.kafka.clients.admin.TopicDescription;
import org.apache.kafka.clients.consumer.OffsetAndMetadata;
import org.apache.kafka.common.KafkaException;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.Uuid;
import org.apache.kafka.common.config.ConfigResource;
import org.apache.kafka.common.config.TopicConfig;
import org.apache.kafka.connect.errors.ConnectException;

import io.github.cohortsync.connect.sync.snapshot.SnapshotPlan.PartitionOffsets;

/** Reads offsets with a Kafka admin client, each call bounded by a timeout. */
public final class AdminOffsetsLookup implements OffsetsLookup {
    private static final String HINT = "check snapshot.bootstrap.servers and the snapshot.admin.* security settings";

    private final Admin admin;
    private final String groupId;
    private final Duration timeout;
    private final String servers;

    private AdminOffsetsLookup(Admin admin, String groupId, Duration timeout, String servers) {
        this.admin = admin;
        this.groupId = groupId;
        this.timeout = timeout;
        this.servers = servers;
    }

    /** An admin client for the cluster in {@code adminConfig}; fails clearly when it cannot be built. */
    public static AdminOffsetsLookup create(Map<String, Object> adminConfig, String groupId, Duration timeout) {
        Map<String, Object> config = new HashMap<>(adminConfig);
        config.putIfAbsent("client.id", "cohort-sync-snapshot-" + groupId);
        config.putIfAbsent("request.timeout.ms", (int) timeout.toMillis());
        config.putIfAbsent("default.api.timeout.ms", (int) timeout.toMillis());
        String servers = String.valueOf(adminConfig.get("bootstrap.servers"));
        try {
            return new AdminOffsetsLookup(Admin.create(config), groupId, timeout, servers);
        } catch (KafkaException e) {
            throw new ConnectException("Could not create the admin client that bounds snapshots (bootstrap servers "
                    + servers + "): " + e.getMessage() + "; " + HINT, e);
        }
    }

    @Override
    public Map<TopicPartition, PartitionOffsets> offsets(Collection<TopicPartition> partitions) {
        if (partitions.isEmpty()) {
            return Map.of();
        }
        Map<TopicPartition, OffsetSpec> earliest = new HashMap<>();
        Map<TopicPartition, OffsetSpec> latest = new HashMap<>();
        for (TopicPartition partition : partitions) {
            earliest.put(partition, OffsetSpec.earliest());
            latest.put(partition, OffsetSpec.latest());
        }
        try {
            Map<TopicPartition, OffsetAndMetadata> committed = admin.listConsumerGroupOffsets(groupId)
                    .partitionsToOffsetAndMetadata().get(timeout.toMillis(), TimeUnit.MILLISECONDS);
            Map<TopicPartition, ListOffsetsResultInfo> starts = admin.listOffsets(earliest).all()
                    .get(timeout.toMillis(), TimeUnit.MILLISECONDS);
            Map<TopicPartition, ListOffsetsResultInfo> ends = admin.listOffsets(latest).all()
                    .get(timeout.toMillis(), TimeUnit.MILLISECONDS);
            Map<TopicPartition, PartitionOffsets> result = new HashMap<>();
            for (TopicPartition partition : partitions) {
                OffsetAndMetadata commit = committed.get(partition);
                result.put(partition, new PartitionOffsets(commit == null ? null : commit.offset(),
                        starts.get(partition).offset(), ends.get(partition).offset()));
            }
            return result;
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new ConnectException("Interrupted while reading the offsets that bound a snapshot", e);
        } catch (ExecutionException | TimeoutException e) {
            Throwable cause = e instanceof ExecutionException && e.getCause() != null ? e.getCause() : e;
            throw new ConnectException("Could not read the committed offsets of consumer group " + groupId
                    + " and the end offsets of " + partitions.size() + " partitions from " + servers + " within "
                    + timeout.toMillis() + " ms: " + cause + "; " + HINT, cause);
        }
    }

    @Override
    public Map<String, TopicFacts> topicFacts(Collection<String> topics) {
        if (topics.isEmpty()) {
            return Map.of();
        }
        try {
            Map<String, TopicDescription> descriptions = admin.describeTopics(topics).allTopicNames()
                    .get(timeout.toMillis(), TimeUnit.MILLISECONDS);
            List<ConfigResource> resources = topics.stream()
                    .map(topic -> new ConfigResource(ConfigResource.Type.TOPIC, topic)).toList();
            Map<ConfigResource, Config> configs = admin.describeConfigs(resources).all()
                    .get(timeout.toMillis(), TimeUnit.MILLISECONDS);
            Map<String, TopicFacts> result = new HashMap<>();
            for (String topic : topics) {
                Config config = configs.get(new ConfigResource(ConfigResource.Type.TOPIC, topic));
                ConfigEntry policy = config == null ? null : config.get(TopicConfig.CLEANUP_POLICY_CONFIG);
                ConfigEntry retention = config == null ? null : config.get(TopicConfig.DELETE_RETENTION_MS_CONFIG);
                result.put(topic, new TopicFacts(topic, descriptions.get(topic).partitions().size(),
                        policy == null ? null : policy.value(),
                        retention == null || retention.value() == null ? null : Long.valueOf(retention.value())));
            }
            return result;
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new ConnectException("Interrupted while describing topics " + topics, e);
        } catch (ExecutionException | TimeoutException | NumberFormatException e) {
            Throwable cause = e instanceof ExecutionException && e.getCause() != null ? e.getCause() : e;
            throw new ConnectException("Could not describe topics " + topics + " and their configs on " + servers
                    + " within " + timeout.toMillis() + " ms: " + cause + "; " + HINT
                    + " (reading topic configs needs the DescribeConfigs ACL on the topic)", cause);
        }
    }

    @Override
    public Map<String, Uuid> topicIds(Collection<String> topics) {
        if (topics.isEmpty()) {
            return Map.of();
        }
        try {
            Map<String, TopicDescription> descriptions = admin.describeTopics(topics).allTopicNames()
                    .get(timeout.toMillis(), TimeUnit.MILLISECONDS);
            Map<String, Uuid> ids = new HashMap<>();
            descriptions.forEach((topic, description) -> ids.put(topic, description.topicId()));
            return ids;
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new ConnectException("Interrupted while reading the ids of topics " + topics, e);
        } catch (ExecutionException | TimeoutException e) {
            Throwable cause = e instanceof ExecutionException && e.getCause() != null ? e.getCause() : e;
            throw new ConnectException("Could not describe topics " + topics + " on " + servers + " within "
                    + timeout.toMillis() + " ms: " + cause + "; " + HINT, cause);
        }
    }

    @Override
    public void close() {
        admin.close(Duration.ofSeconds(5));
    }
}

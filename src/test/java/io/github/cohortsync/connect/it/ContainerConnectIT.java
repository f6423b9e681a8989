package io.github.cohortsync.connect.it;

import static io.github.cohortsync.connect.it.MembershipRecord.add;
import static io.github.cohortsync.connect.it.MembershipRecord.remove;
import static io.github.cohortsync.connect.it.MembershipRecord.user;
import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.serialization.ByteArraySerializer;

import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import org.testcontainers.containers.GenericContainer;
import org.testcontainers.containers.Network;
import org.testcontainers.containers.wait.strategy.Wait;
import org.testcontainers.images.builder.Transferable;
import org.testcontainers.junit.jupiter.Testcontainers;
import org.testcontainers.kafka.KafkaContainer;
import org.testcontainers.utility.DockerImageName;
import org.testcontainers.utility.MountableFile;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;

import io.github.cohortsync.connect.it.standin.WebhookReceiver;

/**
 * The plugin zip in a real Kafka Connect worker in Docker (the apache/kafka image's {@code connect-distributed.sh},
 * Kafka 3.9, the oldest worker the connector supports) next to a KRaft broker container: the worker loads the
 * connector from {@code plugin.path} only (no test classpath), lists it with the project version, and syncs
 * records to the webhook stand-in on the host. Where there is no Docker engine the class is reported skipped
 * ({@code disabledWithoutDocker}); the in-JVM proof of the zip is {@link PluginPackagingIT}.
 */
@Testcontainers(disabledWithoutDocker = true)
class ContainerConnectIT {
    private static final DockerImageName KAFKA_IMAGE = DockerImageName.parse("apache/kafka:3.9.1");
    private static final String HOST_ALIAS = "host.testcontainers.internal";
    private static final ObjectMapper JSON = new ObjectMapper();
    private static final HttpClient HTTP = HttpClient.newHttpClient();

    @TempDir
    static Path pluginPath;

    private static Path pluginDir;

    private Network network;
    private KafkaContainer kafka;
    private GenericContainer<?> worker;
    private WebhookReceiver receiver;

    @BeforeAll
    static void unzipPlugin() throws IOException {
        pluginDir = PluginZip.unzip(pluginPath).stream().findFirst().orElseThrow();
    }

    @AfterEach
    void stopAll() {
        if (receiver != null) {
            receiver.close();
        }
        if (worker != null) {
            worker.stop();
        }
        if (kafka != null) {
            kafka.stop();
        }
        if (network != null) {
            network.close();
        }
    }

    @Test
    void packagedPluginSyncsToTheWebhookInARealWorker() throws Exception {
        receiver = WebhookReceiver.start();
        // The worker container reaches the stand-in on this host through Testcontainers' port forwarding.
        org.testcontainers.Testcontainers.exposeHostPorts(receiver.port());
        network = Network.newNetwork();
        kafka = new KafkaContainer(KAFKA_IMAGE).withNetwork(network).withNetworkAliases("kafka")
                .withListener("kafka:19092");
        kafka.start();
        worker = new GenericContainer<>(KAFKA_IMAGE)
                .withNetwork(network)
                .withAccessToHost(true)
                .withExposedPorts(8083)
                .withCopyFileToContainer(MountableFile.forHostPath(pluginDir), "/opt/plugins/cohort-sync/")
                .withCopyToContainer(Transferable.of(workerProperties()), "/opt/connect/worker.properties")
                .withCommand("/opt/kafka/bin/connect-distributed.sh", "/opt/connect/worker.properties")
                .waitingFor(Wait.forHttp("/connector-plugins").forPort(8083).forStatusCode(200)
                        .withStartupTimeout(Duration.ofMinutes(3)));
        worker.start();
        String rest = "http://" + worker.getHost() + ":" + worker.getMappedPort(8083);

        JsonNode plugins = JSON.readTree(get(rest + "/connector-plugins?connectorsOnly=true"));
        assertThat(plugins.findValuesAsText("class"))
                .contains("io.github.cohortsync.connect.CohortSyncSinkConnector");

        String topic = "membership";
        List<MembershipRecord> records = new ArrayList<>();
        for (int i = 0; i < 50; i++) {
            records.add(add("101", user("c", i)));
        }
        records.add(remove("101", user("c", 7)));
        produce(kafka.getBootstrapServers(), topic, records);

        Map<String, String> config = ConnectorConfig.webhook(topic, receiver.url(HOST_ALIAS))
                // the worker's file system, not this JVM's
                .with("delivery.journal.dir", "/tmp/cohort-sync-journal")
                .build();
        put(rest + "/connectors/container-sync/config", JSON.writeValueAsString(config));

        ConnectHarness.await().atMost(Duration.ofMinutes(2))
                .until(() -> receiver.membership().equals(ExpectedMembership.of(records).asMap()));
        JsonNode status = JSON.readTree(get(rest + "/connectors/container-sync/status"));
        assertThat(status.path("tasks").findValuesAsText("state")).containsOnly("RUNNING");
        assertThat(receiver.violations()).isEmpty();
    }

    private static String workerProperties() {
        return String.join("\n",
                "bootstrap.servers=kafka:19092",
                "group.id=cohort-sync-container-it",
                "offset.storage.topic=connect-offsets",
                "config.storage.topic=connect-configs",
                "status.storage.topic=connect-status",
                "offset.storage.replication.factor=1",
                "config.storage.replication.factor=1",
                "status.storage.replication.factor=1",
                "key.converter=org.apache.kafka.connect.storage.StringConverter",
                "value.converter=org.apache.kafka.connect.storage.StringConverter",
                "offset.flush.interval.ms=1000",
                "listeners=http://0.0.0.0:8083",
                "plugin.path=/opt/plugins",
                "");
    }

    private static void produce(String bootstrapServers, String topic, List<MembershipRecord> records)
            throws Exception {
        try (KafkaProducer<byte[], byte[]> producer = new KafkaProducer<>(Map.of(
                ProducerConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrapServers,
                ProducerConfig.ACKS_CONFIG, "all"), new ByteArraySerializer(), new ByteArraySerializer())) {
            for (MembershipRecord r : records) {
                producer.send(new ProducerRecord<>(topic, bytes(r.keyJson()), bytes(r.valueJson()))).get();
            }
        }
    }

    private static byte[] bytes(String text) {
        return text == null ? null : text.getBytes(StandardCharsets.UTF_8);
    }

    private static String get(String url) throws Exception {
        HttpResponse<String> response = HTTP.send(HttpRequest.newBuilder(URI.create(url))
                .timeout(Duration.ofSeconds(30)).GET().build(), HttpResponse.BodyHandlers.ofString());
        assertThat(response.statusCode()).as("GET %s: %s", url, response.body()).isEqualTo(200);
        return response.body();
    }

    private static void put(String url, String body) throws Exception {
        HttpResponse<String> response = HTTP.send(HttpRequest.newBuilder(URI.create(url))
                .timeout(Duration.ofSeconds(30)).header("Content-Type", "application/json")
                .PUT(HttpRequest.BodyPublishers.ofString(body)).build(), HttpResponse.BodyHandlers.ofString());
        assertThat(response.statusCode()).as("PUT %s: %s", url, response.body()).isIn(200, 201);
    }
}

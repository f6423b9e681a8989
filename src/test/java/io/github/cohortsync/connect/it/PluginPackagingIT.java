package io.github.cohortsync.connect.it;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.net.URI;
import java.net.URL;
import java.net.URLClassLoader;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.ServiceLoader;
import java.util.Set;
import java.util.stream.Stream;

import org.apache.kafka.clients.consumer.OffsetAndMetadata;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.config.Config;
import org.apache.kafka.common.metrics.PluginMetrics;
import org.apache.kafka.connect.sink.SinkConnector;
import org.apache.kafka.connect.sink.SinkRecord;
import org.apache.kafka.connect.sink.SinkTask;
import org.apache.kafka.connect.sink.SinkTaskContext;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;

import io.github.cohortsync.connect.CohortSyncSinkConnector;
import io.github.cohortsync.connect.it.standin.WebhookReceiver;

/**
 * Proves the Confluent-Hub-style zip that {@code mvn package} leaves under {@code target/}: its {@code lib/} alone
 * runs the connector (loaded apart from the test classpath), and a worker whose {@code plugin.path} holds the
 * unzipped archive lists the connector with the project version. Skipped when the zip has not been built.
 */
class PluginPackagingIT {
    private static final String CONNECTOR = CohortSyncSinkConnector.class.getName();
    private static final ObjectMapper JSON = new ObjectMapper();

    @TempDir
    static Path pluginPath;

    private static Path pluginDir;
    private static String version;

    @BeforeAll
    static void unzip() throws IOException {
        List<Path> top = PluginZip.unzip(pluginPath);
        assertThat(top).as("one top-level directory in the zip").hasSize(1);
        pluginDir = top.get(0);
        JsonNode manifest = JSON.readTree(pluginDir.resolve("manifest.json").toFile());
        version = manifest.path("version").asText();
        assertThat(version).as("manifest.json version").isNotBlank().doesNotContain("${");
        assertThat(pluginDir.getFileName().toString()).isEqualTo("kafka-connect-cohort-sync-" + version);
    }

    @Test
    void archiveHasTheDocumentedLayoutAndNothingTheWorkerProvides() throws IOException {
        assertThat(pluginDir.resolve("lib/kafka-connect-cohort-sync-" + version + ".jar")).isRegularFile();
        assertThat(pluginDir.resolve("doc/LICENSE")).isRegularFile();
        // The README's links (docs/...) resolve inside the unzipped plugin: every page of docs/ is shipped.
        assertThat(pluginDir.resolve("doc/README.md")).isRegularFile();
        Path docs = Path.of(System.getProperty("basedir", "."), "docs");
        try (Stream<Path> pages = Files.walk(docs)) {
            List<Path> markdown = pages.filter(p -> p.toString().endsWith(".md")).toList();
            assertThat(markdown).extracting(p -> docs.relativize(p).toString())
                    .contains("configuration.md", "record-format.md", "destinations/webhook.md");
            for (Path page : markdown) {
                assertThat(pluginDir.resolve("doc/docs").resolve(docs.relativize(page).toString()))
                        .as("shipped in the zip: docs/%s", docs.relativize(page)).isRegularFile();
            }
        }
        // The REST JSON examples the docs POST (--data @config/<file>.json) sit next to them.
        try (Stream<Path> configs = Files.list(Path.of(System.getProperty("basedir", "."), "config"))) {
            List<Path> json = configs.filter(p -> p.toString().endsWith(".json")).toList();
            assertThat(json).isNotEmpty();
            for (Path example : json) {
                assertThat(pluginDir.resolve("doc/config").resolve(example.getFileName().toString()))
                        .as("shipped in the zip: config/%s", example.getFileName()).isRegularFile();
            }
        }
        try (Stream<Path> etc = Files.list(pluginDir.resolve("etc"))) {
            assertThat(etc.map(p -> p.getFileName().toString())).isNotEmpty()
                    .allMatch(name -> name.endsWith(".properties"));
        }
        try (Stream<Path> lib = Files.list(pluginDir.resolve("lib"))) {
            assertThat(lib.map(p -> p.getFileName().toString()))
                    .noneMatch(name -> name.startsWith("connect-") || name.startsWith("kafka-clients")
                            || name.startsWith("kafka_"));
        }
    }

    /**
     * The jars of {@code lib/}, in a class loader that sees only Kafka's and SLF4J's classes of the test JVM (as a
     * worker's plugin loader does), find the connector through its ServiceLoader manifest, report the project
     * version, and deliver a record to a webhook: every runtime dependency is in the archive.
     */
    @Test
    void libAloneRunsTheConnector() throws Exception {
        List<URL> jars = new ArrayList<>();
        try (Stream<Path> lib = Files.list(pluginDir.resolve("lib"))) {
            for (Path jar : lib.filter(p -> p.toString().endsWith(".jar")).toList()) {
                jars.add(jar.toUri().toURL());
            }
        }
        try (URLClassLoader loader = new URLClassLoader(jars.toArray(URL[]::new), new KafkaOnlyClassLoader(
                PluginPackagingIT.class.getClassLoader()));
             WebhookReceiver receiver = WebhookReceiver.start()) {
            List<SinkConnector> found = new ArrayList<>();
            ServiceLoader.load(SinkConnector.class, loader).forEach(found::add);
            assertThat(found).extracting(c -> c.getClass().getName()).containsExactly(CONNECTOR);
            SinkConnector connector = found.get(0);
            assertThat(connector.getClass().getClassLoader()).as("loaded from the archive").isSameAs(loader);
            assertThat(connector.version()).isEqualTo(version);

            Map<String, String> config = ConnectorConfig.webhook("packaged", receiver.url())
                    .with("name", "packaged")
                    .build();
            Config validated = connector.validate(config);
            assertThat(validated.configValues()).allSatisfy(v -> assertThat(v.errorMessages()).as(v.name()).isEmpty());

            connector.start(config);
            SinkTask task = (SinkTask) connector.taskClass().getDeclaredConstructor().newInstance();
            assertThat(task.getClass().getClassLoader()).isSameAs(loader);
            task.initialize(new StubContext());
            task.start(connector.taskConfigs(1).get(0));
            try {
                Map<String, Object> value = new HashMap<>();
                value.put("cohort_id", "101");
                value.put("cohort_name", "Packaged");
                value.put("distinct_id", "zip-user");
                value.put("email", "zip-user@example.com");
                task.put(List.of(new SinkRecord("packaged", 0, null, null, null, value, 0)));
                ConnectHarness.await().until(() -> {
                    task.put(List.of()); // as the worker does between polls: lets the task start a due sync
                    return !receiver.accepted().isEmpty();
                });
                assertThat(receiver.membership()).isEqualTo(Map.of("101", Set.of("zip-user")));
                assertThat(receiver.violations()).isEmpty();
                // Delivered, so the offset may be committed.
                TopicPartition partition = new TopicPartition("packaged", 0);
                Map<TopicPartition, OffsetAndMetadata> next = Map.of(partition, new OffsetAndMetadata(1));
                ConnectHarness.await().until(() -> task.preCommit(next), next::equals);
            } finally {
                task.stop();
                connector.stop();
            }
        }
    }

    /** A worker with {@code plugin.path} set to the unzipped archive lists the connector with the project version. */
    @Test
    void workerWithThePluginPathListsTheConnector() throws Exception {
        try (ConnectHarness harness = ConnectHarness.start("plugin-packaging-it", 1,
                Map.of("plugin.path", pluginPath.toString()))) {
            String url = harness.connect().endpointForResource("connector-plugins?connectorsOnly=true");
            HttpResponse<String> response = HttpClient.newHttpClient().send(HttpRequest.newBuilder(URI.create(url))
                    .timeout(Duration.ofSeconds(30)).GET().build(), HttpResponse.BodyHandlers.ofString());
            assertThat(response.statusCode()).isEqualTo(200);
            Set<String> versions = new HashSet<>();
            for (JsonNode plugin : JSON.readTree(response.body())) {
                if (CONNECTOR.equals(plugin.path("class").asText())) {
                    assertThat(plugin.path("type").asText()).isEqualTo("sink");
                    versions.add(plugin.path("version").asText());
                }
            }
            assertThat(versions).containsExactly(version);
        }
    }

    /**
     * Parent of the archive's class loader: Kafka's and SLF4J's classes from the test JVM (what a worker provides),
     * the JDK's, and nothing else, so the connector and its libraries must come from {@code lib/}.
     */
    private static final class KafkaOnlyClassLoader extends ClassLoader {
        private final ClassLoader app;

        KafkaOnlyClassLoader(ClassLoader app) {
            super(ClassLoader.getPlatformClassLoader());
            this.app = app;
        }

        @Override
        protected Class<?> loadClass(String name, boolean resolve) throws ClassNotFoundException {
            if (name.startsWith("org.apache.kafka.") || name.startsWith("org.slf4j.")) {
                return app.loadClass(name);
            }
            return super.loadClass(name, resolve);
        }
    }

    private static final class StubContext implements SinkTaskContext {
        @Override
        public Map<String, String> configs() {
            return Map.of();
        }

        @Override
        public void offset(Map<TopicPartition, Long> offsets) {
        }

        @Override
        public void offset(TopicPartition tp, long offset) {
        }

        @Override
        public void timeout(long timeoutMs) {
        }

        @Override
        public Set<TopicPartition> assignment() {
            return Set.of(new TopicPartition("packaged", 0));
        }

        @Override
        public void pause(TopicPartition... partitions) {
        }

        @Override
        public void resume(TopicPartition... partitions) {
        }

        @Override
        public void requestCommit() {
        }

        @Override
        public PluginMetrics pluginMetrics() {
            return null;
        }
    }
}

package io.github.cohortsync.connect.config;

import static io.github.cohortsync.connect.ValidationErrors.errors;
import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.io.Reader;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.stream.Stream;

import org.junit.jupiter.api.Test;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;

/** Every example under config/, as properties or as REST JSON, is a config the connector accepts as it stands. */
class ExampleConfigsTest {
    private static final Path CONFIG = Path.of("config");

    private static List<Path> examples(String suffix) throws IOException {
        try (Stream<Path> files = Files.list(CONFIG)) {
            return files.filter(f -> f.getFileName().toString().endsWith(suffix)).sorted().toList();
        }
    }

    @Test
    void everyPropertiesExampleValidates() throws IOException {
        List<Path> files = examples(".properties");
        assertThat(files).extracting(f -> f.getFileName().toString())
                .contains("cohort-sync-braze.properties", "cohort-sync-braze-cohort-import.properties");
        for (Path file : files) {
            Properties props = new Properties();
            try (Reader reader = Files.newBufferedReader(file)) {
                props.load(reader);
            }
            Map<String, String> config = new HashMap<>();
            props.stringPropertyNames().forEach(key -> config.put(key, props.getProperty(key)));
            assertThat(errors(config)).as(file.toString()).isEmpty();
        }
    }

    @Test
    void everyRestJsonExampleValidates() throws IOException {
        List<Path> files = examples(".json");
        assertThat(files).extracting(f -> f.getFileName().toString())
                .contains("cohort-sync-braze.json", "cohort-sync-braze-cohort-import.json");
        ObjectMapper json = new ObjectMapper();
        for (Path file : files) {
            JsonNode root = json.readTree(file.toFile());
            JsonNode settings = root.has("config") ? root.path("config") : root;
            Map<String, String> config = new HashMap<>();
            settings.fields().forEachRemaining(e -> config.put(e.getKey(), e.getValue().asText()));
            assertThat(errors(config)).as(file.toString()).isEmpty();
        }
    }
}

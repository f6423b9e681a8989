package io.github.cohortsync.connect.config;

import static io.github.cohortsync.connect.ValidationErrors.errors;
import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.io.Reader;
import java.io.StringReader;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Properties;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;

import org.apache.kafka.common.config.ConfigDef;
import org.junit.jupiter.api.Test;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;

/**
 * Every example under config/, as properties or as REST JSON, is a config the connector accepts as it stands; so is
 * every connector config shown in README.md and docs/*.md (fenced {@code json} and {@code properties} blocks, and
 * curl request bodies in shell blocks, that name the connector class), with config provider placeholders such as
 * {@code ${file:...}} standing for a valid value.
 */
class ExampleConfigsTest {
    private static final Path CONFIG = Path.of("config");
    private static final String CONNECTOR_CLASS = "io.github.cohortsync.connect.CohortSyncSinkConnector";
    /** An opening fence, maybe indented (inside a list item), with its language. */
    private static final Pattern FENCE = Pattern.compile("^(\\s*)```\\s*([A-Za-z0-9_-]*)\\s*$");
    /** A config provider reference, {@code ${provider:[path:]key}}; name templates such as ${cohort_name} have no colon. */
    private static final Pattern PROVIDER = Pattern.compile("\\$\\{[A-Za-z0-9_.-]+:[^}]*}");

    private static List<Path> examples(String suffix) throws IOException {
        try (Stream<Path> files = Files.list(CONFIG)) {
            return files.filter(f -> f.getFileName().toString().endsWith(suffix)).sorted().toList();
        }
    }

    @Test
    void everyPropertiesExampleValidates() throws IOException {
        List<Path> files = examples(".properties");
        assertThat(files).extracting(f -> f.getFileName().toString())
                .contains("cohort-sync-braze.properties", "cohort-sync-braze-cohort-import.properties",
                        "cohort-sync-marketo.properties", "cohort-sync-airship.properties");
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
                .contains("cohort-sync-braze.json", "cohort-sync-braze-cohort-import.json", "cohort-sync-marketo.json",
                        "cohort-sync-airship.json");
        ObjectMapper json = new ObjectMapper();
        for (Path file : files) {
            JsonNode root = json.readTree(file.toFile());
            JsonNode settings = root.has("config") ? root.path("config") : root;
            Map<String, String> config = new HashMap<>();
            settings.fields().forEachRemaining(e -> config.put(e.getKey(), e.getValue().asText()));
            assertThat(errors(config)).as(file.toString()).isEmpty();
        }
    }

    /** A fenced block of a Markdown file, the line of its opening fence, and its language. */
    record Snippet(Path file, int line, String language, String text) {
        @Override
        public String toString() {
            return file + ":" + line + " (" + language + ")";
        }
    }

    static List<Snippet> snippets(Path file) throws IOException {
        List<Snippet> snippets = new ArrayList<>();
        List<String> lines = Files.readAllLines(file);
        for (int i = 0; i < lines.size(); i++) {
            Matcher open = FENCE.matcher(lines.get(i));
            if (!open.matches()) {
                continue;
            }
            String indent = open.group(1);
            StringBuilder text = new StringBuilder();
            int start = i + 1;
            for (i++; i < lines.size() && !lines.get(i).trim().equals("```"); i++) {
                String line = lines.get(i);
                text.append(line.startsWith(indent) ? line.substring(indent.length()) : line.stripLeading())
                        .append('\n');
            }
            snippets.add(new Snippet(file, start, open.group(2).toLowerCase(Locale.ROOT), text.toString()));
        }
        return snippets;
    }

    /** The connector configs shown in README.md and docs/*.md. */
    private static List<Snippet> docConfigs() throws IOException {
        List<Path> files = new ArrayList<>();
        files.add(Path.of("README.md"));
        try (Stream<Path> docs = Files.walk(Path.of("docs"))) {
            docs.filter(f -> f.getFileName().toString().endsWith(".md")).sorted().forEach(files::add);
        }
        List<Snippet> configs = new ArrayList<>();
        for (Path file : files) {
            for (Snippet snippet : snippets(file)) {
                if (List.of("json", "properties", "bash", "sh", "shell").contains(snippet.language())
                        && snippet.text().contains("connector.class")) {
                    configs.add(snippet);
                }
            }
        }
        return configs;
    }

    private static Map<String, String> parse(Snippet snippet) throws IOException {
        Map<String, String> config = new HashMap<>();
        if (!snippet.language().equals("properties")) {
            // A shell block holds the JSON inline, as curl's request body: from its first '{' to its last '}'.
            String text = snippet.text();
            String body = snippet.language().equals("json") ? text
                    : text.substring(Math.max(0, text.indexOf('{')), text.lastIndexOf('}') + 1);
            JsonNode root = new ObjectMapper().readTree(body);
            JsonNode settings = root.has("config") ? root.path("config") : root;
            settings.fields().forEachRemaining(e -> config.put(e.getKey(), e.getValue().asText()));
        } else {
            Properties props = new Properties();
            props.load(new StringReader(snippet.text()));
            props.stringPropertyNames().forEach(key -> config.put(key, props.getProperty(key)));
        }
        return config;
    }

    /**
     * A value with a config provider placeholder as the worker would resolve it: the key's default when it has
     * one, else a valid value of its type (a URL for URL keys).
     */
    static Map<String, String> resolvePlaceholders(Map<String, String> config) {
        Map<String, String> resolved = new HashMap<>(config);
        config.forEach((key, value) -> {
            if (!PROVIDER.matcher(value).find()) {
                return;
            }
            ConfigDef.ConfigKey def = CohortSyncConfig.CONFIG_DEF.configKeys().get(key);
            if (def == null) {
                resolved.put(key, PROVIDER.matcher(value).replaceAll("resolved"));
            } else if (def.hasDefault() && def.defaultValue != null && !String.valueOf(def.defaultValue).isEmpty()) {
                resolved.put(key, ConfigDef.convertToString(def.defaultValue, def.type));
            } else {
                resolved.put(key, switch (def.type) {
                    case INT, LONG, SHORT, DOUBLE -> "1";
                    case BOOLEAN -> "true";
                    default -> key.endsWith(".url") || key.endsWith(".endpoint") ? "https://resolved.example/hook"
                            : "resolved";
                });
            }
        });
        return resolved;
    }

    @Test
    void everyConnectorConfigInTheDocsValidates() throws IOException {
        List<Snippet> snippets = docConfigs();
        List<String> checked = new ArrayList<>();
        for (Snippet snippet : snippets) {
            Map<String, String> config;
            try {
                config = parse(snippet);
            } catch (IOException e) {
                throw new AssertionError(snippet + " is not valid " + snippet.language() + ": " + e.getMessage(), e);
            }
            if (!CONNECTOR_CLASS.equals(config.get("connector.class"))) {
                continue; // another connector's config, or prose that mentions the key
            }
            assertThat(errors(resolvePlaceholders(config))).as(snippet.toString()).isEmpty();
            checked.add(snippet.toString());
        }
        // The docs mostly show configs as the example files themselves (curl --data @config/<file>.json), which the
        // tests above validate; every file they name must exist.
        List<String> named = namedConfigFiles();
        for (String name : named) {
            assertThat(CONFIG.resolve(name)).as("config file named in the docs").exists();
        }
        assertThat(checked.size() + named.size()).as("configs of this connector shown or named in the docs")
                .isPositive();
    }

    /** The connector examples (config/cohort-sync-*) that README.md and docs/ name as {@code @config/<file>} or {@code config/<file>}. */
    private static List<String> namedConfigFiles() throws IOException {
        Pattern named = Pattern.compile("(?<![\\w/.-])@?config/(cohort-sync-[A-Za-z0-9_.-]+\\.(?:json|properties))");
        List<Path> files = new ArrayList<>();
        files.add(Path.of("README.md"));
        try (Stream<Path> docs = Files.walk(Path.of("docs"))) {
            docs.filter(f -> f.getFileName().toString().endsWith(".md")).sorted().forEach(files::add);
        }
        List<String> names = new ArrayList<>();
        for (Path file : files) {
            Matcher m = named.matcher(Files.readString(file));
            while (m.find()) {
                names.add(m.group(1));
            }
        }
        return names.stream().distinct().sorted().toList();
    }

    @Test
    void findsFencedBlocksIndentedOrNotWithTheirLanguage() throws IOException {
        Path file = Files.createTempFile("snippets", ".md");
        try {
            Files.writeString(file, String.join("\n",
                    "text", "```json", "{\"a\": 1}", "```", "- item", "  ```properties", "  a=1", "  b=2", "  ```",
                    "```", "plain", "```", ""));
            assertThat(snippets(file)).extracting(Snippet::language, Snippet::text, Snippet::line).containsExactly(
                    org.assertj.core.groups.Tuple.tuple("json", "{\"a\": 1}\n", 2),
                    org.assertj.core.groups.Tuple.tuple("properties", "a=1\nb=2\n", 6),
                    org.assertj.core.groups.Tuple.tuple("", "plain\n", 10));
        } finally {
            Files.delete(file);
        }
    }

    @Test
    void placeholdersStandForValidValuesAndTemplatesStay() {
        Map<String, String> config = new HashMap<>();
        config.put("iterable.api.key", "${file:/opt/secrets/cohort-sync.properties:iterable.api.key}");
        config.put("webhook.url", "${env:WEBHOOK_URL}");
        config.put("sync.interval.ms", "${env:SYNC_INTERVAL}");
        config.put("iterable.list.name.template", "mixpanel_${cohort_name}_${cohort_id}");

        Map<String, String> resolved = resolvePlaceholders(config);

        assertThat(resolved).containsEntry("iterable.api.key", "resolved")
                .containsEntry("webhook.url", "https://resolved.example/hook")
                .containsEntry("sync.interval.ms", "10000")
                .containsEntry("iterable.list.name.template", "mixpanel_${cohort_name}_${cohort_id}");
    }

    @Test
    void aDocConfigWithAWrongValueIsCaught() {
        Map<String, String> config = new HashMap<>();
        config.put("connector.class", CONNECTOR_CLASS);
        config.put("destination", "iterable");
        config.put("iterable.api.key", "${file:/s.properties:key}");
        config.put("iterable.region", "mars");
        config.put("snapshot.enabled", "false");

        assertThat(errors(resolvePlaceholders(config))).containsOnlyKeys("iterable.region");
    }
}

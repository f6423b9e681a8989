package io.github.cohortsync.connect.it;

import static org.assertj.core.api.Assertions.assertThat;

import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;

import org.apache.kafka.connect.runtime.rest.entities.ConfigInfo;
import org.apache.kafka.connect.runtime.rest.entities.ConfigInfos;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;

import io.github.cohortsync.connect.CohortSyncSinkConnector;

/**
 * {@code PUT /connector-plugins/CohortSyncSinkConnector/config/validate} on a real worker: one clear error on the
 * right key for each wrong value, none for a good config, and secrets masked.
 */
@ConnectCluster(name = "config-validation-it")
class ConfigValidationIT {
    private static final String PLUGIN = CohortSyncSinkConnector.class.getSimpleName();
    private static final String SECRET = "top-secret-pw-42";

    private static ConnectHarness harness;

    static Stream<Arguments> wrongConfigs() {
        return Stream.of(
                Arguments.of("no destination", Map.of("destination", ""), "destination",
                        "Missing required configuration \"destination\""),
                Arguments.of("unknown destination", Map.of("destination", "pigeon"), "destination", "pigeon"),
                Arguments.of("webhook without url", Map.of("webhook.url", ""), "webhook.url",
                        "webhook.url is required when destination=webhook"),
                Arguments.of("url that is not a URL", Map.of("webhook.url", "not a url"), "webhook.url",
                        "is not a valid URL"),
                Arguments.of("url that is not http", Map.of("webhook.url", "ftp://hooks.example.com/x"),
                        "webhook.url", "must start with http:// or https://"),
                Arguments.of("batch above the webhook maximum", Map.of("batch.max.size", "5000"), "batch.max.size",
                        "accepts at most 1000"),
                Arguments.of("user name without password", Map.of("webhook.auth.username", "hook-user"),
                        "webhook.auth.password", "required when webhook.auth.username is set"),
                Arguments.of("password without user name", Map.of("webhook.auth.password", SECRET),
                        "webhook.auth.username", "required when webhook.auth.password is set"),
                Arguments.of("max backoff below initial",
                        Map.of("retry.backoff.initial.ms", "2000", "retry.backoff.max.ms", "100"),
                        "retry.backoff.max.ms", "must not be smaller than retry.backoff.initial.ms"),
                Arguments.of("sync interval below its minimum", Map.of("sync.interval.ms", "10"),
                        "sync.interval.ms", "at least 100"),
                // Full first syncs are the default: the user sets the servers they need, or opts out explicitly.
                Arguments.of("full syncs neither configured nor opted out", Map.of("snapshot.enabled", ""),
                        "snapshot.bootstrap.servers", "or set snapshot.enabled=false"));
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("wrongConfigs")
    void reportsOneErrorOnTheRightKey(String description, Map<String, String> overrides, String key,
                                      String message) {
        Map<String, String> config = goodConfig();
        overrides.forEach((k, v) -> {
            if (v.isEmpty()) {
                config.remove(k);
            } else {
                config.put(k, v);
            }
        });

        ConfigInfos result = harness.connect().validateConnectorConfig(PLUGIN, config);

        assertThat(errorsByKey(result)).as(description).containsOnlyKeys(key);
        assertThat(result.errorCount()).as(description).isEqualTo(1);
        assertThat(errorsByKey(result).get(key)).as(description).singleElement().asString().contains(message);
        assertThat(result.toString()).doesNotContain(SECRET);
    }

    @Test
    void goodConfigHasNoErrors() {
        Map<String, String> config = goodConfig();
        config.put("webhook.auth.username", "hook-user");
        config.put("webhook.auth.password", SECRET);
        config.put("batch.max.size", "1000");
        config.put("cohorts.include", "101,202");

        ConfigInfos result = harness.connect().validateConnectorConfig(PLUGIN, config);

        assertThat(errorsByKey(result)).isEmpty();
        assertThat(result.errorCount()).isZero();
        assertThat(result.name()).isEqualTo(CohortSyncSinkConnector.class.getName());
    }

    /** The password is a PASSWORD key and its value never comes back in clear. */
    @Test
    void passwordIsMaskedInTheValidationAnswer() throws Exception {
        Map<String, String> config = goodConfig();
        config.put("webhook.auth.username", "hook-user");
        config.put("webhook.auth.password", SECRET);

        ConfigInfos result = harness.connect().validateConnectorConfig(PLUGIN, config);
        ConfigInfo password = result.values().stream()
                .filter(v -> "webhook.auth.password".equals(v.configKey().name())).findFirst().orElseThrow();
        assertThat(password.configKey().type()).isEqualTo("PASSWORD");
        assertThat(password.configValue().value()).isNotEqualTo(SECRET).isEqualTo("[hidden]");

        // The raw REST answer, not only the parsed one.
        String url = harness.connect().endpointForResource("connector-plugins/" + PLUGIN + "/config/validate");
        HttpResponse<String> raw = HttpClient.newHttpClient().send(HttpRequest.newBuilder(URI.create(url))
                .timeout(Duration.ofSeconds(30))
                .header("Content-Type", "application/json")
                .PUT(HttpRequest.BodyPublishers.ofString(new ObjectMapper().writeValueAsString(config)))
                .build(), HttpResponse.BodyHandlers.ofString());
        assertThat(raw.statusCode()).isEqualTo(200);
        assertThat(raw.body()).doesNotContain(SECRET);
        JsonNode answer = new ObjectMapper().readTree(raw.body());
        assertThat(answer.path("error_count").asInt()).isZero();
    }

    private static Map<String, String> goodConfig() {
        return ConnectorConfig.webhook("validation-topic", "https://hooks.example.com/cohorts?token=abc")
                .with("name", "validation-connector")
                .build();
    }

    private static Map<String, List<String>> errorsByKey(ConfigInfos result) {
        Map<String, List<String>> errors = new HashMap<>();
        for (ConfigInfo info : result.values()) {
            if (!info.configValue().errors().isEmpty()) {
                errors.put(info.configValue().name(), info.configValue().errors());
            }
        }
        return errors;
    }
}

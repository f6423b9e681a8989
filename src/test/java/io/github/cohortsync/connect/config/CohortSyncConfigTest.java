package io.github.cohortsync.connect.config;

import static io.github.cohortsync.connect.ValidationErrors.errors;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.Map;

import org.apache.kafka.common.config.ConfigDef;
import org.apache.kafka.common.config.ConfigException;
import org.junit.jupiter.api.Test;

class CohortSyncConfigTest {

    private static Map<String, String> webhook() {
        Map<String, String> props = new HashMap<>();
        props.put("destination", "webhook");
        props.put("webhook.url", "https://hooks.example.com/cohorts");
        props.put("snapshot.bootstrap.servers", "kafka-1:9092");
        return props;
    }

    @Test
    void validationAsksForTheSnapshotServersOrAnExplicitOptOut() {
        Map<String, String> props = webhook();
        props.remove("snapshot.bootstrap.servers");
        assertThat(errors(props).get("snapshot.bootstrap.servers")).singleElement().asString()
                .contains("Set snapshot.bootstrap.servers").contains("snapshot.enabled=false");
        props.put("snapshot.enabled", "false");
        assertThat(errors(props)).isEmpty();
        assertThat(new CohortSyncConfig(props).snapshotBootstrapServers()).isNull();
        props.put("snapshot.bootstrap.servers", "kafka-1:9092");
        assertThat(new CohortSyncConfig(props).snapshotBootstrapServers()).as("opted out").isNull();
        assertThat(new CohortSyncConfig(props).snapshotAdminConfig()).as("still the cluster whose topic ids are read")
                .containsEntry("bootstrap.servers", "kafka-1:9092");
        props.put("sync.mode", "one_time");
        assertThat(errors(props).get("snapshot.enabled")).singleElement().asString().contains("one_time");
    }

    @Test
    void theReportIsOffByDefaultAndItsProducerTakesTheSnapshotServersAndPrefixedSettings() {
        CohortSyncConfig off = new CohortSyncConfig(webhook());
        assertThat(off.reportTopic()).isNull();
        assertThat(off.reportIncludesPii()).isFalse();
        assertThat(off.metricsCohortsMax()).isEqualTo(100);

        Map<String, String> props = webhook();
        props.put("report.topic", " cohort-sync-report ");
        props.put("report.producer.security.protocol", "SASL_SSL");
        props.put("report.producer.max.request.size", "2097152");
        CohortSyncConfig config = new CohortSyncConfig(props);
        assertThat(config.reportTopic()).isEqualTo("cohort-sync-report");
        assertThat(config.reportProducerConfig()).containsEntry("bootstrap.servers", "kafka-1:9092")
                .containsEntry("security.protocol", "SASL_SSL").containsEntry("max.request.size", "2097152")
                .doesNotContainKey("topic");
        props.put("report.bootstrap.servers", "reports-1:9092");
        assertThat(new CohortSyncConfig(props).reportProducerConfig())
                .containsEntry("bootstrap.servers", "reports-1:9092");
    }

    @Test
    void aReportTopicNeedsSomeBootstrapServers() {
        Map<String, String> props = webhook();
        props.remove("snapshot.bootstrap.servers");
        props.put("snapshot.enabled", "false");
        props.put("report.topic", "cohort-sync-report");
        assertThat(errors(props).get("report.bootstrap.servers")).singleElement().asString()
                .contains("report.topic needs report.bootstrap.servers");
        assertThatThrownBy(() -> new CohortSyncConfig(props)).isInstanceOf(ConfigException.class)
                .hasMessageContaining("report.topic needs");
        props.put("report.bootstrap.servers", "reports-1:9092");
        assertThat(errors(props)).isEmpty();
        props.put("metrics.cohorts.max", "-1");
        assertThat(errors(props).get("metrics.cohorts.max")).isNotEmpty();
    }

    @Test
    void refreshesDefaultToThreeDaysAfterFailureAndNoGeneration() {
        CohortSyncConfig config = new CohortSyncConfig(webhook());
        assertThat(config.snapshotEnabled()).isTrue();
        assertThat(config.snapshotRefreshAfterFailureMs()).isEqualTo(3 * 24 * 3600 * 1000L);
        assertThat(config.snapshotRefreshGeneration()).isEmpty();
        Map<String, String> props = webhook();
        props.put("snapshot.refresh.after.failure.ms", "-1");
        assertThat(errors(props).get("snapshot.refresh.after.failure.ms")).isNotEmpty();
    }

    @Test
    void aMinimalWebhookConfigIsValidAndTakesTheDocumentedDefaults() {
        assertThat(errors(webhook())).isEmpty();
        CohortSyncConfig config = new CohortSyncConfig(webhook());

        assertThat(config.destination()).isSameAs(DestinationType.of("webhook"));
        assertThat(config.syncIntervalMs()).isEqualTo(10_000);
        assertThat(config.bufferMaxChanges()).isEqualTo(100_000);
        assertThat(config.batchMaxSize()).isEqualTo(1000);
        assertThat(config.retryMaxAttempts()).isEqualTo(5);
        assertThat(config.retryBackoffInitialMs()).isEqualTo(2_000);
        assertThat(config.retryBackoffMaxMs()).isEqualTo(30_000);
        assertThat(config.httpTimeoutMs()).isEqualTo(30_000);
        assertThat(config.cohortsInclude()).isEmpty();
        assertThat(config.projectId()).isNull();
    }

    @Test
    void destinationIsRequiredAndMustBeKnown() {
        Map<String, String> props = webhook();
        props.remove("destination");
        assertThat(errors(props).get("destination")).singleElement().asString().contains("Missing required");

        props.put("destination", "hubspot");
        assertThat(errors(props).get("destination")).singleElement().asString().contains("webhook");
    }

    @Test
    void theWebhookNeedsAValidUrl() {
        Map<String, String> props = webhook();
        props.remove("webhook.url");
        assertThat(errors(props).get("webhook.url")).singleElement().asString()
                .contains("webhook.url is required when destination=webhook");

        props.put("webhook.url", "ftp://files.example.com/x");
        assertThat(errors(props).get("webhook.url")).singleElement().asString()
                .contains("must start with http:// or https://");

        props.put("webhook.url", "https://exa mple.com/?token=s3cret");
        assertThat(errors(props).get("webhook.url")).singleElement().asString()
                .contains("not a valid URL").doesNotContain("s3cret");
    }

    @Test
    void batchSizeCannotExceedTheDestinationsMaximum() {
        Map<String, String> props = webhook();
        props.put("batch.max.size", "5000");
        assertThat(errors(props).get("batch.max.size")).singleElement().asString()
                .contains("webhook accepts at most 1000 members per call");

        props.put("batch.max.size", "0");
        assertThat(errors(props)).containsKey("batch.max.size");

        props.put("batch.max.size", "250");
        assertThat(errors(props)).isEmpty();
        assertThat(new CohortSyncConfig(props).batchMaxSize()).isEqualTo(250);
    }

    @Test
    void pagesInFlightDefaultPerDestinationAndAreBounded() {
        Map<String, String> props = webhook();
        assertThat(new CohortSyncConfig(props).syncMaxInFlightRequests()).isEqualTo(1);
        assertThat(DestinationType.of("braze").defaultMaxInFlight()).isEqualTo(32);
        assertThat(DestinationType.of("segment").defaultMaxInFlight()).isEqualTo(32);
        assertThat(DestinationType.of("iterable").defaultMaxInFlight()).isEqualTo(16);
        assertThat(DestinationType.of("clevertap").defaultMaxInFlight()).isEqualTo(15);
        assertThat(DestinationType.of("mailchimp").defaultMaxInFlight()).isEqualTo(10);

        props.put("sync.max.in.flight.requests", "0");
        assertThat(errors(props).get("sync.max.in.flight.requests")).singleElement().asString()
                .contains("between 1 and 64");
        props.put("sync.max.in.flight.requests", "65");
        assertThat(errors(props).get("sync.max.in.flight.requests")).singleElement().asString()
                .contains("between 1 and 64");

        props.put("sync.max.in.flight.requests", "64");
        assertThat(errors(props)).isEmpty();
        assertThat(new CohortSyncConfig(props).syncMaxInFlightRequests()).isEqualTo(64);
    }

    @Test
    void pagesInFlightAdaptByDefaultAndAreFixedOnRequest() {
        Map<String, String> props = webhook();
        assertThat(new CohortSyncConfig(props).syncAdaptiveConcurrency()).isTrue();
        props.put("sync.adaptive.concurrency", "false");
        assertThat(errors(props)).isEmpty();
        assertThat(new CohortSyncConfig(props).syncAdaptiveConcurrency()).isFalse();
        props.put("sync.adaptive.concurrency", "sometimes");
        assertThat(errors(props)).containsKey("sync.adaptive.concurrency");
    }

    @Test
    void anAccountConcurrencyLimitIsSplitAcrossTheTasksAndCapsEachTask() {
        Map<String, String> props = webhook();
        assertThat(new CohortSyncConfig(props).concurrentRequestsPerTask()).isZero();
        props.put("rate.limit.concurrent.requests", "-1");
        assertThat(errors(props).get("rate.limit.concurrent.requests")).singleElement().asString()
                .contains("at least 1, 0 for no limit");

        // CleverTap publishes 15 concurrent requests per account: with 4 tasks the shares are 4, 4, 4 and 3.
        props.remove("rate.limit.concurrent.requests");
        props.put("destination", "clevertap");
        props.put("clevertap.account.id", "ACC-1");
        props.put("clevertap.passcode", "secret");
        props.put("sync.max.in.flight.requests", "64");
        props.put(CohortSyncConfig.TASK_COUNT, "4");
        java.util.List<Integer> caps = new java.util.ArrayList<>();
        for (int task = 0; task < 4; task++) {
            props.put(CohortSyncConfig.TASK_ID, Integer.toString(task));
            caps.add(new CohortSyncConfig(props).syncMaxInFlightRequests());
        }
        assertThat(caps).containsExactly(4, 4, 4, 3);

        // One task may use the whole account, but not more than its own cap.
        props.put(CohortSyncConfig.TASK_COUNT, "1");
        props.put(CohortSyncConfig.TASK_ID, "0");
        assertThat(new CohortSyncConfig(props).syncMaxInFlightRequests()).isEqualTo(15);
        props.put("sync.max.in.flight.requests", "5");
        assertThat(new CohortSyncConfig(props).syncMaxInFlightRequests()).isEqualTo(5);

        // More tasks than the limit: each still sends one page at a time.
        props.remove("sync.max.in.flight.requests");
        props.put("rate.limit.concurrent.requests", "3");
        props.put(CohortSyncConfig.TASK_COUNT, "5");
        props.put(CohortSyncConfig.TASK_ID, "4");
        assertThat(new CohortSyncConfig(props).syncMaxInFlightRequests()).isEqualTo(1);

        // 0 turns the destination's published limit off.
        props.put("rate.limit.concurrent.requests", "0");
        assertThat(errors(props)).isEmpty();
        assertThat(new CohortSyncConfig(props).syncMaxInFlightRequests()).isEqualTo(15);
    }

    @Test
    void theRequestRateIsUnsetByDefaultPositiveAndSplitAcrossTheTasks() {
        Map<String, String> props = webhook();
        assertThat(new CohortSyncConfig(props).rateLimitRequestsPerSecondPerTask()).isZero();

        props.put("rate.limit.requests.per.second", "0");
        assertThat(errors(props).get("rate.limit.requests.per.second")).singleElement().asString()
                .contains("above 0");
        props.put("rate.limit.requests.per.second", "-5");
        assertThat(errors(props)).containsKey("rate.limit.requests.per.second");

        props.put("rate.limit.requests.per.second", "200");
        assertThat(errors(props)).isEmpty();
        assertThat(new CohortSyncConfig(props).rateLimitRequestsPerSecondPerTask()).isEqualTo(200.0);
        props.put(CohortSyncConfig.TASK_COUNT, "4");
        assertThat(new CohortSyncConfig(props).rateLimitRequestsPerSecondPerTask()).isEqualTo(50.0);
        props.put("rate.limit.requests.per.second", "0.5");
        assertThat(new CohortSyncConfig(props).rateLimitRequestsPerSecondPerTask()).isEqualTo(0.125);
    }

    @Test
    void basicAuthNeedsBothHalves() {
        Map<String, String> props = webhook();
        props.put("webhook.auth.username", "mixpanel");
        assertThat(errors(props).get("webhook.auth.password")).singleElement().asString()
                .contains("required when webhook.auth.username is set");

        props.remove("webhook.auth.username");
        props.put("webhook.auth.password", "s3cret");
        assertThat(errors(props).get("webhook.auth.username")).singleElement().asString()
                .contains("required when webhook.auth.password is set");
    }

    @Test
    void backoffBoundsMustBeOrdered() {
        Map<String, String> props = webhook();
        props.put("retry.backoff.initial.ms", "5000");
        props.put("retry.backoff.max.ms", "1000");
        assertThat(errors(props).get("retry.backoff.max.ms")).singleElement().asString()
                .contains("must not be smaller than retry.backoff.initial.ms");
    }

    @Test
    void oneTimeModeNeedsTheSnapshotBootstrapServers() {
        Map<String, String> props = webhook();
        props.remove("snapshot.bootstrap.servers");
        props.put("sync.mode", "one_time");
        assertThat(errors(props).get("snapshot.bootstrap.servers")).singleElement().asString()
                .contains("sync.mode=one_time needs snapshot.bootstrap.servers");

        props.put("snapshot.bootstrap.servers", "kafka-1:9092");
        props.put("snapshot.admin.security.protocol", "SASL_SSL");
        assertThat(errors(props)).isEmpty();
        CohortSyncConfig config = new CohortSyncConfig(props);
        assertThat(config.oneTime()).isTrue();
        assertThat(config.snapshotAdminConfig()).containsEntry("bootstrap.servers", "kafka-1:9092")
                .containsEntry("security.protocol", "SASL_SSL");

        props.put("sync.mode", "once");
        assertThat(errors(props).get("sync.mode")).singleElement().asString().contains("one_time");
    }

    @Test
    void dynamicModeRunsWithoutSnapshotsWhenNoBootstrapServersAreGiven() {
        // Validation asks for them, but a connector created before snapshot.enabled existed still starts.
        Map<String, String> props = webhook();
        props.remove("snapshot.bootstrap.servers");
        CohortSyncConfig config = new CohortSyncConfig(props);
        assertThat(config.oneTime()).isFalse();
        assertThat(config.snapshotBootstrapServers()).isNull();
        assertThat(config.snapshotSpillDir()).isEqualTo(Path.of(System.getProperty("java.io.tmpdir")));
    }

    @Test
    void startingWithAnInvalidConfigNamesEveryProblem() {
        Map<String, String> props = webhook();
        props.remove("webhook.url");
        props.put("batch.max.size", "2000");

        assertThatThrownBy(() -> new CohortSyncConfig(props)).isInstanceOf(ConfigException.class)
                .hasMessageContaining("webhook.url is required")
                .hasMessageContaining("batch.max.size is 2000");
    }

    @Test
    void theDestinationFingerprintChangesWithWhereAndWhatIsSentButNotWithCredentials() {
        Map<String, String> base = webhook();
        long fingerprint = new CohortSyncConfig(base).destinationFingerprint();
        Map<String, String> otherUrl = webhook();
        otherUrl.put("webhook.url", "https://elsewhere.example.com/hook");
        Map<String, String> otherProperties = webhook();
        otherProperties.put("webhook.properties", "plan");
        Map<String, String> otherProject = webhook();
        otherProject.put("project.id", "42");
        Map<String, String> rotatedPassword = webhook();
        rotatedPassword.put("webhook.auth.username", "u");
        rotatedPassword.put("webhook.auth.password", "first");
        Map<String, String> rotatedAgain = new HashMap<>(rotatedPassword);
        rotatedAgain.put("webhook.auth.password", "second");
        Map<String, String> otherInterval = webhook();
        otherInterval.put("sync.interval.ms", "999");

        assertThat(new CohortSyncConfig(webhook()).destinationFingerprint()).isEqualTo(fingerprint);
        assertThat(new CohortSyncConfig(otherUrl).destinationFingerprint()).isNotEqualTo(fingerprint);
        assertThat(new CohortSyncConfig(otherProperties).destinationFingerprint()).isNotEqualTo(fingerprint);
        assertThat(new CohortSyncConfig(otherProject).destinationFingerprint()).isNotEqualTo(fingerprint);
        assertThat(new CohortSyncConfig(otherInterval).destinationFingerprint()).isEqualTo(fingerprint);
        assertThat(new CohortSyncConfig(rotatedPassword).destinationFingerprint())
                .isEqualTo(new CohortSyncConfig(rotatedAgain).destinationFingerprint());
    }

    @Test
    void secretsArePasswords() {
        assertThat(CohortSyncConfig.CONFIG_DEF.configKeys().get("webhook.auth.password").type)
                .isEqualTo(ConfigDef.Type.PASSWORD);
        Map<String, String> props = webhook();
        props.put("webhook.auth.username", "u");
        props.put("webhook.auth.password", "s3cret");
        assertThat(new CohortSyncConfig(props).toString()).doesNotContain("s3cret");
    }

    @Test
    void everyKeyIsDocumentedInAGroup() {
        assertThat(CohortSyncConfig.CONFIG_DEF.configKeys().values()).allSatisfy(key -> {
            assertThat(key.documentation).as(key.name).isNotBlank();
            assertThat(key.group).as(key.name).isNotBlank();
        });
    }

    @Test
    void theConfigurationReferenceIsUpToDate() throws IOException {
        Path docs = Path.of("docs", "configuration.md");
        String generated = ConfigDocs.markdown(CohortSyncConfig.CONFIG_DEF);
        if (Boolean.getBoolean("docs.regenerate")) {
            Files.createDirectories(docs.getParent());
            Files.writeString(docs, generated, StandardCharsets.UTF_8);
        }
        assertThat(docs).as("docs/configuration.md is stale: run mvn test -Dtest=CohortSyncConfigTest"
                + " -Ddocs.regenerate=true").exists();
        assertThat(Files.readString(docs, StandardCharsets.UTF_8)).isEqualTo(generated);
    }
}

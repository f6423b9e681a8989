package io.github.cohortsync.connect.config;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.stream.Collectors;

import org.apache.kafka.common.config.ConfigValue;

/** Checks that span several keys: a destination's required keys, batch limits, paired keys. */
public final class ConfigValidator {

    private ConfigValidator() {
    }

    /** Problems per key for an already parsed config; empty when the config is usable. */
    static Map<String, List<String>> crossKeyProblems(CohortSyncConfig config) {
        return crossKeyProblems(new LinkedHashMap<>(config.values()));
    }

    /** Adds cross-key problems to the per-key results of {@code ConfigDef.validate}. */
    public static void addCrossKeyProblems(Map<String, ConfigValue> results) {
        // Keys that already failed their own validation are left alone: one message per mistake.
        if (results.values().stream().anyMatch(v -> !v.errorMessages().isEmpty()
                && CohortSyncConfig.DESTINATION.equals(v.name()))) {
            return;
        }
        Map<String, Object> values = new LinkedHashMap<>();
        results.forEach((key, value) -> values.put(key, value.value()));
        crossKeyProblems(values).forEach((key, messages) -> {
            ConfigValue value = results.get(key);
            if (value != null && value.errorMessages().isEmpty()) {
                messages.forEach(value::addErrorMessage);
            }
        });
    }

    private static Map<String, List<String>> crossKeyProblems(Map<String, Object> values) {
        Map<String, List<String>> problems = new LinkedHashMap<>();
        Optional<DestinationType> destination =
                DestinationType.fromConfigValue((String) values.get(CohortSyncConfig.DESTINATION));
        if (destination.isEmpty()) {
            return problems;
        }
        Object batch = values.get(CohortSyncConfig.BATCH_MAX_SIZE);
        int max = destination.get().maxBatchSize(values);
        if (batch instanceof Integer size && size > max) {
            add(problems, CohortSyncConfig.BATCH_MAX_SIZE, "batch.max.size is " + size + " but "
                    + destination.get().configValue() + " accepts at most " + max + " members per call");
        }
        Object initial = values.get(CohortSyncConfig.RETRY_BACKOFF_INITIAL_MS);
        Object maximum = values.get(CohortSyncConfig.RETRY_BACKOFF_MAX_MS);
        if (initial instanceof Long i && maximum instanceof Long m && m < i) {
            add(problems, CohortSyncConfig.RETRY_BACKOFF_MAX_MS, "retry.backoff.max.ms (" + m
                    + ") must not be smaller than retry.backoff.initial.ms (" + i + ")");
        }
        Object mode = values.get(CohortSyncConfig.SYNC_MODE);
        Object servers = values.get(CohortSyncConfig.SNAPSHOT_BOOTSTRAP_SERVERS);
        if (mode != null && CohortSyncConfig.SYNC_MODE_ONE_TIME.equalsIgnoreCase(mode.toString().trim()) && (servers == null || servers.toString().isBlank())) {
            add(problems, CohortSyncConfig.SNAPSHOT_BOOTSTRAP_SERVERS, "sync.mode=one_time needs"
                    + " snapshot.bootstrap.servers (the Kafka cluster of the topics) to find where the snapshot ends");
        }
        destination.get().keys().check(values, (key, message) -> add(problems, key, message));
        return problems;
    }

    static String describe(Map<String, List<String>> problems) {
        return "Invalid cohort-sync configuration: " + problems.values().stream()
                .flatMap(List::stream).collect(Collectors.joining("; "));
    }

    private static void add(Map<String, List<String>> problems, String key, String message) {
        problems.computeIfAbsent(key, k -> new ArrayList<>()).add(message);
    }
}

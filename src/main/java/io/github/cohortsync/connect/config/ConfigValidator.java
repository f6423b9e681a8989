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
                && ConnectorKeys.DESTINATION.equals(v.name()))) {
            return;
        }
        Map<String, Object> values = new LinkedHashMap<>();
        results.forEach((key, value) -> values.put(key, value.value()));
        Map<String, List<String>> problems = crossKeyProblems(values);
        firstContactProblem(values).ifPresent(message -> add(problems, SnapshotKeys.SNAPSHOT_BOOTSTRAP_SERVERS,
                message));
        problems.forEach((key, messages) -> {
            ConfigValue value = results.get(key);
            if (value != null && value.errorMessages().isEmpty()) {
                messages.forEach(value::addErrorMessage);
            }
        });
    }

    /**
     * Reported by validation only (so by Connect's REST API on every create and update), not when a task starts: a
     * connector created before snapshot.enabled existed keeps running with diffs only, and its task logs a WARN.
     */
    private static Optional<String> firstContactProblem(Map<String, Object> values) {
        Object enabled = values.get(SnapshotKeys.SNAPSHOT_ENABLED);
        Object servers = values.get(SnapshotKeys.SNAPSHOT_BOOTSTRAP_SERVERS);
        Object mode = values.get(SyncKeys.SYNC_MODE);
        boolean oneTime = mode != null && SyncKeys.SYNC_MODE_ONE_TIME.equalsIgnoreCase(mode.toString().trim());
        if (oneTime || Boolean.FALSE.equals(enabled) || (servers != null && !servers.toString().isBlank())) {
            return Optional.empty();
        }
        return Optional.of("Set snapshot.bootstrap.servers to the Kafka cluster of the topics (usually the worker's"
                + " bootstrap.servers) so that each cohort's first sync, and a refresh, is a full 'members' sync as"
                + " Mixpanel sends it; or set snapshot.enabled=false to send only add_members / remove_members diffs"
                + " (receivers such as Flagsmith refuse diffs of a cohort they never got as 'members')");
    }

    private static Map<String, List<String>> crossKeyProblems(Map<String, Object> values) {
        Map<String, List<String>> problems = new LinkedHashMap<>();
        Optional<DestinationType> destination =
                DestinationType.fromConfigValue((String) values.get(ConnectorKeys.DESTINATION));
        if (destination.isEmpty()) {
            return problems;
        }
        Object batch = values.get(SyncKeys.BATCH_MAX_SIZE);
        int max = destination.get().maxBatchSize(values);
        if (batch instanceof Integer size && size > max) {
            add(problems, SyncKeys.BATCH_MAX_SIZE, "batch.max.size is " + size + " but "
                    + destination.get().configValue() + " accepts at most " + max + " members per call");
        }
        Object initial = values.get(RetryKeys.RETRY_BACKOFF_INITIAL_MS);
        Object maximum = values.get(RetryKeys.RETRY_BACKOFF_MAX_MS);
        if (initial instanceof Long i && maximum instanceof Long m && m < i) {
            add(problems, RetryKeys.RETRY_BACKOFF_MAX_MS, "retry.backoff.max.ms (" + m
                    + ") must not be smaller than retry.backoff.initial.ms (" + i + ")");
        }
        Object mode = values.get(SyncKeys.SYNC_MODE);
        Object servers = values.get(SnapshotKeys.SNAPSHOT_BOOTSTRAP_SERVERS);
        if (mode != null && SyncKeys.SYNC_MODE_ONE_TIME.equalsIgnoreCase(mode.toString().trim())
                && Boolean.FALSE.equals(values.get(SnapshotKeys.SNAPSHOT_ENABLED))) {
            add(problems, SnapshotKeys.SNAPSHOT_ENABLED, "sync.mode=one_time sends a snapshot only: it cannot"
                    + " run with snapshot.enabled=false");
        } else if (mode != null && SyncKeys.SYNC_MODE_ONE_TIME.equalsIgnoreCase(mode.toString().trim())
                && (servers == null || servers.toString().isBlank())) {
            add(problems, SnapshotKeys.SNAPSHOT_BOOTSTRAP_SERVERS, "sync.mode=one_time needs"
                    + " snapshot.bootstrap.servers (the Kafka cluster of the topics) to find where the snapshot ends");
        }
        Object reportTopic = values.get(ReportKeys.REPORT_TOPIC);
        Object reportServers = values.get(ReportKeys.REPORT_BOOTSTRAP_SERVERS);
        if (reportTopic != null && !reportTopic.toString().isBlank()
                && (reportServers == null || reportServers.toString().isBlank())
                && (servers == null || servers.toString().isBlank())) {
            add(problems, ReportKeys.REPORT_BOOTSTRAP_SERVERS, "report.topic needs report.bootstrap.servers"
                    + " (or snapshot.bootstrap.servers): the Kafka cluster the report is written to");
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

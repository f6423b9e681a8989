package io.github.cohortsync.connect.config;

import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;

import org.apache.kafka.common.config.AbstractConfig;
import org.apache.kafka.common.config.ConfigDef;
import org.apache.kafka.common.config.ConfigDef.Type;
import org.apache.kafka.common.config.ConfigException;

import io.github.cohortsync.connect.http.RetryPolicy;


/**
 * The connector's configuration: every key, defined once with its documentation by its group's class
 * ({@link ConnectorKeys}, {@link SyncKeys}, {@link RetryKeys}, {@link SnapshotKeys}, {@link ReportKeys}, then each
 * destination's {@link DestinationKeys}), read through typed getters listed here in the same group order. A new key
 * goes into its group's class (name and definition); its getter, if code reads it, goes here under that group.
 */
public final class CohortSyncConfig extends AbstractConfig {

    /** Set by the connector in each task's config: the task's number, which names its JMX metrics and files. */
    public static final String TASK_ID = "cohort.sync.task.id";
    /** Set by the connector in each task's config: how many tasks share the connector's request rate. */
    public static final String TASK_COUNT = "cohort.sync.task.count";

    public static final ConfigDef CONFIG_DEF = configDef();

    public CohortSyncConfig(Map<String, String> props) {
        super(CONFIG_DEF, props, false);
        Map<String, List<String>> problems = ConfigValidator.crossKeyProblems(this);
        if (!problems.isEmpty()) {
            throw new ConfigException(ConfigValidator.describe(problems));
        }
    }

    /** The groups in the order of the docs: the connector's own, then each registered destination's. */
    private static ConfigDef configDef() {
        ConfigDef def = new ConfigDef();
        ConnectorKeys.define(def);
        SyncKeys.define(def);
        RetryKeys.define(def);
        SnapshotKeys.define(def);
        ReportKeys.define(def);
        for (DestinationType destination : DestinationType.all()) {
            destination.keys().define(def);
        }
        return def;
    }

    // Connector

    public DestinationType destination() {
        return DestinationType.fromConfigValue(getString(ConnectorKeys.DESTINATION))
                .orElseThrow(() -> new ConfigException(ConnectorKeys.DESTINATION, getString(ConnectorKeys.DESTINATION),
                        "unknown destination"));
    }

    /** The cohort ids to sync; empty means all. */
    public Set<String> cohortsInclude() {
        Set<String> ids = new HashSet<>();
        for (String id : getList(ConnectorKeys.COHORTS_INCLUDE)) {
            if (!id.isBlank()) {
                ids.add(id.trim());
            }
        }
        return ids;
    }

    public String projectId() {
        return trimmedOrNull(ConnectorKeys.PROJECT_ID);
    }

    /**
     * A hash of what decides where and what is sent: the destination, the project id and the destination's own
     * keys except credentials (a rotated key does not change what was delivered). Never stored in clear.
     */
    public long destinationFingerprint() {
        String prefix = getString(ConnectorKeys.DESTINATION).trim() + ".";
        TreeMap<String, String> decisive = new TreeMap<>();
        decisive.put(ConnectorKeys.DESTINATION, getString(ConnectorKeys.DESTINATION).trim());
        decisive.put(ConnectorKeys.PROJECT_ID, String.valueOf(projectId()));
        CONFIG_DEF.configKeys().forEach((name, key) -> {
            if (name.startsWith(prefix) && key.type != Type.PASSWORD) {
                decisive.put(name, String.valueOf(values().get(name)));
            }
        });
        try {
            MessageDigest digest = MessageDigest.getInstance("SHA-256");
            byte[] hash = digest.digest(decisive.toString().getBytes(StandardCharsets.UTF_8));
            return ByteBuffer.wrap(hash).getLong();
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
    }

    // Sync

    public boolean oneTime() {
        return SyncKeys.SYNC_MODE_ONE_TIME.equalsIgnoreCase(getString(SyncKeys.SYNC_MODE).trim());
    }

    public long syncIntervalMs() {
        return getLong(SyncKeys.SYNC_INTERVAL_MS);
    }

    public boolean syncOnIdle() {
        return getBoolean(SyncKeys.SYNC_ON_IDLE);
    }

    public int bufferMaxChanges() {
        return getInt(SyncKeys.BUFFER_MAX_CHANGES);
    }

    /** Members per call: the configured value, or the destination's maximum. */
    public int batchMaxSize() {
        Integer configured = getInt(SyncKeys.BATCH_MAX_SIZE);
        return configured != null ? configured : destination().maxBatchSize(values());
    }

    /**
     * The most pages this task sends at once: sync.max.in.flight.requests (or the destination's default), lowered to
     * the task's share of rate.limit.concurrent.requests when there is one.
     */
    public int syncMaxInFlightRequests() {
        Integer configured = getInt(SyncKeys.SYNC_MAX_IN_FLIGHT_REQUESTS);
        int cap = configured != null ? configured : destination().defaultMaxInFlight();
        int share = concurrentRequestsPerTask();
        return share > 0 ? Math.min(cap, share) : cap;
    }

    /**
     * This task's share of rate.limit.concurrent.requests (or the destination's published account limit): the limit
     * divided by the number of tasks, the first tasks (by task id) taking one more each until the remainder is used up,
     * and at least 1; 0 when there is no limit.
     */
    public int concurrentRequestsPerTask() {
        Integer configured = getInt(SyncKeys.RATE_LIMIT_CONCURRENT_REQUESTS);
        int limit = configured != null ? configured : destination().accountMaxConcurrentRequests();
        if (limit <= 0) {
            return 0;
        }
        int tasks = taskNumber(TASK_COUNT, 1);
        int id = Math.floorMod(taskNumber(TASK_ID, 0), tasks);
        return Math.max(1, limit / tasks + (id < limit % tasks ? 1 : 0));
    }

    /** True (the default) when the pages in flight adapt between 1 and the cap. */
    public boolean syncAdaptiveConcurrency() {
        return getBoolean(SyncKeys.SYNC_ADAPTIVE_CONCURRENCY);
    }

    /**
     * This task's share of rate.limit.requests.per.second: the connector's rate divided by its number of tasks (set
     * by the connector in each task's config); 0 when there is no cap.
     */
    public double rateLimitRequestsPerSecondPerTask() {
        Double rate = getDouble(SyncKeys.RATE_LIMIT_REQUESTS_PER_SECOND);
        if (rate == null) {
            return 0;
        }
        return rate / taskNumber(TASK_COUNT, 1);
    }

    /** A number the connector sets in each task's config (its id, the task count), or {@code absent} without one. */
    private int taskNumber(String key, int absent) {
        Object value = originals().get(key);
        if (value == null) {
            return absent;
        }
        try {
            return Math.max(absent, Integer.parseInt(value.toString().trim()));
        } catch (NumberFormatException e) {
            return absent;
        }
    }

    /** True when pages are built and counted but nothing is sent. */
    public boolean dryRun() {
        return getBoolean(SyncKeys.DRY_RUN);
    }

    public boolean deliveryJournalEnabled() {
        return getBoolean(SyncKeys.DELIVERY_JOURNAL_ENABLED);
    }

    /** The connector's journal directory: {@code <delivery.journal.dir>/<connector>}. */
    public Path deliveryJournalDir(String connector) {
        String dir = getString(SyncKeys.DELIVERY_JOURNAL_DIR);
        Path base = dir == null || dir.isBlank()
                ? Path.of(System.getProperty("java.io.tmpdir"), "cohort-sync", "journal")
                : Path.of(dir.trim());
        return base.resolve(FileNames.safe(connector));
    }

    // Retries and HTTP

    public int retryMaxAttempts() {
        return getInt(RetryKeys.RETRY_MAX_ATTEMPTS);
    }

    public long retryBackoffInitialMs() {
        return getLong(RetryKeys.RETRY_BACKOFF_INITIAL_MS);
    }

    public long retryBackoffMaxMs() {
        return getLong(RetryKeys.RETRY_BACKOFF_MAX_MS);
    }

    /** The retry policy of every destination call, from the retry.* keys. */
    public RetryPolicy retryPolicy(String name) {
        return new RetryPolicy(name, retryMaxAttempts(), retryBackoffInitialMs(), retryBackoffMaxMs());
    }

    public int httpTimeoutMs() {
        return getInt(RetryKeys.HTTP_TIMEOUT_MS);
    }

    /** Extra calls one sync may spend on split retries; 0 disables them. */
    public int splitMaxRequests() {
        return getInt(RetryKeys.SPLIT_MAX_REQUESTS);
    }

    // Snapshots (full sync)

    /** True when full syncs are wanted (the default), whether or not the servers they need are set. */
    public boolean snapshotEnabled() {
        return getBoolean(SnapshotKeys.SNAPSHOT_ENABLED);
    }

    /** The bootstrap servers for the snapshot's admin client; null when snapshots are disabled. */
    public String snapshotBootstrapServers() {
        if (!getBoolean(SnapshotKeys.SNAPSHOT_ENABLED)) {
            return null;
        }
        return topicsClusterServers();
    }

    /**
     * snapshot.bootstrap.servers whether or not full syncs are on (the Kafka cluster of the topics, where topic ids
     * are read and, by default, the report is written); null when unset.
     */
    public String topicsClusterServers() {
        return trimmedOrNull(SnapshotKeys.SNAPSHOT_BOOTSTRAP_SERVERS);
    }

    /**
     * The admin client's settings: the bootstrap servers of snapshot.bootstrap.servers (also with
     * snapshot.enabled=false, when the client only reads topic ids) plus every {@code snapshot.admin.*} key.
     */
    public Map<String, Object> snapshotAdminConfig() {
        Map<String, Object> admin = new HashMap<>(originalsWithPrefix(SnapshotKeys.SNAPSHOT_ADMIN_PREFIX));
        String servers = topicsClusterServers();
        admin.put("bootstrap.servers", servers == null ? "" : servers);
        return admin;
    }

    public Path snapshotSpillDir() {
        String dir = getString(SnapshotKeys.SNAPSHOT_SPILL_DIR);
        return Path.of(dir == null || dir.isBlank() ? System.getProperty("java.io.tmpdir") : dir.trim());
    }

    /** How long the destination may fail before a full refresh replaces the pending diffs; 0: never. */
    public long snapshotRefreshAfterFailureMs() {
        return getLong(SnapshotKeys.SNAPSHOT_REFRESH_AFTER_FAILURE_MS);
    }

    /** The requested refresh generation, trimmed; empty by default. */
    public String snapshotRefreshGeneration() {
        String generation = getString(SnapshotKeys.SNAPSHOT_REFRESH_GENERATION);
        return generation == null ? "" : generation.trim();
    }

    /** The lag budget the topics' delete.retention.ms is checked against; 0 when the check is off. */
    public long tombstoneRetentionWarnMs() {
        return getLong(SnapshotKeys.TOMBSTONE_RETENTION_WARN_MS);
    }

    // Delivery report and metrics

    /** The report topic; null when no report is written. */
    public String reportTopic() {
        return trimmedOrNull(ReportKeys.REPORT_TOPIC);
    }

    public boolean reportIncludesPii() {
        return getBoolean(ReportKeys.REPORT_INCLUDE_PII);
    }

    /**
     * The report producer's settings: every {@code report.producer.*} key, and the bootstrap servers of
     * report.bootstrap.servers, else of snapshot.bootstrap.servers (even with snapshot.enabled=false).
     */
    public Map<String, Object> reportProducerConfig() {
        Map<String, Object> producer = new HashMap<>(originalsWithPrefix(ReportKeys.REPORT_PRODUCER_PREFIX));
        String servers = trimmedOrNull(ReportKeys.REPORT_BOOTSTRAP_SERVERS);
        if (servers == null) {
            servers = topicsClusterServers();
        }
        producer.put("bootstrap.servers", servers == null ? "" : servers);
        return producer;
    }

    public int metricsCohortsMax() {
        return getInt(ReportKeys.METRICS_COHORTS_MAX);
    }

    /** Prints the configuration reference as Markdown; used to generate docs/configuration.md. */
    public static void main(String[] args) {
        System.out.print(ConfigDocs.markdown(CONFIG_DEF));
    }

    /** A string key's value trimmed; null when unset or blank. */
    private String trimmedOrNull(String key) {
        String value = getString(key);
        return value == null || value.isBlank() ? null : value.trim();
    }
}

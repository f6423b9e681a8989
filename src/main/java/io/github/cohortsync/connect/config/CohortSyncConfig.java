package io.github.cohortsync.connect.config;

import java.time.Duration;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;

import org.apache.kafka.common.config.AbstractConfig;
import org.apache.kafka.common.config.ConfigDef;
import org.apache.kafka.common.config.ConfigDef.Importance;
import org.apache.kafka.common.config.ConfigDef.Range;
import org.apache.kafka.common.config.ConfigDef.Type;
import org.apache.kafka.common.config.ConfigDef.Width;
import org.apache.kafka.common.config.ConfigException;

import io.github.cohortsync.connect.http.RetryPolicy;
import io.github.cohortsync.connect.sync.send.SyncSender;


/** Every configuration key of the connector, defined once with its documentation. */
public final class CohortSyncConfig extends AbstractConfig {

    /** Set by the connector in each task's config: the task's number, which names its JMX metrics and files. */
    public static final String TASK_ID = "cohort.sync.task.id";
    /** Set by the connector in each task's config: how many tasks share the connector's request rate. */
    public static final String TASK_COUNT = "cohort.sync.task.count";
    public static final String DESTINATION = "destination";
    public static final String COHORTS_INCLUDE = "cohorts.include";
    public static final String PROJECT_ID = "project.id";
    public static final String SYNC_MODE = "sync.mode";
    public static final String SYNC_INTERVAL_MS = "sync.interval.ms";
    public static final String SYNC_ON_IDLE = "sync.on.idle";
    public static final String BUFFER_MAX_CHANGES = "buffer.max.changes";
    public static final String BATCH_MAX_SIZE = "batch.max.size";
    public static final String SYNC_MAX_IN_FLIGHT_REQUESTS = "sync.max.in.flight.requests";
    public static final String SYNC_ADAPTIVE_CONCURRENCY = "sync.adaptive.concurrency";
    public static final String RATE_LIMIT_REQUESTS_PER_SECOND = "rate.limit.requests.per.second";
    public static final String RATE_LIMIT_CONCURRENT_REQUESTS = "rate.limit.concurrent.requests";
    public static final String RETRY_MAX_ATTEMPTS = "retry.max.attempts";
    public static final String RETRY_BACKOFF_INITIAL_MS = "retry.backoff.initial.ms";
    public static final String RETRY_BACKOFF_MAX_MS = "retry.backoff.max.ms";
    public static final String HTTP_TIMEOUT_MS = "http.timeout.ms";
    public static final String SPLIT_MAX_REQUESTS = "split.max.requests";
    public static final String SNAPSHOT_ENABLED = "snapshot.enabled";
    public static final String SNAPSHOT_BOOTSTRAP_SERVERS = "snapshot.bootstrap.servers";
    public static final String SNAPSHOT_REFRESH_AFTER_FAILURE_MS = "snapshot.refresh.after.failure.ms";
    public static final String SNAPSHOT_REFRESH_GENERATION = "snapshot.refresh.generation";
    /** Prefix of the admin client settings (security, SASL, SSL) used to read offsets for a snapshot. */
    public static final String SNAPSHOT_ADMIN_PREFIX = "snapshot.admin.";
    public static final String SNAPSHOT_SPILL_DIR = "snapshot.spill.dir";
    public static final String TOMBSTONE_RETENTION_WARN_MS = "tombstone.retention.warn.ms";
    public static final String DELIVERY_JOURNAL_ENABLED = "delivery.journal.enabled";
    public static final String DELIVERY_JOURNAL_DIR = "delivery.journal.dir";
    public static final String DRY_RUN = "dry.run";
    public static final String REPORT_TOPIC = "report.topic";
    public static final String REPORT_INCLUDE_PII = "report.include.pii";
    public static final String REPORT_BOOTSTRAP_SERVERS = "report.bootstrap.servers";
    /** Prefix of the report producer's settings (security, SASL, SSL, batching), as snapshot.admin. is the admin's. */
    public static final String REPORT_PRODUCER_PREFIX = "report.producer.";
    public static final String METRICS_COHORTS_MAX = "metrics.cohorts.max";

    public static final String SYNC_MODE_DYNAMIC = "dynamic";
    public static final String SYNC_MODE_ONE_TIME = "one_time";

    static final String GROUP_CONNECTOR = "Connector";
    static final String GROUP_SYNC = "Sync";
    static final String GROUP_RETRY = "Retries and HTTP";
    static final String GROUP_SNAPSHOT = "Snapshots (full sync)";
    static final String GROUP_REPORT = "Delivery report and metrics";

    public static final ConfigDef CONFIG_DEF = configDef();

    public CohortSyncConfig(Map<String, String> props) {
        super(CONFIG_DEF, props, false);
        Map<String, List<String>> problems = ConfigValidator.crossKeyProblems(this);
        if (!problems.isEmpty()) {
            throw new ConfigException(ConfigValidator.describe(problems));
        }
    }

    private static ConfigDef configDef() {
        ConfigDef def = new ConfigDef();
        int order = 0;
        def.define(DESTINATION, Type.STRING, ConfigDef.NO_DEFAULT_VALUE,
                new OneOf(DestinationType.configValues()),
                Importance.HIGH,
                "Where cohort membership is synced to. One of: " + String.join(", ", DestinationType.configValues())
                        + ". Each destination has its own group of keys; only the chosen destination's"
                        + " required keys are required.",
                GROUP_CONNECTOR, ++order, Width.SHORT, "Destination",
                new ListRecommender(DestinationType.configValues()));
        def.define(COHORTS_INCLUDE, Type.LIST, "", Importance.MEDIUM,
                "Cohort ids to sync, comma-separated. Empty means every cohort. Records of other cohorts are"
                        + " skipped and their offsets committed.",
                GROUP_CONNECTOR, ++order, Width.LONG, "Cohorts to sync");
        def.define(PROJECT_ID, Type.STRING, "", Importance.LOW,
                "The analytics project id sent with each cohort when a record carries no project_id. When neither"
                        + " gives one, the webhook sends \"0\" (receivers of its format require a non-blank"
                        + " mixpanel_project_id).",
                GROUP_CONNECTOR, ++order, Width.SHORT, "Project id");

        order = 0;
        def.define(SYNC_MODE, Type.STRING, SYNC_MODE_DYNAMIC,
                new OneOf(List.of(SYNC_MODE_DYNAMIC, SYNC_MODE_ONE_TIME)),
                Importance.MEDIUM,
                "How cohorts are synced (Mixpanel's 'dynamic' and 'one-time' syncs). 'dynamic': changes are netted"
                        + " for sync.interval.ms and sent as add_members / remove_members diffs; on a first run"
                        + " (no committed offsets) the topic's current content is first sent as one snapshot"
                        + " ('members' pages), and a cohort that first appears later starts with 'members' pages"
                        + " (unless snapshot.enabled=false). 'one_time': the topic's"
                        + " current content is sent once as a snapshot, then the task stays idle (requires"
                        + " snapshot.bootstrap.servers).",
                GROUP_SYNC, ++order, Width.SHORT, "Sync mode",
                new ListRecommender(List.of(SYNC_MODE_DYNAMIC, SYNC_MODE_ONE_TIME)));
        def.define(SYNC_INTERVAL_MS, Type.LONG, 10_000L, Range.between(100L, Duration.ofHours(24).toMillis()),
                Importance.MEDIUM,
                "How long membership changes are buffered and netted before a sync. Only the latest change of"
                        + " a user in a cohort within one interval is sent, so churn costs at most one member slot.",
                GROUP_SYNC, ++order, Width.SHORT, "Sync interval (ms)");
        def.define(SYNC_ON_IDLE, Type.BOOLEAN, false, Importance.LOW,
                "Also sync as soon as the task has read everything there is (a poll of its unpaused"
                        + " partitions returned no records) instead of waiting for the rest of sync.interval.ms, which stays the upper"
                        + " bound. Lower latency after a burst or a backlog, but less netting: a user who enters and"
                        + " leaves with a quiet moment in between costs two member slots instead of one, and"
                        + " smaller syncs mean more, smaller calls.",
                GROUP_SYNC, ++order, Width.SHORT, "Sync when idle");
        def.define(BUFFER_MAX_CHANGES, Type.INT, 100_000, Range.between(1, 10_000_000), Importance.MEDIUM,
                "Netted changes a task holds before a sync is forced. While the destination is slow or"
                        + " down and the buffer is full, the task pauses consumption instead of growing"
                        + " its heap.",
                GROUP_SYNC, ++order, Width.SHORT, "Buffer size (changes)");
        def.define(BATCH_MAX_SIZE, Type.INT, null, new PositiveOrNull(), Importance.LOW,
                "Members per destination call. Default: the destination's documented maximum ("
                        + DestinationType.all().stream()
                                .map(d -> d.configValue() + ": " + d.maxBatchSize())
                                .collect(java.util.stream.Collectors.joining(", "))
                        + "; braze with braze.mode=cohort_import: "
                        + DestinationType.of("braze").maxBatchSize(java.util.Map.of("braze.mode", "cohort_import"))
                        + "). Larger values than that maximum are"
                        + " rejected. Full-sync ('members') pages hold at most this many members too.",
                GROUP_SYNC, ++order, Width.SHORT, "Batch size");
        def.define(SYNC_MAX_IN_FLIGHT_REQUESTS, Type.INT, null, new InFlightOrNull(), Importance.LOW,
                "The most pages a task sends at once: the cap of its adaptive limit (see "
                        + SYNC_ADAPTIVE_CONCURRENCY + "), or the fixed number when adaptation is off. The pages of one"
                        + " diff sync (add_members / remove_members) hold distinct members, so their order does not"
                        + " matter; in a full sync ('members' pages) each cohort's page 1 goes alone and first, its"
                        + " middle pages go several at once, and its last page goes alone after all the others; syncs"
                        + " still go one after the other. 1 means strictly one page at a time, in order. Default: "
                        + DestinationType.all().stream()
                                .map(d -> d.configValue() + ": " + d.defaultMaxInFlight())
                                .collect(java.util.stream.Collectors.joining(", "))
                        + ". Each call counts against the destination's rate limit, for every task.",
                GROUP_SYNC, ++order, Width.SHORT, "Pages in flight (cap)");
        def.define(SYNC_ADAPTIVE_CONCURRENCY, Type.BOOLEAN, true, Importance.LOW,
                "true: the pages a task has in flight adapt between 1 and " + SYNC_MAX_IN_FLIGHT_REQUESTS
                        + ", starting at " + SyncSender.DEFAULT_INITIAL_IN_FLIGHT
                        + " (or the cap, when lower). While the answers are 2xx and round trips stay near their"
                        + " floor it doubles per round trip until the destination first pushes back, then grows by"
                        + " one per round trip up to nine tenths of where it was pushed back, and by one per eight"
                        + " round trips above that. It halves on HTTP 429, 503, 504, 408, a timeout or a connection"
                        + " error, and falls to three quarters when round trips rise to more than twice their"
                        + " floor. false: always " + SYNC_MAX_IN_FLIGHT_REQUESTS + " pages in flight (a fixed"
                        + " concurrency, as before this setting existed). JMX ConcurrencyLimit shows the current limit.",
                GROUP_SYNC, ++order, Width.SHORT, "Adaptive pages in flight");
        def.define(RATE_LIMIT_REQUESTS_PER_SECOND, Type.DOUBLE, null, new RateOrNull(), Importance.LOW,
                "The most destination calls per second of the whole connector, split evenly across its tasks"
                        + " (each task gets this divided by tasks.max) and spaced evenly within each task: a static"
                        + " cap for a destination whose rate limit is published. Unset: no cap (the adaptive limit"
                        + " and Retry-After still apply). Counts each try of each page, retries included; a page's"
                        + " lookups (a list or segment created or found) are not counted.",
                GROUP_SYNC, ++order, Width.SHORT, "Request rate cap (per connector)");
        def.define(RATE_LIMIT_CONCURRENT_REQUESTS, Type.INT, null, new ConcurrentRequestsOrNull(), Importance.LOW,
                "The most pages in flight at once for the whole connector, split across its tasks (with 15 and"
                        + " tasks.max=4: 4, 4, 4 and 3), for a destination that limits the requests an account has"
                        + " in progress at once. Each task's cap is the lower of its share and "
                        + SYNC_MAX_IN_FLIGHT_REQUESTS + "; a task always has at least 1. Default: the vendor's"
                        + " published account limit ("
                        + DestinationType.all().stream().filter(d -> d.accountMaxConcurrentRequests() > 0)
                                .map(d -> d.configValue() + ": " + d.accountMaxConcurrentRequests())
                                .collect(java.util.stream.Collectors.joining(", "))
                        + "), none for the others. Lower it when other tools use the same account; 0 turns it off.",
                GROUP_SYNC, ++order, Width.SHORT, "Concurrent requests cap (per connector)");
        def.define(DRY_RUN, Type.BOOLEAN, false, Importance.MEDIUM,
                "Build every page as a real run would, send nothing to the destination, and log one INFO line per"
                        + " sync with the pages and members per action it would have sent. Offsets are committed as"
                        + " in a real run, so run it as a connector of its own name (its own consumer group), never"
                        + " by switching this on and off on the production connector: what a dry run read is never"
                        + " sent by that connector later. No delivery journal is kept. Checks a destination makes"
                        + " while sending (a member without an email, a list lookup) are not made.",
                GROUP_SYNC, ++order, Width.SHORT, "Dry run");
        def.define(DELIVERY_JOURNAL_ENABLED, Type.BOOLEAN, true, Importance.LOW,
                "Keep a local journal of the changes the destination accepted whose offsets are not committed"
                        + " yet, so that a task restarted on the same host (task restart, worker restart, a"
                        + " partition moving between tasks of one host) sends again only what was not delivered."
                        + " On another host the uncommitted changes are all sent again, as without the journal."
                        + " A change is recorded as delivered only after the destination accepted it, so losing"
                        + " or deleting the journal only causes resends.",
                GROUP_SYNC, ++order, Width.SHORT, "Delivery journal");
        def.define(DELIVERY_JOURNAL_DIR, Type.STRING, "", Importance.LOW,
                "Where the delivery journal is kept: one small file per topic partition, in a subdirectory"
                        + " named after the connector. Empty means the JVM's java.io.tmpdir followed by"
                        + " cohort-sync/journal. Use a directory that survives a"
                        + " worker restart. When it cannot be written the task logs a WARN naming it and runs"
                        + " without a journal.",
                GROUP_SYNC, ++order, Width.LONG, "Delivery journal directory");

        order = 0;
        def.define(RETRY_MAX_ATTEMPTS, Type.INT, 5, Range.between(0, 100), Importance.LOW,
                "How many times a transient failure (connection error, timeout, HTTP 408, 425, 429 or 5xx) is"
                        + " retried before the sync is given up and tried again at the next interval. The"
                        + " task stays RUNNING and commits nothing past the undelivered changes.",
                GROUP_RETRY, ++order, Width.SHORT, "Retries");
        def.define(RETRY_BACKOFF_INITIAL_MS, Type.LONG, 2_000L, Range.between(0L, Duration.ofHours(1).toMillis()),
                Importance.LOW,
                "The wait before the first retry; each later retry waits twice as long, up to"
                        + " retry.backoff.max.ms. A Retry-After header overrides it.",
                GROUP_RETRY, ++order, Width.SHORT, "Initial backoff (ms)");
        def.define(RETRY_BACKOFF_MAX_MS, Type.LONG, 30_000L, Range.between(0L, Duration.ofHours(1).toMillis()),
                Importance.LOW,
                "The longest wait between two retries (a Retry-After header may ask for longer, and is"
                        + " honoured up to 1 hour).",
                GROUP_RETRY, ++order, Width.SHORT, "Maximum backoff (ms)");
        def.define(HTTP_TIMEOUT_MS, Type.INT, 30_000, Range.between(100, 600_000), Importance.LOW,
                "Connect, read and write timeout of each destination call.",
                GROUP_RETRY, ++order, Width.SHORT, "HTTP timeout (ms)");
        def.define(SPLIT_MAX_REQUESTS, Type.INT, 100, Range.between(0, 1_000_000), Importance.LOW,
                "Extra destination calls one sync may spend on split retries. A diff page (add_members,"
                        + " remove_members) the destination refuses for what it carries (HTTP 400, 413 or 422 to a"
                        + " call with members, Iterable BatchTooLarge or BadParams, Braze 'too many objects') is"
                        + " split in halves and each half sent again, down to single members: a member refused"
                        + " alone is rejected (dead letter queue with errors.tolerance=all, else a WARN), everyone"
                        + " else is delivered. k members at fault in a page of n cost about 2*k*log2(n) extra calls"
                        + " (one in 1000: 20). Once a sync has made this many, the page fails the task as without"
                        + " splitting. 0 disables splitting. Refusals of the account, endpoint or list (401, 403,"
                        + " 404, an unknown list) are never split, nor are full-sync ('members') pages.",
                GROUP_RETRY, ++order, Width.SHORT, "Split retries (extra calls per sync)");

        order = 0;
        def.define(SNAPSHOT_ENABLED, Type.BOOLEAN, true, Importance.HIGH,
                "Full syncs ('members' pages), as Mixpanel sends them: each cohort's first sync (on a first run,"
                        + " and for a cohort that first appears later), a refresh after the destination failed for"
                        + " longer than " + SNAPSHOT_REFRESH_AFTER_FAILURE_MS + ", and a refresh on request ("
                        + SNAPSHOT_REFRESH_GENERATION + "). Needs " + SNAPSHOT_BOOTSTRAP_SERVERS + "; config"
                        + " validation asks for it unless this is set to false. false: only add_members /"
                        + " remove_members diffs are sent (receivers that require a cohort's first sync as"
                        + " 'members', such as Flagsmith, then refuse the diffs of cohorts they never got).",
                GROUP_SNAPSHOT, ++order, Width.SHORT, "Full syncs");
        def.define(SNAPSHOT_BOOTSTRAP_SERVERS, Type.STRING, "", Importance.MEDIUM,
                "The Kafka cluster the connector reads from, as host:port pairs: used at start and on each"
                        + " partition assignment to read the consumer group's committed offsets and the topic's"
                        + " end offsets, which bound every full sync. Usually the worker's own bootstrap.servers."
                        + " Required unless snapshot.enabled=false (config validation reports it); a task started"
                        + " without it sends diffs only and logs a WARN. Also read with snapshot.enabled=false, to"
                        + " learn the topic ids that tell the delivery journal a re-created topic from the old one."
                        + " Admin client settings such as security.protocol or sasl.jaas.config are"
                        + " given with the prefix " + SNAPSHOT_ADMIN_PREFIX + " (e.g."
                        + " snapshot.admin.security.protocol=SASL_SSL).",
                GROUP_SNAPSHOT, ++order, Width.LONG, "Snapshot bootstrap servers");
        def.define(SNAPSHOT_SPILL_DIR, Type.STRING, "", Importance.LOW,
                "Where a snapshot larger than buffer.max.changes is spilled to disk, in sorted netted runs that"
                        + " are merged when it is sent. Each task uses its own subdirectory, deleted when the"
                        + " snapshot is delivered or the task stops. Empty means the JVM's java.io.tmpdir.",
                GROUP_SNAPSHOT, ++order, Width.LONG, "Snapshot spill directory");
        def.define(SNAPSHOT_REFRESH_AFTER_FAILURE_MS, Type.LONG, Duration.ofDays(3).toMillis(),
                Range.atLeast(0L), Importance.LOW,
                "A full refresh ('members' pages of every cohort, read again from the start of the topic) replaces"
                        + " the pending diffs once the destination has failed for longer than this without"
                        + " accepting a page, as Mixpanel re-sends a full sync after its receiver was down longer"
                        + " than 3 days. The time counts across task restarts. 0 disables it.",
                GROUP_SNAPSHOT, ++order, Width.SHORT, "Refresh after failure (ms)");
        def.define(SNAPSHOT_REFRESH_GENERATION, Type.STRING, "", Importance.LOW,
                "Change this value (any text, e.g. a date) to ask for one full refresh: when it differs from the"
                        + " value of the last delivered full sync, each task reads its partitions from the start"
                        + " and sends every cohort as 'members' pages before any further diff.",
                GROUP_SNAPSHOT, ++order, Width.SHORT, "Refresh generation");
        def.define(TOMBSTONE_RETENTION_WARN_MS, Type.LONG, Duration.ofDays(7).toMillis(), Range.atLeast(0L),
                Importance.LOW,
                "The longest the connector may be stopped or behind (your lag budget). When"
                        + " snapshot.bootstrap.servers is set, each task reads the cleanup.policy and"
                        + " delete.retention.ms of its topics on their first assignment and logs a WARN for a"
                        + " compacted topic whose delete.retention.ms is shorter: the broker may delete a removal"
                        + " (tombstone) before a connector that fell that far behind reads it. 0 disables the check."
                        + " Default: 7 days, Kafka's default retention.ms.",
                GROUP_SNAPSHOT, ++order, Width.SHORT, "Tombstone retention warning (ms)");

        order = 0;
        def.define(REPORT_TOPIC, Type.STRING, "", Importance.MEDIUM,
                "A Kafka topic that gets one record per member and sync with its outcome: delivered, rejected"
                        + " (with the reason and the destination's code), skipped_already_delivered (the delivery"
                        + " journal), netted_away (a later change of the member in the same sync replaced it) or"
                        + " dry_run; keyed by {\"cohort_id\",\"distinct_id\"}. Records are acknowledged by the"
                        + " broker before the offsets they cover are committed; a topic that cannot be written"
                        + " fails the task. Empty (the default) writes no report. See docs/report-topic.md.",
                GROUP_REPORT, ++order, Width.LONG, "Report topic");
        def.define(REPORT_INCLUDE_PII, Type.BOOLEAN, false, Importance.LOW,
                "true: report records also carry the member's email, names, phone number and properties."
                        + " false (the default): only ids, the outcome and where the change was read.",
                GROUP_REPORT, ++order, Width.SHORT, "Report personal data");
        def.define(REPORT_BOOTSTRAP_SERVERS, Type.STRING, "", Importance.LOW,
                "The Kafka cluster the report is written to, as host:port pairs. Empty means "
                        + SNAPSHOT_BOOTSTRAP_SERVERS + " (a task cannot read its worker's producer settings)."
                        + " Producer settings such as security.protocol, sasl.jaas.config or max.request.size are"
                        + " given with the prefix " + REPORT_PRODUCER_PREFIX + " (e.g."
                        + " report.producer.security.protocol=SASL_SSL); acks=all and idempotence are the defaults.",
                GROUP_REPORT, ++order, Width.LONG, "Report bootstrap servers");
        def.define(METRICS_COHORTS_MAX, Type.INT, 100, Range.between(0, 100_000), Importance.LOW,
                "Per task, the most cohorts with an MBean of their own (type=cohort-metrics): the most recently"
                        + " synced ones; the least recently synced cohort's MBean is unregistered to make room."
                        + " 0 registers none.",
                GROUP_REPORT, ++order, Width.SHORT, "Cohorts with metrics");

        for (DestinationType destination : DestinationType.all()) {
            destination.keys().define(def);
        }
        return def;
    }

    public DestinationType destination() {
        return DestinationType.fromConfigValue(getString(DESTINATION))
                .orElseThrow(() -> new ConfigException(DESTINATION, getString(DESTINATION), "unknown destination"));
    }

    /** The cohort ids to sync; empty means all. */
    public Set<String> cohortsInclude() {
        Set<String> ids = new HashSet<>();
        for (String id : getList(COHORTS_INCLUDE)) {
            if (!id.isBlank()) {
                ids.add(id.trim());
            }
        }
        return ids;
    }

    public String projectId() {
        return trimmedOrNull(PROJECT_ID);
    }

    public long syncIntervalMs() {
        return getLong(SYNC_INTERVAL_MS);
    }

    public boolean syncOnIdle() {
        return getBoolean(SYNC_ON_IDLE);
    }

    public int bufferMaxChanges() {
        return getInt(BUFFER_MAX_CHANGES);
    }

    /** Members per call: the configured value, or the destination's maximum. */
    public int batchMaxSize() {
        Integer configured = getInt(BATCH_MAX_SIZE);
        return configured != null ? configured : destination().maxBatchSize(values());
    }

    /**
     * The most pages this task sends at once: sync.max.in.flight.requests (or the destination's default), lowered to
     * the task's share of rate.limit.concurrent.requests when there is one.
     */
    public int syncMaxInFlightRequests() {
        Integer configured = getInt(SYNC_MAX_IN_FLIGHT_REQUESTS);
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
        Integer configured = getInt(RATE_LIMIT_CONCURRENT_REQUESTS);
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
        return getBoolean(SYNC_ADAPTIVE_CONCURRENCY);
    }

    /**
     * This task's share of rate.limit.requests.per.second: the connector's rate divided by its number of tasks (set
     * by the connector in each task's config); 0 when there is no cap.
     */
    public double rateLimitRequestsPerSecondPerTask() {
        Double rate = getDouble(RATE_LIMIT_REQUESTS_PER_SECOND);
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

    public int retryMaxAttempts() {
        return getInt(RETRY_MAX_ATTEMPTS);
    }

    public long retryBackoffInitialMs() {
        return getLong(RETRY_BACKOFF_INITIAL_MS);
    }

    public long retryBackoffMaxMs() {
        return getLong(RETRY_BACKOFF_MAX_MS);
    }

    /** The retry policy of every destination call, from the retry.* keys. */
    public RetryPolicy retryPolicy(String name) {
        return new RetryPolicy(name, retryMaxAttempts(), retryBackoffInitialMs(), retryBackoffMaxMs());
    }

    public int httpTimeoutMs() {
        return getInt(HTTP_TIMEOUT_MS);
    }

    /** True when pages are built and counted but nothing is sent. */
    public boolean dryRun() {
        return getBoolean(DRY_RUN);
    }

    /** Extra calls one sync may spend on split retries; 0 disables them. */
    public int splitMaxRequests() {
        return getInt(SPLIT_MAX_REQUESTS);
    }

    public boolean oneTime() {
        return SYNC_MODE_ONE_TIME.equalsIgnoreCase(getString(SYNC_MODE).trim());
    }

    /** The bootstrap servers for the snapshot's admin client; null when snapshots are disabled. */
    public String snapshotBootstrapServers() {
        if (!getBoolean(SNAPSHOT_ENABLED)) {
            return null;
        }
        return trimmedOrNull(SNAPSHOT_BOOTSTRAP_SERVERS);
    }

    /** The admin client's settings: the bootstrap servers plus every {@code snapshot.admin.*} key. */
    public Map<String, Object> snapshotAdminConfig() {
        Map<String, Object> admin = new java.util.HashMap<>(originalsWithPrefix(SNAPSHOT_ADMIN_PREFIX));
        admin.put("bootstrap.servers", snapshotBootstrapServers());
        return admin;
    }

    /** The report topic; null when no report is written. */
    public String reportTopic() {
        return trimmedOrNull(REPORT_TOPIC);
    }

    public boolean reportIncludesPii() {
        return getBoolean(REPORT_INCLUDE_PII);
    }

    /**
     * The report producer's settings: every {@code report.producer.*} key, and the bootstrap servers of
     * report.bootstrap.servers, else of snapshot.bootstrap.servers (even with snapshot.enabled=false).
     */
    public Map<String, Object> reportProducerConfig() {
        Map<String, Object> producer = new java.util.HashMap<>(originalsWithPrefix(REPORT_PRODUCER_PREFIX));
        String servers = trimmedOrNull(REPORT_BOOTSTRAP_SERVERS);
        if (servers == null) {
            servers = trimmedOrNull(SNAPSHOT_BOOTSTRAP_SERVERS);
        }
        producer.put("bootstrap.servers", servers == null ? "" : servers);
        return producer;
    }

    public int metricsCohortsMax() {
        return getInt(METRICS_COHORTS_MAX);
    }

    /** True when full syncs are wanted (the default), whether or not the servers they need are set. */
    public boolean snapshotEnabled() {
        return getBoolean(SNAPSHOT_ENABLED);
    }

    /** How long the destination may fail before a full refresh replaces the pending diffs; 0: never. */
    public long snapshotRefreshAfterFailureMs() {
        return getLong(SNAPSHOT_REFRESH_AFTER_FAILURE_MS);
    }

    /** The requested refresh generation, trimmed; empty by default. */
    public String snapshotRefreshGeneration() {
        String generation = getString(SNAPSHOT_REFRESH_GENERATION);
        return generation == null ? "" : generation.trim();
    }

    public java.nio.file.Path snapshotSpillDir() {
        String dir = getString(SNAPSHOT_SPILL_DIR);
        return java.nio.file.Path.of(dir == null || dir.isBlank() ? System.getProperty("java.io.tmpdir") : dir.trim());
    }

    /** The lag budget the topics' delete.retention.ms is checked against; 0 when the check is off. */
    public long tombstoneRetentionWarnMs() {
        return getLong(TOMBSTONE_RETENTION_WARN_MS);
    }

    public boolean deliveryJournalEnabled() {
        return getBoolean(DELIVERY_JOURNAL_ENABLED);
    }

    /** The connector's journal directory: {@code <delivery.journal.dir>/<connector>}. */
    public java.nio.file.Path deliveryJournalDir(String connector) {
        String dir = getString(DELIVERY_JOURNAL_DIR);
        java.nio.file.Path base = dir == null || dir.isBlank()
                ? java.nio.file.Path.of(System.getProperty("java.io.tmpdir"), "cohort-sync", "journal")
                : java.nio.file.Path.of(dir.trim());
        return base.resolve(FileNames.safe(connector));
    }

    /**
     * A hash of what decides where and what is sent: the destination, the project id and the destination's own
     * keys except credentials (a rotated key does not change what was delivered). Never stored in clear.
     */
    public long destinationFingerprint() {
        String prefix = getString(DESTINATION).trim() + ".";
        java.util.TreeMap<String, String> decisive = new java.util.TreeMap<>();
        decisive.put(DESTINATION, getString(DESTINATION).trim());
        decisive.put(PROJECT_ID, String.valueOf(projectId()));
        CONFIG_DEF.configKeys().forEach((name, key) -> {
            if (name.startsWith(prefix) && key.type != Type.PASSWORD) {
                decisive.put(name, String.valueOf(values().get(name)));
            }
        });
        try {
            java.security.MessageDigest digest = java.security.MessageDigest.getInstance("SHA-256");
            byte[] hash = digest.digest(decisive.toString().getBytes(java.nio.charset.StandardCharsets.UTF_8));
            return java.nio.ByteBuffer.wrap(hash).getLong();
        } catch (java.security.NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
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

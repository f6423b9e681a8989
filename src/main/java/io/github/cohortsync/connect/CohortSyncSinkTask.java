package io.github.cohortsync.connect;

import java.nio.file.Path;
import java.time.Duration;
import java.util.Collection;
import java.util.Map;
import java.util.Set;
import java.util.function.BiFunction;

import org.apache.kafka.clients.consumer.OffsetAndMetadata;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.connect.sink.ErrantRecordReporter;
import org.apache.kafka.connect.sink.SinkRecord;
import org.apache.kafka.connect.sink.SinkTask;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import io.github.cohortsync.connect.config.CohortSyncConfig;
import io.github.cohortsync.connect.destination.Destination;
import io.github.cohortsync.connect.destination.Destinations;
import io.github.cohortsync.connect.metrics.CohortMetricsRegistry;
import io.github.cohortsync.connect.metrics.SyncStats;
import io.github.cohortsync.connect.metrics.TaskMetrics;
import io.github.cohortsync.connect.record.BadRecordException;
import io.github.cohortsync.connect.report.ReportRecords;
import io.github.cohortsync.connect.report.ReportWriter;
import io.github.cohortsync.connect.sync.DeadLetters;
import io.github.cohortsync.connect.record.MembershipChange;
import io.github.cohortsync.connect.record.RecordParser;
import io.github.cohortsync.connect.config.FileNames;
import io.github.cohortsync.connect.sync.SyncEngine;
import io.github.cohortsync.connect.sync.SyncEngine.Closing;
import io.github.cohortsync.connect.sync.SyncEngine.Route;
import io.github.cohortsync.connect.sync.journal.TopicIds;
import io.github.cohortsync.connect.sync.snapshot.AdminOffsetsLookup;
import io.github.cohortsync.connect.sync.snapshot.OffsetsLookup;

/**
 * The Connect contract of the connector: parses and filters records and hands them to the {@link SyncEngine}, which
 * syncs them and says which offsets are safe to commit. Never waits on the network in {@code put} or
 * {@code preCommit}.
 */
public class CohortSyncSinkTask extends SinkTask {
    private static final Logger log = LoggerFactory.getLogger(CohortSyncSinkTask.class);
    /**
     * The bound of each admin call that decides and bounds a snapshot: at start and on assignment, and (rarely) before
     * a first contact or a refresh after a failure.
     */
    private static final Duration SNAPSHOT_LOOKUP_TIMEOUT = Duration.ofSeconds(30);
    /** Where Connect's WorkerSinkTask lives: a close it calls outside a rebalance callback is a stop. */
    private static final String CONNECT_RUNTIME_PACKAGE = "org.apache.kafka.connect.runtime.";
    private static final String REBALANCE_LISTENER = "org.apache.kafka.clients.consumer.ConsumerRebalanceListener";

    private final BiFunction<CohortSyncConfig, String, OffsetsLookup> offsetsLookups;

    private final RecordParser parser = new RecordParser();
    private Set<String> cohortsInclude;
    private SyncStats stats;
    private TaskMetrics metrics;
    private DeadLetters deadLetters;
    private SyncEngine engine;
    /** Reads the ids of newly assigned topics for the delivery journal (a re-created topic is not trusted). */
    private TopicIds topicIds = TopicIds.none();
    /** The admin client behind {@link #topicIds} when full syncs are off (else the snapshots' one); null if none. */
    private OffsetsLookup topicIdLookup;

    public CohortSyncSinkTask() {
        this((config, groupId) -> AdminOffsetsLookup.create(config.snapshotAdminConfig(), groupId,
                SNAPSHOT_LOOKUP_TIMEOUT));
    }

    /** With another way to read offsets, for tests. */
    CohortSyncSinkTask(BiFunction<CohortSyncConfig, String, OffsetsLookup> offsetsLookups) {
        this.offsetsLookups = offsetsLookups;
    }

    @Override
    public String version() {
        return Version.get();
    }

    @Override
    public void start(Map<String, String> props) {
        CohortSyncConfig config = new CohortSyncConfig(props);
        cohortsInclude = config.cohortsInclude();
        stats = new SyncStats();
        boolean tolerateErrors = "all".equalsIgnoreCase(props.getOrDefault("errors.tolerance", "none").trim());
        deadLetters = new DeadLetters(errantRecordReporter(), tolerateErrors);
        String name = props.getOrDefault("name", "cohort-sync");
        String taskId = props.getOrDefault(CohortSyncConfig.TASK_ID, "0");
        metrics = TaskMetrics.register(stats, name, taskId);
        // First: a report topic that cannot be written fails the start before anything else is opened.
        ReportWriter report = openReport(config, name, taskId);
        Destination destination = Destinations.create(config, name);
        OffsetsLookup offsetsLookup = null;
        Path spillDir = null;
        String groupId = props.getOrDefault("consumer.override.group.id", "connect-" + name);
        if (config.snapshotBootstrapServers() != null) {
            offsetsLookup = offsetsLookups.apply(config, groupId);
            spillDir = config.snapshotSpillDir().resolve("cohort-sync-" + FileNames.safe(name) + "-task-" + taskId);
        } else if (config.snapshotEnabled() && !config.oneTime()) {
            log.warn("snapshot.bootstrap.servers is not set: only add_members / remove_members diffs are sent, and no"
                    + " cohort gets a full first sync ('members'); receivers such as Flagsmith refuse diffs of a cohort"
                    + " they never got as 'members'. Set snapshot.bootstrap.servers, or snapshot.enabled=false to"
                    + " silence this warning.");
        }
        engine = new SyncEngine(config, name, taskId, destination, offsetsLookup, spillDir, context, stats,
                deadLetters, new SyncEngine.Reporting(report,
                        new CohortMetricsRegistry(name, taskId, config.metricsCohortsMax())));
        topicIds = topicIds(config, offsetsLookup, groupId);
        logStarted(config, offsetsLookup != null);
    }

    /**
     * How the delivery journal learns the ids of newly assigned topics: with the snapshots' admin client, else (full
     * syncs off) with one of its own when snapshot.bootstrap.servers is set; never fails the start.
     */
    private TopicIds topicIds(CohortSyncConfig config, OffsetsLookup offsetsLookup, String groupId) {
        if (!config.deliveryJournalEnabled() || config.dryRun()) {
            return TopicIds.none();
        }
        if (offsetsLookup != null) {
            return TopicIds.readBy(offsetsLookup::topicIds);
        }
        if (config.topicsClusterServers() == null) {
            return TopicIds.unavailable();
        }
        try {
            topicIdLookup = offsetsLookups.apply(config, groupId);
            return TopicIds.readBy(topicIdLookup::topicIds);
        } catch (RuntimeException e) {
            log.warn("Could not create the admin client that reads topic ids ({}): a topic deleted and created again"
                    + " under the same name is not noticed by the delivery journal", e.getMessage());
            return TopicIds.unavailable();
        }
    }

    /** The report topic's writer, or null when report.topic is unset; fails the start when it is unwritable. */
    private static ReportWriter openReport(CohortSyncConfig config, String name, String taskId) {
        String topic = config.reportTopic();
        if (topic == null) {
            return null;
        }
        ReportRecords records = new ReportRecords(name, taskId, config.destination().configValue(),
                config.reportIncludesPii());
        ReportWriter writer = ReportWriter.open(config.reportProducerConfig(),
                "cohort-sync-report-" + name + "-" + taskId, topic, records);
        log.info("Writing one outcome per member and sync to the report topic {} (personal data: {})", topic,
                config.reportIncludesPii() ? "included" : "left out");
        return writer;
    }

    private void logStarted(CohortSyncConfig config, boolean snapshots) {
        double requestsPerSecond = config.rateLimitRequestsPerSecondPerTask();
        log.info("Cohort sync task started: destination={}, sync.mode={}, snapshots={}, sync.interval.ms={},"
                        + " buffer.max.changes={}, batch.max.size={}, sync.max.in.flight.requests={} ({}),"
                        + " share of rate.limit.concurrent.requests={}, requests per second for this task={},"
                        + " split.max.requests={}, dry.run={},"
                        + " cohorts.include={}",
                config.destination().configValue(), config.oneTime() ? "one_time" : "dynamic",
                snapshots ? "on first run, first contact and refresh" : "off",
                config.syncIntervalMs(), config.bufferMaxChanges(), config.batchMaxSize(),
                config.syncMaxInFlightRequests(), config.syncAdaptiveConcurrency() ? "adaptive cap" : "fixed",
                config.concurrentRequestsPerTask() > 0 ? config.concurrentRequestsPerTask() : "no cap",
                requestsPerSecond > 0 ? requestsPerSecond : "no cap",
                config.splitMaxRequests(), config.dryRun(),
                cohortsInclude.isEmpty() ? "(all)" : cohortsInclude);
    }

    private ErrantRecordReporter errantRecordReporter() {
        try {
            return context.errantRecordReporter();
        } catch (NoSuchMethodError | NoClassDefFoundError e) {
            return null;
        }
    }

    @Override
    public void put(Collection<SinkRecord> records) {
        engine.throwIfFailed();
        long now = System.currentTimeMillis();
        for (SinkRecord record : records) {
            stats.recordsRead.incrementAndGet();
            TopicPartition partition = new TopicPartition(record.topic(), record.kafkaPartition());
            Route route = engine.read(partition, record.kafkaOffset());
            if (route == Route.IGNORED) {
                // A one-time export sends its snapshot only: later records are neither sent nor committed.
                continue;
            }
            MembershipChange change = parse(record);
            if (change == null) {
                engine.absorb(partition, record.kafkaOffset(), route, now);
            } else if (!cohortsInclude.isEmpty() && !cohortsInclude.contains(change.cohort().id())) {
                stats.recordsFiltered.incrementAndGet();
                engine.absorb(partition, record.kafkaOffset(), route, now);
            } else {
                engine.add(change, partition, route, now);
            }
        }
        engine.polled(now, records.isEmpty());
    }

    /** The record's change, or null for a bad record that is tolerated (reported or logged, then skipped). */
    private MembershipChange parse(SinkRecord record) {
        try {
            return parser.parse(record);
        } catch (BadRecordException e) {
            stats.badRecords.incrementAndGet();
            deadLetters.badRecord(record, e);
            return null;
        }
    }

    @Override
    public Map<TopicPartition, OffsetAndMetadata> preCommit(Map<TopicPartition, OffsetAndMetadata> currentOffsets) {
        return engine.safeOffsets(currentOffsets);
    }

    /** Newly assigned partitions are paused or resumed explicitly by the engine, never left to the worker. */
    @Override
    public void open(Collection<TopicPartition> partitions) {
        log.info("Assigned {} partitions", partitions.size());
        engine.open(partitions, topicIds);
    }

    /**
     * Closed partitions: revoked by a rebalance, or closed for good because the task stops (see
     * {@link SyncEngine#close(Collection, Closing)} and {@link #closing()}).
     */
    @Override
    public void close(Collection<TopicPartition> partitions) {
        if (engine != null) {
            engine.close(partitions, closing());
        }
    }

    /**
     * Why Connect closes partitions, which it does not say. Its WorkerSinkTask (read in the 4.1 runtime and in
     * earlier sources) calls {@code SinkTask.close} in two places on the task thread: from the consumer's rebalance
     * listener when a rebalance revokes or loses partitions ({@code ConsumerRebalanceListener.onPartitionsRevoked} /
     * {@code onPartitionsLost}, the consumer's only way to tell of a revocation), and from the final offset commit
     * after its poll loop ended because the task stops, right before {@code SinkTask.stop}, outside any listener.
     * So: inside a rebalance callback is a revocation; called by the Connect runtime outside one is a stop; a call
     * from anywhere else (a test, another runtime) is taken as a revocation, which keeps the bounded wait.
     */
    static Closing closing() {
        return StackWalker.getInstance(StackWalker.Option.RETAIN_CLASS_REFERENCE).walk(frames -> {
            boolean byConnect = false;
            for (StackWalker.StackFrame frame : (Iterable<StackWalker.StackFrame>) frames::iterator) {
                if (isRebalanceCallback(frame)) {
                    return Closing.REVOKED;
                }
                byConnect |= frame.getClassName().startsWith(CONNECT_RUNTIME_PACKAGE);
            }
            return byConnect ? Closing.STOPPING : Closing.REVOKED;
        });
    }

    private static boolean isRebalanceCallback(StackWalker.StackFrame frame) {
        String method = frame.getMethodName();
        return (method.equals("onPartitionsRevoked") || method.equals("onPartitionsLost"))
                && isRebalanceListener(frame.getDeclaringClass());
    }

    /** By name: the listener interface may come from the worker's class loader rather than the plugin's. */
    private static boolean isRebalanceListener(Class<?> type) {
        if (type.getName().equals(REBALANCE_LISTENER)) {
            return true;
        }
        for (Class<?> implemented : type.getInterfaces()) {
            if (isRebalanceListener(implemented)) {
                return true;
            }
        }
        Class<?> parent = type.getSuperclass();
        return parent != null && isRebalanceListener(parent);
    }

    @Override
    public void stop() {
        if (engine != null) {
            engine.stop();
        }
        if (topicIdLookup != null) {
            topicIdLookup.close();
            topicIdLookup = null;
        }
        if (metrics != null) {
            metrics.close();
        }
        log.info("Cohort sync task stopped: {}", stats);
    }

    /** This task's counters, for tests and metrics. */
    SyncStats stats() {
        return stats;
    }
}

package io.github.cohortsync.connect.config;

import java.time.Duration;

import org.apache.kafka.common.config.ConfigDef;
import org.apache.kafka.common.config.ConfigDef.Importance;
import org.apache.kafka.common.config.ConfigDef.Range;
import org.apache.kafka.common.config.ConfigDef.Type;
import org.apache.kafka.common.config.ConfigDef.Width;

/** The Snapshots (full sync) group: full syncs, the cluster they are bounded by, refreshes, the tombstone check. */
public final class SnapshotKeys {
    public static final String SNAPSHOT_ENABLED = "snapshot.enabled";
    public static final String SNAPSHOT_BOOTSTRAP_SERVERS = "snapshot.bootstrap.servers";
    public static final String SNAPSHOT_SPILL_DIR = "snapshot.spill.dir";
    public static final String SNAPSHOT_REFRESH_AFTER_FAILURE_MS = "snapshot.refresh.after.failure.ms";
    public static final String SNAPSHOT_REFRESH_GENERATION = "snapshot.refresh.generation";
    public static final String TOMBSTONE_RETENTION_WARN_MS = "tombstone.retention.warn.ms";
    /** Prefix of the admin client settings (security, SASL, SSL) used to read offsets for a snapshot. */
    public static final String SNAPSHOT_ADMIN_PREFIX = "snapshot.admin.";

    private static final String GROUP = "Snapshots (full sync)";

    private SnapshotKeys() {
    }

    /** Adds the group's keys, in their documented order, to the connector's definition. */
    static void define(ConfigDef def) {
        int order = 0;
        def.define(SNAPSHOT_ENABLED, Type.BOOLEAN, true, Importance.HIGH,
                "Full syncs ('members' pages), as Mixpanel sends them: each cohort's first sync (on a first run,"
                        + " and for a cohort that first appears later), a refresh after the destination failed for"
                        + " longer than " + SNAPSHOT_REFRESH_AFTER_FAILURE_MS + ", and a refresh on request ("
                        + SNAPSHOT_REFRESH_GENERATION + "). Needs " + SNAPSHOT_BOOTSTRAP_SERVERS + "; config"
                        + " validation asks for it unless this is set to false. false: only add_members /"
                        + " remove_members diffs are sent (receivers that require a cohort's first sync as"
                        + " 'members', such as Flagsmith, then refuse the diffs of cohorts they never got).",
                GROUP, ++order, Width.SHORT, "Full syncs");
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
                GROUP, ++order, Width.LONG, "Snapshot bootstrap servers");
        def.define(SNAPSHOT_SPILL_DIR, Type.STRING, "", Importance.LOW,
                "Where a snapshot larger than buffer.max.changes is spilled to disk, in sorted netted runs that"
                        + " are merged when it is sent. Each task uses its own subdirectory, deleted when the"
                        + " snapshot is delivered or the task stops. Empty means the JVM's java.io.tmpdir.",
                GROUP, ++order, Width.LONG, "Snapshot spill directory");
        def.define(SNAPSHOT_REFRESH_AFTER_FAILURE_MS, Type.LONG, Duration.ofDays(3).toMillis(),
                Range.atLeast(0L), Importance.LOW,
                "A full refresh ('members' pages of every cohort, read again from the start of the topic) replaces"
                        + " the pending diffs once the destination has failed for longer than this without"
                        + " accepting a page, as Mixpanel re-sends a full sync after its receiver was down longer"
                        + " than 3 days. The time counts across task restarts. 0 disables it.",
                GROUP, ++order, Width.SHORT, "Refresh after failure (ms)");
        def.define(SNAPSHOT_REFRESH_GENERATION, Type.STRING, "", Importance.LOW,
                "Change this value (any text, e.g. a date) to ask for one full refresh: when it differs from the"
                        + " value of the last delivered full sync, each task reads its partitions from the start"
                        + " and sends every cohort as 'members' pages before any further diff.",
                GROUP, ++order, Width.SHORT, "Refresh generation");
        def.define(TOMBSTONE_RETENTION_WARN_MS, Type.LONG, Duration.ofDays(7).toMillis(), Range.atLeast(0L),
                Importance.LOW,
                "The longest the connector may be stopped or behind (your lag budget). When"
                        + " snapshot.bootstrap.servers is set, each task reads the cleanup.policy and"
                        + " delete.retention.ms of its topics on their first assignment and logs a WARN for a"
                        + " compacted topic whose delete.retention.ms is shorter: the broker may delete a removal"
                        + " (tombstone) before a connector that fell that far behind reads it. 0 disables the check."
                        + " Default: 7 days, Kafka's default retention.ms.",
                GROUP, ++order, Width.SHORT, "Tombstone retention warning (ms)");
    }
}

package io.github.cohortsync.connect.config;

import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.function.ToIntFunction;
import java.util.stream.Collectors;

import org.apache.kafka.common.config.ConfigDef;
import org.apache.kafka.common.config.ConfigDef.Importance;
import org.apache.kafka.common.config.ConfigDef.Range;
import org.apache.kafka.common.config.ConfigDef.Type;
import org.apache.kafka.common.config.ConfigDef.Width;

import io.github.cohortsync.connect.sync.send.SyncSender;

/** The Sync group: mode, netting interval, buffer, page size, concurrency and rate caps, dry run, delivery journal. */
public final class SyncKeys {
    public static final String SYNC_MODE = "sync.mode";
    public static final String SYNC_INTERVAL_MS = "sync.interval.ms";
    public static final String SYNC_ON_IDLE = "sync.on.idle";
    public static final String BUFFER_MAX_CHANGES = "buffer.max.changes";
    public static final String BATCH_MAX_SIZE = "batch.max.size";
    public static final String SYNC_MAX_IN_FLIGHT_REQUESTS = "sync.max.in.flight.requests";
    public static final String SYNC_ADAPTIVE_CONCURRENCY = "sync.adaptive.concurrency";
    public static final String RATE_LIMIT_REQUESTS_PER_SECOND = "rate.limit.requests.per.second";
    public static final String RATE_LIMIT_CONCURRENT_REQUESTS = "rate.limit.concurrent.requests";
    public static final String DRY_RUN = "dry.run";
    public static final String DELIVERY_JOURNAL_ENABLED = "delivery.journal.enabled";
    public static final String DELIVERY_JOURNAL_DIR = "delivery.journal.dir";

    public static final String SYNC_MODE_DYNAMIC = "dynamic";
    public static final String SYNC_MODE_ONE_TIME = "one_time";
    private static final List<String> SYNC_MODES = List.of(SYNC_MODE_DYNAMIC, SYNC_MODE_ONE_TIME);

    private static final String GROUP = "Sync";

    private SyncKeys() {
    }

    /** Adds the group's keys, in their documented order, to the connector's definition. */
    static void define(ConfigDef def) {
        int order = 0;
        def.define(SYNC_MODE, Type.STRING, SYNC_MODE_DYNAMIC,
                new OneOf(SYNC_MODES),
                Importance.MEDIUM,
                "How cohorts are synced (Mixpanel's 'dynamic' and 'one-time' syncs). 'dynamic': changes are netted"
                        + " for sync.interval.ms and sent as add_members / remove_members diffs; on a first run"
                        + " (no committed offsets) the topic's current content is first sent as one snapshot"
                        + " ('members' pages), and a cohort that first appears later starts with 'members' pages"
                        + " (unless snapshot.enabled=false). 'one_time': the topic's"
                        + " current content is sent once as a snapshot, then the task stays idle (requires"
                        + " snapshot.bootstrap.servers).",
                GROUP, ++order, Width.SHORT, "Sync mode",
                new ListRecommender(SYNC_MODES));
        def.define(SYNC_INTERVAL_MS, Type.LONG, 10_000L, Range.between(100L, Duration.ofHours(24).toMillis()),
                Importance.MEDIUM,
                "How long membership changes are buffered and netted before a sync. Only the latest change of"
                        + " a user in a cohort within one interval is sent, so churn costs at most one member slot.",
                GROUP, ++order, Width.SHORT, "Sync interval (ms)");
        def.define(SYNC_ON_IDLE, Type.BOOLEAN, false, Importance.LOW,
                "Also sync as soon as the task has read everything there is (a poll of its unpaused"
                        + " partitions returned no records) instead of waiting for the rest of sync.interval.ms, which stays the upper"
                        + " bound. Lower latency after a burst or a backlog, but less netting: a user who enters and"
                        + " leaves with a quiet moment in between costs two member slots instead of one, and"
                        + " smaller syncs mean more, smaller calls.",
                GROUP, ++order, Width.SHORT, "Sync when idle");
        def.define(BUFFER_MAX_CHANGES, Type.INT, 100_000, Range.between(1, 10_000_000), Importance.MEDIUM,
                "Netted changes a task holds before a sync is forced. While the destination is slow or"
                        + " down and the buffer is full, the task pauses consumption instead of growing"
                        + " its heap.",
                GROUP, ++order, Width.SHORT, "Buffer size (changes)");
        def.define(BATCH_MAX_SIZE, Type.INT, null, new PositiveOrNull(), Importance.LOW,
                "Members per destination call. Default: the destination's documented maximum ("
                        + perDestination(DestinationType::maxBatchSize)
                        + "; braze with braze.mode=cohort_import: "
                        + DestinationType.of("braze").maxBatchSize(Map.of("braze.mode", "cohort_import"))
                        + "). Larger values than that maximum are"
                        + " rejected. Full-sync ('members') pages hold at most this many members too.",
                GROUP, ++order, Width.SHORT, "Batch size");
        def.define(SYNC_MAX_IN_FLIGHT_REQUESTS, Type.INT, null, new InFlightOrNull(), Importance.LOW,
                "The most pages a task sends at once: the cap of its adaptive limit (see "
                        + SYNC_ADAPTIVE_CONCURRENCY + "), or the fixed number when adaptation is off. The pages of one"
                        + " diff sync (add_members / remove_members) hold distinct members, so their order does not"
                        + " matter; in a full sync ('members' pages) each cohort's page 1 goes alone and first, its"
                        + " middle pages go several at once, and its last page goes alone after all the others; syncs"
                        + " still go one after the other. 1 means strictly one page at a time, in order. Default: "
                        + perDestination(DestinationType::defaultMaxInFlight)
                        + ". Each call counts against the destination's rate limit, for every task.",
                GROUP, ++order, Width.SHORT, "Pages in flight (cap)");
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
                GROUP, ++order, Width.SHORT, "Adaptive pages in flight");
        def.define(RATE_LIMIT_REQUESTS_PER_SECOND, Type.DOUBLE, null, new RateOrNull(), Importance.LOW,
                "The most destination calls per second of the whole connector, split evenly across its tasks"
                        + " (each task gets this divided by tasks.max) and spaced evenly within each task: a static"
                        + " cap for a destination whose rate limit is published. Unset: no cap (the adaptive limit"
                        + " and Retry-After still apply). Counts each try of each page, retries and a split page's"
                        + " parts included; a page's lookups (a list or segment created or found) are not counted.",
                GROUP, ++order, Width.SHORT, "Request rate cap (per connector)");
        def.define(RATE_LIMIT_CONCURRENT_REQUESTS, Type.INT, null, new ConcurrentRequestsOrNull(), Importance.LOW,
                "The most pages in flight at once for the whole connector, split across its tasks (with 15 and"
                        + " tasks.max=4: 4, 4, 4 and 3), for a destination that limits the requests an account has"
                        + " in progress at once. Each task's cap is the lower of its share and "
                        + SYNC_MAX_IN_FLIGHT_REQUESTS + "; a task always has at least 1. Default: the vendor's"
                        + " published account limit ("
                        + perDestination(DestinationType::accountMaxConcurrentRequests)
                        + "), none for the others. Lower it when other tools use the same account; 0 turns it off.",
                GROUP, ++order, Width.SHORT, "Concurrent requests cap (per connector)");
        def.define(DRY_RUN, Type.BOOLEAN, false, Importance.MEDIUM,
                "Build every page as a real run would, send nothing to the destination, and log one INFO line per"
                        + " sync with the pages and members per action it would have sent. Offsets are committed as"
                        + " in a real run, so run it as a connector of its own name (its own consumer group), never"
                        + " by switching this on and off on the production connector: what a dry run read is never"
                        + " sent by that connector later. No delivery journal is kept. Checks a destination makes"
                        + " while sending (a member without an email, a list lookup) are not made.",
                GROUP, ++order, Width.SHORT, "Dry run");
        def.define(DELIVERY_JOURNAL_ENABLED, Type.BOOLEAN, true, Importance.LOW,
                "Keep a local journal of the changes the destination accepted whose offsets are not committed"
                        + " yet, so that a task restarted on the same host (task restart, worker restart, a"
                        + " partition moving between tasks of one host) sends again only what was not delivered."
                        + " On another host the uncommitted changes are all sent again, as without the journal."
                        + " A change is recorded as delivered only after the destination accepted it, so losing"
                        + " or deleting the journal only causes resends.",
                GROUP, ++order, Width.SHORT, "Delivery journal");
        def.define(DELIVERY_JOURNAL_DIR, Type.STRING, "", Importance.LOW,
                "Where the delivery journal is kept: one small file per topic partition, in a subdirectory"
                        + " named after the connector. Empty means the JVM's java.io.tmpdir followed by"
                        + " cohort-sync/journal. Use a directory that survives a"
                        + " worker restart. When it cannot be written the task logs a WARN naming it and runs"
                        + " without a journal.",
                GROUP, ++order, Width.LONG, "Delivery journal directory");
    }

    /** "destination: value" for each registered destination with a value above 0, in registration order. */
    private static String perDestination(ToIntFunction<DestinationType> value) {
        return DestinationType.all().stream()
                .filter(d -> value.applyAsInt(d) > 0)
                .map(d -> d.configValue() + ": " + value.applyAsInt(d))
                .collect(Collectors.joining(", "));
    }
}

package io.github.cohortsync.connect.sync;

import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;

import org.apache.kafka.connect.errors.ConnectException;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import io.github.cohortsync.connect.config.CohortSyncConfig;
import io.github.cohortsync.connect.delivery.PermanentDeliveryException;
import io.github.cohortsync.connect.delivery.TransientDeliveryException;
import io.github.cohortsync.connect.destination.Destination;
import io.github.cohortsync.connect.destination.DryRunDestination;
import io.github.cohortsync.connect.destination.Page;
import io.github.cohortsync.connect.destination.Rejection;
import io.github.cohortsync.connect.destination.SplittingDestination;
import io.github.cohortsync.connect.http.RetryPolicy;
import io.github.cohortsync.connect.metrics.CohortMetricsRegistry;
import io.github.cohortsync.connect.metrics.SyncStats;
import io.github.cohortsync.connect.record.MembershipChange;
import io.github.cohortsync.connect.report.MemberOutcome;
import io.github.cohortsync.connect.report.ReportWriter;
import io.github.cohortsync.connect.sync.journal.DeliveryJournal;
import io.github.cohortsync.connect.sync.send.SyncJob;
import io.github.cohortsync.connect.sync.send.SyncSender;
import io.github.cohortsync.connect.sync.state.CohortContacts;

/**
 * The way from the engine's jobs to the destination, and what each sync leaves behind besides its offsets: builds the
 * destination as the sender sees it (dry run, split retries) and the sender; notes a diff in the journal as it goes
 * out and each page as it is delivered; writes the report topic's records, the dead letters, the per-cohort metrics,
 * the sync counters and the outcome's log line. Which job is current, when it is tried again and what may be
 * committed stay the engine's.
 */
final class DeliveryPipeline {
    // Under the engine's name, as before these lines moved out of it: log settings and filters naming it still apply
    // (DryRunIT and SyncEngineTest read them there). By name, so this class does not import the engine that uses it.
    private static final Logger log = LoggerFactory.getLogger("io.github.cohortsync.connect.sync.SyncEngine");

    /** The report topic's writer; null when report.topic is unset. */
    private final ReportWriter report;
    /** Per-cohort MBeans; null for none. */
    private final CohortMetricsRegistry cohortMetrics;
    /** Per cohort, members delivered and rejected by the current sync so far (all its tries). */
    private final Map<String, long[]> cohortCounts = new ConcurrentHashMap<>();
    private final DeliveryJournal journal;
    private final CohortContacts contacts;
    private final DeadLetters deadLetters;
    private final SyncStats stats;
    /** The one retry layer: each page's bounded retries; a sync that runs out of them is tried again by a cycle. */
    private final RetryPolicy retryPolicy;
    /** With dry.run=true: takes the pages instead of the destination and sums them up per sync; null otherwise. */
    private final DryRunDestination dryRun;
    /** The destination as the sender sees it: diff pages refused for their content are split to find the culprits. */
    private final SplittingDestination splitting;
    /** Built here, driven by the engine (submit, outcomes, cancel, close). */
    private final SyncSender sender;
    private long syncStartedNanos;

    /**
     * @param report the report topic's writer, or null for none
     * @param cohortMetrics the per-cohort MBeans, or null for none
     */
    DeliveryPipeline(CohortSyncConfig config, String name, Destination destination, SyncStats stats,
                     DeadLetters deadLetters, ReportWriter report, CohortMetricsRegistry cohortMetrics,
                     DeliveryJournal journal, CohortContacts contacts) {
        this.report = report;
        this.cohortMetrics = cohortMetrics;
        this.journal = journal;
        this.contacts = contacts;
        this.deadLetters = deadLetters;
        this.stats = stats;
        this.retryPolicy = config.retryPolicy(name);
        this.dryRun = config.dryRun() ? new DryRunDestination(destination) : null;
        if (dryRun != null) {
            log.info("dry.run=true: pages are built and counted, nothing is sent to the destination; offsets are"
                    + " committed as in a real run");
        }
        this.splitting = new SplittingDestination(dryRun != null ? dryRun : destination, config.splitMaxRequests());
        this.sender = SyncSender.builder("cohort-sync-sender-" + name, splitting, retryPolicy, stats)
                .listener(this::pageDelivered).maxInFlight(config.syncMaxInFlightRequests())
                .adaptive(config.syncAdaptiveConcurrency(), SyncSender.DEFAULT_INITIAL_IN_FLIGHT)
                .requestsPerSecond(config.rateLimitRequestsPerSecondPerTask()).build();
        // A split's parts are calls too: they wait out a Retry-After hold and keep to the request rate.
        splitting.pacedBy(sender.extraCallGate());
    }

    /** The sender, driven by the engine. */
    SyncSender sender() {
        return sender;
    }

    /** The gate between finished syncs and the tracker: offsets wait for this pipeline's report records. */
    ReportedOffsets reportedOffsets(OffsetTracker tracker) {
        return new ReportedOffsets(report, tracker);
    }

    /** With a report, the buffer reports each change a newer one of the same member replaced. */
    void reportNettedAway(SyncBuffer buffer) {
        if (report != null) {
            buffer.reportingNettedAway(change -> report.write(MemberOutcome.nettedAway(change,
                    System.currentTimeMillis())));
        }
    }

    /** The report topic's failure to write a record, naming the topic; null while there is none (or no report). */
    ConnectException reportFailure() {
        try {
            if (report != null) {
                report.throwIfFailed();
            }
            return null;
        } catch (ConnectException e) {
            return e;
        }
    }

    /** A change the delivery journal skips: reported, when there is a report, as it is left out. */
    boolean alreadyDelivered(MembershipChange change) {
        if (!journal.isDelivered(change)) {
            return false;
        }
        if (report != null) {
            report.write(MemberOutcome.skipped(change, System.currentTimeMillis()));
        }
        return true;
    }

    /**
     * A diff sync was drained from the buffer: counts the changes netting and the journal left out of it, and logs
     * why it started.
     */
    void drained(SyncJob job, String why) {
        stats.changesNettedAway.addAndGet(job.changesRead() - job.changesSent() - job.changesSkipped());
        if (log.isDebugEnabled()) {
            log.debug("Sync started ({}): {} changes read, {} members in {} pages", why, job.changesRead(),
                    job.changesSent(), job.pages().size());
        }
        if (job.changesSkipped() > 0) {
            stats.changesSkippedAsDelivered.addAndGet(job.changesSkipped());
            log.info("Skipped {} changes the delivery journal shows were delivered before a restart or"
                    + " rebalance; sending {}", job.changesSkipped(), job.changesSent());
        }
    }

    /**
     * A job is about to go to the sender for its first try: a diff's members are noted in the journal before any page
     * goes out (so a delivery the journal then misses cannot make an older entry look current), and the sync's clock,
     * split budget and per-cohort counts start anew.
     */
    void starting(SyncJob job) {
        if (job.isDiff()) {
            journal.sending(job.undeliveredMembers());
        }
        syncStartedNanos = System.nanoTime();
        splitting.newSync();
        cohortCounts.clear();
    }

    /** On the sender thread: pages of a diff job may be delivered concurrently, and the journal takes that. */
    private void pageDelivered(SyncJob job, Page page, List<Rejection> rejections, int attempts) {
        contacts.delivered(page);
        if (job.isDiff()) {
            journal.delivered(page, rejections);
        }
        cohortCounts.compute(page.cohort().id(), (id, counts) -> {
            long[] sum = counts == null ? new long[2] : counts;
            sum[0] += page.members().size() - rejections.size();
            sum[1] += rejections.size();
            return sum;
        });
        if (report != null) {
            reportPage(page, rejections, attempts);
        }
    }

    /** One record per member of a settled page: as soon as it settles, so a sync's records are never all held. */
    private void reportPage(Page page, List<Rejection> rejections, int attempts) {
        long now = System.currentTimeMillis();
        Set<String> rejected = new HashSet<>();
        for (Rejection rejection : rejections) {
            rejected.add(rejection.member().distinctId());
            report.write(MemberOutcome.rejected(rejection, page, attempts, now));
        }
        for (MembershipChange member : page.members()) {
            if (!rejected.contains(member.distinctId())) {
                report.write(MemberOutcome.sent(member, page, attempts, dryRun != null, now));
            }
        }
    }

    /**
     * The sync was delivered: the cohort state is saved, its rejections go to the dead letters, its members per cohort
     * become each cohort's last sync, it is counted and timed, and a dry run logs its summary. Its offsets are the
     * engine's.
     */
    void syncDelivered(SyncJob job) {
        contacts.save();
        deadLetters.rejected(job.rejections());
        if (cohortMetrics != null) {
            long now = System.currentTimeMillis();
            cohortCounts.forEach((cohort, counts) -> cohortMetrics.synced(cohort, counts[0], counts[1], now));
        }
        cohortCounts.clear();
        stats.syncsCompleted.incrementAndGet();
        stats.lastSyncLatencyMs.set((System.nanoTime() - syncStartedNanos) / 1_000_000);
        log.debug("Sync delivered: {} pages in {} ms", job.pages().size(), stats.lastSyncLatencyMs.get());
        if (dryRun != null) {
            log.info("Dry run: a sync of {} changes read would have sent {}; nothing was sent (dry.run=true)",
                    job.changesRead(), dryRun.takeSummary());
        }
    }

    /** The sync's retries ran out: its cohorts get the error, and one WARN says when it is tried again. */
    void syncGaveUp(SyncJob job, TransientDeliveryException cause, long retryInMs) {
        cohortsFailed(job, "sync gave up after " + retryPolicy.maxRetries() + " retries: " + cause.getMessage());
        log.warn("Sync gave up after {} retries with {} of {} pages delivered: {}. Nothing past these changes is"
                        + " committed; the sync is tried again in {} ms.", retryPolicy.maxRetries(),
                job.deliveredPages(), job.pages().size(), cause.getMessage(), retryInMs);
    }

    /** The sync failed permanently: its cohorts get the error; returns the failure the task then fails with. */
    ConnectException syncFailed(SyncJob job, PermanentDeliveryException cause) {
        cohortsFailed(job, "sync failed permanently: " + cause.getMessage());
        return new ConnectException("Cohort sync failed permanently: " + cause.getMessage()
                + ". Fix the cause and restart the task; changes not yet delivered were not committed and"
                + " will be sent again (" + job.deliveredPages() + " of " + job.pages().size()
                + " pages of this sync were delivered).", cause);
    }

    /** The cohorts of the sync's undelivered pages get the error as their last error. */
    private void cohortsFailed(SyncJob job, String error) {
        if (cohortMetrics == null) {
            return;
        }
        long now = System.currentTimeMillis();
        Set<String> cohorts = new HashSet<>();
        for (int i = 0; i < job.pages().size(); i++) {
            if (!job.isDelivered(i)) {
                cohorts.add(job.pages().get(i).cohort().id());
            }
        }
        cohorts.forEach(cohort -> cohortMetrics.failed(cohort, error, now));
    }

    /** Closes the report (records in flight get a bounded wait) and the per-cohort MBeans; not the sender. */
    void close() {
        if (report != null) {
            report.close();
        }
        if (cohortMetrics != null) {
            cohortMetrics.close();
        }
    }
}

package io.github.cohortsync.connect.metrics;

import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.Map;

import javax.management.JMException;
import javax.management.ObjectName;

import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * A task's per-cohort MBeans, at most {@code maxCohorts} of them: the most recently synced cohorts. The least
 * recently synced one is unregistered to make room, and all of them when the task stops.
 */
public final class CohortMetricsRegistry implements AutoCloseable {
    private static final Logger log = LoggerFactory.getLogger(CohortMetricsRegistry.class);

    private final String connector;
    private final String task;
    private final int maxCohorts;
    /** In access order: the first is the least recently synced. */
    private final Map<String, CohortMetrics> cohorts = new LinkedHashMap<>(16, 0.75f, true);

    public CohortMetricsRegistry(String connector, String task, int maxCohorts) {
        this.connector = connector;
        this.task = task;
        this.maxCohorts = maxCohorts;
    }

    public static ObjectName objectName(String connector, String task, String cohort) throws JMException {
        return new ObjectName(TaskMetrics.DOMAIN + ":type=cohort-metrics,connector=" + ObjectName.quote(connector)
                + ",task=" + ObjectName.quote(task) + ",cohort=" + ObjectName.quote(cohort));
    }

    /** A finished sync of the cohort: its members delivered and rejected. */
    public synchronized void synced(String cohortId, long delivered, long rejected, long atMs) {
        CohortMetrics metrics = metrics(cohortId);
        if (metrics != null) {
            metrics.synced(delivered, rejected, atMs);
        }
    }

    /** A sync that carried the cohort failed or gave up; {@code error} names no user data. */
    public synchronized void failed(String cohortId, String error, long atMs) {
        CohortMetrics metrics = metrics(cohortId);
        if (metrics != null) {
            metrics.failed(error, atMs);
        }
    }

    /** The cohort's metrics, registered (evicting the least recently synced) when new; null when the cap is 0. */
    synchronized CohortMetrics metrics(String cohortId) {
        CohortMetrics metrics = cohorts.get(cohortId);
        if (metrics != null || maxCohorts <= 0) {
            return metrics;
        }
        if (cohorts.size() >= maxCohorts) {
            Iterator<CohortMetrics> eldest = cohorts.values().iterator();
            MBeans.unregister(eldest.next().name(), log, "a cohort's JMX metrics");
            eldest.remove();
        }
        metrics = MBeans.register(() -> objectName(connector, task, cohortId), CohortMetrics::new, log,
                "the JMX metrics of cohort " + cohortId);
        cohorts.put(cohortId, metrics);
        return metrics;
    }

    /** The cohorts with metrics now, least recently synced first. */
    public synchronized java.util.List<String> cohorts() {
        return java.util.List.copyOf(cohorts.keySet());
    }

    @Override
    public synchronized void close() {
        cohorts.values().forEach(metrics -> MBeans.unregister(metrics.name(), log, "a cohort's JMX metrics"));
        cohorts.clear();
    }
}

package io.github.cohortsync.connect.config;

import org.apache.kafka.common.config.ConfigDef;
import org.apache.kafka.common.config.ConfigDef.Importance;
import org.apache.kafka.common.config.ConfigDef.Range;
import org.apache.kafka.common.config.ConfigDef.Type;
import org.apache.kafka.common.config.ConfigDef.Width;

/** The Delivery report and metrics group: the report topic, its producer, and per-cohort MBeans. */
public final class ReportKeys {
    public static final String REPORT_TOPIC = "report.topic";
    public static final String REPORT_INCLUDE_PII = "report.include.pii";
    public static final String REPORT_BOOTSTRAP_SERVERS = "report.bootstrap.servers";
    /** Prefix of the report producer's settings (security, SASL, SSL, batching), as snapshot.admin. is the admin's. */
    public static final String REPORT_PRODUCER_PREFIX = "report.producer.";
    public static final String METRICS_COHORTS_MAX = "metrics.cohorts.max";

    private static final String GROUP = "Delivery report and metrics";

    private ReportKeys() {
    }

    /** Adds the group's keys, in their documented order, to the connector's definition. */
    static void define(ConfigDef def) {
        int order = 0;
        def.define(REPORT_TOPIC, Type.STRING, "", Importance.MEDIUM,
                "A Kafka topic that gets one record per member and sync with its outcome: delivered, rejected"
                        + " (with the reason and the destination's code), skipped_already_delivered (the delivery"
                        + " journal), netted_away (a later change of the member in the same sync replaced it) or"
                        + " dry_run; keyed by {\"cohort_id\",\"distinct_id\"}. Records are acknowledged by the"
                        + " broker before the offsets they cover are committed; a topic that cannot be written"
                        + " fails the task. Empty (the default) writes no report. See docs/report-topic.md.",
                GROUP, ++order, Width.LONG, "Report topic");
        def.define(REPORT_INCLUDE_PII, Type.BOOLEAN, false, Importance.LOW,
                "true: report records also carry the member's email, names, phone number and properties."
                        + " false (the default): only ids, the outcome and where the change was read.",
                GROUP, ++order, Width.SHORT, "Report personal data");
        def.define(REPORT_BOOTSTRAP_SERVERS, Type.STRING, "", Importance.LOW,
                "The Kafka cluster the report is written to, as host:port pairs. Empty means "
                        + SnapshotKeys.SNAPSHOT_BOOTSTRAP_SERVERS
                        + " (a task cannot read its worker's producer settings)."
                        + " Producer settings such as security.protocol, sasl.jaas.config or max.request.size are"
                        + " given with the prefix " + REPORT_PRODUCER_PREFIX + " (e.g."
                        + " report.producer.security.protocol=SASL_SSL); acks=all and idempotence are the defaults.",
                GROUP, ++order, Width.LONG, "Report bootstrap servers");
        def.define(METRICS_COHORTS_MAX, Type.INT, 100, Range.between(0, 100_000), Importance.LOW,
                "Per task, the most cohorts with an MBean of their own (type=cohort-metrics): the most recently"
                        + " synced ones; the least recently synced cohort's MBean is unregistered to make room."
                        + " 0 registers none.",
                GROUP, ++order, Width.SHORT, "Cohorts with metrics");
    }
}

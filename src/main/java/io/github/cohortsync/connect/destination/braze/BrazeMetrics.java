package io.github.cohortsync.connect.destination.braze;

import javax.management.JMException;
import javax.management.ObjectName;

import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import io.github.cohortsync.connect.metrics.MBeans;
import io.github.cohortsync.connect.metrics.TaskMetrics;

/** Registers {@link BrazeMetricsMBean} for one task; never fails the task. */
final class BrazeMetrics implements BrazeMetricsMBean, AutoCloseable {
    private static final Logger log = LoggerFactory.getLogger(BrazeMetrics.class);

    private final AttributeLengths lengths;
    private final ObjectName name;

    private BrazeMetrics(AttributeLengths lengths, ObjectName name) {
        this.lengths = lengths;
        this.name = name;
    }

    static ObjectName objectName(String connector, String task) throws JMException {
        return new ObjectName(TaskMetrics.DOMAIN + ":type=braze-metrics,connector=" + ObjectName.quote(connector)
                + ",task=" + ObjectName.quote(task));
    }

    static BrazeMetrics register(AttributeLengths lengths, String connector, String task) {
        return MBeans.register(() -> objectName(connector, task), name -> new BrazeMetrics(lengths, name), log,
                "the Braze JMX metrics");
    }

    @Override
    public long getUsersOverAttributeMaxLength() {
        return lengths.usersOver();
    }

    @Override
    public long getAttributeMaxLength() {
        return lengths.maxLength();
    }

    @Override
    public void close() {
        MBeans.unregister(name, log, "the Braze JMX metrics");
    }
}

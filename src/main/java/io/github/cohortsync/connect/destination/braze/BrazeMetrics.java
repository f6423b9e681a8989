package io.github.cohortsync.connect.destination.braze;

import java.lang.management.ManagementFactory;

import javax.management.InstanceNotFoundException;
import javax.management.JMException;
import javax.management.MBeanServer;
import javax.management.ObjectName;

import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import io.github.cohortsync.connect.metrics.TaskMetrics;

/** Registers {@link BrazeMetricsMBean} for one task; never fails the task. */
final class BrazeMetrics implements BrazeMetricsMBean, AutoCloseable {
    private static final Logger log = LoggerFactory.getLogger(BrazeMetrics.class);

    private final AttributeLengths lengths;
    private final ObjectName name;
    private final MBeanServer server = ManagementFactory.getPlatformMBeanServer();

    private BrazeMetrics(AttributeLengths lengths, ObjectName name) {
        this.lengths = lengths;
        this.name = name;
    }

    static ObjectName objectName(String connector, String task) throws JMException {
        return new ObjectName(TaskMetrics.DOMAIN + ":type=braze-metrics,connector=" + ObjectName.quote(connector)
                + ",task=" + ObjectName.quote(task));
    }

    static BrazeMetrics register(AttributeLengths lengths, String connector, String task) {
        ObjectName name = null;
        try {
            name = objectName(connector, task);
            BrazeMetrics metrics = new BrazeMetrics(lengths, name);
            if (metrics.server.isRegistered(name)) {
                metrics.server.unregisterMBean(name);
            }
            metrics.server.registerMBean(metrics, name);
            return metrics;
        } catch (JMException e) {
            log.warn("Could not register the Braze JMX metrics as {}: {}", name, e.toString());
            return new BrazeMetrics(lengths, null);
        }
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
        if (name == null) {
            return;
        }
        try {
            server.unregisterMBean(name);
        } catch (InstanceNotFoundException e) {
            // Already gone.
        } catch (JMException e) {
            log.warn("Could not unregister the Braze JMX metrics {}: {}", name, e.toString());
        }
    }
}

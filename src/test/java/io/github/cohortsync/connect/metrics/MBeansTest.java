package io.github.cohortsync.connect.metrics;

import static org.assertj.core.api.Assertions.assertThat;

import java.lang.management.ManagementFactory;

import javax.management.JMException;
import javax.management.MBeanServer;
import javax.management.MalformedObjectNameException;
import javax.management.ObjectName;

import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/** Registering a task's MBeans replaces a stale one and never throws; unregistering is quiet when already gone. */
class MBeansTest {
    private static final Logger log = LoggerFactory.getLogger(MBeansTest.class);
    private final MBeanServer server = ManagementFactory.getPlatformMBeanServer();
    private final ObjectName name = name();

    public interface ProbeMBean {
        int getValue();
    }

    public static final class Probe implements ProbeMBean {
        final ObjectName name;
        final int value;

        Probe(ObjectName name, int value) {
            this.name = name;
            this.value = value;
        }

        @Override
        public int getValue() {
            return value;
        }
    }

    /** Not an MBean: no interface named after it, so JMX refuses to register it. */
    static final class NotAnMBean {
        final ObjectName name;

        NotAnMBean(ObjectName name) {
            this.name = name;
        }
    }

    private static ObjectName name() {
        try {
            return new ObjectName(TaskMetrics.DOMAIN + ":type=mbeans-test");
        } catch (MalformedObjectNameException e) {
            throw new IllegalStateException(e);
        }
    }

    @AfterEach
    void unregister() throws JMException {
        if (server.isRegistered(name)) {
            server.unregisterMBean(name);
        }
    }

    @Test
    void registersUnderTheNameReplacingAStaleRegistration() throws JMException {
        MBeans.register(() -> name, n -> new Probe(n, 1), log, "the probe");

        Probe second = MBeans.register(() -> name, n -> new Probe(n, 2), log, "the probe");

        assertThat(second.name).isEqualTo(name);
        assertThat(server.getAttribute(name, "Value")).isEqualTo(2);
    }

    @Test
    void aRefusedBeanIsBuiltWithoutANameAndNothingIsRegistered() {
        NotAnMBean bean = MBeans.register(() -> name, NotAnMBean::new, log, "the probe");

        assertThat(bean.name).isNull();
        assertThat(server.isRegistered(name)).isFalse();
    }

    @Test
    void aNameJmxRefusesGivesABeanWithoutAName() {
        Probe bean = MBeans.register(() -> new ObjectName("not a name"), n -> new Probe(n, 1), log, "the probe");

        assertThat(bean.name).isNull();
    }

    @Test
    void unregisteringIsQuietWhenTheNameIsNullOrAlreadyGone() {
        MBeans.register(() -> name, n -> new Probe(n, 1), log, "the probe");

        MBeans.unregister(name, log, "the probe");
        MBeans.unregister(name, log, "the probe");
        MBeans.unregister(null, log, "the probe");

        assertThat(server.isRegistered(name)).isFalse();
    }
}

package io.github.cohortsync.connect.destination.braze;

import static org.assertj.core.api.Assertions.assertThat;

import java.lang.management.ManagementFactory;

import javax.management.JMException;
import javax.management.MBeanServer;
import javax.management.ObjectName;

import org.junit.jupiter.api.Test;

/** The Braze MBean is registered per task, reads the attribute lengths, and is gone once closed. */
class BrazeMetricsTest {
    private final MBeanServer server = ManagementFactory.getPlatformMBeanServer();

    @Test
    void registersThenUnregistersOnClose() throws JMException {
        ObjectName name = BrazeMetrics.objectName("braze-metrics-test", "0");
        try (BrazeMetrics metrics = BrazeMetrics.register(new AttributeLengths(25), "braze-metrics-test", "0")) {
            assertThat(server.getAttribute(name, "AttributeMaxLength")).isEqualTo(25L);
            assertThat(server.getAttribute(name, "UsersOverAttributeMaxLength")).isEqualTo(0L);
        }
        assertThat(server.isRegistered(name)).isFalse();
    }
}

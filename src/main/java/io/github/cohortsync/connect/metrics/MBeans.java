package io.github.cohortsync.connect.metrics;

import java.lang.management.ManagementFactory;
import java.util.function.Function;

import javax.management.InstanceNotFoundException;
import javax.management.JMException;
import javax.management.MBeanServer;
import javax.management.ObjectName;

import org.slf4j.Logger;

/** Registers and unregisters a task's MBeans on the platform server; neither ever fails the task. */
public final class MBeans {
    /** An MBean's name, which JMX may refuse. */
    @FunctionalInterface
    public interface Name {
        ObjectName get() throws JMException;
    }

    private MBeans() {
    }

    /**
     * Builds the bean under its name and registers it, replacing a stale registration of the same name. When JMX
     * refuses, logs a WARN naming {@code what} and returns the bean built with a null name (not registered).
     */
    public static <T> T register(Name name, Function<ObjectName, T> bean, Logger log, String what) {
        MBeanServer server = ManagementFactory.getPlatformMBeanServer();
        ObjectName objectName = null;
        try {
            objectName = name.get();
            T registered = bean.apply(objectName);
            if (server.isRegistered(objectName)) {
                server.unregisterMBean(objectName);
            }
            server.registerMBean(registered, objectName);
            return registered;
        } catch (JMException e) {
            log.warn("Could not register {} as {}: {}", what, objectName, e.toString());
            return bean.apply(null);
        }
    }

    /** Unregisters the name (nothing when null or already gone); a WARN naming {@code what} when JMX refuses. */
    public static void unregister(ObjectName name, Logger log, String what) {
        if (name == null) {
            return;
        }
        try {
            ManagementFactory.getPlatformMBeanServer().unregisterMBean(name);
        } catch (InstanceNotFoundException e) {
            // Already gone: nothing to do.
        } catch (JMException e) {
            log.warn("Could not unregister {} {}: {}", what, name, e.toString());
        }
    }
}

package io.github.cohortsync.connect.it;

import java.lang.reflect.Field;
import java.lang.reflect.Modifier;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

import org.junit.jupiter.api.extension.AfterEachCallback;
import org.junit.jupiter.api.extension.BeforeAllCallback;
import org.junit.jupiter.api.extension.BeforeEachCallback;
import org.junit.jupiter.api.extension.ExtensionContext;
import org.junit.jupiter.api.extension.ExtensionContext.Namespace;
import org.junit.jupiter.api.extension.ParameterContext;
import org.junit.jupiter.api.extension.ParameterResolutionException;
import org.junit.jupiter.api.extension.ParameterResolver;
import org.junit.platform.commons.support.AnnotationSupport;

import io.github.cohortsync.connect.it.standin.WebhookReceiver;

/**
 * The cluster and stand-in lifecycle of the integration tests, declared with {@link ConnectCluster}:
 * <ul>
 * <li>before all tests: starts the class's {@link ConnectHarness} and sets every {@code static ConnectHarness}
 * field; it is closed after the last test of the class (it lives in the class's extension store);</li>
 * <li>before each test: starts a fresh {@link WebhookReceiver} for every {@code @PerTest WebhookReceiver} instance
 * field, and sets every {@code @ConnectorName String} field to a unique connector name;</li>
 * <li>after each test: deletes that connector (best effort), then closes the receiver.</li>
 * </ul>
 * The same three types are also resolved as test or lifecycle method parameters (one receiver and one name per
 * test). Receivers with a destination-specific setup (keys, modes) are still started by the tests themselves.
 */
public final class ConnectClusterExtension implements BeforeAllCallback, BeforeEachCallback, AfterEachCallback,
        ParameterResolver {
    private static final Namespace NAMESPACE = Namespace.create(ConnectClusterExtension.class);
    private static final String HARNESS = "harness";
    private static final String RECEIVER = "receiver";
    private static final String CONNECTOR = "connector";

    @Override
    public void beforeAll(ExtensionContext context) throws Exception {
        ConnectHarness harness = harness(context);
        for (Field field : fields(context.getRequiredTestClass(), ConnectHarness.class)) {
            if (Modifier.isStatic(field.getModifiers())) {
                set(field, null, harness);
            }
        }
    }

    @Override
    public void beforeEach(ExtensionContext context) throws Exception {
        for (Object instance : context.getRequiredTestInstances().getAllInstances()) {
            for (Field field : fields(instance.getClass(), WebhookReceiver.class)) {
                if (field.isAnnotationPresent(PerTest.class)) {
                    set(field, instance, receiver(context));
                }
            }
            for (Field field : fields(instance.getClass(), String.class)) {
                if (field.isAnnotationPresent(ConnectorName.class)) {
                    set(field, instance, connectorName(context));
                }
            }
        }
    }

    @Override
    public void afterEach(ExtensionContext context) {
        // The connector goes before its receiver, so that the task does not fail on a closed endpoint.
        String connector = context.getStore(NAMESPACE).get(CONNECTOR, String.class);
        if (connector != null) {
            harness(context).deleteConnectorQuietly(connector);
        }
        WebhookReceiver receiver = context.getStore(NAMESPACE).remove(RECEIVER, WebhookReceiver.class);
        if (receiver != null) {
            receiver.close();
        }
    }

    @Override
    public boolean supportsParameter(ParameterContext parameter, ExtensionContext context) {
        Class<?> type = parameter.getParameter().getType();
        return type == ConnectHarness.class
                || type == WebhookReceiver.class && context.getTestMethod().isPresent()
                || type == String.class && parameter.isAnnotated(ConnectorName.class)
                        && context.getTestMethod().isPresent();
    }

    @Override
    public Object resolveParameter(ParameterContext parameter, ExtensionContext context) {
        Class<?> type = parameter.getParameter().getType();
        try {
            if (type == ConnectHarness.class) {
                return harness(context);
            }
            return type == WebhookReceiver.class ? receiver(context) : connectorName(context);
        } catch (Exception e) {
            throw new ParameterResolutionException("Could not provide a " + type.getSimpleName(), e);
        }
    }

    /**
     * The class's harness, started on first use and closed when the class's context closes (JUnit closes the
     * {@link AutoCloseable} values of a store).
     */
    private static ConnectHarness harness(ExtensionContext context) {
        ExtensionContext classContext = classContext(context);
        ConnectCluster cluster = AnnotationSupport.findAnnotation(classContext.getRequiredTestClass(),
                ConnectCluster.class).orElseThrow(() -> new IllegalStateException(
                        classContext.getRequiredTestClass().getName() + " needs @ConnectCluster"));
        return classContext.getStore(NAMESPACE).getOrComputeIfAbsent(HARNESS,
                key -> ConnectHarness.start(cluster.name(), cluster.workers(), workerProps(cluster)),
                ConnectHarness.class);
    }

    private static ExtensionContext classContext(ExtensionContext context) {
        ExtensionContext current = context;
        while (current.getTestMethod().isPresent() && current.getParent().isPresent()) {
            current = current.getParent().get();
        }
        return current;
    }

    private static WebhookReceiver receiver(ExtensionContext context) {
        return context.getStore(NAMESPACE).getOrComputeIfAbsent(RECEIVER, key -> {
            try {
                return WebhookReceiver.start();
            } catch (Exception e) {
                throw new IllegalStateException("Could not start the webhook stand-in", e);
            }
        }, WebhookReceiver.class);
    }

    private static String connectorName(ExtensionContext context) {
        return context.getStore(NAMESPACE).getOrComputeIfAbsent(CONNECTOR,
                key -> ConnectHarness.uniqueName(context.getRequiredTestMethod().getName()), String.class);
    }

    private static Map<String, String> workerProps(ConnectCluster cluster) {
        Map<String, String> props = new HashMap<>();
        for (String entry : cluster.workerProps()) {
            int eq = entry.indexOf('=');
            if (eq <= 0) {
                throw new IllegalArgumentException("workerProps entries are key=value, got: " + entry);
            }
            props.put(entry.substring(0, eq), entry.substring(eq + 1));
        }
        return props;
    }

    private static List<Field> fields(Class<?> type, Class<?> fieldType) {
        List<Field> result = new ArrayList<>();
        for (Class<?> c = type; c != null && c != Object.class; c = c.getSuperclass()) {
            for (Field field : c.getDeclaredFields()) {
                if (field.getType() == fieldType) {
                    result.add(field);
                }
            }
        }
        return result;
    }

    private static void set(Field field, Object target, Object value) throws IllegalAccessException {
        field.setAccessible(true);
        field.set(target, value);
    }
}

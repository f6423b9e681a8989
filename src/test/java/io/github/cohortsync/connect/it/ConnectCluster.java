package io.github.cohortsync.connect.it;

import java.lang.annotation.ElementType;
import java.lang.annotation.Retention;
import java.lang.annotation.RetentionPolicy;
import java.lang.annotation.Target;

import org.junit.jupiter.api.extension.ExtendWith;

/**
 * Gives an integration test class its own embedded Kafka + Connect cluster (one KRaft broker, {@link #workers()}
 * workers), started before its first test and stopped after its last, and the per-test parts it declares; see
 * {@link ConnectClusterExtension} for what is injected. Failsafe forks a JVM per class ({@code reuseForks=false}),
 * so no two classes share a cluster.
 */
@Target(ElementType.TYPE)
@Retention(RetentionPolicy.RUNTIME)
@ExtendWith(ConnectClusterExtension.class)
public @interface ConnectCluster {
    /** The cluster's name (its workers' group id and log prefix). */
    String name();

    /** Connect workers to start. */
    int workers() default 1;

    /** Extra worker properties, each {@code key=value}, on top of {@link ConnectHarness}'s defaults. */
    String[] workerProps() default {};
}

package io.github.cohortsync.connect.it;

import java.lang.annotation.ElementType;
import java.lang.annotation.Retention;
import java.lang.annotation.RetentionPolicy;
import java.lang.annotation.Target;

/**
 * Marks a {@code String} field or parameter that {@link ConnectClusterExtension} fills, before each test, with a
 * connector name unique in the JVM and derived from the test method's name; the connector of that name is deleted
 * after the test if it exists.
 */
@Target({ElementType.FIELD, ElementType.PARAMETER})
@Retention(RetentionPolicy.RUNTIME)
public @interface ConnectorName {
}

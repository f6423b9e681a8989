package io.github.cohortsync.connect.it;

import java.lang.annotation.ElementType;
import java.lang.annotation.Retention;
import java.lang.annotation.RetentionPolicy;
import java.lang.annotation.Target;

import io.github.cohortsync.connect.it.standin.WebhookReceiver;

/**
 * Marks a {@link WebhookReceiver} field that {@link ConnectClusterExtension} starts before each test and closes
 * after it (after the test's connector was deleted). Tests that set their receiver up themselves leave it off.
 */
@Target(ElementType.FIELD)
@Retention(RetentionPolicy.RUNTIME)
public @interface PerTest {
}

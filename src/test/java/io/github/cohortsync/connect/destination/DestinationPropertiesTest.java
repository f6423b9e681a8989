package io.github.cohortsync.connect.destination;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.HashMap;
import java.util.Map;

import org.junit.jupiter.api.Test;

import io.github.cohortsync.connect.config.CohortSyncConfig;

/** Each destination names the member properties it reads: the sync buffer keeps only those. */
class DestinationPropertiesTest {

    private static Destination create(String destination, String... settings) {
        Map<String, String> props = new HashMap<>();
        props.put("destination", destination);
        for (int i = 0; i < settings.length; i += 2) {
            props.put(settings[i], settings[i + 1]);
        }
        return Destinations.create(new CohortSyncConfig(props), "properties-test");
    }

    @Test
    void theWebhookReadsItsExportedProperties() {
        try (Destination webhook = create("webhook", "webhook.url", "http://127.0.0.1:9/hook",
                "webhook.properties", "plan, $city")) {
            assertThat(webhook.readsProperty("plan")).isTrue();
            assertThat(webhook.readsProperty("$city")).isTrue();
            assertThat(webhook.readsProperty("country")).isFalse();
        }
        try (Destination webhook = create("webhook", "webhook.url", "http://127.0.0.1:9/hook")) {
            assertThat(webhook.readsProperty("plan")).as("nothing exported by default").isFalse();
        }
    }

    @Test
    void theSaasDestinationsReadTheirUserIdPropertiesOnly() {
        try (Destination segment = create("segment", "segment.write.key", "k", "segment.endpoint",
                "http://127.0.0.1:9", "segment.user.id.field", "$segment_id")) {
            assertThat(segment.readsProperty("$segment_id")).isTrue();
            assertThat(segment.readsProperty("plan")).isFalse();
        }
        try (Destination iterable = create("iterable", "iterable.api.key", "k", "iterable.endpoint",
                "http://127.0.0.1:9")) {
            assertThat(iterable.readsProperty("$iterable_user_id")).isTrue();
            assertThat(iterable.readsProperty("plan")).isFalse();
        }
        try (Destination cleverTap = create("clevertap", "clevertap.account.id", "A", "clevertap.passcode", "p",
                "clevertap.endpoint", "http://127.0.0.1:9")) {
            assertThat(cleverTap.readsProperty("$CleverTap_user_id")).isTrue();
            assertThat(cleverTap.readsProperty("plan")).isFalse();
        }
        try (Destination braze = create("braze", "braze.api.key", "k", "braze.endpoint", "http://127.0.0.1:9")) {
            assertThat(braze.readsProperty("$braze_external_id")).isTrue();
            assertThat(braze.readsProperty("$user_id")).isTrue();
            assertThat(braze.readsProperty("plan")).isFalse();
        }
        try (Destination mailchimp = create("mailchimp", "mailchimp.api.key", "k-us21", "mailchimp.list.id", "l",
                "mailchimp.endpoint", "http://127.0.0.1:9")) {
            assertThat(mailchimp.readsProperty("plan")).isFalse();
        }
        try (Destination airship = create("airship", "airship.token", "t", "airship.endpoint", "http://127.0.0.1:9",
                "airship.named.user.property", "$airship_id")) {
            assertThat(airship.readsProperty("$airship_id")).isTrue();
            assertThat(airship.readsProperty("$airship_named_user")).isFalse();
            assertThat(airship.readsProperty("plan")).isFalse();
        }
    }
}

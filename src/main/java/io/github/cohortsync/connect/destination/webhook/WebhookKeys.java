package io.github.cohortsync.connect.destination.webhook;

import java.util.Map;
import java.util.function.BiConsumer;

import org.apache.kafka.common.config.ConfigDef;
import org.apache.kafka.common.config.ConfigDef.Importance;
import org.apache.kafka.common.config.ConfigDef.Type;
import org.apache.kafka.common.config.ConfigDef.Width;

import io.github.cohortsync.connect.config.DestinationKeys;
import io.github.cohortsync.connect.config.HttpUrlValidator;

/** The webhook's config keys. */
public final class WebhookKeys implements DestinationKeys {
    public static final String URL = "webhook.url";
    public static final String AUTH_USERNAME = "webhook.auth.username";
    public static final String AUTH_PASSWORD = "webhook.auth.password";
    public static final String PROPERTIES = "webhook.properties";

    private static final String GROUP = "Webhook";

    @Override
    public void define(ConfigDef def) {
        int order = 0;
        def.define(URL, Type.STRING, null, new HttpUrlValidator(), Importance.HIGH,
                "The URL that receives the webhook POSTs (http or https). Required when destination=webhook.",
                GROUP, ++order, Width.LONG, "Webhook URL");
        def.define(AUTH_USERNAME, Type.STRING, null, Importance.MEDIUM,
                "User name for HTTP Basic authentication. Set together with webhook.auth.password, or leave"
                        + " both empty.",
                GROUP, ++order, Width.MEDIUM, "Basic auth user name");
        def.define(AUTH_PASSWORD, Type.PASSWORD, null, Importance.MEDIUM,
                "Password for HTTP Basic authentication. Use a config provider (${file:...} or ${env:...})"
                        + " so the value never appears in the connector's stored config.",
                GROUP, ++order, Width.MEDIUM, "Basic auth password");
        def.define(PROPERTIES, Type.LIST, "", Importance.LOW,
                "Keys of a record's 'properties' map to export with each member, next to email,"
                        + " mixpanel_distinct_id, first_name, last_name and phone_number.",
                GROUP, ++order, Width.LONG, "Exported properties");
    }

    @Override
    public void check(Map<String, Object> values, BiConsumer<String, String> problem) {
        if (DestinationKeys.isBlank(values.get(URL))) {
            problem.accept(URL, "webhook.url is required when destination=webhook,"
                    + " e.g. https://hooks.example.com/cohorts");
        }
        boolean user = !DestinationKeys.isBlank(values.get(AUTH_USERNAME));
        boolean password = !DestinationKeys.isBlank(values.get(AUTH_PASSWORD));
        if (user && !password) {
            problem.accept(AUTH_PASSWORD, "webhook.auth.password is required when webhook.auth.username is set");
        } else if (password && !user) {
            problem.accept(AUTH_USERNAME, "webhook.auth.username is required when webhook.auth.password is set");
        }
    }
}

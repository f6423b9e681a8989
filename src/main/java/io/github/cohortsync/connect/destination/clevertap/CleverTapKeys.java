package io.github.cohortsync.connect.destination.clevertap;

import java.util.LinkedHashMap;
import java.util.Map;
import java.util.function.BiConsumer;

import org.apache.kafka.common.config.ConfigDef;
import org.apache.kafka.common.config.ConfigDef.Importance;
import org.apache.kafka.common.config.ConfigDef.Type;
import org.apache.kafka.common.config.ConfigDef.Width;

import io.github.cohortsync.connect.config.RegionHosts;
import io.github.cohortsync.connect.config.DestinationKeys;
import io.github.cohortsync.connect.config.HttpUrlValidator;

/** CleverTap's config keys and its regional hosts. */
public final class CleverTapKeys implements DestinationKeys {
    public static final String ACCOUNT_ID = "clevertap.account.id";
    public static final String PASSCODE = "clevertap.passcode";
    public static final String REGION = "clevertap.region";
    public static final String ENDPOINT = "clevertap.endpoint";

    /** Region code to API base URL; eu1 (the default) is CleverTap's unprefixed host. */
    static final RegionHosts HOSTS = new RegionHosts("CleverTap region", hosts());

    private static final String GROUP = "CleverTap";

    private static Map<String, String> hosts() {
        Map<String, String> hosts = new LinkedHashMap<>();
        hosts.put("eu1", "https://api.clevertap.com");
        for (String region : new String[] {"in1", "sg1", "us1", "aps3", "mec1"}) {
            hosts.put(region, "https://" + region + ".api.clevertap.com");
        }
        return hosts;
    }

    /** The API base URL of a region code (case-insensitive). */
    public static String baseUrl(String region) {
        return HOSTS.host(region);
    }

    @Override
    public void define(ConfigDef def) {
        int order = 0;
        def.define(ACCOUNT_ID, Type.STRING, null, Importance.HIGH,
                "The CleverTap project's Account ID (Settings > Project). Required when destination=clevertap.",
                GROUP, ++order, Width.MEDIUM, "Account ID");
        def.define(PASSCODE, Type.PASSWORD, null, Importance.HIGH,
                "The CleverTap project's Passcode. Required when destination=clevertap. Use a config provider"
                        + " (${file:...} or ${env:...}) so the value never appears in the connector's stored config.",
                GROUP, ++order, Width.MEDIUM, "Passcode");
        def.define(REGION, Type.STRING, "eu1",
                HOSTS.validator(),
                Importance.MEDIUM,
                "The region of the CleverTap account, which picks the API host: eu1 (api.clevertap.com), in1,"
                        + " sg1, us1, aps3 (Indonesia) or mec1 (UAE) ({region}.api.clevertap.com).",
                GROUP, ++order, Width.SHORT, "Region");
        def.define(ENDPOINT, Type.STRING, null, new HttpUrlValidator(), Importance.LOW,
                "Base URL that replaces the region's host (a proxy, or a local server in tests); /1/upload is"
                        + " appended to it.",
                GROUP, ++order, Width.LONG, "Endpoint override");
    }

    @Override
    public void check(Map<String, Object> values, BiConsumer<String, String> problem) {
        if (DestinationKeys.isBlank(values.get(ACCOUNT_ID))) {
            problem.accept(ACCOUNT_ID, "clevertap.account.id is required when destination=clevertap");
        }
        if (DestinationKeys.isBlank(values.get(PASSCODE))) {
            problem.accept(PASSCODE, "clevertap.passcode is required when destination=clevertap");
        }
    }
}

package io.github.cohortsync.connect.destination.braze;

import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.function.BiConsumer;

import org.apache.kafka.common.config.ConfigDef;
import org.apache.kafka.common.config.ConfigDef.Importance;
import org.apache.kafka.common.config.ConfigDef.Type;
import org.apache.kafka.common.config.ConfigDef.Width;

import io.github.cohortsync.connect.config.OneOf;
import io.github.cohortsync.connect.config.RegionHosts;
import io.github.cohortsync.connect.config.DestinationKeys;
import io.github.cohortsync.connect.config.HttpUrlValidator;

/** Braze's config keys and its instances' REST hosts. */
public final class BrazeKeys implements DestinationKeys {
    public static final String API_KEY = "braze.api.key";
    public static final String INSTANCE = "braze.instance";
    public static final String MODE = "braze.mode";
    public static final String ATTRIBUTE_NAME = "braze.attribute.name";
    public static final String USER_ID_FIELD = "braze.user.id.field";
    public static final String UPDATE_EXISTING_ONLY = "braze.update.existing.only";
    public static final String PARTNER_NAME = "braze.partner.name";
    public static final String PARTNER_API_KEY = "braze.partner.api.key";
    public static final String DATA_IMPORT_KEY = "braze.data.import.key";
    public static final String ENDPOINT = "braze.endpoint";

    public static final String MODE_ATTRIBUTE = "attribute";

    /** Instance to REST base URL, in Braze's order. */
    static final RegionHosts HOSTS = new RegionHosts("Braze instance", hosts());

    private static final String GROUP = "Braze";

    private static Map<String, String> hosts() {
        Map<String, String> hosts = new LinkedHashMap<>();
        for (int n = 1; n <= 8; n++) {
            hosts.put("US-0" + n, "https://rest.iad-0" + n + ".braze.com");
        }
        hosts.put("EU-01", "https://rest.fra-01.braze.eu");
        hosts.put("EU-02", "https://rest.fra-02.braze.eu");
        hosts.put("AU-01", "https://rest.au-01.braze.com");
        return hosts;
    }

    /** The REST base URL of an instance (case-insensitive). */
    public static String baseUrl(String instance) {
        return HOSTS.host(instance);
    }

    @Override
    public void define(ConfigDef def) {
        int order = 0;
        def.define(API_KEY, Type.PASSWORD, null, Importance.HIGH,
                "A Braze REST API key with the users.track permission. Required when destination=braze (attribute"
                        + " mode). Use a config provider (${file:...} or ${env:...}) so the value never appears in"
                        + " the connector's stored config.",
                GROUP, ++order, Width.MEDIUM, "REST API key");
        def.define(INSTANCE, Type.STRING, "US-01", HOSTS.validator(),
                Importance.HIGH,
                "The Braze instance of the workspace, which picks the REST host: US-01 ... US-08"
                        + " (rest.iad-0N.braze.com), EU-01, EU-02 (rest.fra-0N.braze.eu) or AU-01"
                        + " (rest.au-01.braze.com).",
                GROUP, ++order, Width.SHORT, "Instance");
        def.define(MODE, Type.STRING, MODE_ATTRIBUTE, new OneOf(List.of(MODE_ATTRIBUTE)),
                Importance.MEDIUM,
                "How cohorts reach Braze. 'attribute': /users/track adds or removes the cohort's name in an"
                        + " array custom attribute of each user. ('cohort_import', Braze's partner cohort import,"
                        + " is planned and not accepted by this version.)",
                GROUP, ++order, Width.SHORT, "Mode");
        def.define(ATTRIBUTE_NAME, Type.STRING, "mixpanel_cohorts", new ConfigDef.NonEmptyString(),
                Importance.MEDIUM,
                "The array custom attribute that holds the names of the cohorts a user is in.",
                GROUP, ++order, Width.MEDIUM, "Attribute name");
        def.define(USER_ID_FIELD, Type.STRING, "$braze_external_id", new ConfigDef.NonEmptyString(),
                Importance.MEDIUM,
                "The key of a record's 'properties' map that holds the user's Braze external_id; when a record"
                        + " has none, its properties.$user_id is used; a member with neither is rejected (to the"
                        + " errant record reporter).",
                GROUP, ++order, Width.MEDIUM, "User id property");
        def.define(UPDATE_EXISTING_ONLY, Type.BOOLEAN, true, Importance.LOW,
                "Sent as _update_existing_only: when true, Braze updates only users that already exist and"
                        + " creates none.",
                GROUP, ++order, Width.SHORT, "Update existing users only");
        def.define(PARTNER_NAME, Type.STRING, null, Importance.LOW,
                "For braze.mode=cohort_import (not accepted by this version): the partner name of the cohort"
                        + " import endpoints.",
                GROUP, ++order, Width.MEDIUM, "Partner name");
        def.define(PARTNER_API_KEY, Type.PASSWORD, null, Importance.LOW,
                "For braze.mode=cohort_import (not accepted by this version): the partner API key Braze issues"
                        + " to partners.",
                GROUP, ++order, Width.MEDIUM, "Partner API key");
        def.define(DATA_IMPORT_KEY, Type.PASSWORD, null, Importance.LOW,
                "For braze.mode=cohort_import (not accepted by this version): the workspace's Data Import Key.",
                GROUP, ++order, Width.MEDIUM, "Data Import Key");
        def.define(ENDPOINT, Type.STRING, null, new HttpUrlValidator(), Importance.LOW,
                "Base URL that replaces the instance's REST host (a proxy, or a local server in tests);"
                        + " /users/track is appended to it.",
                GROUP, ++order, Width.LONG, "Endpoint override");
    }

    @Override
    public void check(Map<String, Object> values, BiConsumer<String, String> problem) {
        if (DestinationKeys.isBlank(values.get(API_KEY))) {
            problem.accept(API_KEY, "braze.api.key is required when destination=braze and braze.mode=attribute");
        }
    }
}

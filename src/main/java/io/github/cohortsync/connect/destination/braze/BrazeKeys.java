package io.github.cohortsync.connect.destination.braze;

import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.OptionalInt;
import java.util.regex.Pattern;
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
    public static final String ATTRIBUTE_MAX_LENGTH = "braze.attribute.max.length";
    public static final String USER_ID_FIELD = "braze.user.id.field";
    public static final String UPDATE_EXISTING_ONLY = "braze.update.existing.only";
    public static final String PARTNER_NAME = "braze.partner.name";
    public static final String PARTNER_API_KEY = "braze.partner.api.key";
    public static final String DATA_IMPORT_KEY = "braze.data.import.key";
    public static final String ENDPOINT = "braze.endpoint";

    public static final String MODE_ATTRIBUTE = "attribute";
    /**
     * Keys of a /users/track attributes object that are not custom attributes: the cohort attribute must not reuse
     * one (it would be written next to, or instead of, the member's external_id and the flag).
     */
    static final List<String> RESERVED_ATTRIBUTE_KEYS = List.of("external_id", "user_alias", "braze_id", "email",
            "_update_existing_only");
    public static final String MODE_COHORT_IMPORT = "cohort_import";

    /** What Braze's partner endpoints accept in the partner-name path segment. */
    private static final Pattern PARTNER_NAME_FORMAT = Pattern.compile("[A-Za-z0-9._-]+");

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

    /** True when these settings choose Braze's partner cohort import rather than /users/track. */
    public static boolean isCohortImport(Map<String, ?> values) {
        Object mode = values.get(MODE);
        return mode != null && MODE_COHORT_IMPORT.equalsIgnoreCase(mode.toString().trim());
    }

    @Override
    public void define(ConfigDef def) {
        int order = 0;
        def.define(API_KEY, Type.PASSWORD, null, Importance.HIGH,
                "A Braze REST API key with the users.track permission. Required when destination=braze and"
                        + " braze.mode=attribute (not used in cohort_import mode). Use a config provider (${file:...} or ${env:...}) so the value never appears in"
                        + " the connector's stored config.",
                GROUP, ++order, Width.MEDIUM, "REST API key");
        def.define(INSTANCE, Type.STRING, "US-01", HOSTS.validator(),
                Importance.HIGH,
                "The Braze instance of the workspace, which picks the REST host: US-01 ... US-08"
                        + " (rest.iad-0N.braze.com), EU-01, EU-02 (rest.fra-0N.braze.eu) or AU-01"
                        + " (rest.au-01.braze.com).",
                GROUP, ++order, Width.SHORT, "Instance");
        def.define(MODE, Type.STRING, MODE_ATTRIBUTE, new OneOf(List.of(MODE_ATTRIBUTE, MODE_COHORT_IMPORT)),
                Importance.MEDIUM,
                "How cohorts reach Braze. 'attribute': /users/track adds or removes the cohort's name in an"
                        + " array custom attribute of each user (at most 75 users per call, or batch.max.size; set"
                        + " batch.max.size=50 on accounts whose plan takes 50 objects per request, otherwise such"
                        + " requests are refused and split; needs braze.api.key)."
                        + " 'cohort_import': Braze's partner cohort import (/partners/<braze.partner.name>/cohorts"
                        + " and /cohorts/users), for holders of a partner API key; users are added to or removed"
                        + " from a Braze cohort by external_id, at most 1000 per call; needs braze.partner.name,"
                        + " braze.partner.api.key and braze.data.import.key.",
                GROUP, ++order, Width.SHORT, "Mode");
        def.define(ATTRIBUTE_NAME, Type.STRING, "mixpanel_cohorts", new ConfigDef.NonEmptyString(),
                Importance.MEDIUM,
                "The array custom attribute that holds the names of the cohorts a user is in. Not one of the keys"
                        + " /users/track reads from the same object: " + String.join(", ", RESERVED_ATTRIBUTE_KEYS)
                        + ".",
                GROUP, ++order, Width.MEDIUM, "Attribute name");
        def.define(ATTRIBUTE_MAX_LENGTH, Type.INT, 25, ConfigDef.Range.atLeast(0), Importance.LOW,
                "The maximum length of the array attribute in your Braze account (Braze's default is 25; it can be"
                        + " raised per attribute). Braze silently drops the oldest values of an array beyond it, so"
                        + " in attribute mode the connector counts the users it has put in more cohorts than this"
                        + " (JMX braze-metrics UsersOverAttributeMaxLength, and a WARN naming their external ids, once"
                        + " per cohort sync that pushes users over). It keeps the cohorts of each user it has sent"
                        + " (about 100 bytes per user); 0 turns the count off.",
                GROUP, ++order, Width.SHORT, "Attribute max length");
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
                "Required when braze.mode=cohort_import: the partner name Braze assigned, the path segment of"
                        + " the cohort import endpoints (/partners/<name>/cohorts); letters, digits, '.', '_', '-'.",
                GROUP, ++order, Width.MEDIUM, "Partner name");
        def.define(PARTNER_API_KEY, Type.PASSWORD, null, Importance.LOW,
                "Required when braze.mode=cohort_import: the partner API key Braze issues to partners (one for"
                        + " the US clusters, another for the EU cluster); sent as partner_api_key.",
                GROUP, ++order, Width.MEDIUM, "Partner API key");
        def.define(DATA_IMPORT_KEY, Type.PASSWORD, null, Importance.LOW,
                "Required when braze.mode=cohort_import: the workspace's Data Import Key (Partner Integrations"
                        + " > Technology Partners in the Braze dashboard); sent as client_secret.",
                GROUP, ++order, Width.MEDIUM, "Data Import Key");
        def.define(ENDPOINT, Type.STRING, null, new HttpUrlValidator(), Importance.LOW,
                "Base URL that replaces the instance's REST host (a proxy, or a local server in tests);"
                        + " /users/track (or, in cohort_import mode, /partners/<name>/cohorts...) is appended to it.",
                GROUP, ++order, Width.LONG, "Endpoint override");
    }

    @Override
    public void check(Map<String, Object> values, BiConsumer<String, String> problem) {
        if (!isCohortImport(values)) {
            if (DestinationKeys.isBlank(values.get(API_KEY))) {
                problem.accept(API_KEY, "braze.api.key is required when destination=braze and braze.mode=attribute");
            }
            Object attribute = values.get(ATTRIBUTE_NAME);
            if (attribute != null && RESERVED_ATTRIBUTE_KEYS.contains(attribute.toString().trim())) {
                problem.accept(ATTRIBUTE_NAME, "braze.attribute.name '" + attribute.toString().trim() + "' is a key"
                        + " Braze reads as the user's identity or a flag in the same attributes object; choose a"
                        + " custom attribute name other than " + String.join(", ", RESERVED_ATTRIBUTE_KEYS));
            }
            return;
        }
        for (String key : List.of(PARTNER_NAME, PARTNER_API_KEY, DATA_IMPORT_KEY)) {
            if (DestinationKeys.isBlank(values.get(key))) {
                problem.accept(key, key + " is required when destination=braze and braze.mode=cohort_import");
            }
        }
        Object partner = values.get(PARTNER_NAME);
        if (!DestinationKeys.isBlank(partner) && !PARTNER_NAME_FORMAT.matcher(partner.toString().trim()).matches()) {
            problem.accept(PARTNER_NAME, "braze.partner.name must be the partner name Braze assigned (letters,"
                    + " digits, '.', '_' or '-'), it becomes a path segment of /partners/<name>/cohorts");
        }
    }

    @Override
    public OptionalInt maxBatchSize(Map<String, ?> values) {
        return isCohortImport(values) ? OptionalInt.of(BrazeCohortImport.MAX_USER_IDS_PER_REQUEST)
                : OptionalInt.empty();
    }
}

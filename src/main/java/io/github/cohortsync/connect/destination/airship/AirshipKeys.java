package io.github.cohortsync.connect.destination.airship;

import java.util.List;
import java.util.Map;
import java.util.function.BiConsumer;

import org.apache.kafka.common.config.ConfigDef;
import org.apache.kafka.common.config.ConfigDef.Importance;
import org.apache.kafka.common.config.ConfigDef.Type;
import org.apache.kafka.common.config.ConfigDef.Width;

import io.github.cohortsync.connect.config.DestinationKeys;
import io.github.cohortsync.connect.config.HttpUrlValidator;
import io.github.cohortsync.connect.config.RegionHosts;
import io.github.cohortsync.connect.destination.CohortNameTemplate;

/** Airship's config keys. */
public final class AirshipKeys implements DestinationKeys {
    public static final String TOKEN = "airship.token";
    public static final String APP_KEY = "airship.app.key";
    public static final String MASTER_SECRET = "airship.master.secret";
    public static final String REGION = "airship.region";
    public static final String ENDPOINT = "airship.endpoint";
    public static final String TAG_GROUP = "airship.tag.group";
    public static final String TAG_NAME_TEMPLATE = "airship.tag.name.template";
    public static final String NAMED_USER_PROPERTY = "airship.named.user.property";

    /** Mixpanel's Airship sync uses the tag group "mixpanel" (docs.airship.com/integrations/mixpanel). */
    public static final String DEFAULT_TAG_GROUP = "mixpanel";
    public static final String DEFAULT_TAG_NAME_TEMPLATE = "${cohort_name}";
    /**
     * The Mixpanel user property that names a user's Airship Named User, as Airship documents Mixpanel's sync
     * (docs.airship.com/integrations/mixpanel, "Mixpanel Integration User ID Mapping").
     */
    public static final String DEFAULT_NAMED_USER_PROPERTY = "$airship_named_user";
    /** The value of {@link #NAMED_USER_PROPERTY} that takes the record's own {@code distinct_id}. */
    public static final String DISTINCT_ID = "distinct_id";
    /** A tag group name and a tag are 1-128 characters (Airship API reference, schemas "Tag Group object"). */
    static final int MAX_NAME_LENGTH = 128;

    /**
     * Region to API host (Airship API reference, "Base URL"; the same hosts in urbanairship/python-library
     * {@code urls.py}: go.urbanairship.com for "us", go.airship.eu for "eu").
     */
    static final RegionHosts HOSTS = RegionHosts.of("Airship region",
            "us", "https://go.urbanairship.com", "eu", "https://go.airship.eu");

    private static final String GROUP = "Airship";

    @Override
    public void define(ConfigDef def) {
        int order = 0;
        def.define(TOKEN, Type.PASSWORD, null, Importance.HIGH,
                "An Airship bearer token of the project (Settings > APIs & Integrations > Tokens), sent as"
                        + " 'Authorization: Bearer'. Either this or airship.app.key with airship.master.secret is"
                        + " required when destination=airship. Use a config provider (${file:...} or ${env:...}).",
                GROUP, ++order, Width.MEDIUM, "Bearer token");
        def.define(APP_KEY, Type.STRING, null, Importance.HIGH,
                "The Airship project's app key: the user name of HTTP Basic auth with airship.master.secret, and"
                        + " sent as the X-UA-Appkey header with a bearer token when set.",
                GROUP, ++order, Width.MEDIUM, "App key");
        def.define(MASTER_SECRET, Type.PASSWORD, null, Importance.HIGH,
                "The Airship project's master secret, the password of HTTP Basic auth with airship.app.key; used"
                        + " when airship.token is not set. Use a config provider (${file:...} or ${env:...}).",
                GROUP, ++order, Width.MEDIUM, "Master secret");
        def.define(REGION, Type.STRING, "us", HOSTS.validator(), Importance.HIGH,
                "The cloud site of the Airship project: 'us' (https://go.urbanairship.com) or 'eu'"
                        + " (https://go.airship.eu).",
                GROUP, ++order, Width.SHORT, "Region");
        def.define(TAG_GROUP, Type.STRING, DEFAULT_TAG_GROUP, new ConfigDef.NonEmptyString(), Importance.MEDIUM,
                "The tag group that holds one tag per cohort; it must exist in the Airship project (create it in the"
                        + " dashboard). The default is the group Mixpanel's own Airship sync writes to. 1-128"
                        + " characters; the ua_ prefix is reserved by Airship.",
                GROUP, ++order, Width.MEDIUM, "Tag group");
        def.define(TAG_NAME_TEMPLATE, Type.STRING, DEFAULT_TAG_NAME_TEMPLATE, new ConfigDef.NonEmptyString(),
                Importance.MEDIUM,
                "The tag that mirrors each cohort in the tag group. Placeholders: ${cohort_name}, ${cohort_id},"
                        + " ${project_id}. A rendered tag longer than 128 characters rejects the cohort's members.",
                GROUP, ++order, Width.LONG, "Tag name template");
        def.define(NAMED_USER_PROPERTY, Type.STRING, DEFAULT_NAMED_USER_PROPERTY, new ConfigDef.NonEmptyString(),
                Importance.MEDIUM,
                "The member property that holds the user's Airship Named User id; the default is the property"
                        + " Mixpanel's Airship sync reads. 'distinct_id' takes the record's distinct_id instead (for"
                        + " projects that use the same id in both). A member without a value is rejected.",
                GROUP, ++order, Width.MEDIUM, "Named User id property");
        def.define(ENDPOINT, Type.STRING, null, new HttpUrlValidator(), Importance.LOW,
                "Base URL of the Airship API, overriding the region's host (a proxy, or tests);"
                        + " /api/named_users/tags is appended.",
                GROUP, ++order, Width.LONG, "Endpoint");
    }

    @Override
    public void check(Map<String, Object> values, BiConsumer<String, String> problem) {
        boolean token = !DestinationKeys.isBlank(values.get(TOKEN));
        boolean appKey = !DestinationKeys.isBlank(values.get(APP_KEY));
        boolean secret = !DestinationKeys.isBlank(values.get(MASTER_SECRET));
        if (token && secret) {
            problem.accept(MASTER_SECRET, "airship.master.secret and airship.token are both set: choose one way to"
                    + " authenticate (a bearer token, or the app key with the master secret)");
        } else if (!token && !secret) {
            problem.accept(TOKEN, "airship.token is required when destination=airship, unless airship.app.key and"
                    + " airship.master.secret are set (HTTP Basic auth)");
        } else if (secret && !appKey) {
            problem.accept(APP_KEY, "airship.app.key is required with airship.master.secret: it is the user name"
                    + " of HTTP Basic auth");
        }
        Object group = values.get(TAG_GROUP);
        if (group != null) {
            String name = group.toString().trim();
            if (name.length() > MAX_NAME_LENGTH) {
                problem.accept(TAG_GROUP, "airship.tag.group is " + name.length() + " characters long; Airship"
                        + " takes tag group names of 1-128 characters");
            } else if (name.startsWith("ua_")) {
                problem.accept(TAG_GROUP, "airship.tag.group must not start with ua_: Airship reserves that prefix"
                        + " for its own tag groups");
            }
        }
        Object template = values.get(TAG_NAME_TEMPLATE);
        List<String> unknown = CohortNameTemplate.unknownPlaceholders(template == null ? null : template.toString());
        if (!unknown.isEmpty()) {
            problem.accept(TAG_NAME_TEMPLATE, "airship.tag.name.template uses unknown placeholders " + unknown
                    + "; the known ones are ${cohort_name}, ${cohort_id} and ${project_id}");
        }
    }
}

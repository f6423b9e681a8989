package io.github.cohortsync.connect.destination.iterable;

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

/** Iterable's config keys. */
public final class IterableKeys implements DestinationKeys {
    public static final String API_KEY = "iterable.api.key";
    public static final String REGION = "iterable.region";
    public static final String LIST_NAME_TEMPLATE = "iterable.list.name.template";
    public static final String ENDPOINT = "iterable.endpoint";
    public static final String SNAPSHOT_MIRROR = "iterable.snapshot.mirror";
    public static final String LIST_EXPORT_INTERVAL_MS = "iterable.list.export.interval.ms";
    /** GET /api/lists/getUsers is limited to 5 requests per minute per project (Iterable's Swagger). */
    public static final long DEFAULT_LIST_EXPORT_INTERVAL_MS = 12_000;

    /** Region to API host; an API key belongs to one region. */
    static final RegionHosts HOSTS = RegionHosts.of("Iterable region",
            "us", "https://api.iterable.com", "eu", "https://api.eu.iterable.com");

    public static final String DEFAULT_LIST_NAME_TEMPLATE = "mixpanel_${cohort_name}_${cohort_id}";

    private static final String GROUP = "Iterable";

    @Override
    public void define(ConfigDef def) {
        int order = 0;
        def.define(API_KEY, Type.PASSWORD, null, Importance.HIGH,
                "A server-side API key of the Iterable project (sent as the Api-Key header). Required when"
                        + " destination=iterable. Use a config provider (${file:...} or ${env:...}).",
                GROUP, ++order, Width.MEDIUM, "API key");
        def.define(REGION, Type.STRING, "us", HOSTS.validator(), Importance.HIGH,
                "The data center of the Iterable project: 'us' (api.iterable.com) or 'eu' (api.eu.iterable.com)."
                        + " An API key works only in its project's data center.",
                GROUP, ++order, Width.SHORT, "Region");
        def.define(LIST_NAME_TEMPLATE, Type.STRING, DEFAULT_LIST_NAME_TEMPLATE, new ConfigDef.NonEmptyString(),
                Importance.MEDIUM,
                "The name of the static list that mirrors each cohort; the list is created when missing."
                        + " Placeholders: ${cohort_name}, ${cohort_id}, ${project_id}. The default matches"
                        + " Mixpanel's own Iterable cohort sync. When a cohort's name is unknown (no record read"
                        + " named it and no name of it is remembered from earlier runs) and ${cohort_id} follows"
                        + " ${cohort_name}, its list is found by the rest of the name (under the default, a name"
                        + " ending in _<cohort id>).",
                GROUP, ++order, Width.LONG, "List name template");
        def.define(SNAPSHOT_MIRROR, Type.BOOLEAN, true, Importance.MEDIUM,
                "After a full sync ('members' pages: a cohort's first sync, on a first run or when the cohort"
                        + " first appears later, a refresh, or sync.mode=one_time's export) has subscribed a"
                        + " cohort's members, unsubscribe the list's other subscribers so that the list equals the"
                        + " cohort. The list is read with Iterable's list export (GET /api/lists/getUsers), which names"
                        + " subscribers by email: a cohort with members known only by $iterable_user_id is not"
                        + " mirrored (a WARN says so). Needs tasks.max=1 (each task sees only part of a cohort);"
                        + " ignored otherwise.",
                GROUP, ++order, Width.SHORT, "Mirror the list on a full sync");
        def.define(LIST_EXPORT_INTERVAL_MS, Type.LONG, DEFAULT_LIST_EXPORT_INTERVAL_MS, ConfigDef.Range.atLeast(0),
                Importance.LOW,
                "The least time between two list exports (GET /api/lists/getUsers) of this task, which mirroring"
                        + " a snapshot reads once per cohort. Iterable allows 5 of them per minute per project, so"
                        + " the default is 12000 ms; raise it when other tools export lists of the same project. A"
                        + " 429 answer also holds the next export back by its Retry-After.",
                GROUP, ++order, Width.SHORT, "List export interval");
        def.define(ENDPOINT, Type.STRING, null, new HttpUrlValidator(), Importance.LOW,
                "Base URL of the Iterable API, overriding the region's host (a proxy, or tests); /api/lists... is"
                        + " appended.",
                GROUP, ++order, Width.LONG, "Endpoint");
    }

    @Override
    public void check(Map<String, Object> values, BiConsumer<String, String> problem) {
        if (DestinationKeys.isBlank(values.get(API_KEY))) {
            problem.accept(API_KEY, "iterable.api.key is required when destination=iterable: a server-side API"
                    + " key of the Iterable project");
        }
        Object template = values.get(LIST_NAME_TEMPLATE);
        List<String> unknown = CohortNameTemplate.unknownPlaceholders(template == null ? null : template.toString());
        if (!unknown.isEmpty()) {
            problem.accept(LIST_NAME_TEMPLATE, "iterable.list.name.template uses unknown placeholders "
                    + unknown + "; the known ones are ${cohort_name}, ${cohort_id} and ${project_id}");
        }
    }
}

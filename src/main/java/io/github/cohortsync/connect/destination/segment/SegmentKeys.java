package io.github.cohortsync.connect.destination.segment;

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

/** Segment's config keys. */
public final class SegmentKeys implements DestinationKeys {
    public static final String WRITE_KEY = "segment.write.key";
    public static final String REGION = "segment.region";
    public static final String USER_ID_FIELD = "segment.user.id.field";
    public static final String TRAIT_NAME_TEMPLATE = "segment.trait.name.template";
    public static final String ENDPOINT = "segment.endpoint";

    /** Region to API host; an API key belongs to one region. */
    static final RegionHosts HOSTS = RegionHosts.of("Segment region",
            "us", "https://api.segment.io", "eu", "https://events.eu1.segmentapis.com");

    public static final String DEFAULT_TRAIT_NAME_TEMPLATE = "Mixpanel - ${cohort_name}";

    private static final String GROUP = "Segment";

    @Override
    public void define(ConfigDef def) {
        int order = 0;
        def.define(WRITE_KEY, Type.PASSWORD, null, Importance.HIGH,
                "The write key of the Segment source that receives the identify calls (HTTP API source)."
                        + " Required when destination=segment. Use a config provider (${file:...} or ${env:...}).",
                GROUP, ++order, Width.MEDIUM, "Write key");
        def.define(REGION, Type.STRING, "us", HOSTS.validator(),
                Importance.HIGH,
                "The region of the Segment workspace: 'us' (api.segment.io) or 'eu'"
                        + " (events.eu1.segmentapis.com). Events of an EU workspace sent to the US host are"
                        + " accepted and lost, so set this right.",
                GROUP, ++order, Width.SHORT, "Region");
        def.define(USER_ID_FIELD, Type.STRING, "distinct_id", new ConfigDef.NonEmptyStringWithoutControlChars(),
                Importance.MEDIUM,
                "The member field sent as Segment's userId: a record field (distinct_id, email, ...) or a key"
                        + " of the record's 'properties' map (e.g. $user_id). A member without a value is"
                        + " rejected (errant record reporter / DLQ), never dropped silently.",
                GROUP, ++order, Width.MEDIUM, "User id field");
        def.define(TRAIT_NAME_TEMPLATE, Type.STRING, DEFAULT_TRAIT_NAME_TEMPLATE,
                new ConfigDef.NonEmptyString(), Importance.MEDIUM,
                "The name of the boolean trait set on each member: true when they enter the cohort, false when"
                        + " they leave. Placeholders: ${cohort_name}, ${cohort_id}, ${project_id}. The default"
                        + " matches Mixpanel's own Segment cohort sync.",
                GROUP, ++order, Width.LONG, "Trait name template");
        def.define(ENDPOINT, Type.STRING, null, new HttpUrlValidator(), Importance.LOW,
                "Base URL of the Segment Tracking API, overriding the region's host (a proxy, or tests);"
                        + " /v1/batch is appended.",
                GROUP, ++order, Width.LONG, "Endpoint");
    }

    @Override
    public void check(Map<String, Object> values, BiConsumer<String, String> problem) {
        if (DestinationKeys.isBlank(values.get(WRITE_KEY))) {
            problem.accept(WRITE_KEY, "segment.write.key is required when destination=segment: the write key of"
                    + " a Segment HTTP API source");
        }
        Object template = values.get(TRAIT_NAME_TEMPLATE);
        List<String> unknown = CohortNameTemplate.unknownPlaceholders(template == null ? null : template.toString());
        if (!unknown.isEmpty()) {
            problem.accept(TRAIT_NAME_TEMPLATE, "segment.trait.name.template uses unknown placeholders "
                    + unknown + "; the known ones are ${cohort_name}, ${cohort_id} and ${project_id}");
        }
    }
}

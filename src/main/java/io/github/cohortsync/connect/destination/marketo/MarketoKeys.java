package io.github.cohortsync.connect.destination.marketo;

import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.function.BiConsumer;

import org.apache.kafka.common.config.ConfigDef;
import org.apache.kafka.common.config.ConfigDef.Importance;
import org.apache.kafka.common.config.ConfigDef.Type;
import org.apache.kafka.common.config.ConfigDef.Width;

import io.github.cohortsync.connect.config.DestinationKeys;
import io.github.cohortsync.connect.config.HttpUrlValidator;
import io.github.cohortsync.connect.config.OneOf;
import io.github.cohortsync.connect.destination.CohortNameTemplate;

/** Marketo Engage's config keys. */
public final class MarketoKeys implements DestinationKeys {
    public static final String ENDPOINT = "marketo.endpoint";
    public static final String IDENTITY_URL = "marketo.identity.url";
    public static final String CLIENT_ID = "marketo.client.id";
    public static final String CLIENT_SECRET = "marketo.client.secret";
    public static final String LIST_NAME_TEMPLATE = "marketo.list.name.template";
    public static final String FOLDER_ID = "marketo.folder.id";
    public static final String FOLDER_TYPE = "marketo.folder.type";
    public static final String UPSERT_LEADS = "marketo.upsert.leads";
    public static final String LEAD_CACHE_SIZE = "marketo.lead.cache.size";

    public static final String DEFAULT_LIST_NAME_TEMPLATE = "mixpanel_${cohort_name}_${cohort_id}";
    public static final int DEFAULT_LEAD_CACHE_SIZE = 50_000;
    /** The folder types a static list may be created in (Marketo asset API, "Static Lists": Folder or Program). */
    static final List<String> FOLDER_TYPES = List.of("Folder", "Program");

    private static final String GROUP = "Marketo";

    @Override
    public void define(ConfigDef def) {
        int order = 0;
        def.define(ENDPOINT, Type.STRING, null, new HttpUrlValidator(), Importance.HIGH,
                "The REST base URL of the Marketo Engage instance, as Admin > Integration > Web Services shows it"
                        + " without its /rest suffix, e.g. https://123-ABC-456.mktorest.com; /rest/v1/... and"
                        + " /rest/asset/v1/... are appended. Required when destination=marketo.",
                GROUP, ++order, Width.LONG, "REST endpoint");
        def.define(IDENTITY_URL, Type.STRING, null, new HttpUrlValidator(), Importance.LOW,
                "The Identity URL of the instance (Admin > Integration > Web Services), where access tokens are"
                        + " requested (/oauth/token is appended). Default: marketo.endpoint followed by /identity.",
                GROUP, ++order, Width.LONG, "Identity URL");
        def.define(CLIENT_ID, Type.STRING, null, Importance.HIGH,
                "The Client ID of the LaunchPoint custom service whose API-only user syncs the lists (Admin >"
                        + " Integration > LaunchPoint > View Details). Required when destination=marketo.",
                GROUP, ++order, Width.MEDIUM, "Client ID");
        def.define(CLIENT_SECRET, Type.PASSWORD, null, Importance.HIGH,
                "The Client Secret of that custom service. Required when destination=marketo. Use a config provider"
                        + " (${file:...} or ${env:...}).",
                GROUP, ++order, Width.MEDIUM, "Client Secret");
        def.define(LIST_NAME_TEMPLATE, Type.STRING, DEFAULT_LIST_NAME_TEMPLATE, new ConfigDef.NonEmptyString(),
                Importance.MEDIUM,
                "The name of the static list that mirrors each cohort; it is found by name and created in"
                        + " marketo.folder.id when missing. Placeholders: ${cohort_name}, ${cohort_id},"
                        + " ${project_id}. Commas in a rendered name are replaced by spaces (Marketo's list lookup"
                        + " reads a comma as a separator).",
                GROUP, ++order, Width.LONG, "List name template");
        def.define(FOLDER_ID, Type.INT, null, Importance.HIGH,
                "The id of the folder (or program, see marketo.folder.type) the connector creates missing static"
                        + " lists in. Required when destination=marketo.",
                GROUP, ++order, Width.SHORT, "Folder id");
        def.define(FOLDER_TYPE, Type.STRING, "Folder", new OneOf(FOLDER_TYPES), Importance.LOW,
                "Whether marketo.folder.id is a Folder or a Program.",
                GROUP, ++order, Width.SHORT, "Folder type");
        def.define(UPSERT_LEADS, Type.BOOLEAN, false, Importance.MEDIUM,
                "When true, an added member's email that matches no lead creates one (Sync Leads, action"
                        + " createOrUpdate on email; only the email is sent, so an existing lead is not changed);"
                        + " when false such a member is rejected.",
                GROUP, ++order, Width.SHORT, "Create missing leads");
        def.define(LEAD_CACHE_SIZE, Type.INT, DEFAULT_LEAD_CACHE_SIZE, ConfigDef.Range.atLeast(0), Importance.LOW,
                "How many email-to-lead-id resolutions each task keeps (least recently used first out), saving"
                        + " one lookup call per 300 members that come back; 0 turns the cache off.",
                GROUP, ++order, Width.SHORT, "Lead id cache size");
    }

    @Override
    public void check(Map<String, Object> values, BiConsumer<String, String> problem) {
        Object endpoint = values.get(ENDPOINT);
        if (DestinationKeys.isBlank(endpoint)) {
            problem.accept(ENDPOINT, "marketo.endpoint is required when destination=marketo: the REST base URL of"
                    + " the instance, e.g. https://123-ABC-456.mktorest.com");
        } else if (endsInRest(endpoint.toString())) {
            problem.accept(ENDPOINT, "marketo.endpoint ends in /rest: give the instance's base URL without it, e.g."
                    + " https://123-ABC-456.mktorest.com (the connector appends /rest/v1/... itself)");
        }
        if (DestinationKeys.isBlank(values.get(CLIENT_ID))) {
            problem.accept(CLIENT_ID, "marketo.client.id is required when destination=marketo: the Client ID of a"
                    + " LaunchPoint custom service");
        }
        if (DestinationKeys.isBlank(values.get(CLIENT_SECRET))) {
            problem.accept(CLIENT_SECRET, "marketo.client.secret is required when destination=marketo: the Client"
                    + " Secret of the same custom service");
        }
        if (values.get(FOLDER_ID) == null) {
            problem.accept(FOLDER_ID, "marketo.folder.id is required when destination=marketo: the folder (or"
                    + " program) missing static lists are created in");
        }
        Object template = values.get(LIST_NAME_TEMPLATE);
        List<String> unknown = CohortNameTemplate.unknownPlaceholders(template == null ? null : template.toString());
        if (!unknown.isEmpty()) {
            problem.accept(LIST_NAME_TEMPLATE, "marketo.list.name.template uses unknown placeholders " + unknown
                    + "; the known ones are ${cohort_name}, ${cohort_id} and ${project_id}");
        }
    }

    private static boolean endsInRest(String url) {
        String path = url.trim().toLowerCase(Locale.ROOT);
        while (path.endsWith("/")) {
            path = path.substring(0, path.length() - 1);
        }
        return path.endsWith("/rest");
    }

    /** The REST base URL without trailing slashes. */
    static String restBase(String endpoint) {
        String base = endpoint.trim();
        while (base.endsWith("/")) {
            base = base.substring(0, base.length() - 1);
        }
        return base;
    }

    /** The identity URL: the configured one, else the endpoint followed by /identity. */
    static String identityUrl(String endpoint, String identityUrl) {
        return identityUrl == null || identityUrl.isBlank() ? restBase(endpoint) + "/identity"
                : restBase(identityUrl);
    }
}

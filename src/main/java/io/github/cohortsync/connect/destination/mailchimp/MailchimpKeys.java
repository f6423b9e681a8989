package io.github.cohortsync.connect.destination.mailchimp;

import java.util.List;
import java.util.Map;
import java.util.function.BiConsumer;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import org.apache.kafka.common.config.ConfigDef;
import org.apache.kafka.common.config.ConfigDef.Importance;
import org.apache.kafka.common.config.ConfigDef.Type;
import org.apache.kafka.common.config.ConfigDef.Width;
import org.apache.kafka.common.config.types.Password;

import io.github.cohortsync.connect.config.DestinationKeys;
import io.github.cohortsync.connect.config.HttpUrlValidator;
import io.github.cohortsync.connect.config.OneOf;
import io.github.cohortsync.connect.destination.CohortNameTemplate;

/** Mailchimp's config keys. */
public final class MailchimpKeys implements DestinationKeys {
    public static final String API_KEY = "mailchimp.api.key";
    public static final String LIST_ID = "mailchimp.list.id";
    public static final String SEGMENT_NAME_TEMPLATE = "mailchimp.segment.name.template";
    public static final String ENDPOINT = "mailchimp.endpoint";
    public static final String UPSERT_MEMBERS = "mailchimp.upsert.members";
    public static final String UPSERT_STATUS = "mailchimp.upsert.status";
    public static final String SNAPSHOT_MIRROR = "mailchimp.snapshot.mirror";
    /**
     * The statuses a new contact may be given: Mailchimp's member statuses (subscribed, unsubscribed, cleaned, pending,
     * transactional; Marketing API reference, "Batch subscribe or unsubscribe") less the two that make no sense for
     * someone being added to a segment.
     */
    static final List<String> UPSERT_STATUSES = List.of("transactional", "subscribed", "pending");
    public static final String DEFAULT_SEGMENT_NAME_TEMPLATE = "Mixpanel - ${cohort_name}";

    /**
     * A Marketing API key ends in its account's data centre, e.g. {@code ...-us21}, and the API lives at
     * {@code https://<dc>.api.mailchimp.com/3.0} (Mailchimp Marketing API, "Quick start": the server prefix is the
     * part of the key after the dash).
     */
    private static final Pattern DATA_CENTRE = Pattern.compile("-([a-z]+[0-9]+)\\s*$");

    private static final String GROUP = "Mailchimp";

    @Override
    public void define(ConfigDef def) {
        int order = 0;
        def.define(API_KEY, Type.PASSWORD, null, Importance.HIGH,
                "A Mailchimp Marketing API key (sent with HTTP Basic auth, any user name). Its suffix after the"
                        + " last dash (e.g. us21) names the data centre, https://us21.api.mailchimp.com. Required when"
                        + " destination=mailchimp. Use a config provider (${file:...} or ${env:...}).",
                GROUP, ++order, Width.MEDIUM, "API key");
        def.define(LIST_ID, Type.STRING, null, Importance.HIGH,
                "The id of the Mailchimp audience (list) whose static segments (tags) mirror the cohorts."
                        + " Required when destination=mailchimp.",
                GROUP, ++order, Width.SHORT, "Audience (list) id");
        def.define(SEGMENT_NAME_TEMPLATE, Type.STRING, DEFAULT_SEGMENT_NAME_TEMPLATE, new ConfigDef.NonEmptyString(),
                Importance.MEDIUM,
                "The name of the static segment (tag) of the audience that mirrors each cohort; it is found by"
                        + " name and created when missing. Placeholders: ${cohort_name}, ${cohort_id},"
                        + " ${project_id}.",
                GROUP, ++order, Width.LONG, "Segment name template");
        def.define(UPSERT_MEMBERS, Type.BOOLEAN, false, Importance.MEDIUM,
                "Before adding members to a segment, add the emails that are not in the audience yet (Mailchimp"
                        + " ignores them in a segment call), with the status mailchimp.upsert.status. Contacts"
                        + " already in the audience are never changed: their subscription status (consent) stays"
                        + " as it is.",
                GROUP, ++order, Width.SHORT, "Add unknown emails to the audience");
        def.define(UPSERT_STATUS, Type.STRING, "transactional", new OneOf(UPSERT_STATUSES), Importance.MEDIUM,
                "The status of contacts that mailchimp.upsert.members creates: 'transactional' (no marketing"
                        + " consent: such contacts get no campaigns), 'subscribed' (only if you hold their consent)"
                        + " or 'pending' (Mailchimp asks them to confirm by email).",
                GROUP, ++order, Width.SHORT, "Status of new contacts");
        def.define(SNAPSHOT_MIRROR, Type.BOOLEAN, true, Importance.MEDIUM,
                "After a full sync ('members' pages) has added a cohort's members to its segment, remove the"
                        + " segment's other members so that the segment equals the cohort (the segment's members are"
                        + " read 1000 at a time). Needs tasks.max=1 (each task sees only part of a cohort); ignored"
                        + " otherwise.",
                GROUP, ++order, Width.SHORT, "Mirror the segment on a full sync");
        def.define(ENDPOINT, Type.STRING, null, new HttpUrlValidator(), Importance.LOW,
                "Base URL of the Mailchimp Marketing API, overriding the data centre of the API key (a proxy, or"
                        + " tests); /3.0/lists/... is appended.",
                GROUP, ++order, Width.LONG, "Endpoint");
    }

    @Override
    public void check(Map<String, Object> values, BiConsumer<String, String> problem) {
        Object key = values.get(API_KEY);
        if (DestinationKeys.isBlank(key)) {
            problem.accept(API_KEY, "mailchimp.api.key is required when destination=mailchimp: a Marketing API key"
                    + " of the Mailchimp account");
        } else if (DestinationKeys.isBlank(values.get(ENDPOINT))
                && dataCentre(key instanceof Password p ? p.value() : key.toString()) == null) {
            problem.accept(API_KEY, "mailchimp.api.key does not end in a data centre (e.g. -us21), so the API host"
                    + " is unknown; use the whole key as Mailchimp shows it, or set mailchimp.endpoint");
        }
        if (DestinationKeys.isBlank(values.get(LIST_ID))) {
            problem.accept(LIST_ID, "mailchimp.list.id is required when destination=mailchimp: the id of the"
                    + " audience (list) the cohorts are tagged in");
        }
        Object template = values.get(SEGMENT_NAME_TEMPLATE);
        List<String> unknown = CohortNameTemplate.unknownPlaceholders(template == null ? null : template.toString());
        if (!unknown.isEmpty()) {
            problem.accept(SEGMENT_NAME_TEMPLATE, "mailchimp.segment.name.template uses unknown placeholders "
                    + unknown + "; the known ones are ${cohort_name}, ${cohort_id} and ${project_id}");
        }
    }

    /** The data centre at the end of an API key ({@code us21} of {@code ...-us21}), or null when it has none. */
    static String dataCentre(String apiKey) {
        if (apiKey == null) {
            return null;
        }
        Matcher m = DATA_CENTRE.matcher(apiKey);
        return m.find() ? m.group(1) : null;
    }

    /** The API host of the key's data centre, or null when the key names none. */
    static String host(String apiKey) {
        String dc = dataCentre(apiKey);
        return dc == null ? null : "https://" + dc + ".api.mailchimp.com";
    }
}

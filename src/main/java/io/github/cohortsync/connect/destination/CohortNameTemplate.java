package io.github.cohortsync.connect.destination;

import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import io.github.cohortsync.connect.record.CohortRef;

/**
 * A configured name (Segment trait, Iterable list) built from a cohort: {@code ${cohort_name}}, {@code ${cohort_id}}
 * and {@code ${project_id}} are replaced by the cohort's values.
 */
public final class CohortNameTemplate {
    public static final List<String> PLACEHOLDERS = List.of("cohort_name", "cohort_id", "project_id");
    private static final Pattern PLACEHOLDER = Pattern.compile("\\$\\{([^}]*)}");

    private final String template;

    public CohortNameTemplate(String template) {
        this.template = template;
    }

    /** The placeholders of the template that are not one of {@link #PLACEHOLDERS}; empty when it is usable. */
    public static List<String> unknownPlaceholders(String template) {
        Matcher m = PLACEHOLDER.matcher(template == null ? "" : template);
        return m.results().map(r -> r.group(1)).filter(name -> !PLACEHOLDERS.contains(name)).distinct().toList();
    }

    /**
     * The name for this cohort, or null when the template needs a value the cohort lacks (e.g. the name of a cohort
     * known only from tombstones).
     */
    public String render(CohortRef cohort) {
        Matcher m = PLACEHOLDER.matcher(template);
        StringBuilder out = new StringBuilder();
        while (m.find()) {
            String value = switch (m.group(1)) {
                case "cohort_name" -> cohort.name();
                case "cohort_id" -> cohort.id();
                case "project_id" -> cohort.projectId();
                default -> m.group();
            };
            if (value == null) {
                return null;
            }
            m.appendReplacement(out, Matcher.quoteReplacement(value));
        }
        m.appendTail(out);
        return out.toString();
    }

    @Override
    public String toString() {
        return template;
    }
}

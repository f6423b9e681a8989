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

    /** What a rendered name starts and ends with around the cohort's name. */
    public record Affixes(String prefix, String suffix) {
        /** True when {@code name} is this prefix, a non-empty cohort name, then this suffix. */
        public boolean matches(String name) {
            return name != null && name.length() > prefix.length() + suffix.length() && name.startsWith(prefix)
                    && name.endsWith(suffix);
        }
    }

    /**
     * For a cohort whose name is unknown, what its rendered name would start and end with: the template rendered
     * on either side of its one {@code ${cohort_name}}. Null when the template holds no or several
     * {@code ${cohort_name}}, no {@code ${cohort_id}} after it (the suffix must tell cohorts apart), or needs another
     * value the cohort lacks.
     */
    public Affixes affixes(CohortRef cohort) {
        String name = "${cohort_name}";
        int at = template.indexOf(name);
        if (at < 0 || template.indexOf(name, at + 1) >= 0 || !template.substring(at).contains("${cohort_id}")) {
            return null;
        }
        String prefix = new CohortNameTemplate(template.substring(0, at)).render(cohort);
        String suffix = new CohortNameTemplate(template.substring(at + name.length())).render(cohort);
        return prefix == null || suffix == null ? null : new Affixes(prefix, suffix);
    }

    @Override
    public String toString() {
        return template;
    }
}

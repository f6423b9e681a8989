package io.github.cohortsync.connect.config;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

import org.apache.kafka.common.config.ConfigDef;
import org.apache.kafka.common.config.ConfigDef.ConfigKey;
import org.apache.kafka.common.config.types.Password;

/** Renders a {@link ConfigDef} as the Markdown configuration reference, grouped as the config defines. */
public final class ConfigDocs {

    private ConfigDocs() {
    }

    public static String markdown(ConfigDef def) {
        Map<String, List<ConfigKey>> byGroup = new LinkedHashMap<>();
        for (String group : def.groups()) {
            byGroup.put(group, new ArrayList<>());
        }
        for (ConfigKey key : def.configKeys().values().stream()
                .sorted(java.util.Comparator.comparingInt((ConfigKey k) -> k.orderInGroup).thenComparing(k -> k.name))
                .toList()) {
            byGroup.computeIfAbsent(key.group == null ? "Other" : key.group, g -> new ArrayList<>()).add(key);
        }
        StringBuilder out = new StringBuilder();
        out.append("# Configuration reference\n\n")
                .append("Generated from the connector's `ConfigDef` by `CohortSyncConfig.main`; do not edit by hand")
                .append(" (`CohortSyncConfigTest` fails when this file is stale).\n")
                .append("Kafka Connect's own sink keys (`topics`, `tasks.max`, converters, `transforms`, `errors.*`)")
                .append(" apply as usual.\n");
        byGroup.forEach((group, keys) -> {
            if (keys.isEmpty()) {
                return;
            }
            out.append("\n## ").append(group).append("\n\n")
                    .append("| key | type | default | valid values | importance | description |\n")
                    .append("|---|---|---|---|---|---|\n");
            for (ConfigKey key : keys) {
                out.append("| `").append(key.name).append("` | ")
                        .append(key.type.name().toLowerCase()).append(" | ")
                        .append(defaultText(key)).append(" | ")
                        .append(key.validator == null ? "" : escape(key.validator.toString())).append(" | ")
                        .append(key.importance.name().toLowerCase()).append(" | ")
                        .append(escape(key.documentation)).append(" |\n");
            }
        });
        return out.toString();
    }

    private static String defaultText(ConfigKey key) {
        if (!key.hasDefault()) {
            return "(required)";
        }
        Object value = key.defaultValue;
        if (value == null) {
            return "(unset)";
        }
        if (value instanceof Password) {
            return "(unset)";
        }
        if (value instanceof List<?> list) {
            return list.isEmpty() ? "(empty)" : "`" + String.join(",", list.stream().map(String::valueOf).toList()) + "`";
        }
        String text = String.valueOf(value);
        return text.isEmpty() ? "(empty)" : "`" + text + "`";
    }

    private static String escape(String text) {
        return text == null ? "" : text.replace("|", "\\|").replace("\n", " ");
    }
}

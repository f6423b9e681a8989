package io.github.cohortsync.connect.config;

import java.util.List;
import java.util.Locale;

import org.apache.kafka.common.config.ConfigDef;
import org.apache.kafka.common.config.ConfigException;

/**
 * Accepts one of a fixed list of names, ignoring case (regions, instances), and names them all, in order and
 * as documented, when the value is wrong. A missing value is left to the "required" check.
 */
public final class CaseInsensitiveChoice implements ConfigDef.Validator {
    private final List<String> allowed;

    public CaseInsensitiveChoice(List<String> allowed) {
        this.allowed = List.copyOf(allowed);
    }

    @Override
    public void ensureValid(String name, Object value) {
        if (value == null) {
            return;
        }
        String wanted = value.toString().trim().toLowerCase(Locale.ROOT);
        if (allowed.stream().noneMatch(a -> a.toLowerCase(Locale.ROOT).equals(wanted))) {
            throw new ConfigException(name, value, "must be one of: " + String.join(", ", allowed));
        }
    }

    @Override
    public String toString() {
        return "one of: " + String.join(", ", allowed);
    }
}

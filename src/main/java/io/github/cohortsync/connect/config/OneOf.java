package io.github.cohortsync.connect.config;

import java.util.List;
import java.util.Locale;

import org.apache.kafka.common.config.ConfigDef;
import org.apache.kafka.common.config.ConfigException;

/**
 * Accepts one of a fixed list of names, ignoring case and surrounding blanks, and names them all, in their
 * documented order, when the value is wrong. A missing value is left to the "required" check, so the user reads one
 * message per mistake.
 */
public final class OneOf implements ConfigDef.Validator {
    private final List<String> allowed;

    public OneOf(List<String> allowed) {
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

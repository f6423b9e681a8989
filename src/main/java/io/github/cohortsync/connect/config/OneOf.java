package io.github.cohortsync.connect.config;

import java.util.List;

import org.apache.kafka.common.config.ConfigDef;
import org.apache.kafka.common.config.ConfigException;

/**
 * Accepts one of a fixed list of strings. A missing value is left to the "required" check, so the user reads
 * one message per mistake.
 */
public final class OneOf implements ConfigDef.Validator {
    private final List<String> allowed;

    public OneOf(List<String> allowed) {
        this.allowed = List.copyOf(allowed);
    }

    @Override
    public void ensureValid(String name, Object value) {
        if (value != null && !allowed.contains(value.toString().trim())) {
            throw new ConfigException(name, value, "must be one of: " + String.join(", ", allowed));
        }
    }

    @Override
    public String toString() {
        return "one of: " + String.join(", ", allowed);
    }
}

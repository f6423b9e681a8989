package io.github.cohortsync.connect.config;

import org.apache.kafka.common.config.ConfigDef;
import org.apache.kafka.common.config.ConfigException;

/** Accepts an unset value (meaning "use the default") or an integer of at least 1. */
final class PositiveOrNull implements ConfigDef.Validator {
    @Override
    public void ensureValid(String name, Object value) {
        if (value != null && ((Integer) value) < 1) {
            throw new ConfigException(name, value, "must be at least 1, or unset to use the destination's maximum");
        }
    }

    @Override
    public String toString() {
        return "[1,...] or unset (the destination's maximum)";
    }
}

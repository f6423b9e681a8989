package io.github.cohortsync.connect.config;

import org.apache.kafka.common.config.ConfigDef;
import org.apache.kafka.common.config.ConfigException;

/** Accepts an unset value (the destination's published limit), 0 (no limit) or a number of requests of at least 1. */
final class ConcurrentRequestsOrNull implements ConfigDef.Validator {
    @Override
    public void ensureValid(String name, Object value) {
        if (value != null && ((Integer) value) < 0) {
            throw new ConfigException(name, value, "must be a number of requests at once of at least 1, 0 for no"
                    + " limit, or unset to use the destination's published limit");
        }
    }

    @Override
    public String toString() {
        return "[0,...] or unset (the destination's published limit)";
    }
}

package io.github.cohortsync.connect.config;

import org.apache.kafka.common.config.ConfigDef;
import org.apache.kafka.common.config.ConfigException;

/** Accepts an unset value (no cap) or a finite number of requests per second above 0. */
final class RateOrNull implements ConfigDef.Validator {
    @Override
    public void ensureValid(String name, Object value) {
        if (value != null && !(((Double) value) > 0 && Double.isFinite((Double) value))) {
            throw new ConfigException(name, value, "must be a number of requests per second above 0, or unset for no"
                    + " cap");
        }
    }

    @Override
    public String toString() {
        return "(0,...] or unset (no cap)";
    }
}

package io.github.cohortsync.connect.config;

import org.apache.kafka.common.config.ConfigDef;
import org.apache.kafka.common.config.ConfigException;

/** Accepts an unset value (meaning "the destination's default") or an integer from 1 to {@link #MAX}. */
final class InFlightOrNull implements ConfigDef.Validator {
    static final int MAX = 64;

    @Override
    public void ensureValid(String name, Object value) {
        if (value != null && (((Integer) value) < 1 || ((Integer) value) > MAX)) {
            throw new ConfigException(name, value, "must be between 1 and " + MAX
                    + ", or unset to use the destination's default");
        }
    }

    @Override
    public String toString() {
        return "[1,...," + MAX + "] or unset (the destination's default)";
    }
}

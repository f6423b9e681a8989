package io.github.cohortsync.connect.config;

import java.util.Map;
import java.util.OptionalInt;
import java.util.function.BiConsumer;
import java.util.function.Supplier;

import org.apache.kafka.common.config.AbstractConfig;
import org.apache.kafka.common.config.ConfigDef;
import org.apache.kafka.common.config.types.Password;

/** A destination's own group of config keys: defined into the connector's ConfigDef, checked when it is chosen. */
public interface DestinationKeys {

    /** Adds the destination's keys, in their own group, to the connector's definition. */
    void define(ConfigDef def);

    /**
     * Reports problems of this destination's keys when it is the chosen destination: required keys, keys that go
     * together, values that depend on each other. Single-key checks belong in the keys' validators.
     *
     * @param values  the parsed value of every key
     * @param problem takes the key at fault and a message that says what to fix
     */
    void check(Map<String, Object> values, BiConsumer<String, String> problem);

    /**
     * The most members one call takes under these settings, when it depends on them (e.g. a mode); empty to use
     * the destination's fixed maximum.
     */
    default OptionalInt maxBatchSize(Map<String, ?> values) {
        return OptionalInt.empty();
    }

    /** The {@code <destination>.endpoint} override when set, else the chosen region's or instance's host. */
    static String endpointOr(AbstractConfig config, String endpointKey, Supplier<String> regionHost) {
        String endpoint = config.getString(endpointKey);
        return endpoint == null || endpoint.isBlank() ? regionHost.get() : endpoint;
    }

    /** True when the value is missing or blank; a password counts by its content. */
    static boolean isBlank(Object value) {
        if (value instanceof Password password) {
            return password.value() == null || password.value().isBlank();
        }
        return value == null || value.toString().isBlank();
    }
}

package io.github.cohortsync.connect.config;

import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;

/**
 * A destination this version can sync to, as configuration sees it: the value of the {@code destination} key that
 * selects it, its own group of keys, the largest page it accepts and how many pages may be in flight at once by
 * default. Each destination implements this in its own package and is registered by one line in
 * {@code META-INF/services/io.github.cohortsync.connect.config.DestinationType}, so that configuration never imports
 * a destination.
 */
public interface DestinationType {

    /** The value of the {@code destination} key that selects this destination. */
    String configValue();

    /** The destination's own config keys. */
    DestinationKeys keys();

    /** The destination's documented maximum of members per call. */
    int maxBatchSize();

    /** The most pages in flight (the cap of the adaptive limit) unless sync.max.in.flight.requests says otherwise. */
    int defaultMaxInFlight();

    /**
     * The vendor's published limit of requests in progress at once for a whole account, shared by every task (the
     * default of {@code rate.limit.concurrent.requests}); 0 when the vendor publishes none.
     */
    default int accountMaxConcurrentRequests() {
        return 0;
    }

    /** The documented maximum of members per call under these settings (a Braze mode may change it). */
    default int maxBatchSize(Map<String, ?> values) {
        return keys().maxBatchSize(values).orElse(maxBatchSize());
    }

    /** Every registered destination, in registration order (the order of their groups in the docs). */
    static List<DestinationType> all() {
        return DestinationRegistry.ALL;
    }

    static Optional<DestinationType> fromConfigValue(String value) {
        if (value == null) {
            return Optional.empty();
        }
        String wanted = value.trim().toLowerCase(Locale.ROOT);
        return all().stream().filter(d -> d.configValue().equals(wanted)).findFirst();
    }

    /** The registered destination of this {@code destination} value; for code that names one it knows exists. */
    static DestinationType of(String configValue) {
        return fromConfigValue(configValue).orElseThrow(() -> new IllegalArgumentException(
                "no destination '" + configValue + "' is registered"));
    }

    static List<String> configValues() {
        return all().stream().map(DestinationType::configValue).toList();
    }
}

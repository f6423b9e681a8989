package io.github.cohortsync.connect.config;

import java.util.Arrays;
import java.util.List;
import java.util.Locale;
import java.util.Optional;

/** The destinations this version can sync to, with the largest page each one accepts. */
public enum DestinationType {
    WEBHOOK("webhook", 1000);

    private final String configValue;
    private final int maxBatchSize;

    DestinationType(String configValue, int maxBatchSize) {
        this.configValue = configValue;
        this.maxBatchSize = maxBatchSize;
    }

    /** The value of the {@code destination} key that selects this destination. */
    public String configValue() {
        return configValue;
    }

    /** The destination's documented maximum of members per call. */
    public int maxBatchSize() {
        return maxBatchSize;
    }

    public static Optional<DestinationType> fromConfigValue(String value) {
        if (value == null) {
            return Optional.empty();
        }
        String wanted = value.trim().toLowerCase(Locale.ROOT);
        return Arrays.stream(values()).filter(d -> d.configValue.equals(wanted)).findFirst();
    }

    public static List<String> configValues() {
        return Arrays.stream(values()).map(DestinationType::configValue).toList();
    }
}

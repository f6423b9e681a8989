package io.github.cohortsync.connect.config;

import java.util.Arrays;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;

import io.github.cohortsync.connect.destination.braze.BrazeDestination;
import io.github.cohortsync.connect.destination.braze.BrazeKeys;
import io.github.cohortsync.connect.destination.clevertap.CleverTapDestination;
import io.github.cohortsync.connect.destination.clevertap.CleverTapKeys;
import io.github.cohortsync.connect.destination.iterable.IterableKeys;
import io.github.cohortsync.connect.destination.segment.SegmentKeys;
import io.github.cohortsync.connect.destination.webhook.WebhookKeys;

/**
 * The destinations this version can sync to, with the largest page each one accepts and how many pages of one diff
 * sync are sent at once by default.
 */
public enum DestinationType {
    /** One page at a time: a receiver may rely on pages arriving in order. */
    WEBHOOK("webhook", 1000, 1, new WebhookKeys()),
    /**
     * Segment limits bytes, not members (500 KB per request, split as needed); 1000 members keep pages small. It asks
     * for well below about 50 requests/s per source for bulk traffic: 4 calls at once stay there at Segment's usual
     * round trips.
     */
    SEGMENT("segment", 1000, 4, new SegmentKeys()),
    /** Iterable documents no per-call maximum for list (un)subscribes; 1000, like Mixpanel's own sync. */
    ITERABLE("iterable", 1000, 4, new IterableKeys()),
    /** CleverTap limits concurrent uploads to 15 per account (429 over that), shared by every task. */
    CLEVERTAP("clevertap", CleverTapDestination.MAX_MEMBERS_PER_PAGE, 4, new CleverTapKeys()),
    /** Braze allows 3,000 /users/track requests per 3 seconds by default. */
    BRAZE("braze", BrazeDestination.MAX_ATTRIBUTES_PER_REQUEST, 4, new BrazeKeys());

    private final String configValue;
    private final int maxBatchSize;
    private final int defaultMaxInFlight;
    private final DestinationKeys keys;

    DestinationType(String configValue, int maxBatchSize, int defaultMaxInFlight, DestinationKeys keys) {
        this.configValue = configValue;
        this.maxBatchSize = maxBatchSize;
        this.defaultMaxInFlight = defaultMaxInFlight;
        this.keys = keys;
    }

    /** The destination's own config keys. */
    public DestinationKeys keys() {
        return keys;
    }

    /** The value of the {@code destination} key that selects this destination. */
    public String configValue() {
        return configValue;
    }

    /** The destination's documented maximum of members per call. */
    public int maxBatchSize() {
        return maxBatchSize;
    }

    /** Pages of one diff sync sent at once unless sync.max.in.flight.requests says otherwise. */
    public int defaultMaxInFlight() {
        return defaultMaxInFlight;
    }

    /** The documented maximum of members per call under these settings (a Braze mode may change it). */
    public int maxBatchSize(Map<String, ?> values) {
        return keys.maxBatchSize(values).orElse(maxBatchSize);
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

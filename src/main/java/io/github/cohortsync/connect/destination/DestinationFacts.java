package io.github.cohortsync.connect.destination;

import io.github.cohortsync.connect.config.DestinationKeys;

/**
 * A destination's provider from its facts: its type name, its keys, its documented page maximum and its default of
 * pages in flight, and the account-wide limit of concurrent requests its vendor publishes, if any. A destination's
 * provider extends this with a public no-argument constructor (for the service loader) and says only how to build
 * the destination.
 */
public abstract class DestinationFacts implements DestinationProvider {
    private final String configValue;
    private final DestinationKeys keys;
    private final int maxBatchSize;
    private final int defaultMaxInFlight;
    private final int accountMaxConcurrentRequests;

    protected DestinationFacts(String configValue, DestinationKeys keys, int maxBatchSize, int defaultMaxInFlight) {
        this(configValue, keys, maxBatchSize, defaultMaxInFlight, 0);
    }

    /** @param accountMaxConcurrentRequests the vendor's published account-wide concurrency limit (0: none) */
    protected DestinationFacts(String configValue, DestinationKeys keys, int maxBatchSize, int defaultMaxInFlight,
                               int accountMaxConcurrentRequests) {
        this.configValue = configValue;
        this.keys = keys;
        this.maxBatchSize = maxBatchSize;
        this.defaultMaxInFlight = defaultMaxInFlight;
        this.accountMaxConcurrentRequests = accountMaxConcurrentRequests;
    }

    @Override
    public final String configValue() {
        return configValue;
    }

    @Override
    public final DestinationKeys keys() {
        return keys;
    }

    @Override
    public final int maxBatchSize() {
        return maxBatchSize;
    }

    @Override
    public final int defaultMaxInFlight() {
        return defaultMaxInFlight;
    }

    @Override
    public final int accountMaxConcurrentRequests() {
        return accountMaxConcurrentRequests;
    }
}

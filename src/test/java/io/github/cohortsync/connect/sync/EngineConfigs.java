package io.github.cohortsync.connect.sync;

import java.nio.file.Path;
import java.util.HashMap;
import java.util.Map;

import io.github.cohortsync.connect.config.CohortSyncConfig;

/** The config engine tests start from: a webhook that is never called, short intervals, no retries. */
final class EngineConfigs {
    private EngineConfigs() {
    }

    /** With {@code overrides} as key, value, key, value, ... */
    static CohortSyncConfig webhook(String name, Path journalDir, String... overrides) {
        Map<String, String> props = new HashMap<>();
        props.put("name", name);
        props.put("destination", "webhook");
        props.put("webhook.url", "http://localhost:9/unused");
        props.put("sync.interval.ms", "100");
        props.put("retry.max.attempts", "0");
        props.put("delivery.journal.dir", journalDir.toString());
        for (int i = 0; i < overrides.length; i += 2) {
            props.put(overrides[i], overrides[i + 1]);
        }
        return new CohortSyncConfig(props);
    }
}

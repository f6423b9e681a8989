package io.github.cohortsync.connect.config;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;

import org.apache.kafka.common.config.ConfigDef;

/** Recommends a fixed list of values, so UIs and {@code config/validate} can offer them. */
final class ListRecommender implements ConfigDef.Recommender {
    private final List<Object> values;

    ListRecommender(List<String> values) {
        this.values = new ArrayList<>(values);
    }

    @Override
    public List<Object> validValues(String name, Map<String, Object> parsedConfig) {
        return values;
    }

    @Override
    public boolean visible(String name, Map<String, Object> parsedConfig) {
        return true;
    }
}

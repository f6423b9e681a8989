package io.github.cohortsync.connect;

import java.util.List;
import java.util.Map;
import java.util.stream.Collectors;

import org.apache.kafka.common.config.ConfigValue;

/** What {@code CohortSyncSinkConnector.validate} reports, as error messages per key (keys without errors left out). */
public final class ValidationErrors {
    private ValidationErrors() {
    }

    public static Map<String, List<String>> errors(Map<String, String> props) {
        return new CohortSyncSinkConnector().validate(props).configValues().stream()
                .filter(v -> !v.errorMessages().isEmpty())
                .collect(Collectors.toMap(ConfigValue::name, ConfigValue::errorMessages));
    }

    /**
     * As {@link #errors}, for a config that opted out of full syncs unless it says otherwise: for tests of other keys,
     * so that the reminder to set snapshot.bootstrap.servers (tested in CohortSyncConfigTest) is not among them.
     */
    public static Map<String, List<String>> keyErrors(Map<String, String> props) {
        Map<String, String> withOptOut = new java.util.HashMap<>(props);
        withOptOut.putIfAbsent("snapshot.enabled", "false");
        return errors(withOptOut);
    }
}

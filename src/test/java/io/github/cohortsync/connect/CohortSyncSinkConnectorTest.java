package io.github.cohortsync.connect;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.util.List;
import java.util.Map;

import org.apache.kafka.common.config.ConfigException;
import org.junit.jupiter.api.Test;

class CohortSyncSinkConnectorTest {
    private static final Map<String, String> CONFIG = Map.of(
            "destination", "webhook", "webhook.url", "http://127.0.0.1:1/hook", "topics", "t");

    @Test
    void reportsTheBuildsVersion() {
        assertThat(new CohortSyncSinkConnector().version())
                .isEqualTo(Version.get())
                .isEqualTo(System.getProperty("project.version", Version.get()))
                .doesNotContain("${")
                .isNotEqualTo("unknown");
        assertThat(new CohortSyncSinkTask().version()).isEqualTo(Version.get());
    }

    @Test
    void givesEveryTaskTheConnectorsConfig() {
        CohortSyncSinkConnector connector = new CohortSyncSinkConnector();
        connector.start(CONFIG);

        List<Map<String, String>> tasks = connector.taskConfigs(3);

        assertThat(tasks).hasSize(3).allSatisfy(task -> assertThat(task).containsAllEntriesOf(CONFIG));
        assertThat(tasks).extracting(task -> task.get(io.github.cohortsync.connect.config.CohortSyncConfig.TASK_ID))
                .containsExactly("0", "1", "2");
        assertThat(tasks).as("each task knows how many share the connector's request rate")
                .extracting(task -> task.get(io.github.cohortsync.connect.config.CohortSyncConfig.TASK_COUNT))
                .containsOnly("3");
        assertThat(connector.taskClass()).isEqualTo(CohortSyncSinkTask.class);
    }

    @Test
    void refusesToStartWithAnInvalidConfig() {
        assertThatThrownBy(() -> new CohortSyncSinkConnector().start(Map.of("destination", "webhook")))
                .isInstanceOf(ConfigException.class)
                .hasMessageContaining("webhook.url is required");
    }
}

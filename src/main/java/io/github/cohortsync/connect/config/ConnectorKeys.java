package io.github.cohortsync.connect.config;

import org.apache.kafka.common.config.ConfigDef;
import org.apache.kafka.common.config.ConfigDef.Importance;
import org.apache.kafka.common.config.ConfigDef.Type;
import org.apache.kafka.common.config.ConfigDef.Width;

/** The Connector group: which destination, which cohorts, which project. */
public final class ConnectorKeys {
    public static final String DESTINATION = "destination";
    public static final String COHORTS_INCLUDE = "cohorts.include";
    public static final String PROJECT_ID = "project.id";

    private static final String GROUP = "Connector";

    private ConnectorKeys() {
    }

    /** Adds the group's keys, in their documented order, to the connector's definition. */
    static void define(ConfigDef def) {
        int order = 0;
        def.define(DESTINATION, Type.STRING, ConfigDef.NO_DEFAULT_VALUE,
                new OneOf(DestinationType.configValues()),
                Importance.HIGH,
                "Where cohort membership is synced to. One of: " + String.join(", ", DestinationType.configValues())
                        + ". Each destination has its own group of keys; only the chosen destination's"
                        + " required keys are required.",
                GROUP, ++order, Width.SHORT, "Destination",
                new ListRecommender(DestinationType.configValues()));
        def.define(COHORTS_INCLUDE, Type.LIST, "", Importance.MEDIUM,
                "Cohort ids to sync, comma-separated. Empty means every cohort. Records of other cohorts are"
                        + " skipped and their offsets committed.",
                GROUP, ++order, Width.LONG, "Cohorts to sync");
        def.define(PROJECT_ID, Type.STRING, "", Importance.LOW,
                "The analytics project id sent with each cohort when a record carries no project_id. When neither"
                        + " gives one, the webhook sends \"0\" (receivers of its format require a non-blank"
                        + " mixpanel_project_id).",
                GROUP, ++order, Width.SHORT, "Project id");
    }
}

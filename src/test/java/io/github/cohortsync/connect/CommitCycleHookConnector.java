package io.github.cohortsync.connect;

import org.apache.kafka.connect.connector.Task;

/**
 * The connector with {@link CommitCycleHookTask} as its task, for {@code CommitCycleKillIT}: a test plugin, found by
 * the workers through the test classpath's ServiceLoader manifest.
 */
public class CommitCycleHookConnector extends CohortSyncSinkConnector {
    @Override
    public Class<? extends Task> taskClass() {
        return CommitCycleHookTask.class;
    }
}

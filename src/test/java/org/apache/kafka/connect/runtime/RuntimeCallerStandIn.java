package org.apache.kafka.connect.runtime;

/**
 * Not part of Kafka: a caller in the package of Connect's WorkerSinkTask, for tests of the cohort sync task, which
 * tells a stop from a rebalance by who calls {@code SinkTask.close} (see {@code CohortSyncSinkTask.closing()}).
 */
public final class RuntimeCallerStandIn {
    private RuntimeCallerStandIn() {
    }

    /** Runs the action as WorkerSinkTask's code would: on the calling thread, with this class on its stack. */
    public static void run(Runnable action) {
        action.run();
    }
}

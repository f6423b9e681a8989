package io.github.cohortsync.connect.it;

import java.io.File;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.Set;
import java.util.concurrent.TimeUnit;
import java.util.stream.Collectors;

import org.apache.kafka.connect.cli.ConnectDistributed;
import org.apache.kafka.connect.runtime.rest.entities.ConnectorStateInfo;
import org.apache.kafka.connect.storage.StringConverter;
import org.awaitility.core.ConditionFactory;

/**
 * A Connect worker in its own JVM, joined to a {@link ConnectHarness} cluster, so that it can be killed the hard
 * way (SIGKILL: no task stop, no offset commit, no leaving the group) which an in-JVM worker cannot be.
 */
public final class ForkedWorker implements AutoCloseable {
    /** The host the forked worker advertises, to tell its tasks from those of the in-JVM workers (localhost). */
    public static final String HOST = "127.0.0.1";

    private final Process process;
    private final Path log;

    private ForkedWorker(Process process, Path log) {
        this.process = process;
        this.log = log;
    }

    /** Starts a worker that joins the harness's cluster, with the same worker properties. */
    public static ForkedWorker start(ConnectHarness harness) throws IOException {
        return start(harness, harness.name(), harness.workerProps(), Map.of());
    }

    /** Starts a worker that joins the harness's cluster, with these system properties in its JVM. */
    public static ForkedWorker start(ConnectHarness harness, Map<String, String> systemProperties)
            throws IOException {
        return start(harness, harness.name(), harness.workerProps(), systemProperties);
    }

    /**
     * Starts a worker of the cluster started as {@code clusterName} (the group and topic names
     * EmbeddedConnectCluster derives from it), with the same worker properties.
     */
    public static ForkedWorker start(ConnectHarness harness, String clusterName, Map<String, String> workerProps)
            throws IOException {
        return start(harness, clusterName, workerProps, Map.of());
    }

    private static ForkedWorker start(ConnectHarness harness, String clusterName, Map<String, String> workerProps,
                                      Map<String, String> systemProperties) throws IOException {
        Properties props = new Properties();
        props.put("bootstrap.servers", harness.connect().kafka().bootstrapServers());
        props.put("group.id", "connect-integration-test-" + clusterName);
        props.put("offset.storage.topic", "connect-offset-topic-" + clusterName);
        props.put("config.storage.topic", "connect-config-topic-" + clusterName);
        props.put("status.storage.topic", "connect-status-topic-" + clusterName);
        props.put("offset.storage.replication.factor", "1");
        props.put("config.storage.replication.factor", "1");
        props.put("status.storage.replication.factor", "1");
        props.put("key.converter", StringConverter.class.getName());
        props.put("value.converter", StringConverter.class.getName());
        props.put("listeners", "http://" + HOST + ":0");
        props.put("plugin.discovery", "service_load");
        props.putAll(workerProps);
        Path dir = Files.createDirectories(Path.of("target", "forked-workers"));
        Path config = Files.createTempFile(dir, "worker", ".properties");
        try (var out = Files.newBufferedWriter(config)) {
            props.store(out, "forked Connect worker");
        }
        Path log = Path.of(config.toString().replace(".properties", ".log"));
        List<String> command = new ArrayList<>();
        command.add(Path.of(System.getProperty("java.home"), "bin", "java").toString());
        command.add("-Xmx512m");
        systemProperties.forEach((key, value) -> command.add("-D" + key + "=" + value));
        command.add("-cp");
        command.add(System.getProperty("java.class.path"));
        command.add(ConnectDistributed.class.getName());
        command.add(config.toString());
        Process process = new ProcessBuilder(command).redirectErrorStream(true).redirectOutput(log.toFile())
                .start();
        // A test JVM that dies before close() must not leave a worker running.
        Runtime.getRuntime().addShutdownHook(new Thread(process::destroyForcibly));
        return new ForkedWorker(process, log);
    }

    /** The workers (host:port) that run a RUNNING task of the connector; a forked worker's start with {@link #HOST}. */
    public static Set<String> runningWorkers(ConnectHarness harness, String connector) {
        return harness.tasks(connector).stream().filter(t -> "RUNNING".equals(t.state()))
                .map(ConnectorStateInfo.TaskState::workerId).collect(Collectors.toSet());
    }

    /** The wait for a forked worker to start, join and take tasks, or for a killed one to be noticed. */
    public static ConditionFactory slowAwait() {
        return ConnectHarness.await().atMost(Duration.ofSeconds(120)).pollInterval(Duration.ofMillis(250))
                .ignoreExceptions();
    }

    /** SIGKILL: the JVM ends at once, mid-call, mid-sync, without committing or leaving any group. */
    public void kill() throws InterruptedException {
        process.destroyForcibly();
        if (!process.waitFor(30, TimeUnit.SECONDS)) {
            throw new IllegalStateException("The forked worker did not die; its log: " + log);
        }
    }

    public boolean isAlive() {
        return process.isAlive();
    }

    public File log() {
        return log.toFile();
    }

    @Override
    public void close() throws InterruptedException {
        if (process.isAlive()) {
            kill();
        }
    }
}

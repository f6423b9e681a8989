package io.github.cohortsync.connect.bench;

import java.io.IOException;
import java.lang.management.GarbageCollectorMXBean;
import java.lang.management.ManagementFactory;
import java.lang.management.MemoryMXBean;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Random;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.AtomicReference;
import java.util.function.ToDoubleFunction;

import javax.management.MBeanServer;
import javax.management.ObjectName;

import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.connect.file.FileStreamSinkConnector;
import org.apache.kafka.connect.json.JsonConverter;
import org.apache.kafka.connect.runtime.rest.entities.ConnectorStateInfo;

import io.github.cohortsync.connect.CohortSyncSinkConnector;
import io.github.cohortsync.connect.it.ConnectHarness;
import io.github.cohortsync.connect.metrics.TaskMetrics;

/**
 * End-to-end drain benchmark (docs/benchmarks.md; run with {@code bench/run.sh}, never by Maven's test phases).
 * One KRaft broker and one Connect worker in this JVM; N schemaless JSON membership changes produced once; then,
 * per round and in alternating order, the framework ceiling (FileStreamSink to /dev/null) and this connector with
 * the webhook destination into an instant local receiver, each under a fresh connector name (fresh consumer group).
 * Drain time = from the connector's creation until its group's committed offsets equal the topic's end offsets.
 *
 * <p>Settings come from system properties or environment variables (property {@code bench.records} or env
 * {@code BENCH_RECORDS}, and so on); see {@link Settings}.
 */
public final class EndToEndBenchmark {
    private static final MBeanServer MBEANS = ManagementFactory.getPlatformMBeanServer();

    private EndToEndBenchmark() {
    }

    /** What one run of one connector measured. */
    record Result(String kind, int round, long records, double seconds, double firstCommitSeconds, long requests,
                  long members, long nettedAway, long membersAdded, long membersRemoved, long heapPeakBytes,
                  long gcCount, long gcMillis) {
        double recordsPerSecond() {
            return records / seconds;
        }

        double membersPerRequest() {
            return requests == 0 ? 0 : (double) members / requests;
        }
    }

    record Settings(int records, int cohorts, double churn, int partitions, int rounds, int tasks,
                    long syncIntervalMs, long flushIntervalMs, long timeoutSeconds, long seed) {
        static Settings load() {
            return new Settings(
                    (int) number("records", 1_000_000),
                    (int) number("cohorts", 10),
                    Double.parseDouble(text("churn", "0.1")),
                    (int) number("partitions", 2),
                    (int) number("rounds", 3),
                    (int) number("tasks", 2),
                    number("sync.interval.ms", 1000),
                    number("offset.flush.interval.ms", 1000),
                    number("timeout.seconds", 180),
                    number("seed", 42));
        }

        private static long number(String name, long fallback) {
            return Long.parseLong(text(name, Long.toString(fallback)).replace("_", ""));
        }

        private static String text(String name, String fallback) {
            String value = System.getProperty("bench." + name);
            if (value == null) {
                value = System.getenv("BENCH_" + name.toUpperCase(Locale.ROOT).replace('.', '_'));
            }
            return value == null || value.isBlank() ? fallback : value.trim();
        }
    }

    public static void main(String[] args) throws Exception {
        // The JDK's HTTP server leaves Nagle's algorithm on: its answer (headers, then body in a second write) then
        // waits for the client's delayed ACK, about 40 ms per request on Linux. Read once, before the server starts.
        System.setProperty("sun.net.httpserver.nodelay", "true");
        Settings settings = Settings.load();
        System.out.println("# End-to-end benchmark, " + Instant.now());
        System.out.println(machine());
        System.out.println("settings: " + settings);
        int status = 0;
        List<Result> results = new ArrayList<>();
        try (ConnectHarness harness = ConnectHarness.start("bench", 1,
                Map.of("offset.flush.interval.ms", Long.toString(settings.flushIntervalMs())));
             InstantWebhookReceiver receiver = InstantWebhookReceiver.start(2)) {
            String topic = harness.createTopic("bench-changes", settings.partitions());
            long produceStart = System.nanoTime();
            long bytes = produce(harness, topic, settings);
            Map<TopicPartition, Long> end = harness.endOffsets(topic);
            System.out.printf(Locale.ROOT, "produced %d records (%.1f MB of values and keys) in %.1f s; end offsets %s%n",
                    settings.records(), bytes / 1e6, (System.nanoTime() - produceStart) / 1e9, end);
            for (int round = 1; round <= settings.rounds(); round++) {
                boolean ceilingFirst = round % 2 == 1;
                for (int i = 0; i < 2; i++) {
                    boolean ceiling = (i == 0) == ceilingFirst;
                    try {
                        Result result = ceiling ? runCeiling(harness, topic, end, round, settings)
                                : runWebhook(harness, receiver, topic, end, round, settings);
                        results.add(result);
                        System.out.println(line(result));
                    } catch (DrainTimeout e) {
                        // A run that never drains is a finding, not a reason to stop the others.
                        System.out.println("round " + round + " " + (ceiling ? "ceiling" : "webhook")
                                + " DID NOT DRAIN: " + e.getMessage());
                        status = 2;
                    }
                }
            }
            System.out.println();
            System.out.println(report(results, settings));
        } catch (Exception e) {
            e.printStackTrace();
            status = 1;
        }
        System.out.flush();
        // The embedded cluster leaves non-daemon threads behind; the run is over.
        System.exit(status);
    }

    // ---------------------------------------------------------------------------------------------- data

    /**
     * Produces the changes: mostly users entering one of the cohorts (uniformly), and with probability
     * {@code churn} a user of a recent add leaving the same cohort again (a remove of a (cohort, user) pair added
     * among the last 20,000 adds), which netting may absorb. Keyed by (cohort, user), so each key's changes share a
     * partition. Field sizes follow a Mixpanel cohort export: about 400 bytes per value.
     */
    static long produce(ConnectHarness harness, String topic, Settings settings) throws Exception {
        Map<String, Object> props = new HashMap<>();
        props.put(ProducerConfig.ACKS_CONFIG, "1");
        props.put(ProducerConfig.LINGER_MS_CONFIG, 20);
        props.put(ProducerConfig.BATCH_SIZE_CONFIG, 256 * 1024);
        props.put(ProducerConfig.ENABLE_IDEMPOTENCE_CONFIG, false);
        Random random = new Random(settings.seed());
        String[][] recent = new String[20_000][];
        int recentCount = 0;
        long userSeq = 0;
        long bytes = 0;
        AtomicLong failures = new AtomicLong();
        AtomicReference<Exception> firstFailure = new AtomicReference<>();
        try (KafkaProducer<byte[], byte[]> producer = harness.connect().kafka().createProducer(props)) {
            for (int i = 0; i < settings.records(); i++) {
                String cohort;
                String user;
                String action;
                if (recentCount > 0 && random.nextDouble() < settings.churn()) {
                    String[] pair = recent[random.nextInt(Math.min(recentCount, recent.length))];
                    cohort = pair[0];
                    user = pair[1];
                    action = "remove";
                } else {
                    cohort = Integer.toString(1000 + random.nextInt(settings.cohorts()));
                    user = String.format(Locale.ROOT, "u%010d", userSeq++);
                    action = "add";
                    recent[recentCount % recent.length] = new String[] {cohort, user};
                    recentCount++;
                }
                byte[] key = ("{\"cohort_id\":\"" + cohort + "\",\"distinct_id\":\"" + user + "\"}")
                        .getBytes(StandardCharsets.UTF_8);
                byte[] value = value(cohort, user, action, i).getBytes(StandardCharsets.UTF_8);
                bytes += key.length + value.length;
                producer.send(new ProducerRecord<>(topic, key, value), (metadata, e) -> {
                    if (e != null) {
                        failures.incrementAndGet();
                        firstFailure.compareAndSet(null, e);
                    }
                });
            }
            producer.flush();
        }
        if (failures.get() > 0) {
            throw new IllegalStateException(failures.get() + " records could not be produced", firstFailure.get());
        }
        return bytes;
    }

    private static String value(String cohort, String user, String action, int i) {
        String n = user.substring(1);
        return "{\"cohort_id\":\"" + cohort + "\""
                + ",\"cohort_name\":\"Power users " + cohort + " – weekly active, ≥ 3 sessions\""
                + ",\"cohort_description\":\"Users with at least three sessions in the last seven days who opened"
                + " the app from a push notification\""
                + ",\"project_id\":\"2195193\""
                + ",\"distinct_id\":\"" + user + "\""
                + ",\"action\":\"" + action + "\""
                + ",\"email\":\"firstname.lastname." + n + "@example-mail.com\""
                + ",\"first_name\":\"Firstname" + (i % 997) + "\""
                + ",\"last_name\":\"Lastname-" + (i % 991) + "\""
                + ",\"phone_number\":\"+1415" + n.substring(n.length() - 7) + "\""
                + ",\"properties\":{\"plan\":\"pro\",\"country\":\"DE\",\"$city\":\"Berlin\",\"sessions_7d\":"
                + (3 + i % 20) + "}"
                + ",\"timestamp\":\"2026-11-25T12:" + String.format(Locale.ROOT, "%02d:%02d", (i / 60) % 60, i % 60)
                + "Z\"}";
    }

    // ---------------------------------------------------------------------------------------------- runs

    private static Map<String, String> common(String topic, int tasks) {
        Map<String, String> config = new LinkedHashMap<>();
        config.put("topics", topic);
        config.put("tasks.max", Integer.toString(tasks));
        config.put("key.converter", JsonConverter.class.getName());
        config.put("key.converter.schemas.enable", "false");
        config.put("value.converter", JsonConverter.class.getName());
        config.put("value.converter.schemas.enable", "false");
        return config;
    }

    static Result runCeiling(ConnectHarness harness, String topic, Map<TopicPartition, Long> end, int round,
                             Settings settings) throws Exception {
        String name = ConnectHarness.uniqueName("ceiling-r" + round);
        Map<String, String> config = common(topic, settings.tasks());
        config.put("connector.class", FileStreamSinkConnector.class.getName());
        config.put("file", "/dev/null");
        Measured m = drain(harness, name, config, topic, end, settings);
        return new Result("ceiling", round, total(end), m.seconds, m.firstCommitSeconds, 0, 0, 0, 0, 0, m.heapPeak,
                m.gcCount, m.gcMillis);
    }

    static Result runWebhook(ConnectHarness harness, InstantWebhookReceiver receiver, String topic,
                             Map<TopicPartition, Long> end, int round, Settings settings) throws Exception {
        String name = ConnectHarness.uniqueName("webhook-r" + round);
        Map<String, String> config = common(topic, settings.tasks());
        config.put("connector.class", CohortSyncSinkConnector.class.getName());
        config.put("destination", "webhook");
        config.put("webhook.url", receiver.url());
        config.put("sync.interval.ms", Long.toString(settings.syncIntervalMs()));
        receiver.reset();
        long[] metrics = new long[3];
        Measured m = drain(harness, name, config, topic, end, settings, () -> {
            metrics[0] = sumTaskMetric(name, "ChangesNettedAway");
            metrics[1] = sumTaskMetric(name, "MembersAdded");
            metrics[2] = sumTaskMetric(name, "MembersRemoved");
        });
        return new Result("webhook", round, total(end), m.seconds, m.firstCommitSeconds, receiver.requests(),
                receiver.members(), metrics[0], metrics[1], metrics[2], m.heapPeak, m.gcCount, m.gcMillis);
    }

    static final class DrainTimeout extends RuntimeException {
        DrainTimeout(String message) {
            super(message);
        }
    }

    private record Measured(double seconds, double firstCommitSeconds, long heapPeak, long gcCount, long gcMillis) {
    }

    private static Measured drain(ConnectHarness harness, String name, Map<String, String> config, String topic,
                                  Map<TopicPartition, Long> end, Settings settings) throws Exception {
        return drain(harness, name, config, topic, end, settings, () -> { });
    }

    /**
     * Creates the connector, polls its group's committed offsets every 100 ms until they reach {@code end}
     * (sampling the JVM's used heap at the same time), runs {@code beforeDelete}, then deletes the connector.
     */
    private static Measured drain(ConnectHarness harness, String name, Map<String, String> config, String topic,
                                  Map<TopicPartition, Long> end, Settings settings, Runnable beforeDelete)
            throws Exception {
        System.gc();
        MemoryMXBean memory = ManagementFactory.getMemoryMXBean();
        long gcCount0 = gcCount();
        long gcMillis0 = gcMillis();
        long heapPeak = 0;
        long start = System.nanoTime();
        long deadline = start + TimeUnit.SECONDS.toNanos(settings.timeoutSeconds());
        long firstCommit = -1;
        long nextStatusCheck = start + TimeUnit.SECONDS.toNanos(5);
        harness.connect().configureConnector(name, config);
        try {
            while (true) {
                heapPeak = Math.max(heapPeak, memory.getHeapMemoryUsage().getUsed());
                Map<TopicPartition, Long> committed = harness.committedOffsets(name, topic);
                long now = System.nanoTime();
                if (firstCommit < 0 && committed.values().stream().anyMatch(o -> o > 0)) {
                    firstCommit = now;
                }
                if (committed.equals(end)) {
                    long gcCount = gcCount() - gcCount0;
                    long gcMillis = gcMillis() - gcMillis0;
                    beforeDelete.run();
                    return new Measured((now - start) / 1e9, (firstCommit - start) / 1e9, heapPeak, gcCount,
                            gcMillis);
                }
                if (now > deadline) {
                    throw new DrainTimeout(name + " did not drain within " + settings.timeoutSeconds()
                            + " s; committed " + committed + " of " + end + "; task states "
                            + harness.connect().connectorStatus(name).tasks().stream()
                                    .map(t -> t.id() + "=" + t.state()).toList()
                            + "; BufferSize " + sumTaskMetric(name, "BufferSize") + ", RecordsRead "
                            + sumTaskMetric(name, "RecordsRead") + ", SyncsCompleted "
                            + sumTaskMetric(name, "SyncsCompleted"));
                }
                if (now > nextStatusCheck) {
                    nextStatusCheck = now + TimeUnit.SECONDS.toNanos(5);
                    ConnectorStateInfo status = harness.connect().connectorStatus(name);
                    for (ConnectorStateInfo.TaskState task : status.tasks()) {
                        if ("FAILED".equals(task.state())) {
                            throw new IllegalStateException(name + " task " + task.id() + " failed: " + task.trace());
                        }
                    }
                }
                Thread.sleep(100);
            }
        } finally {
            harness.deleteConnectorQuietly(name);
        }
    }

    private static long sumTaskMetric(String connector, String attribute) {
        try {
            long sum = 0;
            ObjectName pattern = new ObjectName(TaskMetrics.DOMAIN + ":type=task-metrics,connector="
                    + ObjectName.quote(connector) + ",*");
            for (ObjectName task : MBEANS.queryNames(pattern, null)) {
                sum += ((Number) MBEANS.getAttribute(task, attribute)).longValue();
            }
            return sum;
        } catch (Exception e) {
            return -1;
        }
    }

    private static long gcCount() {
        return ManagementFactory.getGarbageCollectorMXBeans().stream()
                .mapToLong(GarbageCollectorMXBean::getCollectionCount).sum();
    }

    private static long gcMillis() {
        return ManagementFactory.getGarbageCollectorMXBeans().stream()
                .mapToLong(GarbageCollectorMXBean::getCollectionTime).sum();
    }

    private static long total(Map<TopicPartition, Long> end) {
        return end.values().stream().mapToLong(Long::longValue).sum();
    }

    // ---------------------------------------------------------------------------------------------- report

    static String machine() {
        String cpu = "unknown CPU";
        try {
            cpu = Files.readAllLines(Path.of("/proc/cpuinfo")).stream().filter(l -> l.startsWith("model name"))
                    .findFirst().map(l -> l.substring(l.indexOf(':') + 1).trim()).orElse(cpu);
        } catch (IOException e) {
            // keep the fallback
        }
        return String.format(Locale.ROOT, "machine: %d CPUs (%s), %s %s (%s), max heap %d MB, %s %s",
                Runtime.getRuntime().availableProcessors(), cpu, System.getProperty("java.vm.name"),
                System.getProperty("java.runtime.version"), System.getProperty("java.vendor"),
                Runtime.getRuntime().maxMemory() >> 20, System.getProperty("os.name"),
                System.getProperty("os.version"));
    }

    static String line(Result r) {
        return String.format(Locale.ROOT,
                "round %d %-8s drain %6.2f s  %9.0f records/s  first commit %5.2f s  requests %6d  members %8d"
                        + "  members/request %7.1f  netted away %8d (sent: %d adds, %d removes)  JVM heap peak %5d MB"
                        + "  GC %d (%d ms)",
                r.round(), r.kind(), r.seconds(), r.recordsPerSecond(), r.firstCommitSeconds(), r.requests(),
                r.members(), r.membersPerRequest(), r.nettedAway(), r.membersAdded(), r.membersRemoved(),
                r.heapPeakBytes() >> 20, r.gcCount(),
                r.gcMillis());
    }

    static String report(List<Result> results, Settings settings) {
        List<Result> ceiling = results.stream().filter(r -> r.kind().equals("ceiling")).toList();
        List<Result> webhook = results.stream().filter(r -> r.kind().equals("webhook")).toList();
        StringBuilder out = new StringBuilder();
        out.append(String.format(Locale.ROOT, "Medians of %d ceiling and %d webhook runs that drained (of %d rounds),"
                        + " %d records, %d cohorts, churn %.2f, %d partitions,"
                        + " tasks.max=%d, sync.interval.ms=%d, offset.flush.interval.ms=%d%n%n",
                ceiling.size(), webhook.size(), settings.rounds(), settings.records(), settings.cohorts(), settings.churn(), settings.partitions(),
                settings.tasks(), settings.syncIntervalMs(), settings.flushIntervalMs()));
        out.append("| run | drain s | records/s | ratio to ceiling | requests | members/request | netted away |"
                + " JVM heap peak MB |\n");
        out.append("|---|---|---|---|---|---|---|---|\n");
        double ceilingRate = median(ceiling, Result::recordsPerSecond);
        out.append(String.format(Locale.ROOT, "| ceiling (FileStreamSink to /dev/null) | %.2f | %.0f | 1.00 | – | – | – | %.0f |%n",
                median(ceiling, Result::seconds), ceilingRate, median(ceiling, r -> r.heapPeakBytes() >> 20)));
        double webhookRate = median(webhook, Result::recordsPerSecond);
        out.append(String.format(Locale.ROOT, "| cohort-sync, webhook | %.2f | %.0f | %.2f | %.0f | %.1f | %.0f | %.0f |%n",
                median(webhook, Result::seconds), webhookRate, webhookRate / ceilingRate,
                median(webhook, r -> r.requests()), median(webhook, Result::membersPerRequest),
                median(webhook, r -> r.nettedAway()), median(webhook, r -> r.heapPeakBytes() >> 20)));
        out.append("\nPer round (ratio = webhook records/s over the same round's ceiling records/s):\n");
        for (int round = 1; round <= settings.rounds(); round++) {
            final int n = round;
            Result c = ceiling.stream().filter(r -> r.round() == n).findFirst().orElse(null);
            Result w = webhook.stream().filter(r -> r.round() == n).findFirst().orElse(null);
            if (c == null || w == null) {
                out.append("round ").append(round).append(": incomplete (a run did not drain, see above)\n");
                continue;
            }
            out.append(String.format(Locale.ROOT, "round %d (%s first): ceiling %.2f s, webhook %.2f s, ratio %.2f%n",
                    round, round % 2 == 1 ? "ceiling" : "webhook", c.seconds(), w.seconds(),
                    w.recordsPerSecond() / c.recordsPerSecond()));
        }
        return out.toString();
    }

    private static double median(List<Result> results, ToDoubleFunction<Result> metric) {
        double[] values = results.stream().mapToDouble(metric).sorted().toArray();
        if (values.length == 0) {
            return Double.NaN;
        }
        int mid = values.length / 2;
        return values.length % 2 == 1 ? values[mid] : (values[mid - 1] + values[mid]) / 2;
    }
}

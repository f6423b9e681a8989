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
 * One KRaft broker and one Connect worker in this JVM; N schemaless JSON membership changes produced once; then a
 * warm-up round and, per round, the framework ceiling (FileStreamSink to /dev/null) and this connector with each
 * destination (webhook, Segment, Iterable, CleverTap, Braze, Airship) into instant local stand-ins, in rotating
 * order, each under a fresh connector name (fresh consumer group). Drain time = from the connector's creation until its group's
 * committed offsets equal the topic's end offsets. Optionally a backlog case: a destination that answers 503 and
 * a topic of many changes; the task must pause and keep its heap bounded.
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
                  long gcCount, long gcMillis, long churnedWithinSync, long churnedAcrossSyncs, long partialPages,
                  long rssPeakBytes) {
        double recordsPerSecond() {
            return records / seconds;
        }

        double membersPerRequest() {
            return requests == 0 ? 0 : (double) members / requests;
        }

        double membersPerSecond() {
            return members / seconds;
        }
    }

    record Settings(int records, int cohorts, double churn, int partitions, int rounds, int tasks,
                    long syncIntervalMs, long flushIntervalMs, long timeoutSeconds, long seed, boolean warmup,
                    List<String> destinations, long bufferMaxChanges, int backlogRecords, long backlogSeconds,
                    long backlogSyncIntervalMs, long backlogDrainSeconds, int fullSyncRecords,
                    int fullSyncPartitions) {
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
                    number("seed", 42),
                    number("warmup", 1) != 0,
                    List.of(text("destinations", "webhook,segment,iterable,clevertap,braze,airship")
                            .split("\\s*,\\s*")),
                    number("buffer.max.changes", 100_000),
                    (int) number("backlog.records", 0),
                    number("backlog.seconds", 60),
                    number("backlog.sync.interval.ms", 10_000),
                    number("backlog.drain.seconds", 120),
                    (int) number("full.sync.records", 0),
                    (int) number("full.sync.partitions", 1));
        }

        static long number(String name, long fallback) {
            return Long.parseLong(text(name, Long.toString(fallback)).replace("_", ""));
        }

        static String text(String name, String fallback) {
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
        System.out.println("settings: " + settings + ", in.flight=" + Settings.text("in.flight", "(default)")
                + ", receiver.threads=" + Settings.number("receiver.threads", 2) + ", receiver.delay.ms="
                + Settings.number("receiver.delay.ms", 0));
        int status = 0;
        List<Result> results = new ArrayList<>();
        Backlog backlog = null;
        List<Result> fullSyncs = List.of();
        try (ConnectHarness harness = ConnectHarness.start("bench", 1,
                Map.of("offset.flush.interval.ms", Long.toString(settings.flushIntervalMs())));
             // BENCH_RECEIVER_DELAY_MS stands in for a remote API's round trip; give it enough threads
             // (BENCH_RECEIVER_THREADS) for every request in flight (tasks x sync.max.in.flight.requests).
             InstantReceiver receiver = InstantReceiver.start((int) Settings.number("receiver.threads", 2),
                     Settings.number("receiver.delay.ms", 0))) {
            if (settings.rounds() > 0 && Settings.number("diff", 1) != 0) {
                String topic = harness.createTopic("bench-changes", settings.partitions());
                long produceStart = System.nanoTime();
                long bytes = produce(harness, topic, settings.records(), settings.cohorts(), settings.churn(),
                        settings.seed());
                Map<TopicPartition, Long> end = harness.endOffsets(topic);
                System.out.printf(Locale.ROOT, "produced %d records (%.1f MB of values and keys) in %.1f s;"
                                + " end offsets %s%n", settings.records(), bytes / 1e6,
                        (System.nanoTime() - produceStart) / 1e9, end);
                List<String> kinds = new ArrayList<>();
                kinds.add(CEILING);
                kinds.addAll(settings.destinations());
                for (int round = settings.warmup() ? 0 : 1; round <= settings.rounds(); round++) {
                    // Round 0 warms the JIT up (its first connector run is always the slowest) and is not reported.
                    List<String> order = round == 0 ? List.of(CEILING, "webhook") : rotated(kinds, round - 1);
                    for (String kind : order) {
                        try {
                            Result result = kind.equals(CEILING) ? runCeiling(harness, topic, end, round, settings)
                                    : runDestination(harness, receiver, kind, topic, end, round, settings);
                            System.out.println((round == 0 ? "warm-up " : "") + line(result));
                            if (round > 0) {
                                results.add(result);
                            }
                        } catch (DrainTimeout e) {
                            // A run that never drains is a finding, not a reason to stop the others.
                            System.out.println("round " + round + " " + kind + " DID NOT DRAIN: " + e.getMessage());
                            status = 2;
                        }
                    }
                }
            }
            if (settings.backlogRecords() > 0) {
                backlog = runBacklog(harness, receiver, settings);
            }
            if (settings.fullSyncRecords() > 0) {
                fullSyncs = runFullSyncs(harness, receiver, settings);
            }
            System.out.println();
            System.out.println(report(results, settings, backlog));
            System.out.println(fullSyncReport(fullSyncs, settings));
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
    static long produce(ConnectHarness harness, String topic, int records, int cohorts, double churn, long seed)
            throws Exception {
        Map<String, Object> props = new HashMap<>();
        props.put(ProducerConfig.ACKS_CONFIG, "1");
        props.put(ProducerConfig.LINGER_MS_CONFIG, 20);
        props.put(ProducerConfig.BATCH_SIZE_CONFIG, 256 * 1024);
        props.put(ProducerConfig.ENABLE_IDEMPOTENCE_CONFIG, false);
        Random random = new Random(seed);
        String[][] recent = new String[20_000][];
        int recentCount = 0;
        long userSeq = 0;
        long bytes = 0;
        AtomicLong failures = new AtomicLong();
        AtomicReference<Exception> firstFailure = new AtomicReference<>();
        try (KafkaProducer<byte[], byte[]> producer = harness.connect().kafka().createProducer(props)) {
            for (int i = 0; i < records; i++) {
                String cohort;
                String user;
                String action;
                if (recentCount > 0 && random.nextDouble() < churn) {
                    String[] pair = recent[random.nextInt(Math.min(recentCount, recent.length))];
                    cohort = pair[0];
                    user = pair[1];
                    action = "remove";
                } else {
                    cohort = Integer.toString(1000 + random.nextInt(cohorts));
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
                + (3 + i % 20) + ",\"$braze_external_id\":\"" + user + "\"}"
                + ",\"timestamp\":\"2026-11-25T12:" + String.format(Locale.ROOT, "%02d:%02d", (i / 60) % 60, i % 60)
                + "Z\"}";
    }

    // ---------------------------------------------------------------------------------------------- runs

    static Map<String, String> common(String topic, int tasks) {
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
        return runCeiling(harness, topic, end, round, settings, settings.tasks());
    }

    static Result runCeiling(ConnectHarness harness, String topic, Map<TopicPartition, Long> end, int round,
                             Settings settings, int tasks) throws Exception {
        String name = ConnectHarness.uniqueName("ceiling-r" + round);
        Map<String, String> config = common(topic, tasks);
        config.put("connector.class", FileStreamSinkConnector.class.getName());
        config.put("file", "/dev/null");
        Measured m = drain(harness, name, config, topic, end, settings);
        return new Result(CEILING, round, total(end), m.seconds, m.firstCommitSeconds, 0, 0, 0, 0, 0, m.heapPeak,
                m.gcCount, m.gcMillis, 0, 0, 0, m.rssPeak);
    }

    private static final String CEILING = "ceiling";

    private static List<String> rotated(List<String> kinds, int by) {
        List<String> order = new ArrayList<>(kinds);
        java.util.Collections.rotate(order, -(by % kinds.size()));
        return order;
    }

    /** This connector's config for a destination whose stand-in is {@code receiver}. */
    static Map<String, String> connectorConfig(String destination, InstantReceiver receiver, String topic,
                                               Settings settings) {
        return connectorConfig(destination, receiver.baseUrl(), topic, settings);
    }

    /** This connector's config for a destination whose stand-in listens at {@code baseUrl}. */
    static Map<String, String> connectorConfig(String destination, String baseUrl, String topic, Settings settings) {
        Map<String, String> config = common(topic, settings.tasks());
        config.put("connector.class", CohortSyncSinkConnector.class.getName());
        config.put("destination", destination);
        // The benchmark measures diffs: full syncs are off, explicitly.
        config.put("snapshot.enabled", "false");
        config.put("sync.interval.ms", Long.toString(settings.syncIntervalMs()));
        config.put("buffer.max.changes", Long.toString(settings.bufferMaxChanges()));
        // BENCH_JOURNAL=false measures without the delivery journal; its files go to this run's own directory.
        config.put("delivery.journal.enabled", Settings.text("journal", "true"));
        config.put("delivery.journal.dir", ConnectHarness.journalDirectory().toString());
        // BENCH_IN_FLIGHT sets sync.max.in.flight.requests for every destination; unset keeps each one's default.
        String inFlight = Settings.text("in.flight", "");
        if (!inFlight.isEmpty()) {
            config.put("sync.max.in.flight.requests", inFlight);
        }
        switch (destination) {
            case "webhook" -> config.put("webhook.url", baseUrl + "/hook");
            case "webhook-idle" -> {
                // The webhook with sync.on.idle=true, to compare both in the same run.
                config.put("destination", "webhook");
                config.put("sync.on.idle", "true");
                config.put("webhook.url", baseUrl + "/hook");
            }
            case "segment" -> {
                config.put("segment.write.key", "bench-write-key");
                config.put("segment.endpoint", baseUrl);
            }
            case "iterable" -> {
                config.put("iterable.api.key", "bench-api-key");
                config.put("iterable.endpoint", baseUrl);
            }
            case "clevertap" -> {
                config.put("clevertap.account.id", "BENCH-1");
                config.put("clevertap.passcode", "bench-passcode");
                config.put("clevertap.endpoint", baseUrl);
            }
            case "braze" -> {
                config.put("braze.api.key", "bench-api-key");
                config.put("braze.endpoint", baseUrl);
            }
            case "marketo" -> {
                config.put("marketo.endpoint", baseUrl);
                config.put("marketo.client.id", "bench-client");
                config.put("marketo.client.secret", "bench-secret");
                config.put("marketo.folder.id", "12");
            }
            case "airship" -> {
                config.put("airship.token", "bench-token");
                config.put("airship.endpoint", baseUrl);
                // The benchmark's records carry no $airship_named_user: the distinct_id is the Named User id.
                config.put("airship.named.user.property", "distinct_id");
            }
            default -> throw new IllegalArgumentException("no stand-in for destination " + destination
                    + " (BENCH_DESTINATIONS takes webhook, webhook-idle, segment, iterable, clevertap, braze,"
                    + " airship, marketo)");
        }
        return config;
    }

    static Result runDestination(ConnectHarness harness, InstantReceiver receiver, String destination, String topic,
                                 Map<TopicPartition, Long> end, int round, Settings settings) throws Exception {
        String name = ConnectHarness.uniqueName(destination + "-r" + round);
        Map<String, String> config = connectorConfig(destination, receiver, topic, settings);
        receiver.reset();
        long[] metrics = new long[3];
        Measured m = drain(harness, name, config, topic, end, settings, () -> {
            metrics[0] = sumTaskMetric(name, "ChangesNettedAway");
            metrics[1] = sumTaskMetric(name, "MembersAdded");
            metrics[2] = sumTaskMetric(name, "MembersRemoved");
        });
        return new Result(destination, round, total(end), m.seconds, m.firstCommitSeconds, receiver.requests(),
                receiver.members(), metrics[0], metrics[1], metrics[2], m.heapPeak, m.gcCount, m.gcMillis,
                receiver.removesWithoutAdd(), receiver.removesAfterAdd(), receiver.partialWebhookPages(), m.rssPeak);
    }

    private static final String FULL_SYNC = "full-sync";

    /**
     * The full sync's own speed (issue 13 (f)): a compacted topic of {@code full.sync.records} distinct members of one
     * cohort, exported once ({@code sync.mode=one_time}, webhook, one task, defaults otherwise) into the instant
     * stand-in, against the framework ceiling's drain of the same topic with one task, per round in alternating order.
     */
    static List<Result> runFullSyncs(ConnectHarness harness, InstantReceiver receiver, Settings settings)
            throws Exception {
        String topic = ConnectHarness.uniqueName("bench-full-sync");
        harness.connect().kafka().createTopic(topic, settings.fullSyncPartitions(), 1,
                Map.of("cleanup.policy", "compact"));
        long produceStart = System.nanoTime();
        long bytes = produce(harness, topic, settings.fullSyncRecords(), 1, 0, settings.seed());
        Map<TopicPartition, Long> end = harness.endOffsets(topic);
        System.out.printf(Locale.ROOT, "full sync: produced %d members of one cohort (%.1f MB) into compacted %s in"
                + " %.1f s%n", settings.fullSyncRecords(), bytes / 1e6, topic, (System.nanoTime() - produceStart) / 1e9);
        List<Result> results = new ArrayList<>();
        for (int round = settings.warmup() ? 0 : 1; round <= Math.max(1, settings.rounds()); round++) {
            List<String> order = round % 2 == 1 ? List.of(CEILING, FULL_SYNC) : List.of(FULL_SYNC, CEILING);
            for (String kind : order) {
                try {
                    Result result;
                    if (kind.equals(CEILING)) {
                        result = runCeiling(harness, topic, end, round, settings, 1);
                    } else {
                        String name = ConnectHarness.uniqueName("full-sync-r" + round);
                        Map<String, String> config = connectorConfig("webhook", receiver, topic, settings);
                        config.put("tasks.max", "1");
                        config.put("sync.mode", "one_time");
                        config.put("snapshot.enabled", "true");
                        config.put("snapshot.bootstrap.servers", harness.connect().kafka().bootstrapServers());
                        config.remove("sync.interval.ms");
                        config.remove("buffer.max.changes");
                        receiver.reset();
                        Measured m = drain(harness, name, config, topic, end, settings);
                        result = new Result(FULL_SYNC, round, total(end), m.seconds, m.firstCommitSeconds,
                                receiver.requests(), receiver.members(), 0, 0, 0, m.heapPeak, m.gcCount, m.gcMillis,
                                0, 0, receiver.partialWebhookPages(), m.rssPeak);
                    }
                    System.out.println((round == 0 ? "warm-up " : "") + line(result)
                            + String.format(Locale.ROOT, "  RSS peak %d MB", result.rssPeakBytes() >> 20));
                    if (round > 0) {
                        results.add(result);
                    }
                } catch (DrainTimeout e) {
                    System.out.println("round " + round + " " + kind + " DID NOT DRAIN: " + e.getMessage());
                }
            }
        }
        return results;
    }

    static String fullSyncReport(List<Result> results, Settings settings) {
        List<Result> ceiling = of(results, CEILING);
        List<Result> full = of(results, FULL_SYNC);
        if (full.isEmpty()) {
            return "";
        }
        StringBuilder out = new StringBuilder(String.format(Locale.ROOT, "Full sync (one-time export): %,d members of"
                        + " one cohort on a compacted topic of %d partitions, tasks.max=1, webhook into the instant"
                        + " stand-in, defaults otherwise; max heap %d MB for the whole JVM (broker, worker, stand-in);"
                        + " medians of %d rounds. Ratio = records/s over the same round's ceiling (1 task).%n%n",
                settings.fullSyncRecords(), settings.fullSyncPartitions(), Runtime.getRuntime().maxMemory() >> 20,
                full.size()));
        out.append("| run | drain s | members/s | ratio to ceiling | requests | JVM heap peak MB | JVM RSS peak MB |\n")
                .append("|---|---|---|---|---|---|---|\n");
        out.append(String.format(Locale.ROOT, "| ceiling, 1 task | %.2f | %,.0f (records/s) | 1.00 | – | %.0f | %.0f |%n",
                median(ceiling, Result::seconds), median(ceiling, Result::recordsPerSecond),
                median(ceiling, r -> r.heapPeakBytes() >> 20), median(ceiling, r -> r.rssPeakBytes() >> 20)));
        out.append(String.format(Locale.ROOT, "| full sync, webhook | %.2f | %,.0f | **%.2f** | %,.0f | %.0f | %.0f |%n",
                median(full, Result::seconds), median(full, Result::membersPerSecond), medianRatio(full, ceiling),
                median(full, r -> r.requests()), median(full, r -> r.heapPeakBytes() >> 20),
                median(full, r -> r.rssPeakBytes() >> 20)));
        out.append("\nPer round: ");
        full.forEach(r -> ceiling.stream().filter(c -> c.round() == r.round()).findFirst().ifPresent(c -> out.append(
                String.format(Locale.ROOT, "round %d full sync %.2f s, ceiling %.2f s (%.2f); ", r.round(),
                        r.seconds(), c.seconds(), r.recordsPerSecond() / c.recordsPerSecond()))));
        return out.append('\n').toString();
    }

    /** What the backlog case saw: per sample time, records read, buffered changes, lag, live heap. */
    record Backlog(int records, long seconds, long recordsRead, long bufferSize, long lag, long liveHeapBaseline,
                   long liveHeapPeak, long usedHeapPeak, long requests, List<String> samples, double drainSeconds,
                   long drained, boolean drainedAll, long drainRequests, long drainMembers, long drainPartialPages,
                   long steadyRequests, long steadyMembers, long steadyPartialPages) {
    }

    /**
     * The destination is down (every call answered 503) while {@code backlog.records} changes wait: the tasks
     * fill their buffers, pause, and must not read on. Samples every 5 s the records read, the buffered changes,
     * the group's lag, and the live heap (used heap right after a full collection) against its value before the
     * connector started: that difference is what the tasks hold, plus the consumers' fetch buffers.
     */
    static Backlog runBacklog(ConnectHarness harness, InstantReceiver receiver, Settings settings)
            throws Exception {
        String topic = harness.createTopic("bench-backlog", settings.partitions());
        long produceStart = System.nanoTime();
        long bytes = produce(harness, topic, settings.backlogRecords(), settings.cohorts(), settings.churn(),
                settings.seed());
        long total = harness.endTotal(topic);
        System.out.printf(Locale.ROOT, "backlog: produced %d records (%.1f MB) in %.1f s%n", total, bytes / 1e6,
                (System.nanoTime() - produceStart) / 1e9);
        receiver.reset();
        receiver.answerStatus(503);
        String name = ConnectHarness.uniqueName("backlog");
        MemoryMXBean memory = ManagementFactory.getMemoryMXBean();
        long baseline = liveHeap(memory);
        long livePeak = 0;
        long usedPeak = 0;
        List<String> samples = new ArrayList<>();
        Map<String, String> config = connectorConfig("webhook", receiver, topic, settings);
        config.put("sync.interval.ms", Long.toString(settings.backlogSyncIntervalMs()));
        harness.connect().configureConnector(name, config);
        long start = System.nanoTime();
        long read = 0;
        long buffered = 0;
        long lag = total;
        try {
            long nextSample = start + TimeUnit.SECONDS.toNanos(5);
            long end = start + TimeUnit.SECONDS.toNanos(settings.backlogSeconds());
            while (System.nanoTime() < end) {
                usedPeak = Math.max(usedPeak, memory.getHeapMemoryUsage().getUsed());
                if (System.nanoTime() >= nextSample) {
                    nextSample += TimeUnit.SECONDS.toNanos(5);
                    long live = liveHeap(memory) - baseline;
                    livePeak = Math.max(livePeak, live);
                    read = sumTaskMetric(name, "RecordsRead");
                    buffered = sumTaskMetric(name, "BufferSize");
                    lag = total - harness.committedTotal(name, topic);
                    String sample = String.format(Locale.ROOT, "| %.0f | %,d | %,d | %,d | %.0f |",
                            (System.nanoTime() - start) / 1e9, read, buffered, lag, live / 1e6);
                    samples.add(sample);
                    System.out.println("backlog sample " + sample);
                }
                Thread.sleep(100);
            }
            long requestsWhileDown = receiver.requests();
            // The destination comes back: the backlog drains with full buffers, the steady state of large cohorts.
            receiver.reset();
            long drainStart = System.nanoTime();
            long drainDeadline = drainStart + TimeUnit.SECONDS.toNanos(settings.backlogDrainSeconds());
            long committed = harness.committedTotal(name, topic);
            long committedAtStart = committed;
            // After the syncs that were already due when the destination came back: the steady state.
            long steadyFrom = drainStart + TimeUnit.SECONDS.toNanos(STEADY_AFTER_SECONDS);
            long[] atSteady = null;
            while (committed < total && System.nanoTime() < drainDeadline) {
                usedPeak = Math.max(usedPeak, memory.getHeapMemoryUsage().getUsed());
                if (atSteady == null && System.nanoTime() >= steadyFrom) {
                    atSteady = new long[] {receiver.requests(), receiver.members(), receiver.partialWebhookPages()};
                }
                Thread.sleep(200);
                committed = harness.committedTotal(name, topic);
            }
            // Counted before the connector stops, so that a last sync of a partial window is not included.
            long requests = receiver.requests();
            long members = receiver.members();
            long partial = receiver.partialWebhookPages();
            return new Backlog(settings.backlogRecords(), settings.backlogSeconds(), read, buffered, lag, baseline,
                    livePeak, usedPeak, requestsWhileDown, samples, (System.nanoTime() - drainStart) / 1e9,
                    committed - committedAtStart, committed == total, requests, members, partial,
                    atSteady == null ? 0 : requests - atSteady[0], atSteady == null ? 0 : members - atSteady[1],
                    atSteady == null ? 0 : partial - atSteady[2]);
        } finally {
            harness.deleteConnectorQuietly(name);
            receiver.answerStatus(200);
        }
    }

    private static final long STEADY_AFTER_SECONDS = 30;

    private static long liveHeap(MemoryMXBean memory) {
        System.gc();
        return memory.getHeapMemoryUsage().getUsed();
    }

    static final class DrainTimeout extends RuntimeException {
        DrainTimeout(String message) {
            super(message);
        }
    }

    record Measured(double seconds, double firstCommitSeconds, long heapPeak, long gcCount, long gcMillis,
                            long rssPeak) {
    }

    /** This JVM's resident set size (VmRSS), 0 where /proc is not there. */
    static long rssBytes() {
        try {
            for (String line : Files.readAllLines(Path.of("/proc/self/status"))) {
                if (line.startsWith("VmRSS:")) {
                    return Long.parseLong(line.replaceAll("[^0-9]", "")) * 1024;
                }
            }
        } catch (IOException | NumberFormatException e) {
            // not on Linux
        }
        return 0;
    }

    static Measured drain(ConnectHarness harness, String name, Map<String, String> config, String topic,
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
        long rssPeak = 0;
        long start = System.nanoTime();
        long deadline = start + TimeUnit.SECONDS.toNanos(settings.timeoutSeconds());
        long firstCommit = -1;
        long nextStatusCheck = start + TimeUnit.SECONDS.toNanos(5);
        Map<Long, Long> cpu0 = TIMELINE ? cpuByThread() : Map.of();
        long processCpu0 = processCpuNanos();
        if (TIMELINE) {
            System.out.println("TL " + TIME.format(java.time.LocalTime.now()) + " " + name + " created");
        }
        harness.connect().configureConnector(name, config);
        try {
            while (true) {
                heapPeak = Math.max(heapPeak, memory.getHeapMemoryUsage().getUsed());
                rssPeak = Math.max(rssPeak, rssBytes());
                Map<TopicPartition, Long> committed = harness.committedOffsets(name, topic);
                long now = System.nanoTime();
                if (TIMELINE) {
                    System.out.println("TL " + TIME.format(java.time.LocalTime.now()) + " " + name + " t="
                            + (now - start) / 1_000_000 + " committed=" + total(committed) + " "
                            + taskSamples(name));
                }
                if (firstCommit < 0 && committed.values().stream().anyMatch(o -> o > 0)) {
                    firstCommit = now;
                }
                if (committed.equals(end)) {
                    if (TIMELINE) {
                        printCpu(name, cpu0, processCpu0, now - start);
                    }
                    long gcCount = gcCount() - gcCount0;
                    long gcMillis = gcMillis() - gcMillis0;
                    beforeDelete.run();
                    return new Measured((now - start) / 1e9, (firstCommit - start) / 1e9, heapPeak, gcCount,
                            gcMillis, rssPeak);
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

    /** BENCH_TIMELINE=1: a line per 100 ms sample for bench/timeline.py (see docs/benchmarks.md). */
    private static final boolean TIMELINE = "1".equals(System.getenv("BENCH_TIMELINE"));
    private static final java.time.format.DateTimeFormatter TIME =
            java.time.format.DateTimeFormatter.ofPattern("HH:mm:ss,SSS");

    private static long processCpuNanos() {
        return ((com.sun.management.OperatingSystemMXBean) ManagementFactory.getOperatingSystemMXBean())
                .getProcessCpuTime();
    }

    /** CPU time per live thread id (threads that end during a run are not counted). */
    private static Map<Long, Long> cpuByThread() {
        java.lang.management.ThreadMXBean threads = ManagementFactory.getThreadMXBean();
        Map<Long, Long> cpu = new HashMap<>();
        for (long id : threads.getAllThreadIds()) {
            long nanos = threads.getThreadCpuTime(id);
            if (nanos > 0) {
                cpu.put(id, nanos);
            }
        }
        return cpu;
    }

    /** The CPU used since {@code before} by the live threads, grouped by name without run names and digits. */
    private static void printCpu(String name, Map<Long, Long> before, long processBefore, long wallNanos) {
        java.lang.management.ThreadMXBean threads = ManagementFactory.getThreadMXBean();
        Map<String, Long> delta = new HashMap<>();
        cpuByThread().forEach((id, cpu) -> {
            java.lang.management.ThreadInfo info = threads.getThreadInfo(id);
            long used = cpu - before.getOrDefault(id, 0L);
            if (info != null && used > 0) {
                String group = info.getThreadName().replace(name, "<run>").replaceAll("\\d+", "#");
                delta.merge(group, used, Long::sum);
            }
        });
        StringBuilder line = new StringBuilder(String.format(Locale.ROOT,
                "TL %s cpu: wall %.2f s, process %.2f s; by thread group:", name, wallNanos / 1e9,
                (processCpuNanos() - processBefore) / 1e9));
        delta.entrySet().stream().sorted(Map.Entry.<String, Long>comparingByValue().reversed()).limit(14)
                .forEach(e -> line.append(String.format(Locale.ROOT, " %s=%.2f", e.getKey(), e.getValue() / 1e9)));
        System.out.println(line);
    }

    /** Per task: records read / buffered changes / syncs completed / requests. */
    private static String taskSamples(String connector) {
        StringBuilder line = new StringBuilder();
        try {
            ObjectName pattern = new ObjectName(TaskMetrics.DOMAIN + ":type=task-metrics,connector="
                    + ObjectName.quote(connector) + ",*");
            for (ObjectName task : new java.util.TreeSet<>(MBEANS.queryNames(pattern, null))) {
                line.append(ObjectName.unquote(task.getKeyProperty("task"))).append('=');
                for (String attribute : List.of("RecordsRead", "BufferSize", "SyncsCompleted", "Requests")) {
                    line.append(((Number) MBEANS.getAttribute(task, attribute)).longValue()).append('/');
                }
                line.setLength(line.length() - 1);
                line.append(' ');
            }
        } catch (Exception e) {
            line.append("unavailable");
        }
        return line.toString().trim();
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

    static long total(Map<TopicPartition, Long> end) {
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
                "round %d %-9s drain %6.2f s  %9.0f records/s  first commit %5.2f s  requests %6d  members %8d"
                        + "  members/request %7.1f  netted away %8d (sent: %d adds, %d removes)  JVM heap peak %5d MB"
                        + "  GC %d (%d ms)%s",
                r.round(), r.kind(), r.seconds(), r.recordsPerSecond(), r.firstCommitSeconds(), r.requests(),
                r.members(), r.membersPerRequest(), r.nettedAway(), r.membersAdded(), r.membersRemoved(),
                r.heapPeakBytes() >> 20, r.gcCount(), r.gcMillis(),
                r.kind().startsWith("webhook") ? "  partial pages " + r.partialPages() + "  churned within one sync "
                        + r.churnedWithinSync() + ", across syncs " + r.churnedAcrossSyncs() : "");
    }

    static String loadAverage() {
        try {
            return Files.readString(Path.of("/proc/loadavg")).trim();
        } catch (IOException e) {
            return "unknown";
        }
    }

    /** The report as markdown, ready to paste into docs/benchmarks.md. */
    static String report(List<Result> results, Settings settings, Backlog backlog) {
        StringBuilder out = new StringBuilder();
        out.append("Machine: ").append(machine().substring("machine: ".length())).append("; load average at the")
                .append(" end (1, 5, 15 min): ").append(loadAverage()).append(".\n\n");
        List<Result> ceiling = of(results, CEILING);
        if (!ceiling.isEmpty()) {
            out.append(String.format(Locale.ROOT, "Medians of %d rounds%s; %,d records, %d cohorts, churn %.2f,"
                            + " %d partitions, tasks.max=%d, sync.interval.ms=%d, buffer.max.changes=%d,"
                            + " offset.flush.interval.ms=%d. Ratio = the median over rounds of the destination's"
                            + " records/s over the same round's ceiling.%n%n",
                    settings.rounds(), settings.warmup() ? " after a warm-up round" : "", settings.records(),
                    settings.cohorts(), settings.churn(), settings.partitions(), settings.tasks(),
                    settings.syncIntervalMs(), settings.bufferMaxChanges(), settings.flushIntervalMs()));
            out.append("| run | drain s | records/s | ratio to ceiling | requests | members/request | members sent |"
                    + " netted away | JVM heap peak MB |\n");
            out.append("|---|---|---|---|---|---|---|---|---|\n");
            out.append(String.format(Locale.ROOT, "| ceiling (FileStreamSink to /dev/null) | %.2f | %,.0f | 1.00 |"
                            + " – | – | – | – | %.0f |%n", median(ceiling, Result::seconds),
                    median(ceiling, Result::recordsPerSecond), median(ceiling, r -> r.heapPeakBytes() >> 20)));
            for (String destination : settings.destinations()) {
                List<Result> runs = of(results, destination);
                if (runs.isEmpty()) {
                    continue;
                }
                out.append(String.format(Locale.ROOT, "| cohort-sync, %s | %.2f | %,.0f | **%.2f** | %,.0f | %.1f |"
                                + " %,.0f | %,.0f | %.0f |%n", destination, median(runs, Result::seconds),
                        median(runs, Result::recordsPerSecond), medianRatio(runs, ceiling),
                        median(runs, r -> r.requests()), median(runs, Result::membersPerRequest),
                        median(runs, r -> r.members()), median(runs, r -> r.nettedAway()),
                        median(runs, r -> r.heapPeakBytes() >> 20)));
            }
            out.append("\nPer round (drain seconds; ratio to the same round's ceiling):\n\n| round | order |");
            settings.destinations().forEach(d -> out.append(' ').append(d).append(" s (ratio) |"));
            out.append(" ceiling s |\n|---|---|");
            settings.destinations().forEach(d -> out.append("---|"));
            out.append("---|\n");
            List<String> kinds = new ArrayList<>();
            kinds.add(CEILING);
            kinds.addAll(settings.destinations());
            for (int round = 1; round <= settings.rounds(); round++) {
                final int n = round;
                Result c = ceiling.stream().filter(r -> r.round() == n).findFirst().orElse(null);
                out.append("| ").append(round).append(" | ").append(String.join(", ", rotated(kinds, round - 1)))
                        .append(" |");
                for (String destination : settings.destinations()) {
                    Result w = of(results, destination).stream().filter(r -> r.round() == n).findFirst().orElse(null);
                    out.append(w == null ? " did not drain |" : c == null
                            ? String.format(Locale.ROOT, " %.2f |", w.seconds())
                            : String.format(Locale.ROOT, " %.2f (%.2f) |", w.seconds(),
                                    w.recordsPerSecond() / c.recordsPerSecond()));
                }
                out.append(c == null ? " did not drain |\n" : String.format(Locale.ROOT, " %.2f |%n", c.seconds()));
            }
            List<Result> webhook = of(results, "webhook");
            if (!webhook.isEmpty()) {
                out.append(String.format(Locale.ROOT, "%nChurn, webhook (medians): %,.0f users entered and left"
                                + " within one sync and were sent once, as a remove (the SPEC's ideal: no call;"
                                + " %,.0f member slots, about %.0f requests of 1000); %,.0f users left after their add"
                                + " had been sent (add and remove sent: needed under any rule).%n",
                        median(webhook, r -> r.churnedWithinSync()), median(webhook, r -> r.churnedWithinSync()),
                        median(webhook, r -> r.churnedWithinSync()) / 1000.0,
                        median(webhook, r -> r.churnedAcrossSyncs())));
                out.append(String.format(Locale.ROOT, "%nWebhook pages of fewer than 1000 members (median): %,.0f"
                        + " of %,.0f requests.%n", median(webhook, r -> r.partialPages()),
                        median(webhook, r -> r.requests())));
            }
        }
        if (backlog != null) {
            out.append(String.format(Locale.ROOT, "%nBacklog: %,d changes waiting, webhook answering 503, observed %d s,"
                            + " tasks.max=%d, buffer.max.changes=%d. Live heap = used heap after a full GC minus"
                            + " its value before the connector started (%.0f MB): the tasks' buffers and pages plus"
                            + " the consumers' fetch buffers.%n%n| s | records read | buffered changes | lag |"
                            + " live heap delta MB |%n|---|---|---|---|---|%n", backlog.records(), backlog.seconds(),
                    settings.tasks(), settings.bufferMaxChanges(), backlog.liveHeapBaseline() / 1e6));
            backlog.samples().forEach(sample -> out.append(sample).append('\n'));
            out.append(String.format(Locale.ROOT, "%nPeak live heap delta %.0f MB (%.0f MB per task); whole-JVM used"
                            + " heap peak %.0f MB; destination calls tried while down: %d.%n",
                    backlog.liveHeapPeak() / 1e6, backlog.liveHeapPeak() / 1e6 / settings.tasks(),
                    backlog.usedHeapPeak() / 1e6, backlog.requests()));
            out.append(String.format(Locale.ROOT, "%nThen the destination answers again (sync.interval.ms=%d): in"
                            + " %.1f s %s %,d records were committed (%,.0f records/s) with %,d requests, %.1f members"
                            + " per request, %d pages of fewer than 1000 members.%n", settings.backlogSyncIntervalMs(),
                    backlog.drainSeconds(), backlog.drainedAll() ? "the whole backlog," : "(the window's end)",
                    backlog.drained(), backlog.drained() / backlog.drainSeconds(), backlog.drainRequests(),
                    backlog.drainRequests() == 0 ? 0.0 : (double) backlog.drainMembers() / backlog.drainRequests(),
                    backlog.drainPartialPages()));
            out.append(String.format(Locale.ROOT, "Steady state (from %d s after the destination came back to the"
                            + " window's end): %,d requests, %.1f members per request, %d pages of fewer than 1000"
                            + " members.%n", STEADY_AFTER_SECONDS, backlog.steadyRequests(),
                    backlog.steadyRequests() == 0 ? 0.0 : (double) backlog.steadyMembers() / backlog.steadyRequests(),
                    backlog.steadyPartialPages()));
        }
        return out.toString();
    }

    private static List<Result> of(List<Result> results, String kind) {
        return results.stream().filter(r -> r.kind().equals(kind)).toList();
    }

    /** The median over rounds of a run's records/s over the same round's ceiling. */
    private static double medianRatio(List<Result> runs, List<Result> ceiling) {
        double[] ratios = runs.stream().flatMapToDouble(r -> ceiling.stream().filter(c -> c.round() == r.round())
                .mapToDouble(c -> r.recordsPerSecond() / c.recordsPerSecond())).sorted().toArray();
        if (ratios.length == 0) {
            return Double.NaN;
        }
        int mid = ratios.length / 2;
        return ratios.length % 2 == 1 ? ratios[mid] : (ratios[mid - 1] + ratios[mid]) / 2;
    }

    static double median(List<Result> results, ToDoubleFunction<Result> metric) {
        double[] values = results.stream().mapToDouble(metric).sorted().toArray();
        if (values.length == 0) {
            return Double.NaN;
        }
        int mid = values.length / 2;
        return values.length % 2 == 1 ? values[mid] : (values[mid - 1] + values[mid]) / 2;
    }
}

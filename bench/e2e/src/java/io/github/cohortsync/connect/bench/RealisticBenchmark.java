package io.github.cohortsync.connect.bench;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.IntConsumer;

import org.apache.kafka.clients.admin.ConsumerGroupDescription;
import org.apache.kafka.clients.admin.MemberDescription;
import org.apache.kafka.common.TopicPartition;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;

import io.github.cohortsync.connect.bench.EndToEndBenchmark.Measured;
import io.github.cohortsync.connect.bench.EndToEndBenchmark.Settings;
import io.github.cohortsync.connect.it.ConnectHarness;

/**
 * The realistic benchmark of issue 13 ({@code bench/run.sh --realistic}; docs/benchmarks.md "Realistic benchmark"):
 * stand-ins with a round trip and account-wide limits, in their own process ({@link InstantReceiver#main}), against
 * this connector under each concurrency setting of {@code BENCH_VARIANTS}, per round in rotating order:
 * (a) 100 ms, no limit, drain time against the instant stand-in's; (b) 100 ms, 200 requests/s across 2 tasks;
 * (c) CleverTap's 15 concurrent uploads with {@code tasks.max=4}; (d) a requests/s limit that halves mid-run and
 * recovers; (e) a {@code members} full sync (one-time export) at 100 ms. The stand-in's own ceiling is measured first.
 */
public final class RealisticBenchmark {
    private static final ObjectMapper JSON = new ObjectMapper();

    private RealisticBenchmark() {
    }

    /** A named set of connector settings each case runs with, e.g. {@code in-flight-4:sync.max.in.flight.requests=4}. */
    record Variant(String name, Map<String, String> config) {
        static List<Variant> parse(String text) {
            List<Variant> variants = new ArrayList<>();
            for (String entry : text.split("\\s*;\\s*")) {
                if (entry.isBlank()) {
                    continue;
                }
                int colon = entry.indexOf(':');
                Map<String, String> config = new LinkedHashMap<>();
                if (colon >= 0) {
                    for (String pair : entry.substring(colon + 1).split("\\s*,\\s*")) {
                        int eq = pair.indexOf('=');
                        if (eq > 0) {
                            config.put(pair.substring(0, eq).trim(), pair.substring(eq + 1).trim());
                        }
                    }
                }
                variants.add(new Variant(colon >= 0 ? entry.substring(0, colon).trim() : entry.trim(), config));
            }
            return variants;
        }
    }

    /** One run of one case with one variant in one round: its metrics by name, in report order. */
    record Row(String caseId, String variant, int round, Map<String, Double> metrics) {
    }

    public static void main(String[] args) throws Exception {
        Settings settings = Settings.load();
        int rounds = (int) Settings.number("rounds", 3);
        int records = (int) Settings.number("realistic.records", 300_000);
        int fullSyncRecords = (int) Settings.number("realistic.full.sync.records", 1_000_000);
        long rtt = Settings.number("rtt.ms", 100);
        long jitter = Settings.number("jitter.ms", 20);
        long window = Settings.number("window.seconds", 20);
        long warm = Settings.number("steady.after.seconds", 5);
        double limitB = Settings.number("limit.b.rps", 200);
        int concurrentC = (int) Settings.number("limit.c.concurrent", 15);
        double limitD = Settings.number("limit.d.rps", 40);
        long phaseD = Settings.number("phase.d.seconds", 12);
        List<String> cases = List.of(Settings.text("cases", "a,b,c,d,e").split("\\s*,\\s*"));
        List<Variant> variants = Variant.parse(Settings.text("variants",
                "in-flight-1:sync.max.in.flight.requests=1;in-flight-4:sync.max.in.flight.requests=4"));
        System.out.println("# Realistic benchmark, " + Instant.now());
        System.out.println(EndToEndBenchmark.machine());
        System.out.printf(Locale.ROOT, "rounds=%d records=%d full.sync.records=%d rtt=%d±%d ms window=%d s"
                        + " steady.after=%d s limit.b=%.0f rps limit.c=%d concurrent limit.d=%.0f rps (phases of %d s)"
                        + " cases=%s variants=%s%n", rounds, records, fullSyncRecords, rtt, jitter, window, warm, limitB,
                concurrentC, limitD, phaseD, cases, variants);
        List<Row> rows = new ArrayList<>();
        String ceiling;
        int status = 0;
        try (StandIn standIn = StandIn.start((int) Settings.number("standin.threads", 128));
             ConnectHarness harness = ConnectHarness.start("realistic", 1,
                     Map.of("offset.flush.interval.ms", Long.toString(settings.flushIntervalMs())))) {
            ceiling = standInCeiling(standIn, rtt, jitter);
            System.out.println(ceiling);
            String topic2 = harness.createTopic("realistic-2p", 2);
            EndToEndBenchmark.produce(harness, topic2, records, settings.cohorts(), settings.churn(), settings.seed());
            Map<TopicPartition, Long> end2 = harness.endOffsets(topic2);
            String topic4 = null;
            Map<TopicPartition, Long> end4 = null;
            if (cases.contains("c")) {
                topic4 = harness.createTopic("realistic-4p", 4);
                EndToEndBenchmark.produce(harness, topic4, records, settings.cohorts(), settings.churn(),
                        settings.seed());
                end4 = harness.endOffsets(topic4);
            }
            String topic1 = null;
            Map<TopicPartition, Long> end1 = null;
            if (cases.contains("e")) {
                topic1 = ConnectHarness.uniqueName("realistic-full-sync");
                harness.connect().kafka().createTopic(topic1, 1, 1, Map.of("cleanup.policy", "compact"));
                EndToEndBenchmark.produce(harness, topic1, fullSyncRecords, 1, 0, settings.seed());
                end1 = harness.endOffsets(topic1);
            }
            System.out.println("topics produced: " + records + " records on 2 (and 4) partitions, " + fullSyncRecords
                    + " members on a compacted topic");
            Runs runs = new Runs(harness, standIn, settings, rtt, jitter, window, warm);
            for (int round = 1; round <= rounds; round++) {
                List<Variant> order = new ArrayList<>(variants);
                java.util.Collections.rotate(order, -((round - 1) % order.size()));
                for (String id : cases) {
                    for (Variant variant : order) {
                        try {
                            Row row = switch (id) {
                                case "a" -> runs.caseA(variant, round, topic2, end2);
                                case "b" -> runs.caseB(variant, round, topic2, end2, limitB);
                                case "c" -> runs.caseC(variant, round, topic4, end4, concurrentC);
                                case "d" -> runs.caseD(variant, round, topic2, end2, limitD, phaseD);
                                case "e" -> runs.caseE(variant, round, topic1, end1);
                                default -> throw new IllegalArgumentException("unknown case " + id);
                            };
                            rows.add(row);
                            System.out.println("round " + round + " case " + id + " " + variant.name() + " "
                                    + row.metrics());
                        } catch (EndToEndBenchmark.DrainTimeout e) {
                            System.out.println("round " + round + " case " + id + " " + variant.name()
                                    + " DID NOT DRAIN: " + e.getMessage());
                            status = 2;
                        }
                    }
                }
            }
            System.out.println();
            System.out.println(report(rows, variants, cases, ceiling, rounds, records, fullSyncRecords, rtt, jitter,
                    window, warm, limitB, concurrentC, limitD, phaseD));
        } catch (Exception e) {
            e.printStackTrace();
            status = 1;
        }
        System.out.flush();
        System.exit(status);
    }

    // ------------------------------------------------------------------------------------------ the stand-in

    /** The stand-in process: started with this JVM's java and class path, stopped by closing its input. */
    static final class StandIn implements AutoCloseable {
        private final Process process;
        private final String baseUrl;
        private final HttpClient http = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(5)).build();

        private StandIn(Process process, String baseUrl) {
            this.process = process;
            this.baseUrl = baseUrl;
        }

        static StandIn start(int threads) throws IOException {
            List<String> command = List.of(Path.of(System.getProperty("java.home"), "bin", "java").toString(),
                    "-Xmx256m", "-XX:+UseSerialGC", "-cp", System.getProperty("java.class.path"),
                    InstantReceiver.class.getName(), "--threads", Integer.toString(threads), "--max-seconds", "7200");
            Process process = new ProcessBuilder(command).redirectErrorStream(true).start();
            Runtime.getRuntime().addShutdownHook(new Thread(process::destroyForcibly));
            BufferedReader out = new BufferedReader(new InputStreamReader(process.getInputStream(),
                    StandardCharsets.UTF_8));
            String line = out.readLine();
            if (line == null || !line.startsWith("port=")) {
                process.destroyForcibly();
                throw new IOException("the stand-in did not start: " + line);
            }
            Thread drain = new Thread(() -> {
                try {
                    for (String l = out.readLine(); l != null; l = out.readLine()) {
                        System.out.println("stand-in: " + l);
                    }
                } catch (IOException e) {
                    // it ended
                }
            }, "stand-in-output");
            drain.setDaemon(true);
            drain.start();
            return new StandIn(process, "http://127.0.0.1:" + line.substring("port=".length()).trim());
        }

        String baseUrl() {
            return baseUrl;
        }

        JsonNode call(String pathAndQuery) {
            try {
                HttpResponse<String> answer = http.send(HttpRequest.newBuilder(URI.create(baseUrl + pathAndQuery))
                        .POST(HttpRequest.BodyPublishers.noBody()).build(), HttpResponse.BodyHandlers.ofString());
                return JSON.readTree(answer.body());
            } catch (IOException e) {
                throw new java.io.UncheckedIOException(e);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw new IllegalStateException(e);
            }
        }

        /**
         * Round trip and limits: rps 0 and concurrent 0 mean no limit. First waits until no call has come for a
         * second (up to 60 s): a deleted connector's tasks may still be finishing their last sync, and their calls
         * must not count for the next run (seen: 8 calls in flight of the run before).
         */
        void configure(long delayMs, long jitterMs, double rps, int concurrent) throws InterruptedException {
            long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(60);
            long before = stats()[0];
            while (System.nanoTime() < deadline) {
                Thread.sleep(1000);
                long now = stats()[0];
                if (now == before) {
                    break;
                }
                before = now;
            }
            call(String.format(Locale.ROOT, "/_bench/config?delay.ms=%d&jitter.ms=%d&rps=%.3f&concurrent=%d",
                    delayMs, jitterMs, rps, concurrent));
            call("/_bench/reset");
        }

        /** requests, members, rejected (429), in_progress_peak. */
        long[] stats() {
            JsonNode s = call("/_bench/stats");
            return new long[] {s.path("requests").asLong(), s.path("members").asLong(), s.path("rejected").asLong(),
                    s.path("in_progress_peak").asLong()};
        }

        @Override
        public void close() throws Exception {
            process.getOutputStream().close();
            if (!process.waitFor(10, TimeUnit.SECONDS)) {
                process.destroyForcibly();
            }
        }
    }

    /**
     * The stand-in's own ceiling: webhook pages of 1000 members posted by 8 threads of this JVM for 5 s with no round
     * trip, then by 64 threads with the benchmark's round trip, no limits.
     */
    static String standInCeiling(StandIn standIn, long rtt, long jitter) throws Exception {
        StringBuilder page = new StringBuilder("{\"action\":\"add_members\",\"parameters\":{\"members\":[");
        for (int i = 0; i < 1000; i++) {
            page.append(i == 0 ? "" : ",").append(String.format(Locale.ROOT, "{\"mixpanel_distinct_id\":\"u%010d\","
                    + "\"email\":\"firstname.lastname.%d@example-mail.com\",\"first_name\":\"Firstname\","
                    + "\"last_name\":\"Lastname\"}", i, i));
        }
        byte[] body = page.append("]}}").toString().getBytes(StandardCharsets.UTF_8);
        String instant = load(standIn, body, 8, 0, 0);
        String delayed = load(standIn, body, 64, rtt, jitter);
        return String.format(Locale.ROOT, "stand-in ceiling (own process, loopback, pages of 1000 members, %d KB):"
                + " instant, 8 clients: %s; %d±%d ms round trip, 64 clients: %s", body.length / 1024, instant, rtt,
                jitter, delayed);
    }

    private static String load(StandIn standIn, byte[] body, int clients, long rtt, long jitter) throws Exception {
        standIn.configure(rtt, jitter, 0, 0);
        HttpClient http = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1).build();
        AtomicLong done = new AtomicLong();
        long seconds = 5;
        long end = System.nanoTime() + TimeUnit.SECONDS.toNanos(seconds);
        List<Thread> threads = new ArrayList<>();
        for (int i = 0; i < clients; i++) {
            Thread t = new Thread(() -> {
                while (System.nanoTime() < end) {
                    try {
                        http.send(HttpRequest.newBuilder(URI.create(standIn.baseUrl() + "/hook"))
                                .POST(HttpRequest.BodyPublishers.ofByteArray(body)).build(),
                                HttpResponse.BodyHandlers.discarding());
                        done.incrementAndGet();
                    } catch (IOException e) {
                        return;
                    } catch (InterruptedException e) {
                        return;
                    }
                }
            });
            t.start();
            threads.add(t);
        }
        for (Thread t : threads) {
            t.join();
        }
        long[] stats = standIn.stats();
        return String.format(Locale.ROOT, "%,.0f requests/s, %,.0f members/s", stats[0] / (double) seconds,
                stats[1] / (double) seconds);
    }

    // ------------------------------------------------------------------------------------------ the cases

    /** The runs of the cases, sharing the harness, the stand-in and the settings. */
    static final class Runs {
        private final ConnectHarness harness;
        private final StandIn standIn;
        private final Settings settings;
        private final long rtt;
        private final long jitter;
        private final long window;
        private final long warm;

        Runs(ConnectHarness harness, StandIn standIn, Settings settings, long rtt, long jitter, long window,
             long warm) {
            this.harness = harness;
            this.standIn = standIn;
            this.settings = settings;
            this.rtt = rtt;
            this.jitter = jitter;
            this.window = window;
            this.warm = warm;
        }

        private Map<String, String> config(String destination, String topic, int tasks, Variant variant) {
            Map<String, String> config = EndToEndBenchmark.connectorConfig(destination, standIn.baseUrl(), topic,
                    settings);
            config.put("tasks.max", Integer.toString(tasks));
            config.putAll(variant.config());
            return config;
        }

        /** (a) 100 ms, no limit: drain time, against the same variant's drain into the instant stand-in. */
        Row caseA(Variant variant, int round, String topic, Map<TopicPartition, Long> end) throws Exception {
            standIn.configure(0, 0, 0, 0);
            Measured instant = EndToEndBenchmark.drain(harness, ConnectHarness.uniqueName("a-instant-r" + round),
                    config("webhook", topic, 2, variant), topic, end, settings);
            standIn.configure(rtt, jitter, 0, 0);
            Measured m = EndToEndBenchmark.drain(harness, ConnectHarness.uniqueName("a-r" + round),
                    config("webhook", topic, 2, variant), topic, end, settings);
            long[] s = standIn.stats();
            Map<String, Double> metrics = new LinkedHashMap<>();
            metrics.put("instant drain s", instant.seconds());
            metrics.put("drain s", m.seconds());
            metrics.put("× instant", m.seconds() / instant.seconds());
            metrics.put("records/s", EndToEndBenchmark.total(end) / m.seconds());
            metrics.put("requests", (double) s[0]);
            metrics.put("429 %", percent(s[2], s[0]));
            return new Row("a", variant.name(), round, metrics);
        }

        /** (b) 100 ms, a token bucket of {@code rps} across 2 tasks (Braze, pages of 75). */
        Row caseB(Variant variant, int round, String topic, Map<TopicPartition, Long> end, double rps)
                throws Exception {
            standIn.configure(rtt, jitter, rps, 0);
            Window w = window("b-r" + round, config("braze", topic, 2, variant), topic, end, window, t -> { });
            Map<String, Double> metrics = w.steady(warm, window);
            metrics.put("% of limit", 100 * metrics.get("accepted req/s") / rps);
            return new Row("b", variant.name(), round, metrics);
        }

        /** (c) CleverTap's concurrent-upload limit with tasks.max=4 on 4 partitions. */
        Row caseC(Variant variant, int round, String topic, Map<TopicPartition, Long> end, int concurrent)
                throws Exception {
            standIn.configure(rtt, jitter, 0, concurrent);
            Map<String, String> config = config("clevertap", topic, 4, variant);
            // Small pages, so that the account's limit binds before this 2-core machine's CPU does.
            config.put("batch.max.size", Long.toString(Settings.number("limit.c.batch", 100)));
            Window w = window("c-r" + round, config, topic, end, window, t -> { });
            Map<String, Double> metrics = w.steady(warm, window);
            // At most `concurrent` calls being processed, each for one round trip: the stand-in's limit in calls/s.
            metrics.put("% of limit", 100 * metrics.get("accepted req/s") / (concurrent * 1000.0 / rtt));
            metrics.put("peak concurrent", (double) w.inProgressPeak);
            return new Row("c", variant.name(), round, metrics);
        }

        /** (d) A requests/s limit that halves after one phase and recovers after the next (Braze, 2 tasks). */
        Row caseD(Variant variant, int round, String topic, Map<TopicPartition, Long> end, double rps, long phase)
                throws Exception {
            standIn.configure(rtt, jitter, rps, 0);
            Window w = window("d-r" + round, config("braze", topic, 2, variant), topic, end, 3 * phase, t -> {
                if (t == phase) {
                    standIn.call(String.format(Locale.ROOT, "/_bench/config?rps=%.3f", rps / 2));
                } else if (t == 2 * phase) {
                    standIn.call(String.format(Locale.ROOT, "/_bench/config?rps=%.3f", rps));
                }
            });
            Map<String, Double> metrics = new LinkedHashMap<>();
            metrics.put("before: % of limit", 100 * w.rate(warm, phase) / rps);
            metrics.put("halved: % of limit", 100 * w.rate(phase + 2, 2 * phase) / (rps / 2));
            metrics.put("after: % of limit", 100 * w.rate(2 * phase + 2, 3 * phase) / rps);
            double recovery = -1;
            for (int t = (int) (2 * phase) + 1; t < w.accepted.size(); t++) {
                if (w.accepted.get(t) - w.accepted.get(t - 1) >= 0.9 * rps) {
                    recovery = t - 2 * phase;
                    break;
                }
            }
            metrics.put("s to ≥ 90% after recovery (-1: never)", recovery);
            metrics.put("429 %", w.rejectedPercent(0, w.accepted.size() - 1));
            return new Row("d", variant.name(), round, metrics);
        }

        /** (e) A one-time export (members pages, webhook, 1 task) at 100 ms. */
        Row caseE(Variant variant, int round, String topic, Map<TopicPartition, Long> end) throws Exception {
            standIn.configure(rtt, jitter, 0, 0);
            Map<String, String> config = config("webhook", topic, 1, variant);
            config.put("sync.mode", "one_time");
            config.put("snapshot.enabled", "true");
            config.put("snapshot.bootstrap.servers", harness.connect().kafka().bootstrapServers());
            config.remove("sync.interval.ms");
            config.remove("buffer.max.changes");
            Measured m = EndToEndBenchmark.drain(harness, ConnectHarness.uniqueName("e-r" + round), config, topic, end,
                    settings);
            long[] s = standIn.stats();
            // The pages the sync needs (one cohort of distinct members, the webhook's pages of 1000), not the calls the
            // stand-in counted: a previous case's connector still stopping could add calls of its own.
            long members = EndToEndBenchmark.total(end);
            long pages = (members + 999) / 1000;
            Map<String, Double> metrics = new LinkedHashMap<>();
            metrics.put("drain s", m.seconds());
            metrics.put("members/s", members / m.seconds());
            metrics.put("pages", (double) pages);
            metrics.put("calls at the stand-in", (double) s[0]);
            // Pages one by one cost at least one round trip each.
            metrics.put("× one-by-one floor", pages * rtt / 1000.0 / m.seconds());
            return new Row("e", variant.name(), round, metrics);
        }

        /** Samples the stand-in every second for {@code seconds} (or until the topic is drained). */
        private Window window(String prefix, Map<String, String> config, String topic, Map<TopicPartition, Long> end,
                              long seconds, IntConsumer atSecond) throws Exception {
            String name = ConnectHarness.uniqueName(prefix);
            Window w = new Window();
            long total = EndToEndBenchmark.total(end);
            harness.connect().configureConnector(name, config);
            try {
                // The window starts once every task has its partitions: a group still rebalancing (one task holding
                // two partitions, another none) would measure a lopsided first seconds.
                awaitEveryTaskAssigned(name, Integer.parseInt(config.getOrDefault("tasks.max", "1")));
                long start = System.nanoTime();
                for (int t = 0; t <= seconds; t++) {
                    long wake = start + TimeUnit.SECONDS.toNanos(t);
                    long sleep = wake - System.nanoTime();
                    if (sleep > 0) {
                        TimeUnit.NANOSECONDS.sleep(sleep);
                    }
                    long[] s = standIn.stats();
                    w.accepted.add(s[0] - s[2]);
                    w.requests.add(s[0]);
                    w.members.add(s[1]);
                    w.inProgressPeak = s[3];
                    atSecond.accept(t);
                    if (harness.committedTotal(name, topic) >= total) {
                        w.drainedAt = t;
                        break;
                    }
                }
            } finally {
                harness.deleteConnectorQuietly(name);
            }
            return w;
        }

        /**
         * Waits (up to a minute) until the connector's consumer group has {@code tasks} members, each assigned at
         * least one partition, and prints how long that took; goes on regardless after the minute, saying so.
         */
        private void awaitEveryTaskAssigned(String connector, int tasks) throws InterruptedException {
            long started = System.nanoTime();
            long deadline = started + TimeUnit.MINUTES.toNanos(1);
            String group = "connect-" + connector;
            while (System.nanoTime() < deadline) {
                try {
                    ConsumerGroupDescription description = harness.admin().describeConsumerGroups(List.of(group))
                            .describedGroups().get(group).get(10, TimeUnit.SECONDS);
                    List<MemberDescription> members = List.copyOf(description.members());
                    if (members.size() == tasks
                            && members.stream().allMatch(m -> !m.assignment().topicPartitions().isEmpty())) {
                        System.out.printf(Locale.ROOT, "  %s: all %d tasks assigned after %.1f s%n", connector, tasks,
                                (System.nanoTime() - started) / 1e9);
                        return;
                    }
                } catch (ExecutionException | TimeoutException e) {
                    // Not described yet: the group forms as the tasks start.
                }
                TimeUnit.MILLISECONDS.sleep(100);
            }
            System.out.printf(Locale.ROOT, "  %s: not every one of %d tasks had partitions after 60 s; measuring"
                    + " anyway%n", connector, tasks);
        }
    }

    /** Cumulative counters of the stand-in, one sample per second from when every task had its partitions. */
    static final class Window {
        final List<Long> accepted = new ArrayList<>();
        final List<Long> requests = new ArrayList<>();
        final List<Long> members = new ArrayList<>();
        long inProgressPeak;
        int drainedAt = -1;

        /** Accepted calls per second between two sample seconds (clipped to what was sampled). */
        double rate(long from, long to) {
            int a = (int) Math.min(from, accepted.size() - 1);
            int b = (int) Math.min(to, accepted.size() - 1);
            return b <= a ? 0 : (accepted.get(b) - accepted.get(a)) / (double) (b - a);
        }

        double rejectedPercent(int from, int to) {
            long calls = requests.get(to) - requests.get(from);
            long refused = calls - (accepted.get(to) - accepted.get(from));
            return percent(refused, calls);
        }

        Map<String, Double> steady(long from, long to) {
            int a = (int) Math.min(from, accepted.size() - 1);
            int b = (int) Math.min(to, accepted.size() - 1);
            Map<String, Double> metrics = new LinkedHashMap<>();
            metrics.put("accepted req/s", rate(a, b));
            metrics.put("members/s", b <= a ? 0 : (members.get(b) - members.get(a)) / (double) (b - a));
            metrics.put("429 %", b <= a ? 0 : rejectedPercent(a, b));
            metrics.put("drained at s (-1: not in window)", (double) drainedAt);
            return metrics;
        }
    }

    private static double percent(long part, long whole) {
        return whole == 0 ? 0 : 100.0 * part / whole;
    }

    // ------------------------------------------------------------------------------------------ report

    static String report(List<Row> rows, List<Variant> variants, List<String> cases, String ceiling, int rounds,
                         int records, int fullSyncRecords, long rtt, long jitter, long window, long warm, double limitB,
                         int concurrentC, double limitD, long phaseD) {
        StringBuilder out = new StringBuilder();
        out.append("Machine: ").append(EndToEndBenchmark.machine().substring("machine: ".length()))
                .append("; load average at the end (1, 5, 15 min): ").append(EndToEndBenchmark.loadAverage())
                .append(".\n\n").append(ceiling).append(".\n\n");
        out.append(String.format(Locale.ROOT, "Medians of %d rounds; round trip %d±%d ms (uniform jitter); %,d"
                        + " records (10 cohorts, churn 0.1) for (a)–(d), %,d members of one cohort for (e);"
                        + " steady state from %d s to %d s after every task had its partitions (or its drain)."
                        + " Variants: %s.%n", rounds, rtt, jitter, records, fullSyncRecords, warm, window,
                variants.stream().map(v -> v.name() + " " + v.config()).toList()));
        Map<String, String> titles = Map.of(
                "a", "(a) webhook, 2 tasks, no limit: drain against the same variant's drain into the instant stand-in",
                "b", String.format(Locale.ROOT, "(b) Braze (75 per call), 2 tasks, %.0f requests/s account-wide"
                        + " (token bucket, 429 with Retry-After)", limitB),
                "c", String.format(Locale.ROOT, "(c) CleverTap, tasks.max=4 (4 partitions), batch.max.size=%d, at"
                        + " most %d calls processed at once (429 beyond); limit in calls/s = %d / round trip",
                        Settings.number("limit.c.batch", 100), concurrentC, concurrentC),
                "d", String.format(Locale.ROOT, "(d) Braze, 2 tasks, %.0f requests/s, halved from %d s to %d s",
                        limitD, phaseD, 2 * phaseD),
                "e", "(e) one-time export (members pages), webhook, 1 task");
        for (String id : cases) {
            List<Row> ofCase = rows.stream().filter(r -> r.caseId().equals(id)).toList();
            if (ofCase.isEmpty()) {
                continue;
            }
            List<String> names = new ArrayList<>(ofCase.get(0).metrics().keySet());
            out.append('\n').append(titles.getOrDefault(id, id)).append("\n\n| variant |");
            names.forEach(n -> out.append(' ').append(n).append(" |"));
            out.append(" rounds |\n|---|");
            names.forEach(n -> out.append("---|"));
            out.append("---|\n");
            for (Variant variant : variants) {
                List<Row> runs = ofCase.stream().filter(r -> r.variant().equals(variant.name())).toList();
                if (runs.isEmpty()) {
                    continue;
                }
                out.append("| ").append(variant.name()).append(" |");
                for (String n : names) {
                    double[] values = runs.stream().mapToDouble(r -> r.metrics().getOrDefault(n, Double.NaN))
                            .sorted().toArray();
                    out.append(String.format(Locale.ROOT, " %s |", format(median(values))));
                }
                out.append(' ').append(runs.size()).append(" |\n");
            }
        }
        out.append("\nPer run:\n\n```\n");
        rows.forEach(r -> out.append("round ").append(r.round()).append(" case ").append(r.caseId()).append(' ')
                .append(r.variant()).append(' ').append(r.metrics().entrySet().stream()
                        .map(e -> e.getKey() + "=" + format(e.getValue())).toList()).append('\n'));
        return out.append("```\n").toString();
    }

    private static double median(double[] sorted) {
        if (sorted.length == 0) {
            return Double.NaN;
        }
        int mid = sorted.length / 2;
        return sorted.length % 2 == 1 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2;
    }

    private static String format(double value) {
        if (Math.abs(value) >= 1000) {
            return String.format(Locale.ROOT, "%,.0f", value);
        }
        return String.format(Locale.ROOT, Math.abs(value) >= 10 ? "%.1f" : "%.2f", value);
    }
}

package io.github.cohortsync.connect.bench.jmh;

import java.lang.reflect.Constructor;
import java.time.Clock;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;

import org.apache.kafka.connect.sink.SinkRecord;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Level;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Param;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.TearDown;
import org.openjdk.jmh.annotations.Warmup;

import io.github.cohortsync.connect.destination.DeliveryResult;
import io.github.cohortsync.connect.destination.Destination;
import io.github.cohortsync.connect.destination.Page;
import io.github.cohortsync.connect.destination.PageAction;
import io.github.cohortsync.connect.record.MembershipChange;
import io.github.cohortsync.connect.record.RecordParser;
import okhttp3.Interceptor;
import okhttp3.MediaType;
import okhttp3.OkHttpClient;
import okhttp3.Protocol;
import okhttp3.Request;
import okhttp3.Response;
import okhttp3.ResponseBody;
import okio.Buffer;

/**
 * One full page through a destination's {@code send}, with an OkHttp interceptor in place of the network: it writes
 * the request body into a buffer and answers success in the API's shape at once, so what is measured is the page's
 * request body (built and written out) plus a constant of OkHttp's call and the small answer's parsing. Works
 * unchanged against the destinations' tree-building code and their streaming code (it only uses their constructors,
 * by reflection, as the unit tests do), so it measures both sides of that change (docs/benchmarks.md).
 */
@State(Scope.Thread)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.MICROSECONDS)
@Warmup(iterations = 5, time = 2)
@Measurement(iterations = 5, time = 2)
@Fork(1)
public class PageBodyBenchmark {
    private static final MediaType JSON = MediaType.get("application/json");
    private static final String PREFIX = "io.github.cohortsync.connect.destination.";

    /** The destination; its page holds the most members it takes in one page. */
    @Param({"webhook", "segment", "iterable", "clevertap", "braze", "braze-import"})
    public String destination;

    private Destination target;
    private Page page;
    private long bodyBytes;
    private long calls;

    @Setup
    public void setUp() throws Exception {
        int members = switch (destination) {
            case "clevertap" -> 500;
            case "braze" -> 75;
            default -> 1000;
        };
        RecordParser parser = new RecordParser();
        List<MembershipChange> changes = new ArrayList<>(members);
        for (int i = 0; i < members; i++) {
            SinkRecord record = ParserBenchmark.record(i * 10, "iso", i);
            Map<String, Object> value = new HashMap<>(asMap(record.value()));
            Map<String, Object> properties = new HashMap<>(asMap(value.get("properties")));
            properties.put("$braze_external_id", "u" + i);
            value.put("properties", properties);
            changes.add(parser.parse(record.newRecord(record.topic(), record.kafkaPartition(), record.keySchema(),
                    record.key(), null, value, record.timestamp())));
        }
        page = new Page(changes.get(0).cohort(), PageAction.ADD_MEMBERS, "session-1", 1, 1, changes);
        String listName = "mixpanel_" + page.cohort().name() + "_" + page.cohort().id();
        OkHttpClient client = new OkHttpClient.Builder().addInterceptor(answering(switch (destination) {
            case "webhook" -> "{\"action\":\"add_members\",\"status\":\"success\"}";
            case "segment" -> "{\"success\":true}";
            case "iterable" -> "{\"successCount\":" + members + ",\"failCount\":0,\"lists\":[{\"id\":42,\"name\":\""
                    + listName + "\"}]}";
            case "clevertap" -> "{\"status\":\"success\",\"processed\":" + (2 * members) + ",\"unprocessed\":[]}";
            case "braze" -> "{\"message\":\"success\",\"attributes_processed\":" + members + "}";
            default -> "{\"message\":\"success\"}";
        })).build();
        String base = "http://127.0.0.1:9/";
        target = switch (destination) {
            case "webhook" -> create("webhook.WebhookDestination", new Class<?>[] {OkHttpClient.class, String.class,
                    String.class, String.class, List.class}, client, base + "hook", null, null, List.of());
            case "segment" -> create("segment.SegmentDestination", new Class<?>[] {OkHttpClient.class, String.class,
                    String.class, String.class, String.class, String.class, Clock.class}, client, base, "write-key",
                    "distinct_id", "mixpanel_${cohort_name}", "bench", Clock.systemUTC());
            case "iterable" -> create("iterable.IterableDestination", new Class<?>[] {OkHttpClient.class,
                    String.class, String.class, String.class}, client, base, "api-key",
                    "mixpanel_${cohort_name}_${cohort_id}");
            case "clevertap" -> create("clevertap.CleverTapDestination", new Class<?>[] {OkHttpClient.class,
                    String.class, String.class, String.class, int.class}, client, base, "ACC", "passcode", 1000);
            case "braze" -> create("braze.BrazeDestination", new Class<?>[] {OkHttpClient.class, String.class,
                    String.class, String.class, String.class, boolean.class}, client, base, "api-key",
                    "mixpanel_cohorts", "$braze_external_id", true);
            case "braze-import" -> create("braze.BrazeCohortImport", new Class<?>[] {OkHttpClient.class,
                    String.class, String.class, String.class, String.class, String.class}, client, base, "partner",
                    "partner-key", "import-key", "$braze_external_id");
            default -> throw new IllegalArgumentException(destination);
        };
        // The first page looks up or names the cohort's list or cohort: not part of the steady state.
        check(target.send(page));
    }

    @SuppressWarnings("unchecked")
    private static Map<String, Object> asMap(Object value) {
        return (Map<String, Object>) value;
    }

    private Interceptor answering(String answer) {
        return chain -> {
            Request request = chain.request();
            if (request.body() != null) {
                try (Buffer sink = new Buffer()) {
                    request.body().writeTo(sink);
                    bodyBytes += sink.size();
                }
                calls++;
            }
            return new Response.Builder().request(request).protocol(Protocol.HTTP_1_1).code(200).message("OK")
                    .body(ResponseBody.create(answer, JSON)).build();
        };
    }

    private static Destination create(String className, Class<?>[] types, Object... arguments) throws Exception {
        Constructor<?> constructor = Class.forName(PREFIX + className).getDeclaredConstructor(types);
        constructor.setAccessible(true);
        return (Destination) constructor.newInstance(arguments);
    }

    private static void check(DeliveryResult result) {
        if (!result.rejections().isEmpty()) {
            throw new IllegalStateException(result.rejections().size() + " rejections, first: "
                    + result.rejections().get(0).reason());
        }
    }

    @TearDown(Level.Trial)
    public void tearDown() {
        System.out.printf("%n%s: %d calls, %.0f body bytes per call%n", destination, calls,
                calls == 0 ? 0.0 : (double) bodyBytes / calls);
        target.close();
    }

    /** One full page sent (its body built and written). */
    @Benchmark
    public DeliveryResult sendPage() throws Exception {
        return target.send(page);
    }
}

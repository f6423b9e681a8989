package io.github.cohortsync.connect.bench.jmh;

import java.util.HashMap;
import java.util.Map;
import java.util.concurrent.TimeUnit;

import org.apache.kafka.common.record.TimestampType;
import org.apache.kafka.connect.sink.SinkRecord;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Param;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.Warmup;

import io.github.cohortsync.connect.record.MembershipChange;
import io.github.cohortsync.connect.record.RecordParser;

/**
 * Microbenchmark of the task thread's own work per record (bench/jmh.sh; docs/benchmarks.md): parsing a
 * schemaless JSON record (as {@code JsonConverter} hands it over: a map) with each form of its timestamp.
 */
@State(Scope.Thread)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.NANOSECONDS)
@Warmup(iterations = 6, time = 3)
@Measurement(iterations = 5, time = 2)
@Fork(1)
public class ParserBenchmark {
    static final int CHANGES = 10_000;

    /** The form of the value's {@code timestamp} field. */
    @Param({"iso", "millis", "none"})
    public String timestamp;

    private RecordParser parser;
    private SinkRecord[] records;
    private int next;

    @Setup
    public void setUp() {
        parser = new RecordParser();
        records = new SinkRecord[CHANGES];
        for (int i = 0; i < CHANGES; i++) {
            records[i] = record(i, timestamp);
        }
    }

    static SinkRecord record(int i, String timestamp) {
        return record(i, timestamp, i % (CHANGES * 9 / 10));
    }

    /** Record {@code i} of the benchmark's shape for the given user number. */
    static SinkRecord record(int i, String timestamp, int userNumber) {
        String cohort = Integer.toString(1000 + i % 10);
        String user = String.format("u%010d", userNumber);
        Map<String, Object> key = new HashMap<>();
        key.put("cohort_id", cohort);
        key.put("distinct_id", user);
        Map<String, Object> value = new HashMap<>();
        value.put("cohort_id", cohort);
        value.put("cohort_name", "Power users " + cohort + " – weekly active, ≥ 3 sessions");
        value.put("cohort_description", "Users with at least three sessions in the last seven days who opened"
                + " the app from a push notification");
        value.put("project_id", "2195193");
        value.put("distinct_id", user);
        value.put("action", i % 10 == 9 ? "remove" : "add");
        value.put("email", "firstname.lastname." + user + "@example-mail.com");
        value.put("first_name", "Firstname" + (i % 997));
        value.put("last_name", "Lastname-" + (i % 991));
        value.put("phone_number", "+1415" + user.substring(user.length() - 7));
        Map<String, Object> properties = new HashMap<>();
        properties.put("plan", "pro");
        properties.put("country", "DE");
        properties.put("$city", "Berlin");
        properties.put("sessions_7d", 3 + i % 20);
        value.put("properties", properties);
        if (timestamp.equals("iso")) {
            value.put("timestamp", String.format("2026-11-25T12:%02d:%02dZ", (i / 60) % 60, i % 60));
        } else if (timestamp.equals("millis")) {
            value.put("timestamp", 1_795_000_000_000L + i);
        }
        return new SinkRecord("cohort-membership", i % 2, null, key, null, value, i, 1_795_000_000_000L,
                TimestampType.CREATE_TIME);
    }

    /** One record parsed. */
    @Benchmark
    public MembershipChange parse() {
        SinkRecord record = records[next];
        next = next + 1 == CHANGES ? 0 : next + 1;
        return parser.parse(record);
    }
}

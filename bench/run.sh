#!/usr/bin/env bash
# End-to-end benchmark: one KRaft broker + one Connect worker in one JVM, N membership changes, the framework
# ceiling (FileStreamSink to /dev/null) against this connector's webhook destination. See docs/benchmarks.md.
#
# Settings (environment): BENCH_RECORDS (1000000), BENCH_COHORTS (10), BENCH_CHURN (0.1), BENCH_PARTITIONS (2),
# BENCH_ROUNDS (3), BENCH_TASKS (2), BENCH_SYNC_INTERVAL_MS (1000), BENCH_OFFSET_FLUSH_INTERVAL_MS (1000),
# BENCH_TIMEOUT_SECONDS (600 per connector run), BENCH_HEAP (2g), BENCH_JFR=1 to record a JFR profile,
# MVN_OFFLINE (-o; set to empty to let Maven download).
set -euo pipefail
cd "$(dirname "$0")/.."
OUT=target/bench
mkdir -p "$OUT"
mvn -B -q ${MVN_OFFLINE--o} test-compile
mvn -B -q ${MVN_OFFLINE--o} dependency:build-classpath -Dmdep.includeScope=test -Dmdep.outputFile="$OUT/classpath.txt"
JAVA_OPTS=(-Xmx"${BENCH_HEAP:-2g}" -XX:+UseG1GC)
if [[ "${BENCH_JFR:-}" == "1" ]]; then
  JAVA_OPTS+=(-XX:StartFlightRecording=filename="$OUT/bench.jfr",settings=profile,dumponexit=true)
fi
STAMP=$(date -u +%Y%m%dT%H%M%SZ)
java "${JAVA_OPTS[@]}" -cp "target/test-classes:target/classes:$(cat "$OUT/classpath.txt")" \
  io.github.cohortsync.connect.bench.EndToEndBenchmark 2>&1 | tee "$OUT/run-$STAMP.log"

#!/usr/bin/env bash
# End-to-end benchmark: one KRaft broker + one Connect worker in one JVM, N membership changes, the framework
# ceiling (FileStreamSink to /dev/null) against this connector with each destination (webhook, Segment, Iterable,
# CleverTap, Braze, Airship) into instant local stand-ins, after a warm-up round; optionally the backlog case (destination down,
# many changes waiting). Ends with a markdown report ready to paste into docs/benchmarks.md. See docs/benchmarks.md.
#
# Flags (each sets the environment variable named after it):
#   --records N (BENCH_RECORDS, 1000000)        --rounds N (BENCH_ROUNDS, 3; 0 = backlog case only)
#   --destinations a,b (BENCH_DESTINATIONS, webhook,segment,iterable,clevertap,braze,airship; also webhook-idle, marketo)
#   --backlog N (BENCH_BACKLOG_RECORDS, 0 = skip) --backlog-seconds S (BENCH_BACKLOG_SECONDS, 60), with the
#   connector's default sync.interval.ms (BENCH_BACKLOG_SYNC_INTERVAL_MS, 10000); then the destination comes back
#   and the drain is watched for up to BENCH_BACKLOG_DRAIN_SECONDS (120)
#   --quick: 100000 records, 1 round, no backlog
#   --realistic: the realistic benchmark instead (RealisticBenchmark: stand-ins with a round trip and account-wide
#   limits in their own process, cases (a)-(e) of issue 13 under each BENCH_VARIANTS entry); its settings are listed
#   in docs/benchmarks.md "Realistic benchmark"
#   --full-sync N (BENCH_FULL_SYNC_RECORDS, 0 = skip): only the full sync case (issue 13 (f)): a one-time export of N
#   members of one cohort from a compacted topic (BENCH_FULL_SYNC_PARTITIONS, 1), one task, against the ceiling with
#   one task; BENCH_ROUNDS rounds after a warm-up. BENCH_DIFF=0 skips the diff rounds (--full-sync sets it).
# Other settings (environment): BENCH_COHORTS (10), BENCH_CHURN (0.1), BENCH_PARTITIONS (2), BENCH_TASKS (2),
# BENCH_SYNC_INTERVAL_MS (1000), BENCH_BUFFER_MAX_CHANGES (100000), BENCH_OFFSET_FLUSH_INTERVAL_MS (1000),
# BENCH_WARMUP (1), BENCH_JOURNAL (true: the delivery journal), BENCH_TIMEOUT_SECONDS (180 per connector run),
# BENCH_HEAP (2g), BENCH_JFR=1 to record a JFR profile, BENCH_TIMELINE=1 to log a per-task timeline
# (bench/timeline.py reads it), MVN_OFFLINE (-o: offline only; empty: with downloads; unset: offline, then with
# downloads if that fails),
# BENCH_IN_FLIGHT (unset: each destination's default sync.max.in.flight.requests), BENCH_RECEIVER_THREADS (2) and
# BENCH_RECEIVER_DELAY_MS (0: the stand-ins answer at once; e.g. 50 to stand in for a remote API's round trip).
set -euo pipefail
while [[ $# -gt 0 ]]; do
  case "$1" in
    --records) export BENCH_RECORDS="$2"; shift 2 ;;
    --rounds) export BENCH_ROUNDS="$2"; shift 2 ;;
    --destinations) export BENCH_DESTINATIONS="$2"; shift 2 ;;
    --backlog) export BENCH_BACKLOG_RECORDS="$2"; shift 2 ;;
    --backlog-seconds) export BENCH_BACKLOG_SECONDS="$2"; shift 2 ;;
    --full-sync) export BENCH_FULL_SYNC_RECORDS="$2" BENCH_DIFF=0; shift 2 ;;
    --realistic) MAIN=RealisticBenchmark; shift ;;
    --quick) export BENCH_RECORDS=100000 BENCH_ROUNDS=1 BENCH_BACKLOG_RECORDS=0; shift ;;
    *) echo "unknown flag $1 (see the comment at the top of $0)" >&2; exit 64 ;;
  esac
done
cd "$(dirname "$0")/.."
OUT=target/bench
mkdir -p "$OUT"
# The benchmark sources (bench/e2e/src/java) are compiled with the test classes only under the bench profile.
source bench/maven.sh  # the cwd is the project root (cd above)
maven -Pbench test-compile
maven -Pbench dependency:build-classpath -Dmdep.includeScope=test -Dmdep.outputFile="$OUT/classpath.txt"
JAVA_OPTS=(-Xmx"${BENCH_HEAP:-2g}" -XX:+UseG1GC)
if [[ "${BENCH_JFR:-}" == "1" ]]; then
  JAVA_OPTS+=(-XX:StartFlightRecording=filename="$OUT/bench.jfr",settings=profile,dumponexit=true)
fi
if [[ "${BENCH_TIMELINE:-}" == "1" ]]; then
  # DEBUG timeline of the tasks and the worker's commits, plus a sample line per 100 ms; see bench/timeline.py.
  JAVA_OPTS+=(-Dlog4j.configuration=file:bench/log4j-timeline.properties)
fi
STAMP=$(date -u +%Y%m%dT%H%M%SZ)
java "${JAVA_OPTS[@]}" -cp "target/test-classes:target/classes:$(cat "$OUT/classpath.txt")" \
  "io.github.cohortsync.connect.bench.${MAIN:-EndToEndBenchmark}" 2>&1 | tee "$OUT/run-$STAMP.log"

#!/usr/bin/env bash
# JMH microbenchmarks for RecordParser.parse and SyncBuffer.add/drain (docs/benchmarks.md). Kept out of the Maven
# build: compiled here with javac and JMH's annotation processor against the test classpath.
# Needs org.openjdk.jmh:jmh-core and jmh-generator-annprocess 1.37 in ~/.m2 (fetch once with
# `mvn dependency:get -Dartifact=org.openjdk.jmh:jmh-core:1.37` and the same for jmh-generator-annprocess).
# Extra arguments go to JMH, e.g. bench/jmh.sh -p timestamp=iso
# `bench/jmh.sh footprint [changes]` instead reports the retained heap of a full buffer (BufferFootprint).
set -euo pipefail
cd "$(dirname "$0")/.."
OUT=target/bench
mkdir -p "$OUT"
source bench/maven.sh  # the cwd is the project root (cd above)
maven test-compile
maven dependency:build-classpath -Dmdep.includeScope=test -Dmdep.outputFile="$OUT/classpath.txt"
M2="${HOME}/.m2/repository"
JMH="$M2/org/openjdk/jmh/jmh-core/1.37/jmh-core-1.37.jar:$M2/net/sf/jopt-simple/jopt-simple/5.0.4/jopt-simple-5.0.4.jar:$M2/org/apache/commons/commons-math3/3.6.1/commons-math3-3.6.1.jar"
PROC="$M2/org/openjdk/jmh/jmh-generator-annprocess/1.37/jmh-generator-annprocess-1.37.jar:$JMH"
CP="target/classes:target/test-classes:$(cat "$OUT/classpath.txt"):$JMH"
rm -rf "$OUT/jmh-classes" && mkdir -p "$OUT/jmh-classes"
javac --release 17 -cp "$CP" -processorpath "$PROC" -d "$OUT/jmh-classes" \
  $(find bench/jmh/src -name '*.java')
if [[ "${1:-}" == "footprint" ]]; then
  shift
  exec java -Xmx1g -XX:+UseG1GC -cp "$OUT/jmh-classes:$CP" io.github.cohortsync.connect.bench.jmh.BufferFootprint "$@"
fi
STAMP=$(date -u +%Y%m%dT%H%M%SZ)
java -cp "$OUT/jmh-classes:$CP" org.openjdk.jmh.Main -rf text -rff "$OUT/jmh-$STAMP.txt" "$@" 2>&1 | tee "$OUT/jmh-$STAMP.log"

#!/usr/bin/env bash
# The Cohort Sync demo: a real Kafka broker, a real Connect worker loading the plugin from its zip,
# and a small webhook receiver, all on 127.0.0.1, with nothing but Java 17+, Maven and curl.
#
#   demo/run.sh            build, start everything, sync two rounds of cohort changes, keep running
#                          (prints each page the webhook receives) until Ctrl-C
#   demo/run.sh --check    the same, non-interactive: assert the outcome, print a summary, stop
#                          everything, exit 0 (all passed) or 1
#   demo/stop.sh           stop a running demo (also done by Ctrl-C)
#
# Options: --check (or DEMO_CHECK=1), --no-build (or DEMO_SKIP_BUILD=1: reuse target/*.zip).
# Environment (defaults):
#   KAFKA_VERSION=4.1.1          broker and worker version, fetched from Maven Central (3.9.x and 4.x work)
#   DEMO_KAFKA_PORT=9092  DEMO_CONTROLLER_PORT=9093  DEMO_CONNECT_PORT=8083  DEMO_RECEIVER_PORT=8090
#   DEMO_WORK_DIR=demo/work      jars, logs (work/logs) and the run's state (work/run, removed on stop)
#   DEMO_TIMEOUT=120             seconds allowed for each step
set -euo pipefail

DEMO_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
ROOT=$(dirname "$DEMO_DIR")

KAFKA_VERSION=${KAFKA_VERSION:-4.1.1}
KAFKA_PORT=${DEMO_KAFKA_PORT:-9092}
CONTROLLER_PORT=${DEMO_CONTROLLER_PORT:-9093}
CONNECT_PORT=${DEMO_CONNECT_PORT:-8083}
RECEIVER_PORT=${DEMO_RECEIVER_PORT:-8090}
TIMEOUT=${DEMO_TIMEOUT:-120}
CHECK=${DEMO_CHECK:-0}
SKIP_BUILD=${DEMO_SKIP_BUILD:-0}

for arg in "$@"; do
  case "$arg" in
    --check) CHECK=1 ;;
    --no-build) SKIP_BUILD=1 ;;
    -h|--help) sed -n '2,/^set -euo/p' "${BASH_SOURCE[0]}" | sed '$d; s/^# \{0,1\}//'; exit 0 ;;
    *) echo "unknown option: $arg (try --help)" >&2; exit 2 ;;
  esac
done

WORK=${DEMO_WORK_DIR:-$DEMO_DIR/work}
mkdir -p "$WORK"
WORK=$(cd "$WORK" && pwd)
RUN=$WORK/run            # this run's state: removed by stop.sh
LOGS=$WORK/logs          # kept after stop, cleared when the next run starts
PIDS=$WORK/pids
LIBS=$WORK/kafka-libs/$KAFKA_VERSION   # Kafka's jars, kept between runs
JAVA=${JAVA_HOME:+$JAVA_HOME/bin/}java
JAVAC=${JAVA_HOME:+$JAVA_HOME/bin/}javac

TOPIC=cohort-membership
DLQ_TOPIC=cohort-membership-dlq
CONNECTOR_JSON=$ROOT/config/cohort-sync-webhook-demo.json
CONNECTOR_CLASS=io.github.cohortsync.connect.CohortSyncSinkConnector
CONNECT_URL=http://127.0.0.1:$CONNECT_PORT
RECEIVER_URL=http://127.0.0.1:$RECEIVER_PORT
BOOTSTRAP=127.0.0.1:$KAFKA_PORT

json_field() { # json_field <key> <file>: the string value of "key" in a flat JSON config
  sed -n "s/.*\"$1\"[[:space:]]*:[[:space:]]*\"\([^\"]*\)\".*/\1/p" "$2" | head -n 1
}
CONNECTOR_NAME=$(json_field name "$CONNECTOR_JSON")
WEBHOOK_USER=$(json_field webhook.auth.username "$CONNECTOR_JSON")
WEBHOOK_PASSWORD=$(json_field webhook.auth.password "$CONNECTOR_JSON")

# ---------------------------------------------------------------------------------------------------
RESULTS=()   # "PASS|FAIL<TAB>description", for the summary
FAILED=0
STARTED=0

step() { printf '\n==> %s\n' "$*"; }
note() { printf '    %s\n' "$*"; }
pass() { RESULTS+=("PASS	$*"); note "ok: $*"; }
fail() { # a failed expectation: fatal in interactive mode, recorded in --check mode
  RESULTS+=("FAIL	$*"); FAILED=1
  echo "    FAILED: $*" >&2
  if [[ $CHECK != 1 ]]; then exit 1; fi
}
die() { # a failure after which nothing else can run
  echo >&2
  echo "ERROR: $*" >&2
  RESULTS+=("FAIL	$*"); FAILED=1
  exit 1
}

port_open() { (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }

# Fails (die) if one of the demo's processes has exited.
check_alive() {
  local name
  for name in broker receiver connect; do
    if [[ -f $PIDS/$name.pid ]] && ! kill -0 "$(cat "$PIDS/$name.pid")" 2>/dev/null; then
      echo "---- last lines of $LOGS/$name.log" >&2
      tail -n 25 "$LOGS/$name.log" >&2 || true
      die "the $name process exited; see $LOGS/$name.log"
    fi
  done
}

# wait_until <seconds> <what> <log file> <command...>: polls every second; returns 1 on timeout.
wait_until() {
  local seconds=$1 what=$2 log=$3
  shift 3
  local deadline=$((SECONDS + seconds))
  until "$@" >/dev/null; do
    check_alive
    if ((SECONDS >= deadline)); then
      echo "    timed out after ${seconds}s waiting for $what (see $log)" >&2
      return 1
    fi
    sleep 1
  done
}

start_bg() { # start_bg <name> <command...>: output to $LOGS/<name>.log, pid to $PIDS/<name>.pid
  local name=$1
  shift
  "$@" >"$LOGS/$name.log" 2>&1 </dev/null &
  echo $! >"$PIDS/$name.pid"
}

demo_client() { "$JAVA" $TOOL_LOG_OPTS -cp "$RUN/classes:$LIBS/*" DemoClient "$@"; }

on_exit() {
  local code=$?
  trap - EXIT INT TERM
  exec 1>&5 2>&6   # exit may come from inside a redirected command (wait_until)
  if [[ -n ${TAIL_PID:-} ]]; then kill "$TAIL_PID" 2>/dev/null || true; fi
  if ((STARTED)); then
    echo
    echo "Stopping the demo (logs stay in $LOGS)..."
    "$DEMO_DIR/stop.sh" || true
  fi
  if [[ $CHECK == 1 ]]; then
    summary
    if ((FAILED)) || ((code != 0)); then exit 1; fi
    exit 0
  fi
  exit "$code"
}

summary() {
  local r passed=0 failed=0
  echo
  echo "Demo summary: Kafka $KAFKA_VERSION worker, plugin ${PLUGIN_DIR_NAME:-?}"
  for r in ${RESULTS[@]+"${RESULTS[@]}"}; do
    printf '  %s  %s\n' "${r%%	*}" "${r#*	}"
    if [[ ${r%%	*} == PASS ]]; then passed=$((passed + 1)); else failed=$((failed + 1)); fi
  done
  if [[ -n ${PAGE_COUNTS:-} ]]; then echo "  webhook pages received: $PAGE_COUNTS"; fi
  echo "  logs: $LOGS"
  echo "demo: $passed passed, $failed failed"
}

# ---------------------------------------------------------------------------------------------------
exec 5>&1 6>&2
trap on_exit EXIT
trap 'exit 130' INT TERM

step "Preflight"
command -v "$JAVA" >/dev/null || die "java not found (a JDK 17 or later is needed)"
command -v "$JAVAC" >/dev/null || die "javac not found (a JDK 17 or later is needed, not only a JRE)"
command -v mvn >/dev/null || die "mvn not found (Maven 3.8 or later is needed)"
command -v curl >/dev/null || die "curl not found"
JAVA_MAJOR=$("$JAVA" -version 2>&1 | sed -n 's/.*version "\([0-9]*\).*/\1/p' | head -n 1)
[[ ${JAVA_MAJOR:-0} -ge 17 ]] || die "Java 17 or later is needed (found: $("$JAVA" -version 2>&1 | head -n 1))"
KAFKA_MAJOR=${KAFKA_VERSION%%.*}
KAFKA_MINOR=${KAFKA_VERSION#*.}
KAFKA_MINOR=${KAFKA_MINOR%%.*}
if ((KAFKA_MAJOR >= 4)); then KAFKA_PROFILE=kafka4; else KAFKA_PROFILE=kafka3; fi
if ((KAFKA_MAJOR < 3 || (KAFKA_MAJOR == 3 && KAFKA_MINOR < 9))); then
  note "warning: the connector supports Kafka Connect 3.9 and later; trying $KAFKA_VERSION anyway"
fi
mkdir -p "$PIDS"
for name in broker receiver connect; do
  if [[ -f $PIDS/$name.pid ]] && kill -0 "$(cat "$PIDS/$name.pid")" 2>/dev/null; then
    die "a demo is already running (pid $(cat "$PIDS/$name.pid")); stop it with $DEMO_DIR/stop.sh"
  fi
done
"$DEMO_DIR/stop.sh" >/dev/null 2>&1 || true   # leftovers of a run that was killed
for port in "$KAFKA_PORT" "$CONTROLLER_PORT" "$CONNECT_PORT" "$RECEIVER_PORT"; do
  if port_open "$port"; then
    die "port $port on 127.0.0.1 is in use; free it or choose other ports with DEMO_KAFKA_PORT, DEMO_CONTROLLER_PORT, DEMO_CONNECT_PORT, DEMO_RECEIVER_PORT"
  fi
done
rm -rf "$RUN" "$LOGS"
mkdir -p "$RUN/config" "$RUN/plugins" "$RUN/kafka-data" "$LOGS"
note "java $JAVA_MAJOR, Kafka $KAFKA_VERSION, work dir $WORK"

# ---------------------------------------------------------------------------------------------------
step "Building the plugin (mvn -q -DskipTests package)"
if [[ $SKIP_BUILD == 1 ]]; then
  note "skipped (--no-build)"
else
  if ! (cd "$ROOT" && mvn -q -B -ntp -DskipTests package) >"$LOGS/build.log" 2>&1; then
    tail -n 40 "$LOGS/build.log" >&2
    die "the build failed; see $LOGS/build.log"
  fi
fi
ZIP=$(ls -t "$ROOT"/target/kafka-connect-cohort-sync-*.zip 2>/dev/null | head -n 1 || true)
[[ -n $ZIP ]] || die "no target/kafka-connect-cohort-sync-*.zip; run without --no-build"
note "$ZIP ($(wc -c <"$ZIP") bytes)"

step "Unzipping it into the worker's plugin.path ($RUN/plugins)"
if command -v unzip >/dev/null; then
  unzip -q "$ZIP" -d "$RUN/plugins"
else
  (cd "$RUN/plugins" && jar xf "$ZIP")
fi
PLUGIN_DIR=$(find "$RUN/plugins" -mindepth 1 -maxdepth 1 -type d | head -n 1)
PLUGIN_DIR_NAME=$(basename "${PLUGIN_DIR:-?}")
PROJECT_VERSION=${PLUGIN_DIR_NAME#kafka-connect-cohort-sync-}
(cd "$RUN/plugins" && find . -type f | sort | sed 's#^\./#      #')
layout_ok=1
for f in manifest.json doc/LICENSE doc/README.md; do
  if [[ ! -f $PLUGIN_DIR/$f ]]; then
    layout_ok=0
    note "missing from the zip: $PLUGIN_DIR_NAME/$f"
  fi
done
ls "$PLUGIN_DIR"/etc/*.properties >/dev/null 2>&1 || { layout_ok=0; note "missing from the zip: etc/*.properties"; }
[[ -f $PLUGIN_DIR/lib/$PLUGIN_DIR_NAME.jar ]] || { layout_ok=0; note "missing from the zip: lib/$PLUGIN_DIR_NAME.jar"; }
provided=$(ls "$PLUGIN_DIR/lib" 2>/dev/null | grep -E '^(connect-api|connect-runtime|connect-json|kafka-clients|kafka_2|slf4j-api|slf4j-reload4j|log4j|reload4j)' || true)
[[ -z $provided ]] || { layout_ok=0; note "the worker provides these, they must not be in lib/: $provided"; }
if grep -q '\${' "$PLUGIN_DIR/manifest.json" 2>/dev/null; then
  layout_ok=0
  note "manifest.json still has an unfiltered \${...}"
fi
if ((layout_ok)); then
  pass "zip layout: manifest.json (version $PROJECT_VERSION), lib/ ($(ls "$PLUGIN_DIR/lib" | wc -l | tr -d ' ') jars, none the worker provides), etc/, doc/"
else
  fail "zip layout of $(basename "$ZIP") (see above)"
fi

# ---------------------------------------------------------------------------------------------------
step "Fetching Apache Kafka $KAFKA_VERSION jars from Maven Central (demo/pom.xml)"
if [[ -f $LIBS/.complete ]]; then
  note "cached in $LIBS"
else
  rm -rf "$LIBS"
  if ! mvn -q -B -ntp -f "$DEMO_DIR/pom.xml" -P"$KAFKA_PROFILE" -Dkafka.version="$KAFKA_VERSION" \
      dependency:copy-dependencies -DoutputDirectory="$LIBS" >"$LOGS/kafka-libs.log" 2>&1; then
    tail -n 20 "$LOGS/kafka-libs.log" >&2
    die "could not fetch Kafka $KAFKA_VERSION; see $LOGS/kafka-libs.log"
  fi
  touch "$LIBS/.complete"
  note "$(ls "$LIBS" | wc -l | tr -d ' ') jars in $LIBS"
fi

# Logging: Kafka 3.x uses reload4j (log4j.configuration), 4.x Log4j 2 (log4j2.configurationFile);
# both files are written and both properties set, each version reads its own.
cat >"$RUN/config/log4j.properties" <<'EOF'
log4j.rootLogger=INFO, stdout
log4j.appender.stdout=org.apache.log4j.ConsoleAppender
log4j.appender.stdout.layout=org.apache.log4j.PatternLayout
log4j.appender.stdout.layout.ConversionPattern=[%d] %p %m (%c)%n
log4j.logger.org.reflections=ERROR
EOF
cat >"$RUN/config/log4j2.properties" <<'EOF'
status = warn
appender.out.type = Console
appender.out.name = STDOUT
appender.out.layout.type = PatternLayout
appender.out.layout.pattern = [%d] %p %m (%c)%n
rootLogger.level = INFO
rootLogger.appenderRef.out.ref = STDOUT
logger.reflections.name = org.reflections
logger.reflections.level = ERROR
EOF
cat >"$RUN/config/tools-log4j.properties" <<'EOF'
log4j.rootLogger=WARN, stderr
log4j.appender.stderr=org.apache.log4j.ConsoleAppender
log4j.appender.stderr.Target=System.err
log4j.appender.stderr.layout=org.apache.log4j.PatternLayout
log4j.appender.stderr.layout.ConversionPattern=[%d] %p %m (%c)%n
EOF
cat >"$RUN/config/tools-log4j2.properties" <<'EOF'
status = warn
appender.err.type = Console
appender.err.name = STDERR
appender.err.target = SYSTEM_ERR
appender.err.layout.type = PatternLayout
appender.err.layout.pattern = [%d] %p %m (%c)%n
rootLogger.level = WARN
rootLogger.appenderRef.err.ref = STDERR
EOF
LOG_OPTS="-Dlog4j.configuration=file:$RUN/config/log4j.properties -Dlog4j2.configurationFile=$RUN/config/log4j2.properties"
TOOL_LOG_OPTS="-Dlog4j.configuration=file:$RUN/config/tools-log4j.properties -Dlog4j2.configurationFile=$RUN/config/tools-log4j2.properties"

# ---------------------------------------------------------------------------------------------------
step "Starting a single-node KRaft broker on $BOOTSTRAP"
cat >"$RUN/config/server.properties" <<EOF
# Combined broker + controller, one node, 127.0.0.1 only (works on Kafka 3.9 and 4.x).
process.roles=broker,controller
node.id=1
controller.quorum.voters=1@127.0.0.1:$CONTROLLER_PORT
listeners=PLAINTEXT://127.0.0.1:$KAFKA_PORT,CONTROLLER://127.0.0.1:$CONTROLLER_PORT
advertised.listeners=PLAINTEXT://127.0.0.1:$KAFKA_PORT
controller.listener.names=CONTROLLER
inter.broker.listener.name=PLAINTEXT
listener.security.protocol.map=CONTROLLER:PLAINTEXT,PLAINTEXT:PLAINTEXT
log.dirs=$RUN/kafka-data
num.partitions=1
offsets.topic.replication.factor=1
transaction.state.log.replication.factor=1
transaction.state.log.min.isr=1
share.coordinator.state.topic.replication.factor=1
share.coordinator.state.topic.min.isr=1
group.initial.rebalance.delay.ms=0
EOF
STARTED=1
# kafka.tools.StorageTool is the storage tool's class in both 3.9 and 4.1.
CLUSTER_ID=$("$JAVA" $TOOL_LOG_OPTS -cp "$LIBS/*" kafka.tools.StorageTool random-uuid 2>>"$LOGS/storage-format.log" | tail -n 1)
[[ -n $CLUSTER_ID ]] || die "could not generate a cluster id; see $LOGS/storage-format.log"
"$JAVA" $TOOL_LOG_OPTS -cp "$LIBS/*" kafka.tools.StorageTool format -t "$CLUSTER_ID" \
    -c "$RUN/config/server.properties" >>"$LOGS/storage-format.log" 2>&1 \
  || die "formatting the broker's storage failed; see $LOGS/storage-format.log"
start_bg broker "$JAVA" -Xms256m -Xmx512m $LOG_OPTS -cp "$LIBS/*" kafka.Kafka "$RUN/config/server.properties"
broker_started() { port_open "$KAFKA_PORT" && grep -q 'Kafka Server started' "$LOGS/broker.log"; }
wait_until "$TIMEOUT" "the broker" "$LOGS/broker.log" broker_started \
  || die "the broker did not start within ${TIMEOUT}s; see $LOGS/broker.log"
note "broker up (cluster id $CLUSTER_ID, log $LOGS/broker.log)"

# ---------------------------------------------------------------------------------------------------
step "Starting the demo webhook receiver on $RECEIVER_URL (demo/DemoReceiver.java)"
start_bg receiver "$JAVA" "$DEMO_DIR/DemoReceiver.java" --port "$RECEIVER_PORT" \
  --user "$WEBHOOK_USER" --password "$WEBHOOK_PASSWORD" --pages-file "$RUN/pages.tsv"
wait_until "$TIMEOUT" "the webhook receiver" "$LOGS/receiver.log" curl -sf --max-time 5 "$RECEIVER_URL/summary" \
  || die "the webhook receiver did not start; see $LOGS/receiver.log"
note "receiver up (log $LOGS/receiver.log)"

# ---------------------------------------------------------------------------------------------------
step "Starting a distributed Connect worker on $CONNECT_URL (plugin.path=$RUN/plugins)"
cat >"$RUN/config/connect-worker.properties" <<EOF
bootstrap.servers=$BOOTSTRAP
group.id=cohort-sync-demo
key.converter=org.apache.kafka.connect.json.JsonConverter
value.converter=org.apache.kafka.connect.json.JsonConverter
key.converter.schemas.enable=false
value.converter.schemas.enable=false
config.storage.topic=_demo-connect-configs
offset.storage.topic=_demo-connect-offsets
status.storage.topic=_demo-connect-status
config.storage.replication.factor=1
offset.storage.replication.factor=1
status.storage.replication.factor=1
# Commit sink offsets every 5 s, so the demo can show them catching up.
offset.flush.interval.ms=5000
listeners=http://127.0.0.1:$CONNECT_PORT
rest.advertised.host.name=127.0.0.1
rest.advertised.port=$CONNECT_PORT
# The unzipped plugin, exactly as a user installs it.
plugin.path=$RUN/plugins
EOF
start_bg connect "$JAVA" -Xms256m -Xmx768m $LOG_OPTS -cp "$LIBS/*" org.apache.kafka.connect.cli.ConnectDistributed \
  "$RUN/config/connect-worker.properties"
wait_until "$TIMEOUT" "the Connect REST API" "$LOGS/connect.log" curl -sf --max-time 5 "$CONNECT_URL/connector-plugins" \
  || die "the Connect worker did not answer within ${TIMEOUT}s; see $LOGS/connect.log"
note "worker up (log $LOGS/connect.log)"

step "GET /connector-plugins"
PLUGINS=$(curl -sf --max-time 10 "$CONNECT_URL/connector-plugins")
PLUGIN_LINE=$(printf '%s' "$PLUGINS" | grep -o "{[^{}]*\"$CONNECTOR_CLASS\"[^{}]*}" | head -n 1 || true)
if [[ -z $PLUGIN_LINE ]]; then
  note "$PLUGINS"
  grep -iE 'cohort|plugin' "$LOGS/connect.log" | grep -iE 'error|warn' | tail -n 10 >&2 || true
  die "the worker does not list $CONNECTOR_CLASS; see $LOGS/connect.log"
fi
note "$PLUGIN_LINE"
PLUGIN_VERSION=$(printf '%s' "$PLUGIN_LINE" | sed -n 's/.*"version":"\([^"]*\)".*/\1/p')
if [[ $PLUGIN_VERSION == "$PROJECT_VERSION" ]]; then
  pass "worker lists $CONNECTOR_CLASS, version $PLUGIN_VERSION"
else
  fail "worker lists $CONNECTOR_CLASS with version '$PLUGIN_VERSION', expected the project version '$PROJECT_VERSION'"
fi
# Workers with plugin.discovery=service_load (faster startup) only see plugins that declare themselves.
SERVICES=META-INF/services/org.apache.kafka.connect.sink.SinkConnector
mkdir -p "$RUN/jar-check"
(cd "$RUN/jar-check" && jar xf "$PLUGIN_DIR/lib/$PLUGIN_DIR_NAME.jar" "$SERVICES") 2>/dev/null || true
if grep -qx "$CONNECTOR_CLASS" "$RUN/jar-check/$SERVICES" 2>/dev/null; then
  pass "$PLUGIN_DIR_NAME.jar declares the connector in $SERVICES (plugin.discovery=service_load works)"
else
  fail "$PLUGIN_DIR_NAME.jar has no $SERVICES naming $CONNECTOR_CLASS (needed for plugin.discovery=service_load)"
fi

# ---------------------------------------------------------------------------------------------------
step "Creating the compacted topic $TOPIC (demo/DemoClient.java)"
mkdir -p "$RUN/classes"
"$JAVAC" -nowarn -cp "$LIBS/*" -d "$RUN/classes" "$DEMO_DIR/DemoClient.java" >"$LOGS/demo-client-build.log" 2>&1 \
  || die "compiling demo/DemoClient.java failed; see $LOGS/demo-client-build.log"
demo_client create-topic "$BOOTSTRAP" "$TOPIC" 3 compact | sed 's/^/    /'

step "Creating the connector: POST /connectors ($(basename "$CONNECTOR_JSON"), webhook.url -> $RECEIVER_URL/cohorts, snapshot.bootstrap.servers -> $BOOTSTRAP)"
# The webhook at the receiver's port, and the full first syncs bounded through the demo's broker. The delivery
# journal and the cohorts' state go under this run's directory: the default (the worker's java.io.tmpdir) outlives
# the demo's broker, and a re-run against a new topic would read there that its cohorts already had their first
# contact, so they would get diffs instead of 'members' pages.
sed -e "s#127\.0\.0\.1:8090#127.0.0.1:$RECEIVER_PORT#g" -e "s#127\.0\.0\.1:9092#$BOOTSTRAP#g" \
  -e "s#^\( *\)\(\"snapshot.bootstrap.servers\": \"[^\"]*\",\)#\1\2\n\1\"delivery.journal.dir\": \"$RUN/journal\",#" \
  "$CONNECTOR_JSON" >"$RUN/config/connector.json"
grep -q '"delivery.journal.dir"' "$RUN/config/connector.json" \
  || die "could not set delivery.journal.dir in $RUN/config/connector.json"
HTTP_CODE=$(curl -s --max-time 30 -o "$RUN/create-connector.out" -w '%{http_code}' -X POST \
  -H 'Content-Type: application/json' --data @"$RUN/config/connector.json" "$CONNECT_URL/connectors" || true)
if [[ $HTTP_CODE != 201 ]]; then
  cat "$RUN/create-connector.out" >&2 2>/dev/null || true
  die "POST /connectors answered HTTP $HTTP_CODE"
fi
note "HTTP 201 Created"

connector_status() { curl -sf --max-time 5 "$CONNECT_URL/connectors/$CONNECTOR_NAME/status"; }
# 0 when the connector and all its tasks are RUNNING; dies at once if one FAILED.
connector_running() {
  local status states
  status=$(connector_status) || return 1
  if grep -q '"state":"FAILED"' <<<"$status"; then
    echo "$status" >"$RUN/status-failed.json"
    # the status with its stack traces unescaped; the cause is near the end of each trace
    sed 's/"trace":"/\
trace: /g; s/\\n/\
/g; s/\\t/    /g; s/\\"/"/g' <<<"$status" | grep -vE '^ +at (org\.apache\.kafka|java\.base)' | head -n 40 >&2
    die "the connector or its task FAILED (status above; worker log $LOGS/connect.log)"
  fi
  states=$(grep -o '"state":"[A-Z]*"' <<<"$status" | sort -u)
  [[ $states == '"state":"RUNNING"' ]] && grep -q '"tasks":\[{' <<<"$status"
}
if wait_until 60 "the connector and its task to be RUNNING" "$LOGS/connect.log" connector_running; then
  pass "connector $CONNECTOR_NAME created through the REST API; connector and task RUNNING"
else
  fail "connector $CONNECTOR_NAME and its task RUNNING within 60s: $(connector_status || true)"
fi

# ---------------------------------------------------------------------------------------------------
RECEIVER_LINES_SHOWN=1
show_new_pages() {
  local total
  total=$(wc -l <"$LOGS/receiver.log")
  if ((total > RECEIVER_LINES_SHOWN)); then
    sed -n "$((RECEIVER_LINES_SHOWN + 1)),${total}p" "$LOGS/receiver.log" | sed 's/^/    /'
    RECEIVER_LINES_SHOWN=$total
  else
    note "(no page received)"
  fi
}

# receiver_has <expected summary lines>: 0 when the receiver's memberships contain every line.
receiver_has() {
  local summary line
  summary=$(curl -sf --max-time 5 "$RECEIVER_URL/summary") || return 1
  connector_running >/dev/null || true   # dies at once if the task FAILED
  while IFS= read -r line; do
    [[ -z $line ]] && continue
    grep -qxF -- "$line" <<<"$summary" || return 1
  done <<<"$1"
}

dlq_count() { demo_client end-offsets "$BOOTSTRAP" "$DLQ_TOPIC" 2>/dev/null || echo 0; }
dlq_has() { [[ $(dlq_count) -ge $1 ]]; }

ROUND=0
sync_round() { # sync_round <changes file>
  local file=$1 expected dlq_expected
  ROUND=$((ROUND + 1))
  step "Round $ROUND: producing $(basename "$file") to $TOPIC"
  grep -E '^# [^e]' "$file" | sed 's/^# /    # /' || true
  demo_client produce "$BOOTSTRAP" "$TOPIC" "$file" | sed 's/^/    /'
  expected=$(sed -n 's/^# expect \(cohort .*\)$/\1/p' "$file")
  step "Round $ROUND: waiting for the webhook pages (sync.interval.ms=2000)"
  if wait_until 60 "the round $ROUND memberships at the receiver" "$LOGS/receiver.log" receiver_has "$expected"; then
    sleep 3   # let a late page of the same sync arrive before showing them
    show_new_pages
    pass "round $ROUND synced: $(printf '%s' "$expected" | paste -sd ';' - | sed 's/;/; /g')"
  else
    show_new_pages
    note "receiver holds: $(curl -sf --max-time 5 "$RECEIVER_URL/summary" | paste -sd ';' - || true)"
    fail "round $ROUND synced within 60s: expected $(printf '%s' "$expected" | paste -sd ';' -)"
  fi
  dlq_expected=$(sed -n 's/^# expect dlq \([0-9]*\)$/\1/p' "$file")
  if [[ -n $dlq_expected ]]; then
    if wait_until 30 "$dlq_expected record(s) in $DLQ_TOPIC" "$LOGS/connect.log" dlq_has "$dlq_expected"; then
      pass "bad record reported to the dead letter queue ($DLQ_TOPIC holds $(dlq_count))"
    else
      fail "$dlq_expected bad record(s) in $DLQ_TOPIC within 30s (it holds $(dlq_count))"
    fi
  fi
}

sync_round "$DEMO_DIR/data/changes-1.txt"
sync_round "$DEMO_DIR/data/changes-2.txt"

# ---------------------------------------------------------------------------------------------------
step "Waiting for the sink's offsets to be committed (offset.flush.interval.ms=5000)"
lag_zero() { [[ $(demo_client lag "$BOOTSTRAP" "connect-$CONNECTOR_NAME" "$TOPIC" 2>/dev/null) == 0 ]]; }
if wait_until 60 "consumer group connect-$CONNECTOR_NAME to commit every offset" "$LOGS/connect.log" lag_zero; then
  pass "every offset of $TOPIC committed (consumer group connect-$CONNECTOR_NAME, lag 0)"
else
  fail "offsets committed within 60s (lag $(demo_client lag "$BOOTSTRAP" "connect-$CONNECTOR_NAME" "$TOPIC" 2>/dev/null || echo '?'))"
fi

step "GET /connectors/$CONNECTOR_NAME/status"
STATUS=$(connector_status || true)
if command -v python3 >/dev/null && printf '%s' "$STATUS" | python3 -m json.tool >/dev/null 2>&1; then
  printf '%s' "$STATUS" | python3 -m json.tool | sed 's/^/    /'
else
  note "$STATUS"
fi
if connector_running; then
  pass "connector and task still RUNNING at the end"
else
  fail "connector and task RUNNING at the end"
fi
PAGE_COUNTS=$(curl -sf --max-time 5 "$RECEIVER_URL/summary" | head -n 1 | sed 's/^pages //' || true)
note "webhook pages received: $PAGE_COUNTS"

# ---------------------------------------------------------------------------------------------------
if [[ $CHECK == 1 ]]; then
  exit 0   # on_exit stops everything and prints the summary
fi

cat <<EOF

==> The demo is running. Pages arriving at the webhook receiver are printed below.
    Produce more changes:  $JAVA -cp '$LIBS/*' $DEMO_DIR/DemoClient.java produce $BOOTSTRAP $TOPIC <file>
    Connector status:      curl -s $CONNECT_URL/connectors/$CONNECTOR_NAME/status
    Receiver memberships:  curl -s $RECEIVER_URL/summary
    Logs:                  $LOGS (broker.log, connect.log, receiver.log)
    Stop:                  Ctrl-C here, or $DEMO_DIR/stop.sh
EOF
tail -n 0 -f "$LOGS/receiver.log" &
TAIL_PID=$!
while sleep 2; do
  if [[ ! -f $PIDS/connect.pid ]]; then   # demo/stop.sh ran elsewhere
    echo "The demo was stopped."
    STARTED=0
    exit 0
  fi
  check_alive
done

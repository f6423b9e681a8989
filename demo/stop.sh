#!/usr/bin/env bash
# Stops the demo started by demo/run.sh: the Connect worker, the webhook receiver and the broker, by
# the pids run.sh saved, then removes the run's state (DEMO_WORK_DIR/run). Logs stay in DEMO_WORK_DIR/logs.
set -euo pipefail

DEMO_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
WORK=${DEMO_WORK_DIR:-$DEMO_DIR/work}
[[ -d $WORK ]] || exit 0
WORK=$(cd "$WORK" && pwd)
PIDS=$WORK/pids

stop_one() { # stop_one <name>: TERM, then KILL after 30 s
  local name=$1 file=$PIDS/$1.pid pid i
  [[ -f $file ]] || return 0
  pid=$(cat "$file")
  # Only a live process of this demo (its command line names the work dir), never a reused pid.
  if [[ -n $pid ]] && kill -0 "$pid" 2>/dev/null && ps -o args= -p "$pid" 2>/dev/null | grep -qF -- "$WORK"; then
    echo "stopping $name (pid $pid)"
    kill "$pid" 2>/dev/null || true
    for ((i = 0; i < 30; i++)); do
      kill -0 "$pid" 2>/dev/null || break
      sleep 1
    done
    if kill -0 "$pid" 2>/dev/null; then
      echo "$name did not stop within 30 s; killing it"
      kill -9 "$pid" 2>/dev/null || true
    fi
  fi
  rm -f "$file"
}

# The worker first (it leaves its group and stops the connector), the broker last.
stop_one connect
stop_one receiver
stop_one broker
rm -rf "$WORK/run"

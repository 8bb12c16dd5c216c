#!/usr/bin/env bash
# Load test of the kiosk triage API: builds yizhu, starts `yizhu serve` on
# loopback with a fresh embedded database (or YIZHU_DB if set), runs
# internal/loadtest with 200 concurrent sessions (closed loop, then with a
# think time per answer) and measures memory per idle session.
#
#   scripts/loadtest-triage.sh [-sessions 200] [-duration 30s] [-think 1s] [-idle 2000]
#
# NICE=-10 runs the server and the load generator at that nice level (as
# root), to measure on a machine shared with other work. Nothing leaves
# the machine.
set -euo pipefail
cd "$(dirname "$0")/.."
GO=${GO:-go}
SESSIONS=200 DURATION=30s THINK=1s IDLE=2000
while [ $# -gt 0 ]; do
  case "$1" in
    -sessions) SESSIONS=$2; shift 2 ;;
    -duration) DURATION=$2; shift 2 ;;
    -think) THINK=$2; shift 2 ;;
    -idle) IDLE=$2; shift 2 ;;
    *) echo "unknown flag $1" >&2; exit 2 ;;
  esac
done
tmp=$(mktemp -d)
pid=""
cleanup() { [ -n "$pid" ] && kill "$pid" 2>/dev/null && wait "$pid" 2>/dev/null; rm -rf "$tmp"; }
trap cleanup EXIT
$GO build ${GOFLAGS_EXTRA:-} -o "$tmp/yizhu" ./cmd/yizhu
$GO build ${GOFLAGS_EXTRA:-} -o "$tmp/loadtest" ./internal/loadtest
run=()
[ -n "${NICE:-}" ] && run=(nice -n "$NICE")
port=${PORT:-$((20000 + RANDOM % 20000))}
url="http://127.0.0.1:$port"
YIZHU_ADDR=127.0.0.1:$port YIZHU_DATA_DIR="$tmp/data" YIZHU_DB=${YIZHU_DB:-sqlite:$tmp/data/yizhu.db} \
  YIZHU_LOG_LEVEL=warn "${run[@]}" "$tmp/yizhu" serve >"$tmp/serve.log" 2>&1 &
pid=$!
for _ in $(seq 1 120); do
  curl -fsS "$url/readyz" >/dev/null 2>&1 && break
  kill -0 "$pid" 2>/dev/null || { cat "$tmp/serve.log"; exit 1; }
  sleep 0.5
done
echo "== machine load before: $(cut -d' ' -f1-3 /proc/loadavg) on $(nproc) cores"
echo "== closed loop: $SESSIONS concurrent sessions, no think time, $DURATION"
"${run[@]}" "$tmp/loadtest" -url "$url" -sessions "$SESSIONS" -think 0 -duration "$DURATION"
echo "== $SESSIONS concurrent sessions, think time $THINK per answer, $DURATION"
db=""
[ -z "${YIZHU_DB:-}" ] && db="$tmp/data/yizhu.db"
"${run[@]}" "$tmp/loadtest" -url "$url" -sessions "$SESSIONS" -think "$THINK" -duration "$DURATION" -idle "$IDLE" -db "$db"
echo "== machine load: $(cut -d' ' -f1-3 /proc/loadavg) on $(nproc) cores"

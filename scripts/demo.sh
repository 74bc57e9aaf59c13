#!/usr/bin/env bash
# `make demo`: start a server on the embedded store, a worker on the example module, submit the
# example workflow and show its live step tree; then shut both down.
set -euo pipefail
cd "$(dirname "$0")/.."
BIN="$PWD/dist/coflux"
PORT="${COFLUX_DEMO_PORT:-7777}"
if (echo >"/dev/tcp/127.0.0.1/$PORT") 2>/dev/null; then PORT=$((20000 + RANDOM % 20000)); fi
DATA="$(mktemp -d "${TMPDIR:-/tmp}/coflux-demo-XXXXXX")"
export COFLUX_HOST="localhost:$PORT" COFLUX_WORKSPACE=demo
pids=()
cleanup() {
  for pid in "${pids[@]}"; do kill -TERM "$pid" 2>/dev/null || true; done
  wait 2>/dev/null || true
  rm -rf "$DATA"
}
trap cleanup EXIT

echo "» starting server on port $PORT (data in $DATA)" >&2
"$BIN" server --port "$PORT" --data-dir "$DATA" 2>"$DATA/server.log" &
pids+=($!)
for _ in $(seq 1 100); do curl -sf "http://127.0.0.1:$PORT/api/discover" >/dev/null && break; sleep 0.1; done

echo "» starting a worker on src/examples/demo.py" >&2
(cd src/examples && exec "$BIN" worker --register demo 2>"$DATA/worker.log") &
pids+=($!)
for _ in $(seq 1 150); do
  "$BIN" manifests inspect -o json 2>/dev/null | grep -q checkout && break
  sleep 0.2
done

echo "» coflux submit demo/checkout '[\"apple\", \"pear\", \"fig\", \"kiwi\"]' --no-wait" >&2
status=0
run=$("$BIN" submit demo/checkout '["apple", "pear", "fig", "kiwi"]' --no-wait -o json | sed -n 's/.*"runId": *"\([^"]*\)".*/\1/p')
echo "» coflux runs inspect $run   (the live step tree; waits for the run)" >&2
if [ -t 1 ]; then
  "$BIN" runs inspect "$run" || status=$?
else
  "$BIN" runs inspect "$run" -o json >/dev/null || status=$?
fi
echo "» coflux runs result $run" >&2
"$BIN" runs result "$run" || true
echo "» worker log (last lines):" >&2
tail -n 5 "$DATA/worker.log" >&2 || true
exit "$status"

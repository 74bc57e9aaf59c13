#!/usr/bin/env bash
# Type-checks, runs bun test and pytest, and ends with one line "N passed, N failed"
# (the sum of both runners). Exits non-zero on any failure.
set -uo pipefail
cd "$(dirname "$0")/.."
status=0
passed=0
failed=0

echo "== type check" >&2
if ! bun check; then
  echo "type check failed" >&2
  status=1
  failed=$((failed + 1))
fi

bpass=0
bfailed=0
# one bun test run; its counts are added to the totals
bun_pass() {
  local log rc count_pass count_fail count_err run_failed
  log=$(mktemp)
  timeout "${BUN_TEST_TIMEOUT:-2700}" bun test --timeout 60000 "$@" 2>&1 | tee "$log"
  rc=${PIPESTATUS[0]}
  count() { awk -v k="$1" '$0 ~ "^ *[0-9]+ "k"$" {n=$1} END {print n+0}' "$log"; }
  count_pass=$(count pass); count_fail=$(count fail); count_err=$(count error)
  run_failed=$(( count_fail > count_err ? count_fail : count_err ))
  if [ "$rc" -ne 0 ] && [ "$run_failed" -eq 0 ]; then run_failed=1; fi
  [ "$rc" -ne 0 ] && status=1
  bpass=$((bpass + count_pass)); bfailed=$((bfailed + run_failed))
  rm -f "$log"
}

echo "== bun test" >&2
bun_pass "$@"
# the end-to-end suite once more with the stores in a real PostgreSQL and the blobs in a real
# S3-compatible server (test/e2e/support/server.ts); skipped only when test files were named
if [ $# -eq 0 ]; then
  echo "== bun test: end-to-end on PostgreSQL + S3" >&2
  COFLUX_TEST_STORE=postgres bun_pass test/e2e
fi
passed=$((passed + bpass)); failed=$((failed + bfailed))

echo "== pytest" >&2
plog=$(mktemp)
PYTEST_DISABLE_PLUGIN_AUTOLOAD=1 python3 -m pytest -q -p no:cacheprovider test/unit/python 2>&1 | tee "$plog"
prc=${PIPESTATUS[0]}
ppass=$(grep -Eo '[0-9]+ passed' "$plog" | tail -1 | awk '{print $1}'); ppass=${ppass:-0}
pfail=$(grep -Eo '[0-9]+ (failed|error|errors)' "$plog" | awk '{s+=$1} END {print s+0}')
if [ "$prc" -ne 0 ] && [ "$prc" -ne 5 ] && [ "$pfail" -eq 0 ]; then pfail=1; fi
if [ "$prc" -ne 0 ] && [ "$prc" -ne 5 ]; then status=1; fi
passed=$((passed + ppass)); failed=$((failed + pfail))
rm -f "$plog"

echo
echo "bun: ${bpass} passed, ${bfailed} failed; pytest: ${ppass} passed, ${pfail} failed" >&2
echo "${passed} passed, ${failed} failed"
exit "$status"

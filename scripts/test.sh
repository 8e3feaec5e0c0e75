#!/usr/bin/env bash
# Test runner (npm test): bootstraps (redis-server required; nfdump and tcpdump optional, their
# tests skip when absent), runs ava with the TAP reporter and ends with the summary line of
# scripts/tap-summary.mjs: "N passed, N failed[, N skipped]". The raw TAP goes to the terminal,
# or with CI set to output/test-results.tap (the failing tests' details are still printed).
# Extra arguments go to ava (e.g. a file glob or --match). Exits non-zero if a test failed,
# ava failed, or no test ran.
set -euo pipefail

ROOT="$(cd "$(dirname "$(readlink -f "${BASH_SOURCE[0]}")")/.." && pwd)"
cd "$ROOT"

"$ROOT/scripts/bootstrap.sh" redis-server --optional nfdump tcpdump

summary_args=()
if [[ -n ${CI:-} && ${CI:-} != false ]]; then
  mkdir -p output
  summary_args=(--raw output/test-results.tap)
fi

# ava's exit status travels in the stream as a TAP comment, so the summary stays the last line.
{
  status=0
  "$ROOT/node_modules/.bin/ava" --tap "$@" </dev/null || status=$?
  echo "# ava-exit-status $status"
} | node "$ROOT/scripts/tap-summary.mjs" "${summary_args[@]}"

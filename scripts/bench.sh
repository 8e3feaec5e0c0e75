#!/usr/bin/env bash
# Benchmark (npm run bench): bootstraps (redis-server, node modules, build), generates
# bench/data/conn.log (1M flows, seed 42) when it is missing, then runs the benchmark on it.
# Extra arguments go to bench/run.js.
set -euo pipefail

ROOT="$(cd "$(dirname "$(readlink -f "${BASH_SOURCE[0]}")")/.." && pwd)"
cd "$ROOT"

"$ROOT/scripts/bootstrap.sh" redis-server

DATA=bench/data/conn.log
if [[ ! -f $DATA || dist/bench/generateConnLog.js -nt $DATA ]]; then
  node dist/bench/generateConnLog.js --flows 1000000 --out "$DATA" --seed 42
fi

# Per-reader parse rates (Zeek TSV/JSON, Argus, Suricata), then the analysis of the conn.log.
node dist/bench/readers.js --records 1000000 --seed 42 || echo "bench: a reader missed its parse-rate target" >&2
exec node --max-semi-space-size=64 dist/bench/run.js "$DATA" "$@"

#!/usr/bin/env bash
# Benchmark (npm run bench): bootstraps (redis-server, node modules, build), generates
# bench/data/conn.log (1M flows, seed 42) when it is missing, then runs the benchmarks.
# Extra arguments go to bench/run.js.
set -euo pipefail

ROOT="$(cd "$(dirname "$(readlink -f "${BASH_SOURCE[0]}")")/.." && pwd)"
cd "$ROOT"

"$ROOT/scripts/bootstrap.sh" redis-server

DATA=bench/data/conn.log
if [[ ! -f $DATA || dist/bench/generateConnLog.js -nt $DATA ]]; then
  node dist/bench/generateConnLog.js --flows 1000000 --out "$DATA" --seed 42
fi

# Per-reader parse rates (Zeek TSV/JSON, Argus, Suricata), the pcap path's packets/s on a
# generated 1 GB capture (bench/data/bench.pcap, made once), then the analysis of the conn.log.
node dist/bench/readers.js --records 1000000 --seed 42 || echo "bench: a reader missed its parse-rate target" >&2
node dist/bench/pcapBench.js --file bench/data/bench.pcap --size-mb 1024 --seed 42 ||
  echo "bench: the pcap path missed its packets/s or memory target" >&2
exec node --max-semi-space-size=64 dist/bench/run.js "$DATA" "$@"

#!/usr/bin/env bash
# Slips entry point: bootstraps what the run needs (redis-server always; nfdump for nfdump/nfcap
# input, tcpdump for live interfaces; node modules and build when stale), then runs the core CLI
# with the same arguments. Works from any directory: relative paths are resolved by the CLI
# against the caller's cwd.
set -euo pipefail

DIR="$(cd "$(dirname "$(readlink -f "${BASH_SOURCE[0]}")")" && pwd)"

mapfile -t packages < <("$DIR/scripts/packages-for-args.sh" "$@")

"$DIR/scripts/bootstrap.sh" "${packages[@]}"
# A larger young generation: flows and their strings die young instead of being copied twice.
exec node --max-semi-space-size=64 "$DIR/dist/core/main.js" "$@"

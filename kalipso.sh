#!/usr/bin/env bash
# Kalipso, the terminal UI of slips-ts: bootstraps like slips.sh (redis-server, node modules, build
# when stale), then runs the TUI with the same arguments. See docs/tui.md.
#   ./kalipso.sh -f capture.pcap     run the core as a child and watch it live
#   ./kalipso.sh -P 6379             attach to a running core
#   ./kalipso.sh -d saved.rdb        browse a saved database
set -euo pipefail

DIR="$(cd "$(dirname "$(readlink -f "${BASH_SOURCE[0]}")")" && pwd)"

mapfile -t packages < <("$DIR/scripts/packages-for-args.sh" "$@")

"$DIR/scripts/bootstrap.sh" "${packages[@]}"
exec node "$DIR/dist/tui/main.js" "$@"

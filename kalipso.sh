#!/usr/bin/env bash
# Kalipso, the terminal UI of slips-ts: bootstraps like slips.sh (redis-server, node modules, build
# when stale), then runs the TUI with the same arguments. See docs/tui.md.
#   ./kalipso.sh -f capture.pcap     run the core as a child and watch it live
#   ./kalipso.sh -P 6379             attach to a running core
#   ./kalipso.sh -d saved.rdb        browse a saved database
set -euo pipefail

DIR="$(cd "$(dirname "$(readlink -f "${BASH_SOURCE[0]}")")" && pwd)"

packages=(redis-server)
for arg in "$@"; do
  case "$arg" in
    -i | --interface | -ap | --access-point) packages+=(tcpdump) ;;
    *nfdump* | *nfcap*) packages+=(nfdump) ;;
  esac
done
mapfile -t packages < <(printf '%s\n' "${packages[@]}" | sort -u)

"$DIR/scripts/bootstrap.sh" "${packages[@]}"
exec node "$DIR/dist/tui/main.js" "$@"

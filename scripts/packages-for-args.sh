#!/usr/bin/env bash
# Prints the Debian packages a run of the core with these arguments needs, one per line:
# redis-server always, tcpdump for live capture (-i, -ap), nfdump for an nfdump/nfcapd input.
# Used by slips.sh and kalipso.sh before they bootstrap.
set -euo pipefail

packages=(redis-server)
for arg in "$@"; do
  case "$arg" in
    -i | --interface | -ap | --access-point) packages+=(tcpdump) ;;
    *nfdump* | *nfcap*) packages+=(nfdump) ;;
  esac
done
printf '%s\n' "${packages[@]}" | sort -u

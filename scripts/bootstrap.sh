#!/usr/bin/env bash
# Bootstrap: make the tree runnable, doing only what is stale (fast no-op otherwise).
#   1. Debian packages named as arguments: required ones first, then any after --optional.
#      Missing + root: apt-get install (system services are not started). Missing + not root:
#      required -> print the sudo command and exit 1; optional -> print a note and go on.
#   2. npm ci when node_modules is missing or package-lock.json is newer than its install stamp
#      (never through a symlinked node_modules).
#   3. npm run build when a source .ts, tsconfig.json or package.json is newer than dist/.build-stamp.
# Usage: scripts/bootstrap.sh redis-server [nfdump ...] [--optional nfdump tcpdump]
# All output goes to stderr.
set -euo pipefail
exec 1>&2

ROOT="$(cd "$(dirname "$(readlink -f "${BASH_SOURCE[0]}")")/.." && pwd)"
cd "$ROOT"

die() { echo "bootstrap: $*" >&2; exit 1; }

is_root() { [[ $(id -u) -eq 0 ]]; }

binary_of() {
  case "$1" in
    redis-server) echo redis-server ;;
    nfdump) echo nfdump ;;
    tcpdump) echo tcpdump ;;
    *) die "unknown package '$1' (known: redis-server nfdump tcpdump)" ;;
  esac
}

# Prints the packages among "$@" whose binary is not installed.
missing_packages() {
  local pkg bin
  for pkg in "$@"; do
    bin="$(binary_of "$pkg")"
    PATH="$PATH:/usr/sbin:/sbin" command -v "$bin" >/dev/null || echo "$pkg"
  done
}

APT_UPDATED=0
apt_install() {
  local created_policy=0 redis_was_running=0 rc=0
  if [[ $APT_UPDATED -eq 0 ]]; then
    echo "bootstrap: apt-get update"
    apt-get update -qq || die "apt-get update failed"
    APT_UPDATED=1
  fi
  # policy-rc.d exiting 101 stops invoke-rc.d/deb-systemd-invoke from starting services
  # (the redis-server package would otherwise start a system redis on 6379).
  if [[ ! -e /usr/sbin/policy-rc.d ]]; then
    printf '#!/bin/sh\nexit 101\n' > /usr/sbin/policy-rc.d
    chmod 755 /usr/sbin/policy-rc.d
    created_policy=1
    trap 'rm -f /usr/sbin/policy-rc.d' EXIT # also when interrupted
  fi
  redis_service_running && redis_was_running=1
  echo "bootstrap: apt-get install $*"
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "$@" || rc=$?
  if [[ $created_policy -eq 1 ]]; then
    rm -f /usr/sbin/policy-rc.d
    trap - EXIT
  fi
  # A pre-existing policy-rc.d may allow starts: stop the service only if this install started it.
  if [[ $redis_was_running -eq 0 ]] && redis_service_running; then
    echo "bootstrap: stopping the redis-server service started by the install"
    if [[ $REDIS_SERVICE == systemd ]]; then systemctl stop redis-server; else /etc/init.d/redis-server stop >/dev/null; fi
  fi
  return "$rc"
}

# Whether the Debian redis-server service (not a private redis-server started by slips) runs;
# sets REDIS_SERVICE to how it is managed.
REDIS_SERVICE=
redis_service_running() {
  if command -v systemctl >/dev/null && systemctl is-active --quiet redis-server 2>/dev/null; then
    REDIS_SERVICE=systemd
  elif [[ -x /etc/init.d/redis-server ]] && /etc/init.d/redis-server status >/dev/null 2>&1; then
    REDIS_SERVICE=initd
  else
    return 1
  fi
}

ensure_packages() {
  local -a required=() optional=() missing
  local in_optional=0 arg
  for arg in "$@"; do
    if [[ $arg == --optional ]]; then in_optional=1; continue; fi
    binary_of "$arg" >/dev/null # dies here, not in a subshell, on an unknown name
    if [[ $in_optional -eq 1 ]]; then optional+=("$arg"); else required+=("$arg"); fi
  done

  mapfile -t missing < <(missing_packages "${required[@]}")
  if [[ ${#missing[@]} -gt 0 ]]; then
    is_root || die "missing ${missing[*]}; install with:
sudo apt-get install -y ${missing[*]}"
    apt_install "${missing[@]}" || die "apt-get install ${missing[*]} failed"
  fi

  mapfile -t missing < <(missing_packages "${optional[@]}")
  if [[ ${#missing[@]} -gt 0 ]]; then
    if is_root; then
      apt_install "${missing[@]}" || echo "bootstrap: warning: could not install optional ${missing[*]}; what needs them is skipped"
    else
      echo "bootstrap: note: optional ${missing[*]} not installed; what needs them is skipped (sudo apt-get install -y ${missing[*]})"
    fi
  fi
}

SRC_DIRS=()
for d in core inputs detections models tui test bench; do
  [[ -d $d ]] && SRC_DIRS+=("$d")
done
STAMP=dist/.build-stamp

# A node_modules that is a symlink (a git worktree sharing another checkout's modules) is
# managed where it points: npm ci here would empty the shared directory.
deps_stale() {
  [[ -L node_modules ]] && return 1
  [[ ! -f node_modules/.package-lock.json || package-lock.json -nt node_modules/.package-lock.json ]]
}

# Directories count too: their mtime changes when a .ts file is added, removed or renamed.
build_stale() {
  [[ ! -f $STAMP || tsconfig.json -nt $STAMP || package.json -nt $STAMP ]] && return 0
  [[ -n $(find "${SRC_DIRS[@]}" -path bench/data -prune -o -newer "$STAMP" \( -name '*.ts' -o -type d \) -print -quit) ]]
}

# Removes compiled files whose .ts source is gone (ava would still run a deleted test).
prune_orphans() {
  local f src
  while IFS= read -r -d '' f; do
    src="${f#dist/}"; src="${src%.map}"; src="${src%.js}.ts"
    [[ -f $src ]] || rm -f "$f"
  done < <(find "${SRC_DIRS[@]/#/dist/}" \( -name '*.js' -o -name '*.js.map' \) -print0 2>/dev/null)
}

build() {
  local new_stamp
  mkdir -p dist
  new_stamp="$(mktemp dist/.build-stamp.XXXXXX)" # taken before compiling: edits made meanwhile stay stale
  echo "bootstrap: building (npm run build)"
  if ! npm run build --silent; then
    rm -f "$new_stamp"
    die "build failed (npm run build)"
  fi
  prune_orphans
  mv -f "$new_stamp" "$STAMP"
}

ensure_node() {
  deps_stale || build_stale || return 0
  mkdir -p dist
  exec 9> dist/.bootstrap.lock
  flock 9 # another bootstrap may be installing or building; recheck after it is done
  if deps_stale; then
    echo "bootstrap: installing node modules (npm ci)"
    npm ci --no-audit --no-fund --loglevel=error >/dev/null || die "npm ci failed"
  fi
  if build_stale; then build; fi
  exec 9>&-
}

ensure_packages "$@"
ensure_node

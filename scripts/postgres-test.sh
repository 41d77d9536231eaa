#!/usr/bin/env bash
# Starts and stops a throwaway PostgreSQL 15 for the database tests.
#
#   postgres-test.sh start STATE_FILE   initdb + start on 127.0.0.1 at a free port; writes
#                                       PGHOST=, PGPORT=, PGUSER=, PGROOT= lines to STATE_FILE
#   postgres-test.sh stop STATE_FILE    stops that server and removes its directory
#
# The cluster lives in a fresh directory under /tmp (the postgres user must be able to reach
# it), uses trust authentication for local test use only, keeps its unix socket inside the data
# directory and listens on 127.0.0.1 only. PostgreSQL refuses to run as root, so when run as
# root the server runs as the `postgres` user (Debian's package creates it).
# Tests run it without durability (fsync and synchronous_commit off); PG_DURABLE=1 keeps
# PostgreSQL's production defaults, for benchmarks whose acknowledged writes must be durable.
set -euo pipefail

PG_BIN="${PG_BIN:-/usr/lib/postgresql/15/bin}"
durability="-c fsync=off -c synchronous_commit=off -c full_page_writes=off"
[[ "${PG_DURABLE:-0}" == 1 ]] && durability=""

usage() {
  echo "usage: $0 start|stop STATE_FILE" >&2
  exit 2
}

[[ $# -eq 2 ]] || usage
action="$1"
state="$2"

as_server_user() {
  if [[ $(id -u) -eq 0 ]]; then
    runuser -u postgres -- "$@"
  else
    "$@"
  fi
}

port_in_use() {
  (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null
}

stop_cluster() {
  local root=""
  if [[ -f "$state" ]]; then
    root="$(sed -n 's/^PGROOT=//p' "$state")"
  fi
  if [[ -n "$root" && -d "$root" ]]; then
    if [[ -f "$root/data/postmaster.pid" ]]; then
      as_server_user "$PG_BIN/pg_ctl" -D "$root/data" -m fast -w -t 60 stop >/dev/null || true
    fi
    rm -rf -- "$root"
  fi
  rm -f -- "$state"
}

start_cluster() {
  [[ -x "$PG_BIN/initdb" ]] || { echo "postgres-test: $PG_BIN/initdb not found (apt-get install postgresql)" >&2; exit 1; }
  # A state file left by an interrupted run: clean it up first.
  stop_cluster
  mkdir -p -- "$(dirname -- "$state")"

  local root
  root="$(mktemp -d /tmp/flyte-pg-XXXXXXXX)"
  chmod 755 "$root"
  mkdir "$root/data"
  chmod 700 "$root/data"
  if [[ $(id -u) -eq 0 ]]; then
    chown -R postgres:postgres "$root"
  fi
  # Record the directory at once so `stop` removes it even if the start fails below.
  printf 'PGROOT=%s\n' "$root" >"$state"

  if ! as_server_user "$PG_BIN/initdb" -D "$root/data" -U postgres -A trust -E UTF8 \
      --locale=C --no-sync >"$root/initdb.log" 2>&1; then
    cat "$root/initdb.log" >&2
    stop_cluster
    exit 1
  fi

  local port="" attempt candidate
  for attempt in $(seq 1 25); do
    candidate=$((20000 + (RANDOM * 32768 + RANDOM) % 40000))
    port_in_use "$candidate" && continue
    if as_server_user "$PG_BIN/pg_ctl" -D "$root/data" -l "$root/postgres.log" -w -t 60 \
        -o "-p $candidate -k $root/data -c listen_addresses=127.0.0.1 $durability -c max_connections=200" \
        start >/dev/null 2>&1; then
      port="$candidate"
      break
    fi
  done
  if [[ -z "$port" ]]; then
    echo "postgres-test: could not start PostgreSQL; log follows" >&2
    cat "$root/postgres.log" >&2 || true
    stop_cluster
    exit 1
  fi
  printf 'PGROOT=%s\nPGHOST=127.0.0.1\nPGPORT=%s\nPGUSER=postgres\n' "$root" "$port" >"$state"
  echo "postgres-test: PostgreSQL listening on 127.0.0.1:$port (data in $root/data)"
}

case "$action" in
  start) start_cluster ;;
  stop) stop_cluster ;;
  *) usage ;;
esac

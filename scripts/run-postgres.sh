#!/usr/bin/env bash
# Runs a local PostgreSQL cluster for the AppHost (no container runtime) and for tests.
# usage: run-postgres.sh BIN_DIR DATA_DIR PORT [DATABASE]
# Initialises the cluster on first run (trust auth on 127.0.0.1 only), starts it, creates DATABASE if missing,
# and stays in the foreground until SIGTERM/SIGINT, which stops the server cleanly.
# PostgreSQL refuses to run as root: as root, everything runs as the 'postgres' user.
set -euo pipefail
bin="$1"; data="$2"; port="$3"; database="${4:-}"

as_pg() {
  if [ "$(id -u)" = "0" ]; then runuser -u postgres -- "$@"; else "$@"; fi
}

mkdir -p "$data"
if [ "$(id -u)" = "0" ]; then
  id postgres >/dev/null 2>&1 || useradd --system --home-dir /var/lib/postgresql --shell /bin/bash postgres
  chown postgres:postgres "$data"
fi
chmod 0700 "$data"

if [ ! -f "$data/PG_VERSION" ]; then
  as_pg "$bin/initdb" -D "$data" -U postgres -A trust --encoding=UTF8 --locale=C.UTF-8 >/dev/null
  {
    echo "listen_addresses = '127.0.0.1'"
    echo "unix_socket_directories = ''"
    echo "fsync = on"
    echo "max_connections = 200"
  } >> "$data/postgresql.conf"
fi

as_pg "$bin/postgres" -D "$data" -p "$port" -c listen_addresses=127.0.0.1 -c unix_socket_directories= &
pid=$!
# A "fast" shutdown: clients are disconnected and the data checkpointed. (A plain SIGTERM is "smart" and waits for every
# pooled client connection to close on its own, i.e. forever; pg_ctl reaches the server itself, not the runuser wrapper.)
stop() {
  as_pg "$bin/pg_ctl" stop -D "$data" -m fast -w -t 30 >/dev/null 2>&1 || kill -TERM "$pid" 2>/dev/null || true
  wait "$pid" 2>/dev/null || true
}
trap 'stop; exit 0' TERM INT
trap 'status=$?; if [ "$status" != 0 ]; then stop; fi' EXIT

if [ -n "$database" ]; then
  ready=0
  for _ in $(seq 1 300); do
    if "$bin/pg_isready" -h 127.0.0.1 -p "$port" -q; then ready=1; break; fi
    kill -0 "$pid" 2>/dev/null || { echo "PostgreSQL exited during start" >&2; exit 1; }
    sleep 0.1
  done
  [ "$ready" = 1 ] || { echo "PostgreSQL did not accept connections within 30 s" >&2; exit 1; }
  if ! "$bin/psql" -h 127.0.0.1 -p "$port" -U postgres -tAc "SELECT 1 FROM pg_database WHERE datname='$database'" postgres | grep -q 1; then
    "$bin/psql" -h 127.0.0.1 -p "$port" -U postgres -c "CREATE DATABASE \"$database\"" postgres >/dev/null
  fi
  echo "PostgreSQL ready on 127.0.0.1:$port, database $database"
fi

wait "$pid"

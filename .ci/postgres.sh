#!/usr/bin/env bash
# Start (or stop) a throw-away PostgreSQL server on loopback for the tests.
#   .ci/postgres.sh start   → prints the URL to export as TOKENFLEET_TEST_PG_URL
#   .ci/postgres.sh stop
#   .ci/postgres.sh status → exit 0 when it is running
# Uses Debian's postgresql packages (installed by .ci/run); runs the server as the `postgres`
# user with trust authentication on 127.0.0.1 only. Env: PGPORT_TEST (default 54329),
# PGDATA_TEST (default /tmp/tokenfleet-pg).
set -euo pipefail
PORT=${PGPORT_TEST:-54329}
DATA=${PGDATA_TEST:-/tmp/tokenfleet-pg}
BIN=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n1)
[ -n "$BIN" ] || { echo "postgres.sh: PostgreSQL server binaries not found (apt-get install postgresql)" >&2; exit 1; }
as_pg() { if [ "$(id -u)" = 0 ]; then runuser -u postgres -- "$@"; else "$@"; fi; }

case "${1:-start}" in
start)
    if as_pg "$BIN/pg_ctl" -D "$DATA" status >/dev/null 2>&1; then
        echo "postgresql://postgres@127.0.0.1:$PORT/postgres"; exit 0
    fi
    rm -rf "$DATA"; mkdir -p "$DATA"
    [ "$(id -u)" = 0 ] && chown postgres:postgres "$DATA"
    as_pg "$BIN/initdb" -D "$DATA" -U postgres --auth=trust --encoding=UTF8 --locale=C.UTF-8 >/dev/null
    as_pg "$BIN/pg_ctl" -D "$DATA" -l "$DATA/server.log" -w -t 30 \
        -o "-c listen_addresses=127.0.0.1 -p $PORT -k /tmp -c fsync=off -c max_connections=200" start >/dev/null
    echo "postgresql://postgres@127.0.0.1:$PORT/postgres"
    ;;
stop)
    as_pg "$BIN/pg_ctl" -D "$DATA" -m fast stop >/dev/null 2>&1 || true
    ;;
status)
    as_pg "$BIN/pg_ctl" -D "$DATA" status >/dev/null 2>&1
    ;;
*) echo "usage: $0 start|stop|status" >&2; exit 2 ;;
esac

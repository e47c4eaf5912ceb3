#!/usr/bin/env bash
# A throwaway PostgreSQL on 127.0.0.1 for the store's tests (and the index benchmark).
#
#   scripts/with-postgres.sh CMD ARGS...   start, export TURNCOAT_TEST_POSTGRES, run CMD, stop
#   source scripts/with-postgres.sh        start and export in the current shell (stopped on
#                                          exit of that shell; .ci/run does this)
#
# Installs postgresql-15 with apt when no `initdb` is found. PostgreSQL refuses to run as
# root, so as root the cluster belongs to `nobody` (through setpriv). The cluster lives in a
# temporary directory with trust authentication on 127.0.0.1 only, on a free port.

_tc_pg_start() {
    local bin
    bin="$(command -v initdb 2>/dev/null || true)"
    if [ -z "$bin" ]; then
        for d in /usr/lib/postgresql/*/bin; do [ -x "$d/initdb" ] && bin="$d/initdb"; done
    fi
    if [ -z "$bin" ]; then
        apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq postgresql-15 >/dev/null
        bin=/usr/lib/postgresql/15/bin/initdb
    fi
    local pgbin
    pgbin="$(dirname "$(readlink -f "$bin")")"
    TC_PG_DIR="$(mktemp -d /tmp/turncoat-pg.XXXXXX)"
    local port
    port="$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])' 2>/dev/null || echo 55432)"
    local run=()
    if [ "$(id -u)" = 0 ]; then
        chown nobody "$TC_PG_DIR"
        chmod 700 "$TC_PG_DIR"
        run=(setpriv --reuid=nobody --regid=nogroup --clear-groups --)
    fi
    TC_PG_RUN=("${run[@]}")
    TC_PG_BIN="$pgbin"
    "${run[@]}" "$pgbin/initdb" -D "$TC_PG_DIR/data" -U turncoat --auth=trust -E UTF8 >"$TC_PG_DIR/initdb.log" 2>&1 \
        || { cat "$TC_PG_DIR/initdb.log" >&2; return 1; }
    "${run[@]}" "$pgbin/pg_ctl" -D "$TC_PG_DIR/data" -l "$TC_PG_DIR/server.log" -w \
        -o "-h 127.0.0.1 -p $port -k $TC_PG_DIR -c fsync=off -c max_connections=100" start >/dev/null \
        || { cat "$TC_PG_DIR/server.log" >&2; return 1; }
    export TURNCOAT_TEST_POSTGRES="postgres://turncoat@127.0.0.1:$port/postgres"
    echo "PostgreSQL $("$pgbin/postgres" --version | awk '{print $NF}') on 127.0.0.1:$port ($TC_PG_DIR)" >&2
}

_tc_pg_stop() {
    if [ -n "${TC_PG_DIR:-}" ] && [ -d "$TC_PG_DIR/data" ]; then
        "${TC_PG_RUN[@]}" "$TC_PG_BIN/pg_ctl" -D "$TC_PG_DIR/data" -m fast -w stop >/dev/null 2>&1 || true
        rm -rf "$TC_PG_DIR"
    fi
}

if [ "${BASH_SOURCE[0]}" != "$0" ]; then
    # Sourced.
    _tc_pg_start && trap _tc_pg_stop EXIT
else
    set -euo pipefail
    _tc_pg_start
    trap _tc_pg_stop EXIT
    "$@"
fi

#!/usr/bin/env bash
# The index benchmark (issue 17): a generated index of REPOS repositories × PACKAGES locked
# packages on SQLite and PostgreSQL; who-has of an exact version (p50/p99, target < 100 ms) and
# `index add` of one 1,500-package lockfile on SQLite (target < 50 ms).
#
#   scripts/bench-index.sh [REPOS [PACKAGES]]      default 10000 × 1000 (10 M rows: long, big)
#
# Needs a few GB of disk at full scale. PostgreSQL comes from scripts/with-postgres.sh.
set -euo pipefail
cd "$(dirname "$0")/.."
REPOS="${1:-10000}"
PACKAGES="${2:-1000}"
PROFILE="${BENCH_PROFILE:-release}"
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-target}"
cargo build --quiet --profile "$PROFILE" -p turncoat-incident --example bench_index
dir="$CARGO_TARGET_DIR/$([ "$PROFILE" = dev ] && echo debug || echo "$PROFILE")/examples"
work="$(mktemp -d /tmp/turncoat-bench.XXXXXX)"
trap 'rm -rf "$work"' EXIT
echo "== machine: $(nproc) cores, $(awk '/MemTotal/ {printf "%.0f GiB", $2/1048576}' /proc/meminfo), $(uname -sr)"
echo "== $REPOS repositories x $PACKAGES packages ($PROFILE build)"
echo "-- SQLite"
"$dir/bench_index" "$work/index.sqlite" "$REPOS" "$PACKAGES"
ls -lh "$work/index.sqlite" | awk '{print "file size: " $5}'
echo "-- PostgreSQL"
scripts/with-postgres.sh bash -c "\"$dir/bench_index\" \"\$TURNCOAT_TEST_POSTGRES\" $REPOS $PACKAGES"

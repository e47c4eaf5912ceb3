#!/usr/bin/env bash
# Bench: the four large tarballs (typescript, webpack, lodash, @babel/core) through GuardDog and
# through `turncoat scan`, one after the other on the same machine, reported as a ratio.
# GuardDog comes from PyPI into target/guarddog-venv; it runs offline on a local .tgz (its
# start-up downloads of top-package lists fail here and it carries on).
# Usage: scripts/bench-guarddog.sh
set -euo pipefail
cd "$(dirname "$0")/.."
DIR="${TURNCOAT_BENCH_TARBALLS:-target/bench-tarballs}"
BIN="${TURNCOAT_BIN:-target/release/turncoat}"
[ -n "$(ls "$DIR"/*.tgz 2>/dev/null)" ] || bash scripts/fetch-bench-tarballs.sh
[ -x "$BIN" ] || cargo build --release --locked -p turncoat-cli
VENV=target/guarddog-venv
if [ ! -x "$VENV/bin/guarddog" ]; then
  python3 -m venv "$VENV"
  "$VENV/bin/pip" install -q guarddog
fi
now_ms() { echo $(( $(date +%s%N) / 1000000 )); }
total_gd=0; total_tc=0
printf '%-28s %12s %12s %8s\n' tarball guarddog_ms turncoat_ms ratio
for t in "$DIR"/*.tgz; do
  s=$(now_ms); "$VENV/bin/guarddog" npm scan "$t" --output-format json >/dev/null 2>&1 || true; e=$(now_ms)
  gd=$((e - s))
  s=$(now_ms); "$BIN" scan "$t" --offline --format json -q >/dev/null 2>&1 || true; e=$(now_ms)
  tc=$((e - s))
  total_gd=$((total_gd + gd)); total_tc=$((total_tc + tc))
  printf '%-28s %12d %12d %7.1fx\n' "$(basename "$t")" "$gd" "$tc" "$(echo "$gd / ($tc + 0.001)" | bc -l)"
done
printf '%-28s %12d %12d %7.1fx\n' total "$total_gd" "$total_tc" "$(echo "$total_gd / ($total_tc + 0.001)" | bc -l)"
echo "machine: $(nproc) cores, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | xargs), load $(cut -d' ' -f1-3 /proc/loadavg)"

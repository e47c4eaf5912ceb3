#!/usr/bin/env bash
# Bench: two turncoat builds side by side, alternating, on the benches whose figures must not
# regress: `turncoat scan` of the four large tarballs (the turncoat half of
# scripts/bench-guarddog.sh) and the 20-package offline `diff` of scripts/bench-diff.sh.
# Each round runs both builds, the order swapped every round, so machine load hits both alike.
# Reported per build: median wall time and median CPU time (user + system, all threads), the
# latter being the steadier figure on a shared machine.
# Usage: scripts/bench-regression.sh OLD_BIN NEW_BIN [ROUNDS=5]
# (build the old one with e.g. `git worktree add /tmp/old REV && CARGO_TARGET_DIR=/tmp/old-target
#  cargo build --release -p turncoat-cli` in /tmp/old).
set -euo pipefail
cd "$(dirname "$0")/.."
OLD="${1:?usage: bench-regression.sh OLD_BIN NEW_BIN [ROUNDS]}"
NEW="${2:?usage: bench-regression.sh OLD_BIN NEW_BIN [ROUNDS]}"
ROUNDS="${3:-5}"
DIR="${TURNCOAT_BENCH_TARBALLS:-target/bench-tarballs}"
for b in "$OLD" "$NEW"; do [ -x "$b" ] || { echo "not an executable: $b" >&2; exit 2; }; done
[ -n "$(ls "$DIR"/*.tgz 2>/dev/null)" ] || bash scripts/fetch-bench-tarballs.sh
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
export TURNCOAT_CACHE_DIR="${TURNCOAT_CACHE_DIR:-$HOME/.cache/turncoat}"
# The diff lockfiles, and a cache both builds can read offline.
for b in "$OLD" "$NEW"; do BENCH_WORK="$work/diff" TURNCOAT_BIN="$b" bash scripts/bench-diff.sh 20 1 >/dev/null 2>&1; done

# `measure NAME CMD…`: append "wall_ms cpu_ms" of one run to $work/NAME.
measure() {
  local name="$1"; shift
  local s e
  s=$(date +%s%N)
  /usr/bin/time -f "%U %S" -o "$work/time" "$@" >/dev/null 2>&1 || true
  e=$(date +%s%N)
  echo "$(( (e - s) / 1000000 )) $(awk '{printf "%d", ($1 + $2) * 1000}' "$work/time")" >> "$work/$name"
}
scan_all() { for t in "$DIR"/*.tgz; do "$1" scan "$t" --offline --format json -q || [ $? -eq 1 ]; done; }
export -f scan_all
export DIR
for r in $(seq "$ROUNDS"); do
  if (( r % 2 )); then order=(old new); else order=(new old); fi
  for which in "${order[@]}"; do
    if [ "$which" = old ]; then b="$OLD"; else b="$NEW"; fi
    measure "scan-$which" bash -c 'scan_all "$0"' "$b"
    measure "diff-$which" "$b" diff "$work/diff/base/package-lock.json" "$work/diff/head/package-lock.json" --offline --format json -o "$work/out.json" -q
  done
  echo "round $r done" >&2
done
med() { awk -v c="$2" '{print $c}' "$work/$1" | sort -n | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}'; }
pct() { echo "($2 - $1) * 100 / $1" | bc -l; }
printf '%-34s %9s %9s %8s %9s %9s %8s\n' bench old_wall new_wall change old_cpu new_cpu change
for bench in scan diff; do
  ow=$(med "$bench-old" 1); nw=$(med "$bench-new" 1); oc=$(med "$bench-old" 2); nc=$(med "$bench-new" 2)
  label="scan, four large tarballs"; [ "$bench" = diff ] && label="diff, 20 packages, warm, offline"
  printf '%-34s %9d %9d %+7.1f%% %9d %9d %+7.1f%%\n' "$label" "$ow" "$nw" "$(pct "$ow" "$nw")" "$oc" "$nc" "$(pct "$oc" "$nc")"
done
echo "milliseconds, medians over $ROUNDS alternating rounds; machine: $(nproc) cores, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | xargs), load $(cut -d' ' -f1-3 /proc/loadavg)"

#!/usr/bin/env bash
# Bench: two turncoat builds side by side, alternating, on the benches whose figures must not
# regress: `turncoat scan` of the four large tarballs (the turncoat half of
# scripts/bench-guarddog.sh) and the 20-package offline `diff` of scripts/bench-diff.sh.
# Each round runs both builds, the order swapped every round, so machine load hits both alike.
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

now_ms() { echo $(( $(date +%s%N) / 1000000 )); }
scan_ms() {
  local s e; s=$(now_ms)
  for t in "$DIR"/*.tgz; do "$1" scan "$t" --offline --format json -q >/dev/null 2>&1 || true; done
  e=$(now_ms); echo $((e - s))
}
diff_ms() {
  TURNCOAT_BIN="$1" bash scripts/bench-diff.sh 20 3 2>/dev/null | sed -n 's/.*median \([0-9]*\) ms.*/\1/p'
}
median() { sort -n | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}'; }

declare -a scan_old scan_new diff_old diff_new
for r in $(seq "$ROUNDS"); do
  if (( r % 2 )); then order=("$OLD" "$NEW"); else order=("$NEW" "$OLD"); fi
  for b in "${order[@]}"; do
    s=$(scan_ms "$b"); d=$(diff_ms "$b")
    if [ "$b" = "$OLD" ]; then scan_old+=("$s"); diff_old+=("$d"); else scan_new+=("$s"); diff_new+=("$d"); fi
  done
  echo "round $r: scan old ${scan_old[-1]} / new ${scan_new[-1]} ms; diff old ${diff_old[-1]} / new ${diff_new[-1]} ms" >&2
done
s_old=$(printf '%s\n' "${scan_old[@]}" | median); s_new=$(printf '%s\n' "${scan_new[@]}" | median)
d_old=$(printf '%s\n' "${diff_old[@]}" | median); d_new=$(printf '%s\n' "${diff_new[@]}" | median)
printf '%-34s %10s %10s %8s\n' bench old_ms new_ms change
printf '%-34s %10d %10d %+7.1f%%\n' "scan, four large tarballs" "$s_old" "$s_new" "$(echo "($s_new - $s_old) * 100 / $s_old" | bc -l)"
printf '%-34s %10d %10d %+7.1f%%\n' "diff, 20 packages, warm, offline" "$d_old" "$d_new" "$(echo "($d_new - $d_old) * 100 / $d_old" | bc -l)"
echo "medians over $ROUNDS alternating rounds; machine: $(nproc) cores, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | xargs), load $(cut -d' ' -f1-3 /proc/loadavg)"

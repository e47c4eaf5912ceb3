#!/usr/bin/env bash
# Overhead of `turncoat watch` on a real install: `npm ci --offline` of express + lodash
# (~70 packages) plain, under `turncoat watch`, and under `strace -f` (the usual way to get the
# same record), N runs each.
#
# The three commands run in interleaved rounds (plain, watch, strace, plain, ...) so that
# drift on a shared machine hits all three alike; medians and overhead against plain are
# printed. When hyperfine is available (the script installs it with apt-get if it can), it
# then runs the same three commands back to back as a cross-check.
#
# Network: only the setup talks to the public registry (`npm install --package-lock-only` to
# make the lockfile, one `npm ci` to warm the cache). The timed runs are all --offline.
#
# Usage: scripts/bench-watch.sh [N]        (default N=5; BENCH_KEEP=1 keeps the temp dir)
set -euo pipefail

N="${1:-5}"
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"

for tool in npm node strace; do
    command -v "$tool" >/dev/null || { echo "bench-watch: $tool is not on PATH" >&2; exit 2; }
done

echo "== building turncoat (release)" >&2
(cd "$ROOT" && cargo build --release -q -p turncoat-cli)
TURNCOAT="$ROOT/target/release/turncoat"
if ! "$TURNCOAT" watch --help >/dev/null 2>&1; then
    echo "bench-watch: this turncoat has no 'watch' command yet" >&2
    exit 2
fi

WORK="$(mktemp -d "${TMPDIR:-/tmp}/bench-watch.XXXXXX")"
if [[ "${BENCH_KEEP:-0}" != 1 ]]; then
    trap 'rm -rf "$WORK"' EXIT
fi
PROJECT="$WORK/project"
mkdir -p "$PROJECT" "$WORK/home" "$WORK/tmp"
# Keep the user's npm config and cache out of it.
export HOME="$WORK/home" TMPDIR="$WORK/tmp" NO_COLOR=1
cd "$PROJECT"
cat >package.json <<'EOF'
{
  "name": "bench-watch",
  "version": "1.0.0",
  "private": true,
  "dependencies": {
    "express": "^4.21.0",
    "lodash": "^4.17.21"
  }
}
EOF
# The cache stays where npm keeps it by default ($HOME/.npm): `turncoat watch` shows that one
# to the command copy-on-write; a cache elsewhere under /tmp is hidden by its private /tmp.
cat >.npmrc <<EOF
audit=false
fund=false
update-notifier=false
EOF

echo "== lockfile and cache warm-up (public registry)" >&2
npm install --package-lock-only --silent
npm ci --silent
PACKAGES="$(node -e 'const l=require("./package-lock.json");console.log(Object.keys(l.packages).filter(k=>k).length)')"

CMDS=(
    "npm ci --offline --silent"
    "$TURNCOAT watch --allow-host registry.npmjs.org -- npm ci --offline --silent"
    "strace -f -o /dev/null -e trace=execve,connect,sendto,openat npm ci --offline --silent"
)
NAMES=(plain watch strace)

# One timed run of command $1 in ms (node_modules removed first, untimed); output to a log.
time_one() {
    rm -rf node_modules
    local t0 t1
    t0="$(date +%s%N)"
    if ! bash -c "$1" >>"$WORK/run.log" 2>&1; then
        echo "bench-watch: failed: $1" >&2
        tail -n 30 "$WORK/run.log" >&2
        exit 2
    fi
    t1="$(date +%s%N)"
    echo $(((t1 - t0) / 1000000))
}

median() { printf '%s\n' "$@" | sort -n | awk '{a[NR]=$1} END {if (NR%2) print a[(NR+1)/2]; else print (a[NR/2]+a[NR/2+1])/2}'; }

# One untimed run of each, so every path (and the page cache) is warm.
for c in "${CMDS[@]}"; do time_one "$c" >/dev/null; done

declare -A SAMPLES
for ((round = 1; round <= N; round++)); do
    for i in "${!CMDS[@]}"; do
        ms="$(time_one "${CMDS[$i]}")"
        SAMPLES[$i]+="$ms "
        echo "round $round ${NAMES[$i]}: ${ms} ms" >&2
    done
done

echo
echo "npm ci --offline, $PACKAGES packages, $N interleaved runs each ($(nproc) CPUs, $(uname -r))"
# shellcheck disable=SC2086
BASE="$(median ${SAMPLES[0]})"
for i in "${!CMDS[@]}"; do
    # shellcheck disable=SC2086
    med="$(median ${SAMPLES[$i]})"
    over="$(awk -v m="$med" -v b="$BASE" 'BEGIN {printf "%+.1f%%", (m / b - 1) * 100}')"
    printf '%-7s median %6s ms  (%s vs plain)  runs: %s\n' "${NAMES[$i]}" "$med" "$over" "${SAMPLES[$i]}"
done

if ! command -v hyperfine >/dev/null && command -v apt-get >/dev/null && [[ "$(id -u)" == 0 ]]; then
    echo "== installing hyperfine" >&2
    apt-get install -y -q hyperfine >/dev/null 2>&1 ||
        { apt-get update -q >/dev/null 2>&1 && apt-get install -y -q hyperfine >/dev/null 2>&1; } || true
fi
if command -v hyperfine >/dev/null; then
    echo
    echo "hyperfine cross-check (back to back, not interleaved):"
    hyperfine --style basic --runs "$N" --warmup 1 --prepare 'rm -rf node_modules' \
        --export-json "$WORK/hyperfine.json" \
        -n plain "${CMDS[0]}" -n watch "${CMDS[1]}" -n strace "${CMDS[2]}" >&2
    node -e '
        const r = require(process.argv[1]).results;
        const base = r[0].median;
        for (const x of r)
            console.log(`${x.command.padEnd(7)} median ${(x.median * 1000).toFixed(0).padStart(6)} ms  (${x.median >= base ? "+" : ""}${((x.median / base - 1) * 100).toFixed(1)}% vs plain)`);
    ' "$WORK/hyperfine.json"
else
    echo "(hyperfine not available: interleaved timing loop only)"
fi

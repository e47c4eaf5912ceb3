#!/usr/bin/env bash
# Bench: `turncoat diff` of a 20-package update with a warm cache, offline.
# Builds base/head package-lock.json files from the first N pairs of the benign corpus
# (real packages), warms the cache with one online run, then times offline runs.
# Usage: scripts/bench-diff.sh [N=20] [RUNS=5]
set -euo pipefail
cd "$(dirname "$0")/.."
N="${1:-20}"
RUNS="${2:-5}"
CORPUS="${CORPUS:-../shared/corpus/benign-npm-dev.tsv}"
BIN="${TURNCOAT_BIN:-target/release/turncoat}"
[ -x "$BIN" ] || cargo build --release --locked -p turncoat-cli
# BENCH_WORK=DIR keeps the generated lockfiles there (scripts/bench-regression.sh reuses them).
if [ -n "${BENCH_WORK:-}" ]; then
  work="$BENCH_WORK"; mkdir -p "$work"
else
  work="$(mktemp -d)"
  trap 'rm -rf "$work"' EXIT
fi
python3 - "$CORPUS" "$N" "$work" <<'PY'
import json, sys, os
corpus, n, work = sys.argv[1], int(sys.argv[2]), sys.argv[3]
rows = [l.rstrip("\n").split("\t") for l in open(corpus)][1:1 + n]
for side, vi, ii in (("base", 1, 3), ("head", 2, 4)):
    pk = {"": {"name": "bench", "version": "1.0.0", "dependencies": {r[0]: r[vi] for r in rows}}}
    for r in rows:
        base = r[0].rsplit("/", 1)[-1]
        pk["node_modules/" + r[0]] = {
            "version": r[vi],
            "resolved": f"https://registry.npmjs.org/{r[0]}/-/{base}-{r[vi]}.tgz",
            "integrity": r[ii],
        }
    os.makedirs(f"{work}/{side}", exist_ok=True)
    json.dump({"name": "bench", "version": "1.0.0", "lockfileVersion": 3, "requires": True, "packages": pk},
              open(f"{work}/{side}/package-lock.json", "w"), indent=2)
PY
export TURNCOAT_CACHE_DIR="${TURNCOAT_CACHE_DIR:-$HOME/.cache/turncoat}"
echo "warming the cache (online, once)…" >&2
"$BIN" diff "$work/base/package-lock.json" "$work/head/package-lock.json" --format json -o "$work/warm.json" -q || [ $? -eq 1 ]
times=()
for _ in $(seq "$RUNS"); do
  s=$(date +%s%N)
  "$BIN" diff "$work/base/package-lock.json" "$work/head/package-lock.json" --offline --format json -o "$work/out.json" -q || [ $? -eq 1 ]
  e=$(date +%s%N)
  times+=($(( (e - s) / 1000000 )))
done
sorted=$(printf '%s\n' "${times[@]}" | sort -n)
median=$(echo "$sorted" | sed -n "$(( (RUNS + 1) / 2 ))p")
echo "turncoat diff, $N-package update, warm cache, offline: median ${median} ms over $RUNS runs (all: ${times[*]} ms)"
echo "machine: $(nproc) cores, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | xargs), load $(cut -d' ' -f1-3 /proc/loadavg)"

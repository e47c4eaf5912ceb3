#!/usr/bin/env bash
# GuardDog's PyPI rules side by side with turncoat on the benign PyPI corpus (issue 15): for the
# newer file of every release pair, `guarddog pypi scan FILE --output-format json`, then
# `turncoat scan FILE` (the file alone, like GuardDog) and `turncoat diff OLD NEW` (our real,
# history-relative verdict), one after the other on the same machine. Records per file the
# time of each tool, GuardDog's rules that fired (its labels) and risk label, our verdicts and
# codes; prints a table and totals (files flagged by each, time ratio as sum and median).
#
# Usage: scripts/bench-guarddog-pypi.sh [dev|dev2|CORPUS.tsv ...]   (default: dev dev2)
#        scripts/bench-guarddog-pypi.sh --summary RESULTS.tsv ...  (table and totals of earlier runs)
# Environment:
#   TURNCOAT_PYPI_CACHE  files by sha256 (default $TMPDIR/turncoat-pypi-corpus, as
#                        `turncoat-conformance benign-pypi`, which fetches missing ones)
#   GUARDDOG_VENV        a venv with guarddog (default target/guarddog-venv, installed from
#                        PyPI when missing: guarddog==3.2.0)
#   GUARDDOG_TIMEOUT     seconds per GuardDog file (default 300); a timeout is recorded as such
#   TURNCOAT_BIN         turncoat binary (default: release build, built first)
#   LIMIT                pairs per corpus (default all)
#   OUT                  results directory (default target/bench-guarddog-pypi)
# GuardDog runs offline: its start-up downloads of top-package lists fail and it carries on.
# Run it nice'd on a shared machine (`nice -n 10 scripts/bench-guarddog-pypi.sh`).
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$(pwd)
CORPUS_DIR="$ROOT/../shared/corpus"
CACHE="${TURNCOAT_PYPI_CACHE:-${TMPDIR:-/tmp}/turncoat-pypi-corpus}"
VENV="${GUARDDOG_VENV:-target/guarddog-venv}"
TIMEOUT="${GUARDDOG_TIMEOUT:-300}"
LIMIT="${LIMIT:-0}"
OUT="${OUT:-target/bench-guarddog-pypi}"
summary() { python3 - "$@" <<'EOF'
import csv, statistics, sys
rows = [r for f in sys.argv[1:] for r in csv.DictReader(open(f), delimiter="\t")]
print(f"{'package':<22} {'to':<12} {'MB':>6} {'guarddog_ms':>11} {'scan_ms':>8} {'diff_ms':>8}  guarddog risk: rules | scan | diff")
for r in rows:
    gd = r["gd_ms"] + ("(T/O)" if r["gd_status"] == "timeout" else "")
    print(f"{r['package']:<22} {r['to']:<12} {r['mb']:>6} {gd:>11} {r['scan_ms']:>8} {r['diff_ms']:>8}  "
          f"{r['gd_risk']}: {r['gd_rules']} | {r['scan_verdict']} {r['scan_codes']} | {r['diff_verdict']} {r['diff_codes']}")
n = len(rows)
ok = [r for r in rows if r["gd_status"] == "ok"]
def pct(k): return f"{k} ({100 * k / max(n, 1):.1f} %)"
print(f"\nfiles: {n}; GuardDog ok {len(ok)}, timeouts {sum(r['gd_status'] == 'timeout' for r in rows)}, "
      f"errors {sum(r['gd_status'] == 'error' for r in rows)}")
print(f"flagged by GuardDog, any rule:        {pct(sum(r['gd_rules'] != '-' for r in ok))}")
print(f"flagged by GuardDog, a threat-* rule: {pct(sum('threat-' in r['gd_rules'] for r in ok))}")
labels = {}
for r in ok: labels[r["gd_risk"]] = labels.get(r["gd_risk"], 0) + 1
print("GuardDog risk labels: " + ", ".join(f"{k} {v}" for k, v in sorted(labels.items())))
for tool in ("scan", "diff"):
    v = [r[f"{tool}_verdict"] for r in rows]
    print(f"turncoat {tool}: block {pct(v.count('block'))}, warn {pct(v.count('warn'))}, "
          f"errors {v.count('error')}")
rules = {}
for r in ok:
    for x in r["gd_rules"].split(","):
        if x != "-": rules[x] = rules.get(x, 0) + 1
print("GuardDog rules, files where each fired: " +
      ", ".join(f"{k} {v}" for k, v in sorted(rules.items(), key=lambda kv: (-kv[1], kv[0]))))
for tool in ("scan", "diff"):
    g = sum(int(r["gd_ms"]) for r in ok); t = sum(int(r[f"{tool}_ms"]) for r in ok)
    med = statistics.median(int(r["gd_ms"]) / max(int(r[f"{tool}_ms"]), 1) for r in ok) if ok else 0
    print(f"time, GuardDog vs turncoat {tool} (files GuardDog finished): {g / 1000:.1f} s vs {t / 1000:.1f} s, "
          f"ratio of sums {g / max(t, 1):.1f}x, median per-file ratio {med:.1f}x")
EOF
}
if [ "${1:-}" = --summary ]; then shift; summary "$@"; exit 0; fi
[ $# -gt 0 ] || set -- dev dev2
corpora=()
for a in "$@"; do
  case "$a" in
    dev | dev2) corpora+=("$CORPUS_DIR/benign-pypi-$a.tsv") ;;
    *) corpora+=("$a") ;;
  esac
done
for c in "${corpora[@]}"; do [ -f "$c" ] || { echo "no corpus file $c" >&2; exit 2; }; done

if [ -z "${TURNCOAT_BIN:-}" ]; then
  cargo build --release --locked -p turncoat-cli
  BIN="${CARGO_TARGET_DIR:-target}/release/turncoat"
else
  BIN="$TURNCOAT_BIN"
fi
BIN=$(realpath "$BIN")
if [ ! -x "$VENV/bin/guarddog" ]; then
  python3 -m venv "$VENV"
  "$VENV/bin/pip" install -q 'guarddog==3.2.0'
fi
GD=$(realpath "$VENV/bin/guarddog")

# The files, by sha256: what the cache lacks is fetched (and sha256-checked) by the
# conformance command. Its exit code is about benign rates, not downloads: checked below.
missing=0
for c in "${corpora[@]}"; do
  while IFS=$'\t' read -r _ _ _ fsha tsha _; do
    [ -f "$CACHE/$fsha" ] && [ -f "$CACHE/$tsha" ] || missing=1
  done < <(tail -n +2 "$c")
done
if [ "$missing" = 1 ]; then
  args=()
  for c in "${corpora[@]}"; do args+=(--corpus "$c"); done
  cargo run --release --locked -p turncoat-conformance -- benign-pypi "${args[@]}" \
    --cache-dir "$CACHE" >/dev/null || true
fi

mkdir -p "$OUT/json"
OUT=$(realpath "$OUT")
WORK=$(mktemp -d)
trap 'rm -rf "$WORK"' EXIT
RESULTS="$OUT/results.tsv"
printf 'corpus\tpackage\tfrom\tto\tkind\tmb\tgd_ms\tgd_status\tgd_risk\tgd_rules\tscan_ms\tscan_verdict\tscan_codes\tdiff_ms\tdiff_verdict\tdiff_codes\n' > "$RESULTS"
now_ms() { echo $(( $(date +%s%N) / 1000000 )); }
# A file name from the corpus becomes a path: one plain name, nothing else.
safe_name() { [[ "$1" =~ ^[A-Za-z0-9][A-Za-z0-9._+-]*$ ]]; }
gd_summary() { python3 - "$1" <<'EOF'
import json, sys
try:
    d = json.load(open(sys.argv[1]))
    rules = sorted(k for k, v in d.get("results", {}).items() if v)
    risk = (d.get("risk_score") or {}).get("label", "-")
    err = "error" if d.get("errors") else "ok"
    print(f"{err}\t{risk}\t{','.join(rules) or '-'}")
except Exception:
    print("error\t-\t-")
EOF
}
tc_summary() { python3 - "$1" <<'EOF'
import json, sys
try:
    d = json.load(open(sys.argv[1]))
    pk = d["packages"]
    verdict = max((p["verdict"] for p in pk), key=["pass", "warn", "block"].index, default="pass")
    codes = sorted({f["code"] + ("" if f["level"] != "allow" else "(allow)")
                    for p in pk for f in p["findings"] if not f.get("excepted")})
    print(f"{verdict}\t{','.join(codes) or '-'}")
except Exception:
    print("error\t-")
EOF
}

for c in "${corpora[@]}"; do
  cname=$(basename "$c" .tsv)
  n=0
  while IFS=$'\t' read -r pkg from to fsha tsha kind ffile tfile; do
    n=$((n + 1))
    [ "$LIMIT" -gt 0 ] && [ "$n" -gt "$LIMIT" ] && break
    if ! safe_name "$pkg" || ! safe_name "$ffile" || ! safe_name "$tfile" || [ "$ffile" = "$tfile" ]; then
      echo "skipping $pkg: unusable file names" >&2; continue
    fi
    for s in "$fsha" "$tsha"; do
      [[ "$s" =~ ^[0-9a-f]{64}$ ]] && [ -f "$CACHE/$s" ] || { echo "missing $CACHE/$s ($pkg)" >&2; exit 2; }
    done
    d="$WORK/$pkg-$to"; mkdir -p "$d"
    ln -s "$CACHE/$fsha" "$d/$ffile"; ln -s "$CACHE/$tsha" "$d/$tfile"
    mb=$(awk -v b="$(stat -L -c %s "$d/$tfile")" 'BEGIN { printf "%.1f", b / 1e6 }')
    j="$OUT/json/$pkg-$to"
    s=$(now_ms); rc=0
    timeout "$TIMEOUT" "$GD" pypi scan "$d/$tfile" --output-format json >"$j.guarddog.json" 2>"$j.guarddog.err" || rc=$?
    gd=$(( $(now_ms) - s ))
    if [ "$rc" = 124 ]; then gdsum=$'timeout\t-\t-'; else gdsum=$(gd_summary "$j.guarddog.json"); fi
    # From the temp dir: no turncoat.toml of this repository applies, the default policy does.
    s=$(now_ms)
    (cd "$d" && "$BIN" scan "$tfile" --offline --format json -q >"$j.scan.json" 2>"$j.scan.err") || true
    sc=$(( $(now_ms) - s ))
    s=$(now_ms)
    (cd "$d" && "$BIN" diff "$ffile" "$tfile" --offline --format json -q >"$j.diff.json" 2>"$j.diff.err") || true
    df=$(( $(now_ms) - s ))
    printf '%s\t%s\t%s\t%s\t%s\t%s\t%d\t%s\t%d\t%s\t%d\t%s\n' "$cname" "$pkg" "$from" "$to" "$kind" "$mb" \
      "$gd" "$gdsum" "$sc" "$(tc_summary "$j.scan.json")" "$df" "$(tc_summary "$j.diff.json")" >> "$RESULTS"
    tail -1 "$RESULTS" | cut -f2,4,6-9,11,12,14,15 | tr '\t' ' ' >&2
  done < <(tail -n +2 "$c")
done

summary "$RESULTS"
echo "machine: $(nproc) cores, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | xargs), load $(cut -d' ' -f1-3 /proc/loadavg)"
echo "results: $RESULTS"

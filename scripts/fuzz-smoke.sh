#!/usr/bin/env bash
# Run every cargo-fuzz target for a short time (FUZZ_SECONDS, default 10) and fail on a
# crash. Needs a nightly toolchain; without one it prints a "skipped" line and exits 0.
set -euo pipefail

ROOT=$(cd "$(dirname "$0")/.." && pwd)
SECONDS_PER_TARGET=${FUZZ_SECONDS:-10}

if ! rustup run nightly rustc --version >/dev/null 2>&1; then
  echo "fuzz-smoke: skipped: no nightly toolchain (rustup toolchain install nightly)"
  exit 0
fi
if ! cargo +nightly fuzz --help >/dev/null 2>&1; then
  echo "fuzz-smoke: installing cargo-fuzz"
  cargo install cargo-fuzz --locked
fi

cd "$ROOT/fuzz"
targets=$(cargo +nightly fuzz list)
seeds_for() { # real lockfiles to start the corpus from
  local fx="$ROOT/crates/turncoat-lockfile/tests/fixtures" v="$ROOT/../shared/vectors/lockfiles"
  case $1 in
    lockfile_npm) echo "$fx/npm $v/npm" ;;
    lockfile_yarn) echo "$fx/yarn-classic $fx/yarn-berry $v/yarn" ;;
    lockfile_pnpm) echo "$fx/pnpm10 $fx/pnpm8 $v/pnpm" ;;
    lockfile_bun) echo "$fx/bun $v/bun" ;;
    lockfile_any) echo "$fx/pypi" ;;
    wheel) echo "$ROOT/crates/turncoat-gate/demo/pypi/files" ;;
    *) echo "" ;;
  esac
}
failed=0
for t in $targets; do
  mkdir -p "corpus/$t"
  for d in $(seeds_for "$t"); do
    # libFuzzer reads corpus dirs flat; copy files in.
    [ -d "$d" ] && find "$d" -type f -size -1M -exec cp -n {} "corpus/$t/" \; 2>/dev/null || true
  done
  echo "== $t (${SECONDS_PER_TARGET}s)"
  log="target/fuzz-smoke-$t.log"
  mkdir -p target
  if cargo +nightly fuzz run "$t" "corpus/$t" -- \
      -max_total_time="$SECONDS_PER_TARGET" -rss_limit_mb=2048 -timeout=10 >"$log" 2>&1; then
    tail -n 5 "$log"
  else
    # A build error and a crash both land here: show enough to tell which.
    grep -E '^error|panicked|ERROR: libFuzzer|SUMMARY' "$log" | head -n 20 || true
    tail -n 15 "$log"
    echo "fuzz-smoke: $t FAILED (log fuzz/$log; inputs in fuzz/artifacts/$t)"
    failed=1
  fi
done
if [ "$failed" -ne 0 ]; then
  echo "fuzz-smoke: a target failed to build or crashed"
  exit 1
fi
echo "fuzz-smoke: all targets ran ${SECONDS_PER_TARGET}s without a crash"

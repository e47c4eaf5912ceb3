#!/usr/bin/env bash
# Fill the directory the benches read tarballs from (default: target/bench-tarballs, or
# $TURNCOAT_BENCH_TARBALLS, or the first argument). Benches never touch the network; this script
# does, through npm itself.
set -euo pipefail

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
dest="${1:-${TURNCOAT_BENCH_TARBALLS:-$root/target/bench-tarballs}}"
mkdir -p "$dest"

npm pack \
  typescript@5.6.3 \
  lodash@4.17.21 \
  webpack@5.113.0 \
  @babel/core@7.29.13 \
  --pack-destination "$dest" --loglevel=warn >/dev/null

ls -l "$dest"

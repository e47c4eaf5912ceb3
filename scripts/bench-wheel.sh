#!/usr/bin/env bash
# Bench: one Python release pair judged as the gate judges it (both wheels read in memory with
# every bound and the RECORD check, facts, comparison), warm (files already in memory), on a
# generated ≈ 50 MB wheel shaped like pyarrow's (≈ 170 MB inflated, ≈ 800 members, ≈ 2.7 MB of
# Python). Prints the one-thread figure (RAYON_NUM_THREADS=1) and the default one.
# No network. Usage: scripts/bench-wheel.sh [RUNS=5]
set -euo pipefail
cd "$(dirname "$0")/.."
RUNS="${1:-5}"
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
python3 - "$work" <<'PY'
import base64, hashlib, os, random, sys, zipfile
work = sys.argv[1]
rng = random.Random(15)

def blob(n):
    # ≈ 3× compressible, like shared libraries: a third noise, the rest repeated patterns.
    out = bytearray()
    pattern = bytes(rng.randrange(256) for _ in range(64)) * 64
    while len(out) < n:
        out += rng.randbytes(1300)
        out += pattern[: 2796]
    return bytes(out[:n])

def module(i, version):
    lines = [f'"""Module {i} of benchpkg {version}."""', "import json", "import os.path", ""]
    for f in range(40):
        lines += [f"def f{f}(x, y={f}):", f"    z = [x * {f} + k for k in range(y)]",
                  f"    return json.dumps({{'n': len(z), 'p': os.path.join('a', str(y))}})", ""]
    lines += [f"class C{i}:", "    def m(self):", "        return f0(1)", ""]
    return ("\n".join(lines) + "\n") * 3

def build(version):
    name = f"{work}/benchpkg-{version}-cp311-cp311-manylinux_2_28_x86_64.whl"
    info = f"benchpkg-{version}.dist-info"
    files = []
    for i in range(500):
        files.append((f"benchpkg/lib/_ext{i:03}.cpython-311-x86_64-linux-gnu.so", blob(334_000)))
    for i in range(300):
        files.append((f"benchpkg/mod{i:03}.py", module(i, version).encode()))
    files.append((f"{info}/METADATA", f"Metadata-Version: 2.1\nName: benchpkg\nVersion: {version}\n".encode()))
    files.append((f"{info}/WHEEL", b"Wheel-Version: 1.0\nGenerator: bench\nRoot-Is-Purelib: false\nTag: cp311-cp311-manylinux_2_28_x86_64\n"))
    record = "".join(
        f"{p},sha256={base64.urlsafe_b64encode(hashlib.sha256(d).digest()).rstrip(b'=').decode()},{len(d)}\n"
        for p, d in files
    ) + f"{info}/RECORD,,\n"
    files.append((f"{info}/RECORD", record.encode()))
    with zipfile.ZipFile(name, "w", zipfile.ZIP_DEFLATED) as z:
        for p, d in files:
            z.writestr(p, d)
    total = sum(len(d) for _, d in files)
    print(f"{os.path.basename(name)}: {os.path.getsize(name) / 1e6:.1f} MB, {total / 1e6:.0f} MB inflated, {len(files)} members", file=sys.stderr)

build("1.0.0")
build("1.0.1")
PY
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-target}"
cargo build --release -q -p turncoat-pyanalyze --example judge_wheel
ex="$CARGO_TARGET_DIR/release/examples/judge_wheel"
old="$work/benchpkg-1.0.0-cp311-cp311-manylinux_2_28_x86_64.whl"
new="$work/benchpkg-1.0.1-cp311-cp311-manylinux_2_28_x86_64.whl"
echo "--- one thread (RAYON_NUM_THREADS=1)"
RAYON_NUM_THREADS=1 "$ex" "$old" "$new" "$RUNS"
echo "--- default threads"
"$ex" "$old" "$new" "$RUNS"
echo "machine: $(nproc) cores, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | xargs), load $(cut -d' ' -f1-3 /proc/loadavg)"

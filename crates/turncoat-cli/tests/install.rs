//! `turncoat install`: npm ci with scripts off in the blocking sandbox, then only the install
//! scripts turncoat.toml approves by name, version and integrity, each in its own sandbox.
//! Attempts around it: an approval whose integrity is another tarball's, an approved script
//! that writes outside its own package directory or into another package, and a script that
//! is simply not approved.

#![allow(clippy::print_stderr)]

mod common;

use std::collections::BTreeMap;
use std::path::Path;
use std::process::{Command, Output};

struct Pkg {
    name: &'static str,
    script: Option<&'static str>,
    integrity: String,
    tgz: Vec<u8>,
}

fn package(name: &'static str, script: Option<&'static str>) -> Pkg {
    let mut manifest = serde_json::json!({"name": name, "version": "1.0.0"});
    if let Some(s) = script {
        manifest["scripts"] = serde_json::json!({ "postinstall": s });
    }
    let files = BTreeMap::from([
        (
            "package.json".to_string(),
            manifest.to_string().into_bytes(),
        ),
        ("index.js".to_string(), b"module.exports = 1;\n".to_vec()),
    ]);
    let p = common::pack(&files);
    Pkg {
        name,
        script,
        integrity: p.integrity,
        tgz: p.tgz,
    }
}

/// Writes `ran-<name>` in its own directory (allowed), and tries two writes it must not make.
const GOOD: &str = "node -e \"require('fs').writeFileSync('ran.txt','x')\"";
const GREEDY: &str = "node -e \"const fs=require('fs');fs.writeFileSync('ran.txt','x');for (const p of ['../plain/ran.txt','../../escaped.txt']) { try { fs.writeFileSync(p,'x') } catch (e) {} }\"";

fn project(dir: &Path, pkgs: &[Pkg]) -> String {
    let server = common::StaticServer::bind();
    let url = server.url.clone();
    let mut routes = BTreeMap::new();
    let mut lock_pkgs = serde_json::Map::new();
    let mut deps = serde_json::Map::new();
    lock_pkgs.insert(
        String::new(),
        serde_json::json!({"name": "app", "version": "1.0.0"}),
    );
    for p in pkgs {
        let tarball = format!("{url}/{}/-/{}-1.0.0.tgz", p.name, p.name);
        routes.insert(
            format!("/{}/-/{}-1.0.0.tgz", p.name, p.name),
            ("application/octet-stream".to_string(), p.tgz.clone()),
        );
        let doc = serde_json::json!({
            "name": p.name, "dist-tags": {"latest": "1.0.0"},
            "versions": {"1.0.0": {"name": p.name, "version": "1.0.0",
                "dist": {"tarball": tarball, "integrity": p.integrity}}},
        });
        routes.insert(
            format!("/{}", p.name),
            ("application/json".to_string(), doc.to_string().into_bytes()),
        );
        let mut e =
            serde_json::json!({"version": "1.0.0", "resolved": tarball, "integrity": p.integrity});
        if p.script.is_some() {
            e["hasInstallScript"] = serde_json::json!(true);
        }
        lock_pkgs.insert(format!("node_modules/{}", p.name), e);
        deps.insert(p.name.to_string(), serde_json::json!("1.0.0"));
    }
    lock_pkgs[""]["dependencies"] = serde_json::Value::Object(deps.clone());
    server.serve(routes);
    let write = |f: &str, v: &serde_json::Value| {
        std::fs::write(dir.join(f), serde_json::to_string_pretty(v).unwrap() + "\n").unwrap()
    };
    write(
        "package.json",
        &serde_json::json!({"name": "app", "version": "1.0.0", "dependencies": deps}),
    );
    write(
        "package-lock.json",
        &serde_json::json!({"name": "app", "version": "1.0.0", "lockfileVersion": 3, "requires": true, "packages": lock_pkgs}),
    );
    std::fs::write(
        dir.join(".npmrc"),
        format!(
            "registry={url}/\naudit=false\nfund=false\nupdate-notifier=false\ncache={}\n",
            dir.join(".npm-cache").display()
        ),
    )
    .unwrap();
    url.trim_start_matches("http://").to_string()
}

fn turncoat(dir: &Path, args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_turncoat"))
        .args(args)
        .current_dir(dir)
        .env("NO_COLOR", "1")
        .output()
        .expect("run turncoat")
}

fn text(o: &Output) -> String {
    format!(
        "{}{}",
        String::from_utf8_lossy(&o.stdout),
        String::from_utf8_lossy(&o.stderr)
    )
}

#[test]
fn only_approved_scripts_run_each_fenced_to_its_package() {
    if !common::have_tools(
        "only_approved_scripts_run_each_fenced_to_its_package",
        &["npm", "node"],
    ) {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path().join("app");
    std::fs::create_dir(&d).unwrap();
    let pkgs = vec![
        package("approved", Some(GOOD)),
        package("greedy", Some(GREEDY)),
        package("unapproved", Some(GOOD)),
        package("swapped", Some(GOOD)),
        package("plain", None),
    ];
    let other = package("approved", Some("echo other tarball"));
    let host = project(&d, &pkgs);
    let allow = |p: &Pkg, integrity: &str| {
        format!(
            "[[allow-script]]\npackage = \"{}@1.0.0\"\nintegrity = \"{integrity}\"\nreason = \"test\"\n\n",
            p.name
        )
    };
    let policy = allow(&pkgs[0], &pkgs[0].integrity)
        + &allow(&pkgs[1], &pkgs[1].integrity)
        // Approved, but for another tarball published under the same version.
        + &allow(&pkgs[3], &other.integrity);
    std::fs::write(d.join("turncoat.toml"), policy).unwrap();

    let o = turncoat(&d, &["install", "--allow-host", &host]);
    let out = text(&o);
    eprintln!("{out}");
    assert_eq!(
        o.status.code(),
        Some(1),
        "unapproved scripts make the run fail: {out}"
    );
    let ran = |name: &str| d.join("node_modules").join(name).join("ran.txt").exists();
    assert!(ran("approved"), "{out}");
    assert!(ran("greedy"), "{out}");
    assert!(!ran("unapproved"), "an unapproved script ran: {out}");
    assert!(
        !ran("swapped"),
        "a script approved for another tarball ran: {out}"
    );
    // The approved-but-greedy script could not write into another package or the project.
    assert!(!ran("plain"), "a script wrote into another package: {out}");
    assert!(
        !d.join("escaped.txt").exists(),
        "a script wrote into the project: {out}"
    );
    // Everything is installed, scripts or not.
    for p in &pkgs {
        assert!(
            d.join("node_modules")
                .join(p.name)
                .join("index.js")
                .exists(),
            "{} missing",
            p.name
        );
    }
    // The exact lines to approve what was skipped, with the lockfile's integrity.
    assert!(
        out.contains(&format!(
            "package = \"unapproved@1.0.0\"\nintegrity = \"{}\"",
            pkgs[2].integrity
        )),
        "{out}"
    );
    assert!(
        out.contains("a different tarball under the same version"),
        "{out}"
    );
}

#[test]
fn without_a_lockfile_it_says_why() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("package.json"), "{}").unwrap();
    let o = turncoat(dir.path(), &["install"]);
    assert_eq!(o.status.code(), Some(2));
    assert!(text(&o).contains("no lockfile"), "{}", text(&o));
    let o = turncoat(
        dir.path(),
        &["install", "--", "ci", "--ignore-scripts=false"],
    );
    assert_eq!(o.status.code(), Some(2));
}

/// npm nests a dependency inside its dependent (`node_modules/a/node_modules/b`), so the
/// approved package's writable directory holds another package: its script must not change
/// it (`b` would then run the approved package's code under its own name).
#[test]
fn an_approved_script_cannot_change_the_package_nested_in_its_directory() {
    if !common::have_tools(
        "an_approved_script_cannot_change_the_package_nested_in_its_directory",
        &["npm", "node"],
    ) {
        return;
    }
    const TAMPER: &str = "node -e \"const fs=require('fs');fs.writeFileSync('ran.txt','x');try { fs.writeFileSync('node_modules/b/index.js','pwned') } catch (e) {} try { fs.writeFileSync('node_modules/b/new.js','pwned') } catch (e) {}\"";
    let a = package("a", Some(TAMPER));
    let b = package("b", None);
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path().join("app");
    std::fs::create_dir(&d).unwrap();
    let server = common::StaticServer::bind();
    let url = server.url.clone();
    let mut routes = BTreeMap::new();
    for p in [&a, &b] {
        routes.insert(
            format!("/{}/-/{}-1.0.0.tgz", p.name, p.name),
            ("application/octet-stream".to_string(), p.tgz.clone()),
        );
    }
    server.serve(routes);
    let entry = |p: &Pkg| {
        serde_json::json!({"version": "1.0.0", "resolved": format!("{url}/{}/-/{}-1.0.0.tgz", p.name, p.name),
            "integrity": p.integrity, "hasInstallScript": p.script.is_some()})
    };
    let mut a_entry = entry(&a);
    a_entry["dependencies"] = serde_json::json!({"b": "1.0.0"});
    let lock = serde_json::json!({"name": "app", "version": "1.0.0", "lockfileVersion": 3, "requires": true, "packages": {
        "": {"name": "app", "version": "1.0.0", "dependencies": {"a": "1.0.0"}},
        "node_modules/a": a_entry,
        "node_modules/a/node_modules/b": entry(&b),
    }});
    std::fs::write(
        d.join("package.json"),
        r#"{"name":"app","version":"1.0.0","dependencies":{"a":"1.0.0"}}"#,
    )
    .unwrap();
    std::fs::write(d.join("package-lock.json"), lock.to_string()).unwrap();
    std::fs::write(
        d.join(".npmrc"),
        format!(
            "registry={url}/\naudit=false\nfund=false\ncache={}\n",
            d.join(".npm-cache").display()
        ),
    )
    .unwrap();
    std::fs::write(
        d.join("turncoat.toml"),
        format!(
            "[[allow-script]]\npackage = \"a@1.0.0\"\nintegrity = \"{}\"\nreason = \"test\"\n",
            a.integrity
        ),
    )
    .unwrap();
    let host = url.trim_start_matches("http://").to_string();
    let o = turncoat(&d, &["install", "--allow-host", &host]);
    let out = text(&o);
    let nested = d.join("node_modules/a/node_modules/b");
    assert!(d.join("node_modules/a/ran.txt").exists(), "{out}");
    assert_eq!(
        std::fs::read_to_string(nested.join("index.js")).unwrap(),
        "module.exports = 1;\n",
        "the approved script rewrote its nested dependency: {out}"
    );
    assert!(!nested.join("new.js").exists(), "{out}");
    assert_eq!(o.status.code(), Some(0), "{out}");
}

/// A dependency installed as a link out of the project (`file:../outside`, or one planted in
/// node_modules) is not a package turncoat can identify from the lockfile: its scripts do not
/// run, and it is reported, not skipped in silence.
#[test]
fn a_package_linked_from_outside_the_project_is_reported_not_run() {
    if !common::have_tools(
        "a_package_linked_from_outside_the_project_is_reported_not_run",
        &["npm", "node"],
    ) {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let outside = dir.path().join("outside");
    std::fs::create_dir(&outside).unwrap();
    std::fs::write(
        outside.join("package.json"),
        format!(
            "{{\"name\":\"outside\",\"version\":\"1.0.0\",\"scripts\":{{\"postinstall\":{}}}}}",
            serde_json::json!(GOOD)
        ),
    )
    .unwrap();
    let d = dir.path().join("app");
    std::fs::create_dir(&d).unwrap();
    std::fs::write(
        d.join("package.json"),
        r#"{"name":"app","version":"1.0.0","dependencies":{"outside":"file:../outside"}}"#,
    )
    .unwrap();
    std::fs::write(d.join(".npmrc"), "audit=false\nfund=false\n").unwrap();
    let o = Command::new("npm")
        .args(["install", "--package-lock-only", "--ignore-scripts"])
        .current_dir(&d)
        .output()
        .unwrap();
    assert!(o.status.success(), "{}", text(&o));
    let o = turncoat(&d, &["install"]);
    let out = text(&o);
    assert!(
        std::fs::symlink_metadata(d.join("node_modules/outside"))
            .unwrap()
            .file_type()
            .is_symlink(),
        "{out}"
    );
    assert!(!outside.join("ran.txt").exists(), "{out}");
    assert!(
        out.contains("node_modules/outside links outside the project"),
        "{out}"
    );
    assert_eq!(o.status.code(), Some(1), "{out}");
}

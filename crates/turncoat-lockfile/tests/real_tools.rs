//! Lockfiles written by the real tools (see `scripts/gen-lockfile-fixtures.sh` and
//! `tests/fixtures/README.md`): every fixture parses, our entry count agrees with the
//! count recorded when the tool wrote it, and spot checks of the model hold.

use std::path::{Path, PathBuf};

use turncoat_lockfile::{LintOptions, Lockfile, LockfileFormat, SourceKind, lint, read};

fn fixtures() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures")
}

fn load(rel: &str) -> Lockfile {
    read(&fixtures().join(rel)).unwrap_or_else(|e| panic!("{rel}: {e}"))
}

/// The tool's own entry count, from our model: pnpm v9 has one package per `packages`
/// key; every other format keeps each lockfile entry (or install path) in `paths`.
fn entries(l: &Lockfile) -> usize {
    match &l.format {
        LockfileFormat::Pnpm { version } if version.starts_with('9') => l.packages.len(),
        _ => l.packages.iter().map(|p| p.paths.len()).sum(),
    }
}

/// `(importer path, package.json)` for the fixture's root and workspace members.
fn manifests(dir: &Path) -> Vec<(String, serde_json::Value)> {
    let mut out = Vec::new();
    let read_json = |p: &Path| -> serde_json::Value {
        serde_json::from_slice(&std::fs::read(p).unwrap()).unwrap()
    };
    out.push((String::new(), read_json(&dir.join("package.json"))));
    if let Ok(rd) = std::fs::read_dir(dir.join("packages")) {
        for e in rd.flatten() {
            let name = e.file_name().to_string_lossy().to_string();
            out.push((
                format!("packages/{name}"),
                read_json(&e.path().join("package.json")),
            ));
        }
    }
    out
}

#[test]
fn every_fixture_matches_the_tools_count() {
    let counts: serde_json::Value =
        serde_json::from_slice(&std::fs::read(fixtures().join("counts.json")).unwrap()).unwrap();
    let files = counts["files"].as_array().unwrap();
    assert!(
        files.len() >= 20,
        "expected the generated fixtures, found {}",
        files.len()
    );
    for f in files {
        let rel = f["file"].as_str().unwrap();
        let want = f["entries"].as_u64().unwrap() as usize;
        let l = load(rel);
        assert_eq!(entries(&l), want, "{rel} ({})", l.format.id());
        assert!(
            l.packages.iter().all(|p| p.line > 0),
            "{rel}: every package has a line"
        );
        // The lockfiles were made from these manifests, so nothing drifted.
        let dir = fixtures().join(rel);
        let m = manifests(dir.parent().unwrap());
        let drift: Vec<_> = lint(&l, &m, &LintOptions::default())
            .into_iter()
            .filter(|x| x.code == "manifest-drift")
            .collect();
        assert!(drift.is_empty(), "{rel}: {drift:#?}");
    }
}

#[test]
fn formats_are_identified() {
    assert_eq!(
        load("npm/basic/package-lock.json").format.id(),
        "package-lock-v3"
    );
    assert_eq!(load("pnpm10/basic/pnpm-lock.yaml").format.id(), "pnpm-v9");
    assert_eq!(load("pnpm8/basic/pnpm-lock.yaml").format.id(), "pnpm-v6");
    assert_eq!(
        load("yarn-classic/basic/yarn.lock").format.id(),
        "yarn-classic"
    );
    assert_eq!(
        load("yarn-berry/basic/yarn.lock").format.id(),
        "yarn-berry-v10"
    );
    assert!(load("bun/basic/bun.lock").format.id().starts_with("bun-v"));
}

#[test]
fn aliases_keep_the_real_name() {
    for rel in [
        "npm/basic/package-lock.json",
        "pnpm10/basic/pnpm-lock.yaml",
        "pnpm8/basic/pnpm-lock.yaml",
        "yarn-classic/basic/yarn.lock",
        "yarn-berry/basic/yarn.lock",
        "bun/basic/bun.lock",
    ] {
        let l = load(rel);
        let p = l
            .packages
            .iter()
            .find(|p| p.alias.as_deref() == Some("isnum-old"))
            .unwrap_or_else(|| panic!("{rel}: no alias isnum-old"));
        assert_eq!(p.name, "is-number", "{rel}");
        assert!(p.version.starts_with("6."), "{rel}: {}", p.version);
        assert_eq!(p.source, SourceKind::Registry, "{rel}");
        assert!(
            l.by_name("@isaacs/string-locale-compare").next().is_some(),
            "{rel}: scoped package"
        );
    }
}

#[test]
fn dev_optional_and_peer_flags() {
    for rel in [
        "npm/basic/package-lock.json",
        "pnpm10/basic/pnpm-lock.yaml",
        "pnpm8/basic/pnpm-lock.yaml",
        "bun/basic/bun.lock",
    ] {
        let l = load(rel);
        let is_odd = l.by_name("is-odd").next().unwrap();
        assert!(is_odd.dev, "{rel}: is-odd is a dev dependency");
        let is_plain = l.by_name("is-plain-obj").next().unwrap();
        assert!(
            is_plain.optional && !is_plain.dev,
            "{rel}: is-plain-obj is optional"
        );
        let top = l
            .by_name("is-number")
            .find(|p| p.version.starts_with("7."))
            .unwrap();
        assert!(!top.dev && !top.optional, "{rel}: is-number@7 is prod");
    }
    let npm = load("npm/basic/package-lock.json");
    assert!(
        npm.by_name("ajv").next().unwrap().peer,
        "npm records peer: true"
    );
    let berry = load("yarn-berry/basic/yarn.lock");
    assert!(berry.by_name("is-plain-obj").next().unwrap().optional);
}

#[test]
fn git_and_tarball_sources() {
    for rel in [
        "npm/git/package-lock.json",
        "pnpm10/git/pnpm-lock.yaml",
        "yarn-classic/git/yarn.lock",
        "bun/git/bun.lock",
    ] {
        let l = load(rel);
        let p = l
            .by_name("tiny-git")
            .next()
            .unwrap_or_else(|| panic!("{rel}"));
        assert_eq!(p.source, SourceKind::Git, "{rel}");
        let f = lint(&l, &[], &LintOptions::default());
        assert!(f.iter().any(|x| x.code == "git-dependency"), "{rel}");
    }
    for tool in [
        "npm",
        "pnpm10",
        "pnpm8",
        "yarn-classic",
        "yarn-berry",
        "bun",
    ] {
        let dir = fixtures().join(tool).join("tarball");
        let file = std::fs::read_dir(&dir)
            .unwrap()
            .flatten()
            .map(|e| e.file_name().to_string_lossy().to_string())
            .find(|n| n != "package.json")
            .unwrap();
        let rel = format!("{tool}/tarball/{file}");
        let l = load(&rel);
        let p = l
            .by_name("tiny-tar")
            .next()
            .unwrap_or_else(|| panic!("{rel}"));
        assert_eq!(p.source, SourceKind::Tarball, "{rel}");
        let codes: Vec<String> = lint(&l, &[], &LintOptions::default())
            .into_iter()
            .map(|f| f.code)
            .collect();
        assert!(
            codes.contains(&"remote-tarball-dependency".to_string()),
            "{rel}: {codes:?}"
        );
        assert!(
            codes.contains(&"insecure-url".to_string()),
            "{rel}: {codes:?}"
        );
    }
}

#[test]
fn workspaces_are_importers() {
    for rel in [
        "npm/workspaces/package-lock.json",
        "pnpm10/workspaces/pnpm-lock.yaml",
        "pnpm8/workspaces/pnpm-lock.yaml",
        "yarn-berry/workspaces/yarn.lock",
        "bun/workspaces/bun.lock",
    ] {
        let l = load(rel);
        assert!(l.importers.len() >= 3, "{rel}: {:?}", l.importers);
        let b = l
            .importers
            .iter()
            .find(|i| i.path == "packages/b")
            .unwrap_or_else(|| panic!("{rel}: no packages/b importer"));
        assert!(
            b.dependencies.iter().any(|d| d.name == "is-number"),
            "{rel}"
        );
    }
    let npm = load("npm/workspaces/package-lock.json");
    assert_eq!(
        npm.packages
            .iter()
            .filter(|p| p.source == SourceKind::Workspace)
            .count(),
        2
    );
    let berry = load("yarn-berry/workspaces/yarn.lock");
    assert_eq!(
        berry
            .packages
            .iter()
            .filter(|p| p.source == SourceKind::Workspace)
            .count(),
        2
    );
}

#[test]
fn clean_registry_fixtures_have_no_security_findings() {
    for rel in [
        "npm/basic/package-lock.json",
        "pnpm10/basic/pnpm-lock.yaml",
        "bun/basic/bun.lock",
    ] {
        let l = load(rel);
        let f = lint(&l, &[], &LintOptions::default());
        assert!(f.is_empty(), "{rel}: {f:#?}");
    }
}

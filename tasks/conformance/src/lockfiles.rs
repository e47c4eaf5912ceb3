//! `lockfiles`: parse every npm-family lockfile vector and compare with MANIFEST.json.
//!
//! The expected counts are osv-scalibr's (its extractor tests), whose definition differs
//! from turncoat's model, so the comparison uses [`osv_count`], which recomputes their
//! number from our model:
//!
//! - npm: distinct `name@X` over all non-root entries, X = the git commit for git sources,
//!   else the version, else the locator (v1 `file:` entries); links count as their own key.
//! - pnpm v9: one per `packages` key. pnpm v5/v6: one per `packages` key (turncoat merges
//!   peer variants into one package and keeps each key in `paths`, so: sum of `paths`).
//! - Yarn, Bun: one per lockfile entry (sum of `paths`), root workspace excluded.
//!
//! Where osv-scalibr is lenient and turncoat fails closed on purpose, the file is listed in
//! [`DIVERGENCES`] and passes only if turncoat returns an error.

use std::collections::{BTreeMap, HashSet};
use std::path::{Path, PathBuf};

use sha2::{Digest, Sha256};
use turncoat_lockfile::{
    Family, LockedPackage, Lockfile, LockfileFormat, ParseOptions, SourceKind,
};

const NPM_FAMILY: [&str; 5] = ["npm", "pnpm", "yarn", "yarn-berry", "bun"];

/// Files where osv-scalibr returns packages and turncoat deliberately refuses the file.
const DIVERGENCES: [(&str, &str); 5] = [
    (
        "lockfiles/bun/empty.json5",
        "`{}` has no lockfileVersion; an empty object is not a lockfile",
    ),
    (
        "lockfiles/pnpm/empty.yaml",
        "a comment-only file has no lockfileVersion",
    ),
    (
        "lockfiles/yarn/empty.v2.lock",
        "only the Berry header comment, no __metadata",
    ),
    (
        "lockfiles/pnpm/files.yaml",
        "`file:../nameless-package` has no name (the upstream file says so itself); osv-scalibr drops it",
    ),
    (
        "lockfiles/pnpm/exotic.yaml",
        "two entries (`github.com/kevva/is-positive`, `/foo/bar`) have no name/version pnpm could install; osv-scalibr drops them silently",
    ),
];

/// Structural numbers for the large real lockfiles (README "Large real lockfiles", counted
/// there): (path, what, expected, how we compute it).
struct Structural {
    path: &'static str,
    checks: &'static [(&'static str, usize)],
}

const STRUCTURAL: [Structural; 6] = [
    Structural {
        path: "lockfiles/npm/npm-cli-package-lock.json",
        checks: &[
            ("entries", 1273),
            ("links", 16),
            ("aliases", 3),
            ("install-scripts", 2),
        ],
    },
    Structural {
        path: "lockfiles/npm/lavamoat-monorepo-package-lock.json",
        checks: &[
            ("entries", 1512),
            ("links", 14),
            ("aliases", 4),
            ("install-scripts", 4),
        ],
    },
    Structural {
        path: "lockfiles/pnpm/provenance-action-pnpm-lock.yaml",
        checks: &[("packages", 456), ("entries", 456), ("importers", 1)],
    },
    Structural {
        path: "lockfiles/yarn/lavamoat-yarn-mmm/yarn.lock",
        checks: &[("entries", 3748)],
    },
    Structural {
        path: "lockfiles/yarn-berry/yarn-berry/yarn.lock",
        checks: &[("entries+root", 6), ("git", 5)],
    },
    Structural {
        path: "lockfiles/yarn-berry/yarn-berry-realistic/yarn.lock",
        checks: &[("entries+root", 3532), ("checksums", 3443)],
    },
];

fn structural_value(lock: &Lockfile, what: &str) -> usize {
    let entries: usize = lock.packages.iter().map(|p| p.paths.len()).sum();
    match what {
        "entries" => entries,
        "entries+root" => entries + lock.importers.iter().filter(|i| i.path == ".").count(),
        "packages" => lock.packages.len(),
        "importers" => lock.importers.len(),
        "links" => count_paths(lock, |p| p.source == SourceKind::Link),
        "aliases" => count_paths(lock, |p| p.alias.is_some()),
        "install-scripts" => count_paths(lock, |p| p.has_install_script == Some(true)),
        "git" => lock
            .packages
            .iter()
            .filter(|p| p.source == SourceKind::Git)
            .count(),
        "checksums" => lock
            .packages
            .iter()
            .filter(|p| p.checksum.is_some())
            .count(),
        _ => usize::MAX,
    }
}

fn count_paths(lock: &Lockfile, f: impl Fn(&LockedPackage) -> bool) -> usize {
    lock.packages
        .iter()
        .filter(|p| f(p))
        .map(|p| p.paths.len())
        .sum()
}

/// osv-scalibr's package count, recomputed from turncoat's model (see the module docs).
pub(crate) fn osv_count(lock: &Lockfile) -> usize {
    match &lock.format {
        LockfileFormat::PackageLock { .. } | LockfileFormat::Shrinkwrap { .. } => {
            let keys: HashSet<String> = lock
                .packages
                .iter()
                .map(|p| {
                    let commit = (p.source == SourceKind::Git)
                        .then(|| {
                            p.resolved
                                .as_deref()
                                .and_then(|r| r.rsplit_once('#'))
                                .map(|x| x.1)
                        })
                        .flatten();
                    let x = match commit {
                        Some(c) => c.to_string(),
                        None if !p.version.is_empty() => p.version.clone(),
                        None => p.resolved.clone().unwrap_or_default(),
                    };
                    format!("{}@{x}", p.name)
                })
                .collect();
            keys.len()
        }
        LockfileFormat::Pnpm { version } if version.starts_with('9') => lock.packages.len(),
        _ => lock.packages.iter().map(|p| p.paths.len()).sum(),
    }
}

fn sha256_hex(bytes: &[u8]) -> String {
    hex::encode(Sha256::digest(bytes))
}

fn walk(dir: &Path, out: &mut Vec<PathBuf>) {
    let Ok(rd) = std::fs::read_dir(dir) else {
        return;
    };
    let mut entries: Vec<PathBuf> = rd.filter_map(|e| e.ok().map(|e| e.path())).collect();
    entries.sort();
    for p in entries {
        if p.is_dir() {
            walk(&p, out);
        } else {
            out.push(p);
        }
    }
}

/// The identifying part of an osv-scalibr error message that our error must also name:
/// a quoted name (`'wrappy-bad1'`) or what follows the last `: `.
fn error_token(s: &str) -> Option<&str> {
    if let Some(start) = s.find('\'') {
        let rest = &s[start + 1..];
        return rest.find('\'').map(|end| &rest[..end]);
    }
    s.rsplit_once(": ").map(|(_, t)| t)
}

struct Tally {
    passed: usize,
    failed: usize,
    skipped: usize,
}

pub(crate) fn run(args: &[String]) -> i32 {
    let (dir, index) = match crate::vectors(args) {
        Ok(v) => v,
        Err(code) => return code,
    };

    println!("lockfile conformance against {}", dir.display());
    println!("counts compared with osv-scalibr's definition (see tasks/conformance/README.md)");
    let mut t = Tally {
        passed: 0,
        failed: 0,
        skipped: 0,
    };
    let root = dir.join("lockfiles");
    let mut subdirs: Vec<String> = std::fs::read_dir(&root)
        .map(|rd| {
            rd.filter_map(|e| e.ok())
                .filter(|e| e.path().is_dir())
                .filter_map(|e| e.file_name().into_string().ok())
                .collect()
        })
        .unwrap_or_default();
    subdirs.sort();
    if subdirs.is_empty() {
        eprintln!("no lockfile vectors under {}", root.display());
        return 2;
    }
    for sub in &subdirs {
        if !NPM_FAMILY.contains(&sub.as_str()) {
            println!("skipped: {sub} is not an npm-family lockfile (later stage)");
            t.skipped += 1;
            continue;
        }
        let mut files = Vec::new();
        walk(&root.join(sub), &mut files);
        for file in files {
            let rel = file
                .strip_prefix(&dir)
                .map(|p| p.to_string_lossy().replace('\\', "/"))
                .unwrap_or_default();
            check_file(&file, &rel, sub, &index, &mut t);
        }
    }
    println!(
        "{} passed, {} failed, {} skipped",
        t.passed, t.failed, t.skipped
    );
    if t.failed > 0 { 1 } else { 0 }
}

fn check_file(
    file: &Path,
    rel: &str,
    sub: &str,
    index: &BTreeMap<String, (String, serde_json::Value)>,
    t: &mut Tally,
) {
    let mut fail = |msg: String| {
        println!("FAIL {rel}: {msg}");
        t.failed += 1;
    };
    let bytes = match std::fs::read(file) {
        Ok(b) => b,
        Err(e) => return fail(format!("cannot read: {e}")),
    };
    let Some((sha, expected)) = index.get(rel) else {
        return fail("not listed in MANIFEST.json".into());
    };
    if &sha256_hex(&bytes) != sha {
        return fail("sha256 differs from MANIFEST.json".into());
    }
    if file.file_name().is_some_and(|n| n == "package.json") {
        println!("ok   {rel}: manifest beside a lockfile (not a lockfile; not parsed)");
        t.passed += 1;
        return;
    }
    // npm ignores package-lock.json when npm-shrinkwrap.json sits beside it.
    if file.file_name().is_some_and(|n| n == "package-lock.json") {
        let found = file
            .parent()
            .and_then(|d| turncoat_lockfile::discover(d).ok())
            .unwrap_or_default();
        if !found.iter().any(|p| p == file) {
            let want = expected["packages"].as_u64();
            if want == Some(0) {
                println!(
                    "ok   {rel}: ignored by discover() (npm-shrinkwrap.json wins), 0 packages"
                );
                t.passed += 1;
            } else {
                fail(format!(
                    "ignored by discover() but upstream expects {want:?} packages"
                ));
            }
            return;
        }
    }
    let family = match sub {
        "npm" => Some(Family::Npm),
        "pnpm" => Some(Family::Pnpm),
        "bun" => Some(Family::Bun),
        _ => None, // yarn, yarn-berry: classic or Berry decided by content
    };
    let result = turncoat_lockfile::parse_with(rel, &bytes, family, &ParseOptions::default());
    let divergence = DIVERGENCES
        .iter()
        .find(|(p, _)| *p == rel)
        .map(|(_, why)| *why);

    if let Some(why) = divergence {
        match result {
            Err(e) => {
                println!(
                    "ok   {rel}: fail-closed divergence (upstream lists packages): {why}; error: {e}"
                );
                t.passed += 1;
            }
            Ok(l) => fail(format!(
                "listed as a fail-closed divergence but parsed ({} packages)",
                l.packages.len()
            )),
        }
        return;
    }

    if let Some(structural) = STRUCTURAL.iter().find(|s| s.path == rel) {
        match result {
            Err(e) => fail(format!("error: {e}")),
            Ok(l) => {
                let bad: Vec<String> = structural
                    .checks
                    .iter()
                    .filter_map(|(what, want)| {
                        let got = structural_value(&l, what);
                        (got != *want).then(|| format!("{what}: got {got}, want {want}"))
                    })
                    .collect();
                if bad.is_empty() {
                    let desc: Vec<String> = structural
                        .checks
                        .iter()
                        .map(|(w, n)| format!("{w} {n}"))
                        .collect();
                    println!(
                        "ok   {rel}: {} {} packages; README structure: {}",
                        l.format.id(),
                        l.packages.len(),
                        desc.join(", ")
                    );
                    t.passed += 1;
                } else {
                    fail(bad.join("; "));
                }
            }
        }
        return;
    }

    if let Some(errs) = expected.get("error_contains").filter(|v| !v.is_null()) {
        let wants: Vec<&str> = match errs {
            serde_json::Value::Array(a) => a.iter().filter_map(|v| v.as_str()).collect(),
            v => v.as_str().into_iter().collect(),
        };
        match result {
            Ok(l) => fail(format!(
                "expected an error, parsed {} packages",
                l.packages.len()
            )),
            Err(e) => {
                let msg = e.to_string();
                let missing: Vec<&str> = wants
                    .iter()
                    .filter_map(|w| error_token(w).filter(|tok| !msg.contains(tok)))
                    .collect();
                if missing.is_empty() {
                    println!("ok   {rel}: error as expected: {msg}");
                    t.passed += 1;
                } else {
                    fail(format!("error does not name {missing:?}: {msg}"));
                }
            }
        }
        return;
    }

    match (result, expected["packages"].as_u64()) {
        (Err(e), _) => fail(format!("error: {e}")),
        (Ok(l), Some(want)) => {
            let got = osv_count(&l);
            if got as u64 == want {
                println!(
                    "ok   {rel}: {} {} packages (osv-scalibr count {got})",
                    l.format.id(),
                    l.packages.len()
                );
                t.passed += 1;
            } else {
                fail(format!(
                    "{}: osv-scalibr count {got}, expected {want} (turncoat packages {})",
                    l.format.id(),
                    l.packages.len()
                ));
            }
        }
        (Ok(l), None) => {
            println!(
                "ok   {rel}: {} {} packages (no upstream count; parses)",
                l.format.id(),
                l.packages.len()
            );
            t.passed += 1;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn error_tokens() {
        assert_eq!(
            error_token("could not extract 'wrappy-bad1'"),
            Some("wrappy-bad1")
        );
        assert_eq!(
            error_token("invalid dependency path: invalidpath1"),
            Some("invalidpath1")
        );
        assert_eq!(error_token("could not extract"), None);
    }
}

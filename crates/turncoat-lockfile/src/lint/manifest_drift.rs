//! `manifest-drift`: `package.json` and the lockfile disagree.

use turncoat_finding::{Evidence, Finding, Level, RuleDoc, Severity};

use super::{LintInput, evidence, label};
use crate::model::{LockedPackage, Lockfile, LockfileFormat, SourceKind};
use crate::spec::npm_alias;

pub const RULE: RuleDoc = RuleDoc {
    code: "manifest-drift",
    group: "lockfile",
    severity: Severity::Medium,
    default_level: Level::Warn,
    summary: "a dependency in package.json is missing from the lockfile or locked outside its range",
    doc: "## What\n\
A dependency declared in a `package.json` (`dependencies`, `devDependencies`, \
`optionalDependencies`) is not in the lockfile, or the locked version does not satisfy the \
declared semver range.\n\n\
## Why\n\
When the two disagree, `npm install` / `yarn install` / `pnpm install` re-resolve the \
dependency at install time and fetch whatever the registry serves *now*, a version nobody \
reviewed in the lockfile diff. (`npm ci` and `--frozen-lockfile` fail instead, which is \
the safe outcome.) A lockfile edited by hand or by a bot to reintroduce an old version \
also shows up here.\n\n\
## Example\n\
```json\n// package.json\n\"dependencies\": {\"lodash\": \"^4.17.21\"}\n// package-lock.json\n\"node_modules/lodash\": {\"version\": \"4.17.15\"}\n```\n\n\
## How to fix\n\
Run the package manager's install (`npm install`, `yarn`, `pnpm install`) and commit the \
updated lockfile, or fix the range in `package.json`. Non-semver specifiers (git, file, \
tags such as `latest`) are only checked for presence.",
};

fn norm(p: &str) -> &str {
    let p = p.trim_start_matches("./").trim_end_matches('/');
    if p == "." { "" } else { p }
}

/// Find the package the lockfile installs for `name` declared by importer `importer`.
fn locate<'a>(
    lock: &'a Lockfile,
    importer: &str,
    name: &str,
    range: &str,
) -> Option<&'a LockedPackage> {
    let importer = norm(importer);
    match &lock.format {
        LockfileFormat::PackageLock { .. } | LockfileFormat::Shrinkwrap { .. } => {
            let nested = if importer.is_empty() {
                format!("node_modules/{name}")
            } else {
                format!("{importer}/node_modules/{name}")
            };
            let top = format!("node_modules/{name}");
            lock.packages
                .iter()
                .find(|p| p.paths.contains(&nested))
                .or_else(|| lock.packages.iter().find(|p| p.paths.contains(&top)))
        }
        LockfileFormat::Pnpm { .. } => {
            let imp = lock.importers.iter().find(|i| norm(&i.path) == importer)?;
            let dep = imp.dependencies.iter().find(|d| d.name == name)?;
            let locked = dep.locked.as_deref()?;
            if locked.starts_with("link:") {
                return lock
                    .packages
                    .iter()
                    .find(|p| p.name == name && p.source != SourceKind::Registry)
                    .or(Some(&LINKED));
            }
            // The same keys the parser links importers with (v9, v6, v5, alias/URL refs).
            let candidates = [
                format!("{name}@{locked}"),
                format!("/{name}@{locked}"),
                format!("/{name}/{locked}"),
                locked.to_string(),
            ];
            lock.packages
                .iter()
                .find(|p| p.paths.iter().any(|k| candidates.contains(k)))
        }
        LockfileFormat::YarnClassic | LockfileFormat::YarnBerry { .. } => {
            let wanted = [format!("{name}@{range}"), format!("{name}@npm:{range}")];
            lock.packages.iter().find(|p| {
                p.paths.iter().any(|k| {
                    k.split(',')
                        .map(|d| d.trim().trim_matches('"'))
                        .any(|d| wanted.iter().any(|w| w == d))
                })
            })
        }
        LockfileFormat::Bun { .. } => {
            let ws_name = lock
                .importers
                .iter()
                .find(|i| norm(&i.path) == importer)
                .and_then(|i| i.name.clone())
                .filter(|_| !importer.is_empty());
            let nested = ws_name.map(|w| format!("{w}/{name}"));
            lock.packages
                .iter()
                .find(|p| nested.as_ref().is_some_and(|n| p.paths.contains(n)))
                .or_else(|| {
                    lock.packages
                        .iter()
                        .find(|p| p.paths.iter().any(|k| k == name))
                })
        }
        // Python lockfiles have no package.json; the rule does not apply to them.
        _ => None,
    }
}

/// Stand-in for a pnpm `link:` dependency (a workspace sibling): present, not checkable.
static LINKED: LockedPackage = LockedPackage {
    name: String::new(),
    alias: None,
    version: String::new(),
    source: SourceKind::Link,
    resolved: None,
    integrity: None,
    checksum: None,
    dev: false,
    optional: false,
    peer: false,
    bundled: false,
    has_install_script: None,
    paths: Vec::new(),
    dependencies: Vec::new(),
    line: 0,
    index: None,
    hashes: Vec::new(),
    markers: None,
    requirement: None,
};

pub(crate) fn check(input: &LintInput<'_>, out: &mut Vec<Finding>) {
    let lock = input.lockfile;
    for (importer, manifest) in input.manifests {
        let manifest_path = if norm(importer).is_empty() {
            "package.json".to_string()
        } else {
            format!("{}/package.json", norm(importer))
        };
        for section in ["dependencies", "devDependencies", "optionalDependencies"] {
            let Some(deps) = manifest.get(section).and_then(|d| d.as_object()) else {
                continue;
            };
            for (name, range) in deps {
                let Some(range) = range.as_str() else {
                    continue;
                };
                let Some(p) = locate(lock, importer, name, range) else {
                    // Optional dependencies may be skipped by a platform filter.
                    if section == "optionalDependencies" {
                        continue;
                    }
                    out.push(
                        Finding::new(
                            &RULE,
                            format!("{name}@{range} ({section} of {manifest_path}) is not in the lockfile"),
                        )
                        .with_evidence(
                            Evidence::new(lock.path.clone()).with_snippet(&format!("{name}: {range}")),
                        ),
                    );
                    continue;
                };
                let (want_name, want_range) = npm_alias(range).unwrap_or((name.as_str(), range));
                if p.source != SourceKind::Registry || p.version.is_empty() {
                    continue;
                }
                if npm_alias(range).is_some() && p.name != want_name {
                    out.push(
                        Finding::new(
                            &RULE,
                            format!(
                                "{name} should be {want_name} but the lockfile has {}",
                                label(p)
                            ),
                        )
                        .with_evidence(evidence(lock, p)),
                    );
                    continue;
                }
                let (Ok(r), Ok(v)) = (
                    node_semver::Range::parse(want_range),
                    node_semver::Version::parse(&p.version),
                ) else {
                    continue;
                };
                if !r.satisfies(&v) {
                    out.push(
                        Finding::new(
                            &RULE,
                            format!(
                                "{manifest_path} wants {name}@{range} but the lockfile has {}",
                                label(p)
                            ),
                        )
                        .with_evidence(evidence(lock, p)),
                    );
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::lint::LintOptions;
    use crate::lint::test_util::{lock, registry};
    use serde_json::json;

    fn run(l: &Lockfile, manifest: serde_json::Value) -> Vec<Finding> {
        let opts = LintOptions::default();
        let manifests = vec![(String::new(), manifest)];
        let input = LintInput {
            lockfile: l,
            manifests: &manifests,
            opts: &opts,
        };
        let mut out = Vec::new();
        check(&input, &mut out);
        out
    }

    #[test]
    fn flags_missing_and_out_of_range() {
        let l = lock(vec![registry("lodash", "4.17.15")]);
        let f = run(
            &l,
            json!({"dependencies": {"lodash": "^4.17.21", "left-pad": "^1"}}),
        );
        assert_eq!(f.len(), 2, "{f:#?}");
        assert!(
            f.iter().any(
                |x| x.message.contains("left-pad") && x.message.contains("not in the lockfile")
            )
        );
        assert!(f.iter().any(|x| x.message.contains("4.17.15")));
    }

    #[test]
    fn accepts_satisfied_alias_and_non_semver() {
        let mut alias = registry("string-width", "4.2.3");
        alias.alias = Some("cjs".into());
        alias.paths = vec!["node_modules/cjs".into()];
        let mut git = registry("g", "1.0.0");
        git.source = SourceKind::Git;
        let l = lock(vec![registry("lodash", "4.17.21"), alias, git]);
        let f = run(
            &l,
            json!({"dependencies": {"lodash": "^4.17.0", "cjs": "npm:string-width@^4.2.0"},
                   "devDependencies": {"g": "github:o/g"},
                   "optionalDependencies": {"fsevents": "^2"}}),
        );
        assert!(f.is_empty(), "{f:#?}");
    }
}

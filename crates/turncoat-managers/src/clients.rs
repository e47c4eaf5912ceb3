//! The client a project pins, and the keys that client would silently ignore.
//!
//! Older clients do not reject keys they do not know: a `minimumReleaseAge` in the workspace
//! file of a project pinned to pnpm 9 protects nothing. The pin is read from what the project
//! commits: package.json `packageManager` (what Corepack runs), `engines`, `.tool-versions`
//! (asdf/mise), Yarn's `yarnPath` release file, uv's `required-version`. The minimum versions
//! are from each manager's changelog (docs/policy-compile.md lists them with sources).

use node_semver::{Range, Version};
use serde_json::Value;

use crate::managers::{Manager, package_manager_field};
use crate::{Note, Project, Wanted};

/// (manager, what, first version that honours it).
pub const MINIMUM: &[(Manager, &str, &str)] = &[
    (Manager::Npm, "min-release-age", "11.10.0"),
    (Manager::Npm, "allowScripts", "11.16.0"),
    (Manager::Npm, "min-release-age-exclude", "11.17.0"),
    (Manager::Pnpm, "minimumReleaseAge", "10.16.0"),
    (
        Manager::Pnpm,
        "minimumReleaseAgeExclude patterns",
        "10.17.0",
    ),
    (
        Manager::Pnpm,
        "name@version in minimumReleaseAgeExclude and onlyBuiltDependencies",
        "10.19.0",
    ),
    (Manager::Yarn, "npmMinimalAgeGate", "4.10.0"),
    (Manager::Bun, "minimumReleaseAge", "1.3.0"),
    (Manager::Uv, "relative exclude-newer", "0.9.17"),
    (Manager::Pip, "relative uploaded-prior-to", "26.1.0"),
];

/// Where a pin came from and what it allows.
#[derive(Debug, Clone, PartialEq)]
pub struct Pin {
    pub manager: Manager,
    pub source: String,
    /// An exact version or a range.
    pub range: String,
}

fn tool_name(m: Manager) -> &'static str {
    m.as_str()
}

/// Every pin the project commits for `m`.
pub fn pins(project: &Project, m: Manager) -> Vec<Pin> {
    let mut out = Vec::new();
    let name = tool_name(m);
    if let Some((pm, version)) = package_manager_field(project)
        && pm == name
    {
        out.push(Pin {
            manager: m,
            source: "package.json packageManager".into(),
            range: version,
        });
    }
    if let Some(pkg) = project
        .get("package.json")
        .and_then(|t| serde_json::from_str::<Value>(t).ok())
        && let Some(r) = pkg
            .pointer(&format!("/engines/{name}"))
            .and_then(Value::as_str)
    {
        out.push(Pin {
            manager: m,
            source: format!("package.json engines.{name}"),
            range: r.to_string(),
        });
    }
    if let Some(tv) = project.get(".tool-versions") {
        for line in tv.lines() {
            let mut parts = line.split_whitespace();
            if parts.next() == Some(name)
                && let Some(v) = parts.next()
            {
                out.push(Pin {
                    manager: m,
                    source: ".tool-versions".into(),
                    range: v.to_string(),
                });
            }
        }
    }
    if m == Manager::Yarn
        && let Some(rc) = project.get(".yarnrc.yml")
        && let Some(v) = rc.lines().find_map(|l| {
            let rest = l.trim().strip_prefix("yarnPath:")?;
            let file = rest.trim().trim_matches(['"', '\'']).rsplit('/').next()?;
            Some(
                file.strip_prefix("yarn-")?
                    .strip_suffix(".cjs")?
                    .to_string(),
            )
        })
    {
        out.push(Pin {
            manager: m,
            source: ".yarnrc.yml yarnPath".into(),
            range: v,
        });
    }
    out
}

/// Whether a pin allows any version at or above `min`.
fn allows_at_least(range: &str, min: &str) -> Option<bool> {
    let min: Version = min.parse().ok()?;
    if let Ok(v) = range.trim_start_matches('v').parse::<Version>() {
        return Some(v >= min);
    }
    let r: Range = range.parse().ok()?;
    let floor: Range = format!(">={min}").parse().ok()?;
    Some(r.allows_any(&floor))
}

/// Notes for every pinned client too old for a key the plan writes.
pub fn too_old(managers: &[Manager], wanted: &Wanted, project: &Project) -> Vec<Note> {
    let mut out = Vec::new();
    for &m in managers {
        for pin in pins(project, m) {
            for (_, what, min) in MINIMUM.iter().filter(|(mm, _, _)| *mm == m) {
                if !relevant(m, what, wanted) {
                    continue;
                }
                match allows_at_least(&pin.range, min) {
                    Some(false) => out.push(Note {
                        manager: m,
                        code: "manager-too-old",
                        path: pin.source.clone(),
                        message: format!(
                            "{} {} ({}) ignores {what}, which needs {} ≥ {min}: the setting would be silently ignored",
                            m.as_str(),
                            pin.range,
                            pin.source,
                            m.as_str()
                        ),
                    }),
                    Some(true) => {}
                    None => out.push(Note {
                        manager: m,
                        code: "manager-too-old",
                        path: pin.source.clone(),
                        message: format!(
                            "cannot read the {} version {:?} ({}) to check it honours {what} (≥ {min})",
                            m.as_str(),
                            pin.range,
                            pin.source
                        ),
                    }),
                }
            }
        }
    }
    out
}

/// Only keys the plan actually writes matter.
fn relevant(m: Manager, what: &str, wanted: &Wanted) -> bool {
    match (m, what) {
        (Manager::Npm, "allowScripts") => !wanted.scripts.is_empty(),
        (Manager::Npm, "min-release-age-exclude") => {
            wanted.excludes.iter().any(|e| e.version.is_none())
        }
        (Manager::Pnpm, "minimumReleaseAgeExclude patterns") => {
            wanted.excludes.iter().any(|e| e.is_pattern())
        }
        (Manager::Pnpm, w) if w.starts_with("name@version") => {
            !wanted.scripts.is_empty() || wanted.excludes.iter().any(|e| e.version.is_some())
        }
        _ => true,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ranges_and_exact_pins() {
        assert_eq!(allows_at_least("9.15.0", "10.16.0"), Some(false));
        assert_eq!(allows_at_least("10.16.0", "10.16.0"), Some(true));
        assert_eq!(allows_at_least("v11.12.1", "11.10.0"), Some(true));
        assert_eq!(allows_at_least("^9", "10.16.0"), Some(false));
        assert_eq!(allows_at_least(">=9", "10.16.0"), Some(true));
        assert_eq!(allows_at_least("latest", "10.16.0"), None);
    }
}

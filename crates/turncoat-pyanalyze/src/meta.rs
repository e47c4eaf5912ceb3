//! Metadata a distribution declares: console/GUI entry points and requirements.
//!
//! Wheels: `*.dist-info/entry_points.txt` (INI) and `*.dist-info/METADATA`. Sdists: `PKG-INFO`
//! and `pyproject.toml` (`[project.scripts]`, `[project.gui-scripts]`,
//! `[project] dependencies`). `setup.py` arguments are code, not metadata: not read here.

use std::collections::HashMap;

use turncoat_archive::PackageFile;

use crate::facts::{DistFacts, DistKind};

pub(crate) fn read(
    kind: DistKind,
    files: &[PackageFile],
    by_installed: &HashMap<&str, &PackageFile>,
    facts: &mut DistFacts,
) {
    let in_dist_info = |name: &str| {
        files.iter().find(|f| {
            f.path
                .split_once('/')
                .is_some_and(|(d, rest)| d.ends_with(".dist-info") && rest == name)
        })
    };
    let metadata = match kind {
        DistKind::Wheel => in_dist_info("METADATA"),
        DistKind::Sdist => by_installed.get("PKG-INFO").copied(),
    };
    if let Some(m) = metadata {
        for line in String::from_utf8_lossy(&m.data).lines() {
            if line.is_empty() {
                break; // the body (long description) starts
            }
            // Extras are opt-in (`pip install x[test]`): only what every install pulls counts.
            if let Some(req) = line.strip_prefix("Requires-Dist:")
                && !is_extra(req)
            {
                facts.requires.insert(requirement_name(req));
            }
        }
    }
    if let Some(ep) = in_dist_info("entry_points.txt") {
        entry_points(&String::from_utf8_lossy(&ep.data), facts);
    }
    if kind == DistKind::Sdist
        && let Some(py) = by_installed.get("pyproject.toml")
    {
        pyproject(&py.data, facts);
    }
    facts.requires.remove("");
}

/// A requirement only an extra pulls in (`; extra == "test"`).
fn is_extra(req: &str) -> bool {
    req.split_once(';')
        .is_some_and(|(_, marker)| marker.contains("extra"))
}

/// PEP 503-normalised name of a requirement (`Foo_Bar[x] (>=1); extra == "y"` → `foo-bar`).
pub(crate) fn requirement_name(req: &str) -> String {
    let name: String = req
        .trim()
        .chars()
        .take_while(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.'))
        .collect();
    let mut out = String::new();
    for c in name.chars() {
        if matches!(c, '-' | '_' | '.') {
            if !out.ends_with('-') {
                out.push('-');
            }
        } else {
            out.push(c.to_ascii_lowercase());
        }
    }
    out
}

fn entry_points(text: &str, facts: &mut DistFacts) {
    let mut section = String::new();
    for line in text.lines() {
        let line = line.trim();
        if line.starts_with('[') && line.ends_with(']') {
            section = line[1..line.len() - 1].trim().to_string();
        } else if (section == "console_scripts" || section == "gui_scripts")
            && let Some((name, target)) = line.split_once('=')
        {
            facts
                .entry_points
                .insert(name.trim().to_string(), target.trim().to_string());
        }
    }
}

fn pyproject(data: &[u8], facts: &mut DistFacts) {
    let Some(doc) = std::str::from_utf8(data)
        .ok()
        .and_then(|s| s.parse::<toml::Table>().ok())
    else {
        return;
    };
    let Some(project) = doc.get("project").and_then(|p| p.as_table()) else {
        return;
    };
    for key in ["scripts", "gui-scripts"] {
        if let Some(t) = project.get(key).and_then(|s| s.as_table()) {
            for (name, target) in t {
                if let Some(target) = target.as_str() {
                    facts.entry_points.insert(name.clone(), target.to_string());
                }
            }
        }
    }
    if let Some(deps) = project.get("dependencies").and_then(|d| d.as_array()) {
        for d in deps
            .iter()
            .filter_map(|d| d.as_str())
            .filter(|d| !is_extra(d))
        {
            facts.requires.insert(requirement_name(d));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn requirement_names_are_normalised() {
        assert_eq!(requirement_name(" Foo_Bar.baz[x] (>=1)"), "foo-bar-baz");
        assert_eq!(requirement_name("requests>=2; extra == 'y'"), "requests");
        assert!(is_extra("pytest ; extra == \"test\""));
        assert!(!is_extra("pywin32 ; sys_platform == 'win32'"));
    }
}

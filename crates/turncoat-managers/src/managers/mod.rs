//! Each manager's files, keys and units, and which of the policy's pins it can express.

mod bun;
mod dependabot;
mod npm;
mod pip;
mod pnpm;
mod renovate;
mod uv;
mod yarn;

use serde::Serialize;

use crate::edit::Files;
use crate::{Error, Note, Project, Wanted};

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Manager {
    Npm,
    Pnpm,
    Yarn,
    Bun,
    Uv,
    Pip,
    Renovate,
    Dependabot,
}

impl Manager {
    pub fn as_str(self) -> &'static str {
        match self {
            Manager::Npm => "npm",
            Manager::Pnpm => "pnpm",
            Manager::Yarn => "yarn",
            Manager::Bun => "bun",
            Manager::Uv => "uv",
            Manager::Pip => "pip",
            Manager::Renovate => "renovate",
            Manager::Dependabot => "dependabot",
        }
    }
}

/// The `packageManager` field's manager name (`pnpm@9.1.0+sha…` → `pnpm`).
pub(crate) fn package_manager_field(project: &Project) -> Option<(String, String)> {
    let pkg: serde_json::Value = serde_json::from_str(project.get("package.json")?).ok()?;
    let field = pkg.get("packageManager")?.as_str()?;
    let (name, rest) = field.split_once('@')?;
    let version = rest.split('+').next().unwrap_or(rest).to_string();
    Some((name.to_string(), version))
}

/// The managers a project uses: by lockfile, by `packageManager`, by config file.
pub fn detect(p: &Project) -> Vec<Manager> {
    let declared = package_manager_field(p).map(|(n, _)| n);
    let is = |name: &str| declared.as_deref() == Some(name);
    let mut out = Vec::new();
    if p.has("package-lock.json") || p.has("npm-shrinkwrap.json") || is("npm") {
        out.push(Manager::Npm);
    }
    if p.has("pnpm-lock.yaml") || p.has("pnpm-workspace.yaml") || is("pnpm") {
        out.push(Manager::Pnpm);
    }
    if p.has("yarn.lock") || p.has(".yarnrc.yml") || is("yarn") {
        out.push(Manager::Yarn);
    }
    if p.has("bun.lock") || p.has("bun.lockb") || p.has("bunfig.toml") || is("bun") {
        out.push(Manager::Bun);
    }
    let pyproject_uv = p
        .get("pyproject.toml")
        .is_some_and(|t| t.contains("[tool.uv"));
    if p.has("uv.lock") || p.has("uv.toml") || pyproject_uv {
        out.push(Manager::Uv);
    }
    if p.has("requirements.txt") || p.has("requirements-dev.txt") || p.has("pip.conf") {
        out.push(Manager::Pip);
    }
    if renovate::config_path(p).is_some() || p.has("renovate.json5") {
        out.push(Manager::Renovate);
    }
    if dependabot::config_path(p).is_some() {
        out.push(Manager::Dependabot);
    }
    out
}

pub(crate) fn apply(
    m: Manager,
    wanted: &Wanted,
    project: &Project,
    files: &mut Files,
    notes: &mut Vec<Note>,
) -> Result<(), Error> {
    match m {
        Manager::Npm => npm::apply(wanted, files, notes),
        Manager::Pnpm => pnpm::apply(wanted, files),
        Manager::Yarn => yarn::apply(wanted, project, files, notes),
        Manager::Bun => bun::apply(wanted, files, notes),
        Manager::Uv => uv::apply(wanted, project, files, notes),
        Manager::Pip => pip::apply(wanted, files, notes),
        Manager::Renovate => renovate::apply(wanted, project, files, notes),
        Manager::Dependabot => dependabot::apply(wanted, project, files, notes),
    }
}

/// A note that `manager` cannot express `what` and turncoat left it out (fail closed: a pin
/// is never widened to a whole package).
pub(crate) fn cannot_pin(manager: Manager, path: &str, what: String) -> Note {
    Note {
        manager,
        code: "manager-cannot-pin",
        path: path.to_string(),
        message: what,
    }
}

/// `allowScripts`-style maps: the policy's approvals `true`, the user's denials (`false`)
/// kept, every other approval dropped (the policy is the one list).
pub(crate) fn approvals(
    existing: Option<&serde_json::Value>,
    wanted: &Wanted,
) -> serde_json::Value {
    let mut map = serde_json::Map::new();
    if let Some(serde_json::Value::Object(old)) = existing {
        for (k, v) in old {
            if v == &serde_json::Value::Bool(false) {
                map.insert(k.clone(), v.clone());
            }
        }
    }
    for s in &wanted.scripts {
        map.insert(s.spec(), serde_json::Value::Bool(true));
    }
    serde_json::Value::Object(map)
}

/// Set a top-level key of a YAML settings file (pnpm-workspace.yaml, .yarnrc.yml) unless it
/// already says `value`.
pub(crate) fn set_yaml_top(
    files: &mut Files,
    path: &str,
    manager: Manager,
    key: &str,
    value: serde_json::Value,
) -> Result<(), Error> {
    let text = files.text(path).to_string();
    let current = crate::edit::yaml::read(path, &text)?;
    if current.get(key) == Some(&value) {
        return Ok(());
    }
    let (prev, after) = crate::edit::yaml::set(path, &text, &[], key, &value)?;
    let render = crate::edit::render;
    files.set(
        path,
        manager,
        key,
        prev.as_ref().map(render),
        render(&value),
        after,
    );
    Ok(())
}

/// An ISO 8601 duration (`P3D`, `PT36H`, `PT90M`), what uv and pip accept for a relative
/// cutoff.
pub(crate) fn iso_duration(secs: u64) -> String {
    if secs.is_multiple_of(86_400) {
        format!("P{}D", secs / 86_400)
    } else if secs.is_multiple_of(3_600) {
        format!("PT{}H", secs / 3_600)
    } else {
        format!("PT{}M", secs.div_ceil(60))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn iso_durations_never_shorten() {
        assert_eq!(iso_duration(3 * 86_400), "P3D");
        assert_eq!(iso_duration(36 * 3_600), "PT36H");
        assert_eq!(iso_duration(90 * 60 + 1), "PT91M");
    }
}

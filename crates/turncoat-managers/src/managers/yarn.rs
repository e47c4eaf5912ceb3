//! Yarn 4 (Berry): `.yarnrc.yml` `npmMinimalAgeGate` (a duration, Yarn ≥ 4.10),
//! `npmPreapprovedPackages` (descriptors and globs), `enableScripts: false`, and
//! `dependenciesMeta["name@version"].built: true` in package.json. Yarn 1 (classic) has
//! neither: it is reported, not configured.

use serde_json::{Value, json};

use super::Manager;
use crate::edit::{Files, json as jsonedit, yaml};
use crate::{Error, Note, Project, Wanted};

const PATH: &str = ".yarnrc.yml";

fn set(files: &mut Files, key: &str, value: Value) -> Result<(), Error> {
    super::set_yaml_top(files, PATH, Manager::Yarn, key, value)
}

/// Yarn 1 writes `# yarn lockfile v1`; Berry lockfiles carry `__metadata`.
pub(crate) fn is_classic(project: &Project) -> bool {
    project
        .get("yarn.lock")
        .is_some_and(|t| t.contains("# yarn lockfile v1") && !t.contains("__metadata"))
        && !project.has(".yarnrc.yml")
}

/// Whole days as `Nd`, else minutes (Yarn reads a bare number as minutes).
fn gate(wanted: &Wanted) -> Value {
    if wanted.cooldown_secs.is_multiple_of(86_400) {
        json!(format!("{}d", wanted.days()))
    } else {
        json!(wanted.minutes())
    }
}

pub(super) fn apply(
    wanted: &Wanted,
    project: &Project,
    files: &mut Files,
    notes: &mut Vec<Note>,
) -> Result<(), Error> {
    if is_classic(project) {
        notes.push(Note {
            manager: Manager::Yarn,
            code: "manager-too-old",
            path: "yarn.lock".into(),
            message: "Yarn 1 (classic) has no release-age gate and no script allow-list: migrate to Yarn ≥ 4.10, or install with `turncoat install`".into(),
        });
        return Ok(());
    }
    set(files, "npmMinimalAgeGate", gate(wanted))?;
    let excludes: Vec<String> = wanted.excludes.iter().map(|e| e.spec()).collect();
    let current = yaml::read(PATH, files.text(PATH))?;
    if !excludes.is_empty() || current.get("npmPreapprovedPackages").is_some() {
        set(files, "npmPreapprovedPackages", json!(excludes))?;
    }
    set(files, "enableScripts", json!(false))?;

    let pkg = files.text("package.json").to_string();
    let current = jsonedit::read("package.json", &pkg)?;
    let mut meta = current
        .get("dependenciesMeta")
        .and_then(Value::as_object)
        .cloned()
        .unwrap_or_default();
    // Approvals come from the policy only: every `built: true` the policy does not list goes.
    for (_, v) in meta.iter_mut() {
        if let Some(o) = v.as_object_mut()
            && o.get("built") == Some(&Value::Bool(true))
        {
            o.remove("built");
        }
    }
    meta.retain(|_, v| v.as_object().is_none_or(|o| !o.is_empty()));
    for s in &wanted.scripts {
        let entry = meta.entry(s.spec()).or_insert_with(|| json!({}));
        if let Some(o) = entry.as_object_mut() {
            o.insert("built".into(), Value::Bool(true));
        }
    }
    let want = Value::Object(meta);
    let had = current.get("dependenciesMeta");
    if had != Some(&want) && !(had.is_none() && want == json!({})) {
        let (prev, text) = jsonedit::set_top("package.json", &pkg, "dependenciesMeta", &want)?;
        files.set(
            "package.json",
            Manager::Yarn,
            "dependenciesMeta",
            prev.map(|v| v.to_string()),
            want.to_string(),
            text,
        );
    }
    Ok(())
}

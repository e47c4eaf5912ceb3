//! Dependabot: `cooldown: default-days` on every `updates` entry (days; version updates only,
//! security updates are never held back) and `cooldown.exclude` (names and `*` patterns; pins
//! are left out and reported).

use serde_json::{Value, json};
use yamlpath::Component;

use super::{Manager, cannot_pin};
use crate::edit::{Files, render, yaml};
use crate::{Error, Note, Project, Wanted};

pub(crate) fn config_path(p: &Project) -> Option<&'static str> {
    [".github/dependabot.yml", ".github/dependabot.yaml"]
        .into_iter()
        .find(|path| p.has(path))
}

pub(super) fn apply(
    wanted: &Wanted,
    project: &Project,
    files: &mut Files,
    notes: &mut Vec<Note>,
) -> Result<(), Error> {
    let Some(path) = config_path(project) else {
        return Ok(());
    };
    let mut exclude = Vec::new();
    for e in &wanted.excludes {
        if e.version.is_some() {
            notes.push(cannot_pin(
                Manager::Dependabot,
                path,
                format!("Dependabot's cooldown excludes whole dependencies; the pinned exclusion {} was left out", e.spec()),
            ));
        } else {
            exclude.push(e.name.clone());
        }
    }
    let count = yaml::read(path, files.text(path))?
        .get("updates")
        .and_then(Value::as_array)
        .map(Vec::len)
        .unwrap_or(0);
    for i in 0..count {
        let text = files.text(path).to_string();
        let doc = yaml::read(path, &text)?;
        let route = [Component::Key("updates".into()), Component::Index(i)];
        let old = yaml::get(&doc, &route)
            .and_then(|u| u.get("cooldown"))
            .cloned();
        // Keep the user's per-semver days when they are at least the policy's; set the rest.
        let mut want = old
            .as_ref()
            .and_then(Value::as_object)
            .cloned()
            .unwrap_or_default();
        want.insert("default-days".into(), json!(wanted.days()));
        for k in [
            "semver-major-days",
            "semver-minor-days",
            "semver-patch-days",
        ] {
            if want
                .get(k)
                .and_then(Value::as_u64)
                .is_some_and(|d| d < wanted.days())
            {
                want.insert(k.into(), json!(wanted.days()));
            }
        }
        if exclude.is_empty() {
            want.remove("exclude");
        } else {
            want.insert("exclude".into(), json!(exclude));
        }
        let want = Value::Object(want);
        if old.as_ref() == Some(&want) {
            continue;
        }
        let (prev, after) = yaml::set(path, &text, &route, "cooldown", &want)?;
        let ecosystem = yaml::get(&doc, &route)
            .and_then(|u| u.get("package-ecosystem"))
            .map(render)
            .unwrap_or_default();
        files.set(
            path,
            Manager::Dependabot,
            &format!("updates[{i}] ({ecosystem}).cooldown"),
            prev.as_ref().map(render),
            render(&want),
            after,
        );
    }
    Ok(())
}

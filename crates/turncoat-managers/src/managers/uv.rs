//! uv: `exclude-newer` as a relative ISO 8601 duration (uv ≥ 0.9.17), in `uv.toml` when the
//! project has one, else `[tool.uv]` of pyproject.toml. Exclusions are not written (uv's
//! per-package form takes dates, not the policy's names): reported.

use serde_json::json;
use toml_edit::Value as TomlValue;

use super::{Manager, cannot_pin, iso_duration};
use crate::edit::{Files, toml};
use crate::{Error, Note, Project, Wanted};

pub(super) fn apply(
    wanted: &Wanted,
    project: &Project,
    files: &mut Files,
    notes: &mut Vec<Note>,
) -> Result<(), Error> {
    let (path, table): (&str, &[&str]) = if project.has("uv.toml") {
        ("uv.toml", &[])
    } else {
        ("pyproject.toml", &["tool", "uv"])
    };
    let want = iso_duration(wanted.cooldown_secs);
    let text = files.text(path).to_string();
    if toml::get(path, &text, table, "exclude-newer")? != Some(json!(want)) {
        let (prev, after) = toml::set(
            path,
            &text,
            table,
            "exclude-newer",
            TomlValue::from(want.as_str()),
        )?;
        files.set(
            path,
            Manager::Uv,
            "exclude-newer",
            prev.map(|v| v.to_string()),
            want,
            after,
        );
    }
    if !wanted.excludes.is_empty() {
        let specs: Vec<String> = wanted.excludes.iter().map(|e| e.spec()).collect();
        notes.push(cannot_pin(Manager::Uv, path, format!("uv's exclude-newer-package takes a date per package; these exclusions were not written: {}", specs.join(", "))));
    }
    Ok(())
}

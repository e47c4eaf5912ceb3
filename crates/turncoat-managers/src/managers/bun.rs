//! Bun: `bunfig.toml` `[install] minimumReleaseAge` (seconds) and `minimumReleaseAgeExcludes`
//! (exact names only: patterns and pins are left out and reported), and `trustedDependencies`
//! in package.json — names only, so the version and integrity pins are not Bun's to enforce
//! (reported; `turncoat install` enforces them). An empty `trustedDependencies` does not turn
//! off Bun's built-in list of about 500 trusted packages, a one-entry list does.

use serde_json::json;
use toml_edit::{Array, Value as TomlValue};

use super::{Manager, cannot_pin};
use crate::edit::{Files, json as jsonedit, toml};
use crate::{Error, Note, Wanted};

const PATH: &str = "bunfig.toml";

pub(super) fn apply(
    wanted: &Wanted,
    files: &mut Files,
    notes: &mut Vec<Note>,
) -> Result<(), Error> {
    let text = files.text(PATH).to_string();
    let secs = i64::try_from(wanted.cooldown_secs).unwrap_or(i64::MAX);
    if toml::get(PATH, &text, &["install"], "minimumReleaseAge")? != Some(json!(secs)) {
        let (prev, after) = toml::set(
            PATH,
            &text,
            &["install"],
            "minimumReleaseAge",
            TomlValue::from(secs),
        )?;
        files.set(
            PATH,
            Manager::Bun,
            "install.minimumReleaseAge",
            prev.map(|v| v.to_string()),
            secs.to_string(),
            after,
        );
    }
    let mut names = Vec::new();
    for e in &wanted.excludes {
        if e.version.is_some() || e.is_pattern() {
            notes.push(cannot_pin(
                Manager::Bun,
                PATH,
                format!(
                    "Bun excludes exact package names only; {} was left out",
                    e.spec()
                ),
            ));
        } else {
            names.push(e.name.clone());
        }
    }
    let text = files.text(PATH).to_string();
    let current = toml::get(PATH, &text, &["install"], "minimumReleaseAgeExcludes")?;
    if (!names.is_empty() || current.is_some()) && current != Some(json!(names)) {
        let arr: Array = names.iter().map(String::as_str).collect();
        let (prev, after) = toml::set(
            PATH,
            &text,
            &["install"],
            "minimumReleaseAgeExcludes",
            TomlValue::Array(arr),
        )?;
        files.set(
            PATH,
            Manager::Bun,
            "install.minimumReleaseAgeExcludes",
            prev.map(|v| v.to_string()),
            json!(names).to_string(),
            after,
        );
    }

    let pkg = files.text("package.json").to_string();
    let current = jsonedit::read("package.json", &pkg)?;
    let mut trusted: Vec<String> = wanted.scripts.iter().map(|s| s.name.clone()).collect();
    trusted.dedup();
    if !wanted.scripts.is_empty() {
        notes.push(cannot_pin(
            Manager::Bun,
            "package.json",
            format!(
                "Bun trusts dependencies by name: {} may run scripts in any version; run installs with `turncoat install` to hold them to the pinned version and integrity",
                trusted.join(", ")
            ),
        ));
    }
    let want = json!(trusted);
    if current.get("trustedDependencies") != Some(&want) {
        if trusted.is_empty() {
            notes.push(Note {
                manager: Manager::Bun,
                code: "manager-cannot-pin",
                path: "package.json".into(),
                message: "no approved scripts, but Bun runs the scripts of its ~500 default-trusted packages unless trustedDependencies names at least one package: install with `--ignore-scripts` or `turncoat install`".into(),
            });
            if current.get("trustedDependencies").is_none() {
                return Ok(());
            }
        }
        let (prev, text) = jsonedit::set_top("package.json", &pkg, "trustedDependencies", &want)?;
        files.set(
            "package.json",
            Manager::Bun,
            "trustedDependencies",
            prev.map(|v| v.to_string()),
            want.to_string(),
            text,
        );
    }
    Ok(())
}

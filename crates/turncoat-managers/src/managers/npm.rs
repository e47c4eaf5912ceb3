//! npm: `.npmrc` `min-release-age` (days, npm ≥ 11.10), `min-release-age-exclude[]` (names
//! and globs, npm ≥ 11.17), and `allowScripts` in package.json (`name@version: true`, npm ≥
//! 11.16; enforced from npm 12).

use serde_json::Value;

use super::{Manager, approvals, cannot_pin};
use crate::edit::{Files, ini, json};
use crate::{Error, Note, Wanted};

pub(super) fn apply(
    wanted: &Wanted,
    files: &mut Files,
    notes: &mut Vec<Note>,
) -> Result<(), Error> {
    let npmrc = files.text(".npmrc").to_string();
    let days = wanted.days().to_string();
    let old = ini::get(&npmrc, None, "min-release-age").pop();
    let text = ini::set(&npmrc, None, "min-release-age", std::slice::from_ref(&days));
    files.set(".npmrc", Manager::Npm, "min-release-age", old, days, text);

    let mut names = Vec::new();
    for e in &wanted.excludes {
        if e.version.is_some() {
            notes.push(cannot_pin(
                Manager::Npm,
                ".npmrc",
                format!("npm excludes whole packages from min-release-age; the pinned exclusion {} was left out", e.spec()),
            ));
        } else {
            names.push(e.name.clone());
        }
    }
    let npmrc = files.text(".npmrc").to_string();
    let old = ini::get(&npmrc, None, "min-release-age-exclude[]");
    if !(old.is_empty() && names.is_empty()) {
        let text = ini::set(&npmrc, None, "min-release-age-exclude[]", &names);
        files.set(
            ".npmrc",
            Manager::Npm,
            "min-release-age-exclude",
            (!old.is_empty()).then(|| old.join(",")),
            names.join(","),
            text,
        );
    }

    let pkg = files.text("package.json").to_string();
    let current = json::read("package.json", &pkg)?;
    let want = approvals(current.get("allowScripts"), wanted);
    if current.get("allowScripts") != Some(&want)
        && !(current.get("allowScripts").is_none() && want == Value::Object(Default::default()))
    {
        let (prev, text) = json::set_top("package.json", &pkg, "allowScripts", &want)?;
        files.set(
            "package.json",
            Manager::Npm,
            "allowScripts",
            prev.map(|v| v.to_string()),
            want.to_string(),
            text,
        );
    }
    Ok(())
}

//! pip: `[install] uploaded-prior-to` as a relative ISO 8601 duration (pip ≥ 26.1) in a
//! project `pip.conf`. pip reads no project file on its own: CI must export
//! `PIP_CONFIG_FILE=pip.conf` (reported every time, it is easy to miss).

use super::{Manager, cannot_pin, iso_duration};
use crate::edit::{Files, ini};
use crate::{Error, Note, Wanted};

const PATH: &str = "pip.conf";

pub(super) fn apply(
    wanted: &Wanted,
    files: &mut Files,
    notes: &mut Vec<Note>,
) -> Result<(), Error> {
    let want = iso_duration(wanted.cooldown_secs);
    let text = files.text(PATH).to_string();
    let old = ini::get(&text, Some("install"), "uploaded-prior-to").pop();
    let after = ini::set(
        &text,
        Some("install"),
        "uploaded-prior-to",
        std::slice::from_ref(&want),
    );
    files.set(
        PATH,
        Manager::Pip,
        "install.uploaded-prior-to",
        old,
        want,
        after,
    );
    notes.push(Note {
        manager: Manager::Pip,
        code: "manager-setting-not-read",
        path: PATH.into(),
        message: "pip reads pip.conf only when PIP_CONFIG_FILE points at it: export PIP_CONFIG_FILE=pip.conf in CI and in the shell (or use uv)".into(),
    });
    if !wanted.excludes.is_empty() {
        let specs: Vec<String> = wanted.excludes.iter().map(|e| e.spec()).collect();
        notes.push(cannot_pin(Manager::Pip, PATH, format!("pip has no per-package exclusion from uploaded-prior-to; these exclusions were not written: {}", specs.join(", "))));
    }
    Ok(())
}

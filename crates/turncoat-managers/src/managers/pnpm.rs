//! pnpm: `pnpm-workspace.yaml` `minimumReleaseAge` (minutes, pnpm ≥ 10.16),
//! `minimumReleaseAgeExclude` (names, patterns ≥ 10.17, `name@version` ≥ 10.19) and
//! `onlyBuiltDependencies` (`name@version` ≥ 10.19).

use serde_json::{Value, json};

use super::Manager;
use crate::edit::{Files, yaml};
use crate::{Error, Wanted};

const PATH: &str = "pnpm-workspace.yaml";

fn set(files: &mut Files, key: &str, value: Value) -> Result<(), Error> {
    super::set_yaml_top(files, PATH, Manager::Pnpm, key, value)
}

pub(super) fn apply(wanted: &Wanted, files: &mut Files) -> Result<(), Error> {
    set(files, "minimumReleaseAge", json!(wanted.minutes()))?;
    let excludes: Vec<String> = wanted.excludes.iter().map(|e| e.spec()).collect();
    let current = yaml::read(PATH, files.text(PATH))?;
    if !excludes.is_empty() || current.get("minimumReleaseAgeExclude").is_some() {
        set(files, "minimumReleaseAgeExclude", json!(excludes))?;
    }
    let built: Vec<String> = wanted.scripts.iter().map(|s| s.spec()).collect();
    if !built.is_empty() || current.get("onlyBuiltDependencies").is_some() {
        set(files, "onlyBuiltDependencies", json!(built))?;
    }
    Ok(())
}

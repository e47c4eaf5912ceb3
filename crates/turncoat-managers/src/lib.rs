//! One install policy, written into every package manager's and update bot's own settings.
//!
//! Every manager now has a cooldown and an install-script allow-list, each with its own file,
//! key, unit and minimum version, and an older client silently ignores a key it does not know.
//! [`compile`] turns the policy (`turncoat.toml`: `cooldown`, `[[cooldown-exclude]]`,
//! `[[allow-script]]`) into edits of the files of the managers a project uses; `--check` is the
//! same plan read as drift. [`clients`] reads which client version a project pins and says
//! which keys it would ignore.
//!
//! Sans-IO: a [`Project`] is the text of the files that matter, read by the caller; the plan
//! holds the new text of each file. Edits keep the user's formatting and comments: TOML with
//! `toml_edit`, JSON with `jsonc-parser`'s concrete syntax tree, YAML with `yamlpatch` (the
//! format-preserving patcher zizmor uses on workflows); `.npmrc` and `pip.conf` are INI lines,
//! edited line by line here (no maintained crate edits INI without rewriting it). Every edited
//! file is parsed again and the value read back before the plan is returned: an edit that does
//! not say what the policy says is an error, never a silent half-write.

pub mod clients;
mod edit;
pub mod managers;
pub mod rules;

use std::collections::BTreeMap;

use serde::Serialize;
use turncoat_policy::{Date, Policy};

pub use managers::Manager;

#[derive(Debug, thiserror::Error, PartialEq)]
pub enum Error {
    #[error("{path}: cannot read it as {format}: {message}")]
    Parse {
        path: String,
        format: &'static str,
        message: String,
    },
    #[error("{path}: {message}")]
    Unsupported { path: String, message: String },
    #[error(
        "{path}: the edit of `{key}` did not read back as {expected:?} (found {found:?}); nothing was written"
    )]
    ReadBack {
        path: String,
        key: String,
        expected: String,
        found: String,
    },
}

/// The files that decide what a project's managers do, by path relative to its root.
#[derive(Debug, Clone, Default)]
pub struct Project {
    pub files: BTreeMap<String, String>,
}

impl Project {
    /// Every path [`compile`] may read or write (the caller reads those that exist).
    pub const PATHS: &'static [&'static str] = &[
        "package.json",
        "package-lock.json",
        "npm-shrinkwrap.json",
        ".npmrc",
        "pnpm-lock.yaml",
        "pnpm-workspace.yaml",
        "yarn.lock",
        ".yarnrc.yml",
        "bun.lock",
        "bun.lockb",
        "bunfig.toml",
        "uv.lock",
        "uv.toml",
        "pyproject.toml",
        "requirements.txt",
        "requirements-dev.txt",
        "pip.conf",
        "renovate.json",
        ".github/renovate.json",
        ".renovaterc.json",
        "renovate.json5",
        ".github/dependabot.yml",
        ".github/dependabot.yaml",
        ".tool-versions",
    ];

    pub fn get(&self, path: &str) -> Option<&str> {
        self.files.get(path).map(String::as_str)
    }

    pub fn has(&self, path: &str) -> bool {
        self.files.contains_key(path)
    }
}

/// What the policy asks of every manager, resolved for one day.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Wanted {
    pub cooldown_secs: u64,
    /// Exclusions in force: names, patterns (`@acme/*`) and pinned `name@version`s.
    pub excludes: Vec<Exclude>,
    /// Approved install scripts, pinned.
    pub scripts: Vec<Script>,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Exclude {
    pub name: String,
    pub version: Option<String>,
}

impl Exclude {
    pub fn spec(&self) -> String {
        match &self.version {
            Some(v) => format!("{}@{v}", self.name),
            None => self.name.clone(),
        }
    }

    pub fn is_pattern(&self) -> bool {
        self.name.contains('*')
    }
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Script {
    pub name: String,
    pub version: String,
}

impl Script {
    pub fn spec(&self) -> String {
        format!("{}@{}", self.name, self.version)
    }
}

impl Wanted {
    /// The policy's install settings on `today` (expired exclusions dropped).
    pub fn from_policy(policy: &Policy, today: Date) -> Wanted {
        Wanted {
            cooldown_secs: policy.cooldown_secs,
            excludes: policy
                .active_cooldown_excludes(today)
                .map(|e| Exclude {
                    name: e.name.clone(),
                    version: e.version.clone(),
                })
                .collect(),
            scripts: policy
                .allow_scripts
                .iter()
                .map(|s| Script {
                    name: s.name.clone(),
                    version: s.version.clone(),
                })
                .collect(),
        }
    }

    /// The cooldown in whole days, rounded up (a unit coarser than the policy's never
    /// shortens it).
    pub fn days(&self) -> u64 {
        self.cooldown_secs.div_ceil(86_400)
    }

    pub fn minutes(&self) -> u64 {
        self.cooldown_secs.div_ceil(60)
    }
}

/// One setting that changes.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Change {
    pub manager: Manager,
    pub key: String,
    /// What the file says now (`None`: not set).
    pub from: Option<String>,
    pub to: String,
}

/// The new text of one file.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct FileEdit {
    pub path: String,
    /// The file does not exist yet.
    pub create: bool,
    #[serde(skip)]
    pub after: String,
    pub changes: Vec<Change>,
}

/// Something the user must know: a client that ignores a key, a pin a manager cannot express.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Note {
    pub manager: Manager,
    /// A code from [`rules::ALL`].
    pub code: &'static str,
    pub path: String,
    pub message: String,
}

/// The plan for one project.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct Plan {
    pub managers: Vec<Manager>,
    pub edits: Vec<FileEdit>,
    pub notes: Vec<Note>,
}

impl Plan {
    /// Settings that differ from the policy.
    pub fn drift(&self) -> impl Iterator<Item = (&FileEdit, &Change)> {
        self.edits
            .iter()
            .flat_map(|e| e.changes.iter().map(move |c| (e, c)))
    }
}

/// Plan the edits that make every manager `project` uses say what `wanted` says.
pub fn compile(wanted: &Wanted, project: &Project) -> Result<Plan, Error> {
    let managers = managers::detect(project);
    let mut files = edit::Files::new(project);
    let mut notes = Vec::new();
    for &m in &managers {
        managers::apply(m, wanted, project, &mut files, &mut notes)?;
    }
    notes.extend(clients::too_old(&managers, wanted, project));
    Ok(Plan {
        managers,
        edits: files.finish(),
        notes,
    })
}

/// Every rule this crate declares, for the one registry.
pub fn rules() -> &'static [&'static turncoat_finding::RuleDoc] {
    rules::ALL
}

//! Format-preserving edits, one module per file format, and the set of files a plan touches.
//!
//! Each setter reads the value back from the edited text and compares it with what it was
//! asked to write ([`crate::Error::ReadBack`] otherwise), so a formatter quirk can never leave
//! a file that says something else than the policy.

pub mod ini;
pub mod json;
pub mod toml;
pub mod yaml;

use std::collections::BTreeMap;

use crate::{Change, FileEdit, Manager, Project};

/// The files of a plan: the original text and the text after every edit so far.
pub struct Files {
    original: BTreeMap<String, Option<String>>,
    current: BTreeMap<String, String>,
    changes: BTreeMap<String, Vec<Change>>,
}

impl Files {
    pub fn new(project: &Project) -> Files {
        Files {
            original: project
                .files
                .iter()
                .map(|(k, v)| (k.clone(), Some(v.clone())))
                .collect(),
            current: project.files.clone(),
            changes: BTreeMap::new(),
        }
    }

    /// The text of `path` as edited so far (empty for a file that does not exist yet).
    pub fn text(&self, path: &str) -> &str {
        self.current.get(path).map(String::as_str).unwrap_or("")
    }

    /// Record the new text of `path` when `from` (the old value, rendered) differs from `to`.
    pub fn set(
        &mut self,
        path: &str,
        manager: Manager,
        key: &str,
        from: Option<String>,
        to: String,
        text: String,
    ) {
        if from.as_deref() == Some(to.as_str()) {
            return;
        }
        self.current.insert(path.to_string(), text);
        self.changes
            .entry(path.to_string())
            .or_default()
            .push(Change {
                manager,
                key: key.to_string(),
                from,
                to,
            });
    }

    pub fn finish(self) -> Vec<FileEdit> {
        let Files {
            original,
            mut current,
            changes,
        } = self;
        changes
            .into_iter()
            .map(|(path, changes)| FileEdit {
                create: !matches!(original.get(&path), Some(Some(_))),
                after: current.remove(&path).unwrap_or_default(),
                path,
                changes,
            })
            .collect()
    }
}

/// A value rendered for messages and drift comparison: compact JSON.
pub fn render(v: &serde_json::Value) -> String {
    match v {
        serde_json::Value::String(s) => s.clone(),
        other => other.to_string(),
    }
}

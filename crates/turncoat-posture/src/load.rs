//! Reading `.github/workflows/*.yml|yaml` from a repository directory, bounded.
//!
//! Symlinks are not followed (a link could point anywhere on the machine, and GitHub does not
//! run linked workflow files); they, and files over the size limit, are listed as skipped
//! rather than silently ignored. A file that is not UTF-8 or not valid YAML is an error naming
//! the file and line: a workflow we cannot read is never judged as harmless.

use std::path::Path;

use serde::Serialize;

use crate::model::Workflow;
use crate::yaml::{self, Limits};

/// Most workflow files read from one repository.
pub const MAX_WORKFLOWS: usize = 500;

#[derive(Debug, thiserror::Error)]
pub enum LoadError {
    #[error("cannot read {path}: {source}")]
    Io {
        path: String,
        source: std::io::Error,
    },
    #[error("{path} is not UTF-8 (byte {offset}); GitHub would not run it")]
    NotUtf8 { path: String, offset: usize },
    #[error("{path}: {source}")]
    Yaml {
        path: String,
        source: yaml::YamlError,
    },
    #[error("{path}: {source}")]
    Shape {
        path: String,
        source: crate::model::ShapeError,
    },
    #[error("{path}: more than {MAX_WORKFLOWS} workflow files")]
    TooMany { path: String },
}

/// A file that was seen and not judged, with the reason.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Skipped {
    pub file: String,
    pub reason: String,
}

/// Parse one workflow file's bytes. `Ok(None)`: the file holds no document.
pub fn parse_workflow(
    path: &str,
    bytes: &[u8],
    limits: &Limits,
) -> Result<Option<Workflow>, LoadError> {
    if bytes.len() > limits.max_bytes {
        return Err(LoadError::Yaml {
            path: path.into(),
            source: yaml::YamlError {
                line: 0,
                message: format!(
                    "file is {} bytes, larger than the limit of {} bytes",
                    bytes.len(),
                    limits.max_bytes
                ),
            },
        });
    }
    let text = std::str::from_utf8(bytes).map_err(|e| LoadError::NotUtf8 {
        path: path.into(),
        offset: e.valid_up_to(),
    })?;
    let Some(root) = yaml::parse(text, limits).map_err(|source| LoadError::Yaml {
        path: path.into(),
        source,
    })?
    else {
        return Ok(None);
    };
    Workflow::from_tree(path, &root)
        .map(Some)
        .map_err(|source| LoadError::Shape {
            path: path.into(),
            source,
        })
}

/// Parse a composite action file (`.github/actions/NAME/action.yml`).
pub fn parse_action(
    path: &str,
    uses: &str,
    bytes: &[u8],
    limits: &Limits,
) -> Result<Option<crate::LocalAction>, LoadError> {
    let text = std::str::from_utf8(bytes).map_err(|e| LoadError::NotUtf8 {
        path: path.into(),
        offset: e.valid_up_to(),
    })?;
    let Some(root) = yaml::parse(text, limits).map_err(|source| LoadError::Yaml {
        path: path.into(),
        source,
    })?
    else {
        return Ok(None);
    };
    crate::LocalAction::from_tree(path, uses, &root)
        .map(Some)
        .map_err(|source| LoadError::Shape {
            path: path.into(),
            source,
        })
}

/// `.github/actions/NAME/action.yml|yaml` of the repository (one level), bounded like
/// workflows; symlinks are skipped.
fn load_actions(
    root: &Path,
    limits: &Limits,
    repo: &mut crate::Repo,
    skipped: &mut Vec<Skipped>,
) -> Result<(), LoadError> {
    let dir = root.join(".github").join("actions");
    let io = |path: &Path, source| LoadError::Io {
        path: path.display().to_string(),
        source,
    };
    match std::fs::symlink_metadata(&dir) {
        Ok(m) if m.is_dir() => {}
        Ok(_) => {
            skipped.push(Skipped {
                file: ".github/actions".into(),
                reason: "not a directory (a symlink is not followed)".into(),
            });
            return Ok(());
        }
        Err(_) => return Ok(()),
    }
    let mut names: Vec<_> = std::fs::read_dir(&dir)
        .map_err(|e| io(&dir, e))?
        .collect::<Result<Vec<_>, _>>()
        .map_err(|e| io(&dir, e))?;
    names.sort_by_key(|e| e.file_name());
    if names.len() > MAX_WORKFLOWS {
        return Err(LoadError::TooMany {
            path: ".github/actions".into(),
        });
    }
    for entry in names {
        let name = entry.file_name().to_string_lossy().into_owned();
        let sub = entry.path();
        let meta = std::fs::symlink_metadata(&sub).map_err(|e| io(&sub, e))?;
        if !meta.is_dir() {
            continue;
        }
        for file in ["action.yml", "action.yaml"] {
            let path = sub.join(file);
            let Ok(meta) = std::fs::symlink_metadata(&path) else {
                continue;
            };
            let rel = format!(".github/actions/{name}/{file}");
            if !meta.is_file() {
                skipped.push(Skipped {
                    file: rel,
                    reason: "not a regular file (symlinks are not followed)".into(),
                });
                continue;
            }
            let bytes = read_bounded(&path, limits.max_bytes).map_err(|e| io(&path, e))?;
            if bytes.len() > limits.max_bytes {
                return Err(LoadError::Yaml {
                    path: rel,
                    source: yaml::YamlError {
                        line: 0,
                        message: format!("larger than the limit of {} bytes", limits.max_bytes),
                    },
                });
            }
            let uses = format!("./.github/actions/{name}");
            if let Some(a) = parse_action(&rel, &uses, &bytes, limits)? {
                repo.actions.push(a);
            }
        }
    }
    Ok(())
}

/// Every workflow of the repository at `root`, sorted by path, its composite actions, and the
/// files skipped.
pub fn load_repo(root: &Path, limits: &Limits) -> Result<(crate::Repo, Vec<Skipped>), LoadError> {
    let (mut repo, mut skipped) = load_github(root, limits)?;
    let (gitlab, gl_skipped) = crate::gitlab::load(root, limits)?;
    repo.gitlab = gitlab;
    skipped.extend(gl_skipped);
    Ok((repo, skipped))
}

/// `.github/workflows` and `.github/actions`.
fn load_github(root: &Path, limits: &Limits) -> Result<(crate::Repo, Vec<Skipped>), LoadError> {
    let dir = root.join(".github").join("workflows");
    let mut repo = crate::Repo::default();
    let mut skipped = Vec::new();
    let io = |path: &Path, source| LoadError::Io {
        path: path.display().to_string(),
        source,
    };
    let meta = match std::fs::symlink_metadata(&dir) {
        Ok(m) => m,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok((repo, skipped)),
        Err(e) => return Err(io(&dir, e)),
    };
    if !meta.is_dir() {
        skipped.push(Skipped {
            file: ".github/workflows".into(),
            reason: "not a directory (a symlink is not followed)".into(),
        });
        return Ok((repo, skipped));
    }
    let mut entries: Vec<_> = std::fs::read_dir(&dir)
        .map_err(|e| io(&dir, e))?
        .collect::<Result<_, _>>()
        .map_err(|e| io(&dir, e))?;
    entries.sort_by_key(|e| e.file_name());
    let mut count = 0;
    for entry in entries {
        let name = entry.file_name().to_string_lossy().into_owned();
        if !(name.ends_with(".yml") || name.ends_with(".yaml")) {
            continue;
        }
        let rel = format!(".github/workflows/{name}");
        let path = entry.path();
        let meta = std::fs::symlink_metadata(&path).map_err(|e| io(&path, e))?;
        if !meta.is_file() {
            skipped.push(Skipped {
                file: rel,
                reason: "not a regular file (symlinks are not followed)".into(),
            });
            continue;
        }
        if meta.len() > limits.max_bytes as u64 {
            return Err(LoadError::Yaml {
                path: rel,
                source: yaml::YamlError {
                    line: 0,
                    message: format!(
                        "file is {} bytes, larger than the limit of {} bytes",
                        meta.len(),
                        limits.max_bytes
                    ),
                },
            });
        }
        count += 1;
        if count > MAX_WORKFLOWS {
            return Err(LoadError::TooMany {
                path: ".github/workflows".into(),
            });
        }
        let bytes = read_bounded(&path, limits.max_bytes).map_err(|e| io(&path, e))?;
        if let Some(wf) = parse_workflow(&rel, &bytes, limits)? {
            repo.workflows.push(wf);
        }
    }
    load_actions(root, limits, &mut repo, &mut skipped)?;
    Ok((repo, skipped))
}

/// Read at most `max + 1` bytes (the file may grow between the size check and the read).
fn read_bounded(path: &Path, max: usize) -> std::io::Result<Vec<u8>> {
    use std::io::Read as _;
    let mut buf = Vec::new();
    std::fs::File::open(path)?
        .take(max as u64 + 1)
        .read_to_end(&mut buf)?;
    Ok(buf)
}

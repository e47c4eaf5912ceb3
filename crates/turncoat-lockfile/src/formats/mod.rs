//! One reader per lockfile family. Each turns text into a [`Lockfile`], collecting every
//! entry-level problem so that the error names all bad entries at once.

pub(crate) mod bun;
pub(crate) mod npm;
pub(crate) mod pipfile;
pub(crate) mod pnpm;
pub(crate) mod py;
pub(crate) mod py_toml;
pub(crate) mod requirements;
pub(crate) mod yarn_berry;
pub(crate) mod yarn_classic;

use crate::ParseOptions;
use crate::error::{Error, Problem};
use crate::json::{JsonOptions, SyntaxError};
use crate::model::{DepKind, Dependency};
use crate::tree::Node;

/// Per-file state shared by the readers.
pub(crate) struct Ctx<'a> {
    pub path: &'a str,
    pub problems: Vec<Problem>,
}

impl<'a> Ctx<'a> {
    pub fn new(path: &'a str) -> Self {
        Ctx {
            path,
            problems: Vec::new(),
        }
    }

    pub fn problem(&mut self, line: u32, message: impl Into<String>) {
        self.problems.push(Problem {
            line,
            message: message.into(),
        });
    }

    /// Fail with every collected problem, if any.
    pub fn check(&mut self) -> Result<(), Error> {
        if self.problems.is_empty() {
            Ok(())
        } else {
            Err(Error::Malformed {
                path: self.path.to_string(),
                problems: std::mem::take(&mut self.problems),
            })
        }
    }

    pub fn syntax(&self, syntax: &'static str, e: SyntaxError) -> Error {
        Error::Syntax {
            path: self.path.to_string(),
            syntax,
            line: e.line,
            message: e.message,
        }
    }

    pub fn unsupported(
        &self,
        format: &'static str,
        found: String,
        supported: &'static str,
    ) -> Error {
        Error::UnsupportedVersion {
            path: self.path.to_string(),
            format,
            found,
            supported,
        }
    }

    /// Read `name -> range` pairs of a mapping into `out`; other shapes are problems.
    pub fn deps(&mut self, map: Option<&Node>, kind: DepKind, out: &mut Vec<Dependency>) {
        let Some(map) = map else { return };
        if map.is_null() {
            return;
        }
        if !map.is_map() {
            self.problem(
                map.line,
                format!("expected a mapping of dependencies, found {}", map.kind()),
            );
            return;
        }
        for e in map.entries() {
            match e.node.as_text() {
                Some(range) => out.push(Dependency {
                    name: e.key.to_string(),
                    range: range.to_string(),
                    kind,
                    locked: None,
                }),
                None => self.problem(
                    e.line,
                    format!(
                        "dependency {:?}: expected a range, found {}",
                        e.key,
                        e.node.kind()
                    ),
                ),
            }
        }
    }
}

pub(crate) fn parse_json<'t>(
    ctx: &Ctx<'_>,
    text: &'t str,
    jsonc: bool,
    opts: &ParseOptions,
) -> Result<Node<'t>, Error> {
    crate::json::parse(
        text,
        JsonOptions {
            max_depth: opts.max_depth,
            jsonc,
        },
    )
    .map_err(|e| ctx.syntax(if jsonc { "JSONC" } else { "JSON" }, e))
}

/// Parse YAML; an empty stream is an error (no version marker to trust).
pub(crate) fn parse_yaml<'t>(
    ctx: &Ctx<'_>,
    text: &'t str,
    opts: &ParseOptions,
    format: &'static str,
    supported: &'static str,
) -> Result<Node<'t>, Error> {
    match crate::yaml::parse(text, opts.max_depth) {
        Ok(Some(n)) => Ok(n),
        Ok(None) => Err(ctx.unsupported(
            format,
            "no document (empty file or only comments)".into(),
            supported,
        )),
        Err(e) => Err(ctx.syntax("YAML", e)),
    }
}

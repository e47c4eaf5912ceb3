//! A workflow file's YAML into a bounded, line-numbered [`Node`] tree.
//!
//! Why `saphyr-parser`: it is maintained (the successor of `yaml-rust`/`yaml-rust2`), builds on
//! Rust 1.95, is already in the workspace (`turncoat-lockfile` parses pnpm and Yarn Berry
//! lockfiles with it) and its event stream carries a span for every event, so every key, job
//! and step keeps its line. `serde_yaml` is unmaintained and loses positions; `saphyr`'s own
//! loader would expand aliases without a bound.
//!
//! The tree is built here, without recursion, because workflows are hostile input:
//! - GitHub Actions accepts anchors and aliases, so they are expanded, but every node an alias
//!   copies counts against [`Limits::max_nodes`] (a billion-laughs file stops with an error
//!   instead of exhausting memory);
//! - nesting beyond [`Limits::max_depth`], duplicate keys (a reader that keeps the first and
//!   one that keeps the last would see different workflows), non-scalar keys and several
//!   documents are refused.

use std::collections::HashMap;

use saphyr_parser::{Event, Parser, ScalarStyle};

/// Bounds on one workflow file.
#[derive(Debug, Clone, Copy)]
pub struct Limits {
    /// Largest file read, in bytes.
    pub max_bytes: usize,
    /// Most nodes in the tree, aliases expanded.
    pub max_nodes: usize,
    /// Deepest nesting of mappings and sequences.
    pub max_depth: usize,
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            max_bytes: 1024 * 1024,
            max_nodes: 200_000,
            max_depth: 64,
        }
    }
}

/// A YAML problem with the 1-based line it was seen on (0 when unknown).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("line {line}: {message}")]
pub struct YamlError {
    pub line: u32,
    pub message: String,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Value {
    Null,
    Bool(bool),
    /// Every other scalar, as written (numbers included).
    Str(String),
    Seq(Vec<Node>),
    Map(Vec<Entry>),
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Node {
    /// 1-based line where the node starts.
    pub line: u32,
    pub value: Value,
    /// Nodes in this subtree, itself included.
    size: usize,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Entry {
    pub key: String,
    pub line: u32,
    pub node: Node,
}

impl Node {
    fn new(line: u32, value: Value) -> Node {
        let size = 1 + match &value {
            Value::Seq(items) => items.iter().map(|n| n.size).sum(),
            Value::Map(entries) => entries.iter().map(|e| e.node.size).sum(),
            _ => 0,
        };
        Node { line, value, size }
    }

    /// A node built outside the parser (GitLab CI's `extends:` and `<<` merges).
    pub fn build(line: u32, value: Value) -> Node {
        Node::new(line, value)
    }

    /// Nodes in this subtree, itself included.
    pub fn size(&self) -> usize {
        self.size
    }

    pub fn entries(&self) -> &[Entry] {
        match &self.value {
            Value::Map(e) => e,
            _ => &[],
        }
    }

    pub fn entry(&self, key: &str) -> Option<&Entry> {
        self.entries().iter().find(|e| e.key == key)
    }

    pub fn get(&self, key: &str) -> Option<&Node> {
        self.entry(key).map(|e| &e.node)
    }

    pub fn items(&self) -> &[Node] {
        match &self.value {
            Value::Seq(items) => items,
            _ => &[],
        }
    }

    /// The scalar as text (`true`, `null` included, as GitHub's expression strings see them).
    pub fn scalar(&self) -> Option<String> {
        match &self.value {
            Value::Str(s) => Some(s.clone()),
            Value::Bool(b) => Some(b.to_string()),
            Value::Null => Some(String::new()),
            _ => None,
        }
    }

    pub fn as_str(&self) -> Option<&str> {
        match &self.value {
            Value::Str(s) => Some(s),
            _ => None,
        }
    }

    pub fn is_map(&self) -> bool {
        matches!(self.value, Value::Map(_))
    }
}

enum Frame {
    Seq {
        line: u32,
        anchor: usize,
        items: Vec<Node>,
    },
    Map {
        line: u32,
        anchor: usize,
        entries: Vec<Entry>,
        pending: Option<(String, u32)>,
        /// Keys seen, for the duplicate check (a linear scan is quadratic on a hostile map).
        keys: std::collections::HashSet<String>,
    },
}

fn line_of(span: &saphyr_parser::Span) -> u32 {
    u32::try_from(span.start.line()).unwrap_or(u32::MAX)
}

/// Parse one YAML document. `Ok(None)`: the stream holds no document (only comments).
pub fn parse(src: &str, limits: &Limits) -> Result<Option<Node>, YamlError> {
    if src.len() > limits.max_bytes {
        return Err(YamlError {
            line: 0,
            message: format!(
                "file is {} bytes, larger than the limit of {} bytes",
                src.len(),
                limits.max_bytes
            ),
        });
    }
    let mut stack: Vec<Frame> = Vec::new();
    let mut anchors: HashMap<usize, Node> = HashMap::new();
    let mut root: Option<Node> = None;
    let mut docs = 0usize;
    let mut nodes = 0usize;
    for item in Parser::new_from_str(src) {
        let (event, span) = item.map_err(|e| YamlError {
            line: u32::try_from(e.marker().line()).unwrap_or(u32::MAX),
            message: e.info().to_string(),
        })?;
        let line = line_of(&span);
        let err = |message: String| YamlError { line, message };
        let (node, anchor) = match event {
            Event::StreamStart | Event::Nothing | Event::DocumentEnd => continue,
            Event::StreamEnd => break,
            Event::DocumentStart(_) => {
                docs += 1;
                if docs > 1 {
                    return Err(err("more than one YAML document".into()));
                }
                continue;
            }
            Event::Alias(id) => {
                let Some(target) = anchors.get(&id) else {
                    return Err(err("alias to an unknown anchor".into()));
                };
                // Copies count like written nodes: this is the billion-laughs bound.
                nodes = nodes.saturating_add(target.size);
                if nodes > limits.max_nodes {
                    return Err(err(format!(
                        "more than {} nodes once aliases are expanded (alias bomb?)",
                        limits.max_nodes
                    )));
                }
                let mut copy = target.clone();
                copy.line = line;
                (copy, 0)
            }
            Event::MappingStart(anchor, _) | Event::SequenceStart(anchor, _) => {
                if let Some(Frame::Map { pending: None, .. }) = stack.last() {
                    return Err(err("non-scalar mapping keys are not supported".into()));
                }
                if stack.len() >= limits.max_depth {
                    return Err(err(format!(
                        "nesting deeper than {} levels",
                        limits.max_depth
                    )));
                }
                stack.push(if matches!(event, Event::MappingStart(..)) {
                    Frame::Map {
                        line,
                        anchor,
                        entries: Vec::new(),
                        pending: None,
                        keys: std::collections::HashSet::new(),
                    }
                } else {
                    Frame::Seq {
                        line,
                        anchor,
                        items: Vec::new(),
                    }
                });
                continue;
            }
            Event::MappingEnd | Event::SequenceEnd => match stack.pop() {
                Some(Frame::Map {
                    line,
                    anchor,
                    entries,
                    ..
                }) => (Node::new(line, Value::Map(entries)), anchor),
                Some(Frame::Seq {
                    line,
                    anchor,
                    items,
                }) => (Node::new(line, Value::Seq(items)), anchor),
                None => return Err(err("unbalanced YAML structure".into())),
            },
            Event::Scalar(text, style, anchor, tag) => {
                nodes += 1;
                if nodes > limits.max_nodes {
                    return Err(err(format!("more than {} nodes", limits.max_nodes)));
                }
                if let Some(Frame::Map {
                    pending: pending @ None,
                    keys,
                    ..
                }) = stack.last_mut()
                {
                    if !keys.insert(text.to_string()) {
                        return Err(err(format!("duplicate key {:?}", &*text)));
                    }
                    *pending = Some((text.into_owned(), line));
                    continue;
                }
                let value = if style == ScalarStyle::Plain && tag.is_none() {
                    resolve_plain(text.into_owned())
                } else {
                    Value::Str(text.into_owned())
                };
                (Node::new(line, value), anchor)
            }
        };
        if anchor != 0 {
            anchors.insert(anchor, node.clone());
        }
        match stack.last_mut() {
            None => root = Some(node),
            Some(Frame::Seq { items, .. }) => items.push(node),
            Some(Frame::Map {
                entries, pending, ..
            }) => {
                let (key, line) = pending.take().unwrap_or_default();
                entries.push(Entry { key, line, node });
            }
        }
    }
    if !stack.is_empty() {
        return Err(YamlError {
            line: 0,
            message: "unterminated YAML structure".into(),
        });
    }
    Ok(root)
}

/// Null and booleans are typed (YAML 1.2 core schema); everything else stays text.
fn resolve_plain(s: String) -> Value {
    match s.as_str() {
        "" | "~" | "null" | "Null" | "NULL" => Value::Null,
        "true" | "True" | "TRUE" => Value::Bool(true),
        "false" | "False" | "FALSE" => Value::Bool(false),
        _ => Value::Str(s),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn p(src: &str) -> Result<Option<Node>, YamlError> {
        parse(src, &Limits::default())
    }

    #[test]
    fn builds_tree_with_lines() {
        let n = p("on: push\njobs:\n  a:\n    steps:\n      - run: x\n")
            .unwrap()
            .unwrap();
        let jobs = n.get("jobs").unwrap();
        assert_eq!(jobs.entries()[0].line, 3);
        let step = &jobs.get("a").unwrap().get("steps").unwrap().items()[0];
        assert_eq!(step.line, 5);
        assert_eq!(step.get("run").unwrap().as_str(), Some("x"));
    }

    #[test]
    fn aliases_are_expanded_within_bounds() {
        let n = p("a: &x {k: v}\nb: *x\n").unwrap().unwrap();
        assert_eq!(n.get("b").unwrap().get("k").unwrap().as_str(), Some("v"));
        assert_eq!(n.get("b").unwrap().line, 2);
    }

    #[test]
    fn alias_bomb_is_refused() {
        let mut src = String::from("a0: &a0 [x, x, x, x, x, x, x, x, x, x]\n");
        for i in 1..12 {
            let prev = format!("*a{}", i - 1);
            let items = [prev.as_str(); 10].join(", ");
            src.push_str(&format!("a{i}: &a{i} [{items}]\n"));
        }
        let e = p(&src).unwrap_err();
        assert!(e.message.contains("alias bomb"), "{e}");
    }

    #[test]
    fn hostile_shapes_are_refused() {
        assert!(p("a: 1\na: 2\n").unwrap_err().message.contains("duplicate"));
        assert!(p("? [a]\n: 1\n").is_err());
        assert!(p("a: 1\n---\nb: 2\n").is_err());
        let deep = format!("{}{}", "[".repeat(500), "]".repeat(500));
        // saphyr's own recursion limit or ours, whichever comes first
        assert!(p(&deep).is_err());
        let deep_ok_for_saphyr = format!("a:{}", " [".repeat(70));
        assert!(
            p(&deep_ok_for_saphyr)
                .unwrap_err()
                .message
                .contains("nesting")
        );
        assert!(p("a: [").is_err());
        assert!(p("a: *nope\n").is_err());
        let big = "#".repeat(Limits::default().max_bytes + 1);
        assert!(p(&big).unwrap_err().message.contains("larger than"));
    }
}

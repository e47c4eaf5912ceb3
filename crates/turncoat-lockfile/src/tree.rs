//! A small document tree with line numbers, shared by the JSON(C) and YAML readers.
//!
//! `serde_json` keeps no positions, and lockfile findings must point at a line, so both
//! readers build this tree instead. Keys and strings borrow from the source text unless
//! they had to be unescaped (most do not), which halves the allocations of a parse. It is bounded: depth is capped by the reader
//! ([`crate::ParseOptions::max_depth`]), and duplicate keys are refused (a parser
//! differential: npm's `JSON.parse` keeps the last one, other tools the first).

use std::borrow::Cow;

/// One node and the 1-based line where it starts.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Node<'a> {
    pub line: u32,
    pub value: Value<'a>,
}

#[derive(Debug, Clone, PartialEq)]
pub(crate) enum Value<'a> {
    Null,
    Bool(bool),
    /// A JSON number, kept as written.
    Num(&'a str),
    Str(Cow<'a, str>),
    Seq(Vec<Node<'a>>),
    Map(Vec<Entry<'a>>),
}

/// A mapping entry: the key, the line of the key, and the value.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Entry<'a> {
    pub key: Cow<'a, str>,
    pub line: u32,
    pub node: Node<'a>,
}

impl<'a> Node<'a> {
    pub fn new(line: u32, value: Value<'a>) -> Self {
        Node { line, value }
    }

    /// The value under `key` of a mapping (keys are unique, see the module docs).
    pub fn get(&self, key: &str) -> Option<&Node<'a>> {
        match &self.value {
            Value::Map(entries) => entries.iter().find(|e| e.key == key).map(|e| &e.node),
            _ => None,
        }
    }

    pub fn entries(&self) -> &[Entry<'a>] {
        match &self.value {
            Value::Map(entries) => entries,
            _ => &[],
        }
    }

    pub fn items(&self) -> &[Node<'a>] {
        match &self.value {
            Value::Seq(items) => items,
            _ => &[],
        }
    }

    pub fn is_map(&self) -> bool {
        matches!(self.value, Value::Map(_))
    }

    pub fn is_null(&self) -> bool {
        matches!(self.value, Value::Null)
    }

    pub fn as_str(&self) -> Option<&str> {
        match &self.value {
            Value::Str(s) => Some(s),
            _ => None,
        }
    }

    /// A scalar as text: strings, numbers as written, booleans as `true`/`false`.
    pub fn as_text(&self) -> Option<&str> {
        match &self.value {
            Value::Str(s) => Some(s),
            Value::Num(s) => Some(s),
            Value::Bool(true) => Some("true"),
            Value::Bool(false) => Some("false"),
            _ => None,
        }
    }

    pub fn as_bool(&self) -> Option<bool> {
        match &self.value {
            Value::Bool(b) => Some(*b),
            _ => None,
        }
    }

    /// `get(key)` as text.
    pub fn text(&self, key: &str) -> Option<&str> {
        self.get(key).and_then(Node::as_text)
    }

    /// `get(key)` is the boolean `true`.
    pub fn flag(&self, key: &str) -> bool {
        self.get(key).and_then(Node::as_bool).unwrap_or(false)
    }

    /// A short description of the node's type, for error messages.
    pub fn kind(&self) -> &'static str {
        match self.value {
            Value::Null => "null",
            Value::Bool(_) => "a boolean",
            Value::Num(_) => "a number",
            Value::Str(_) => "a string",
            Value::Seq(_) => "a list",
            Value::Map(_) => "a mapping",
        }
    }
}

/// Checks that `key` is not already among `entries`; small maps are scanned, large ones
/// use the caller's set.
pub(crate) struct KeySet<'a> {
    seen: std::collections::HashSet<Cow<'a, str>>,
}

impl<'a> KeySet<'a> {
    pub fn new() -> Self {
        KeySet {
            seen: std::collections::HashSet::new(),
        }
    }

    /// Returns false when `key` was already present in `entries`.
    #[allow(
        clippy::ptr_arg,
        reason = "cloning the `Cow` keeps a borrowed key borrowed in the set"
    )]
    pub fn insert(&mut self, entries: &[Entry<'a>], key: &Cow<'a, str>) -> bool {
        const LINEAR: usize = 16;
        if entries.len() < LINEAR {
            return !entries.iter().any(|e| e.key == *key);
        }
        if self.seen.is_empty() {
            self.seen.extend(entries.iter().map(|e| e.key.clone()));
        }
        self.seen.insert(key.clone())
    }
}

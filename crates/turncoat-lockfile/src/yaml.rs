//! YAML (pnpm-lock.yaml, Yarn Berry yarn.lock) into the line-numbered [`Node`] tree.
//!
//! `saphyr-parser` does the scanning and gives spans; we build the tree from its events
//! without recursion and refuse what lockfiles never contain and what would make the
//! tree unbounded: aliases (billion laughs), non-scalar keys, several documents, and
//! nesting beyond `max_depth`.

use std::borrow::Cow;

use saphyr_parser::{Event, Parser, ScalarStyle};

use crate::json::SyntaxError;
use crate::tree::{Entry, KeySet, Node, Value};

enum Frame<'a> {
    Seq {
        line: u32,
        items: Vec<Node<'a>>,
    },
    Map {
        line: u32,
        entries: Vec<Entry<'a>>,
        keys: KeySet<'a>,
        pending: Option<(Cow<'a, str>, u32)>,
    },
}

fn line_of(span: &saphyr_parser::Span) -> u32 {
    u32::try_from(span.start.line()).unwrap_or(u32::MAX)
}

/// Parse a single YAML document. `Ok(None)` means the stream holds no document at all
/// (only comments or whitespace).
pub(crate) fn parse(src: &str, max_depth: usize) -> Result<Option<Node<'_>>, SyntaxError> {
    let mut stack: Vec<Frame> = Vec::new();
    let mut root: Option<Node> = None;
    let mut docs = 0usize;
    for item in Parser::new_from_str(src) {
        let (event, span) = item.map_err(|e| SyntaxError {
            line: u32::try_from(e.marker().line()).unwrap_or(u32::MAX),
            message: e.info().to_string(),
        })?;
        let line = line_of(&span);
        let err = |message: String| SyntaxError { line, message };
        let node = match event {
            Event::StreamStart | Event::Nothing | Event::DocumentEnd => continue,
            Event::StreamEnd => break,
            Event::DocumentStart(_) => {
                docs += 1;
                if docs > 1 {
                    return Err(err("more than one YAML document".into()));
                }
                continue;
            }
            Event::Alias(_) => return Err(err("YAML aliases are not supported".into())),
            Event::MappingStart(..) | Event::SequenceStart(..) => {
                if let Some(Frame::Map { pending: None, .. }) = stack.last() {
                    return Err(err("non-scalar mapping keys are not supported".into()));
                }
                if stack.len() >= max_depth {
                    return Err(err(format!("nesting deeper than {max_depth} levels")));
                }
                stack.push(if matches!(event, Event::MappingStart(..)) {
                    Frame::Map {
                        line,
                        entries: Vec::new(),
                        keys: KeySet::new(),
                        pending: None,
                    }
                } else {
                    Frame::Seq {
                        line,
                        items: Vec::new(),
                    }
                });
                continue;
            }
            Event::MappingEnd | Event::SequenceEnd => match stack.pop() {
                Some(Frame::Map { line, entries, .. }) => Node::new(line, Value::Map(entries)),
                Some(Frame::Seq { line, items }) => Node::new(line, Value::Seq(items)),
                None => return Err(err("unbalanced YAML structure".into())),
            },
            Event::Scalar(text, style, _, tag) => {
                if let Some(Frame::Map {
                    entries,
                    keys,
                    pending: pending @ None,
                    ..
                }) = stack.last_mut()
                {
                    let key = text;
                    if !keys.insert(entries, &key) {
                        return Err(err(format!("duplicate key {key:?}")));
                    }
                    *pending = Some((key, line));
                    continue;
                }
                let value = if style == ScalarStyle::Plain && tag.is_none() {
                    resolve_plain(text)
                } else {
                    Value::Str(text)
                };
                Node::new(line, value)
            }
        };
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
        return Err(SyntaxError {
            line: 0,
            message: "unterminated YAML structure".into(),
        });
    }
    Ok(root)
}

/// The YAML 1.2 core schema, as far as lockfiles need it: null and booleans are typed,
/// everything else (numbers included) stays text as written.
fn resolve_plain(s: Cow<'_, str>) -> Value<'_> {
    match &*s {
        "" | "~" | "null" | "Null" | "NULL" => Value::Null,
        "true" | "True" | "TRUE" => Value::Bool(true),
        "false" | "False" | "FALSE" => Value::Bool(false),
        _ => Value::Str(s),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn builds_tree_with_lines() {
        let src = "a: 1\nb:\n  c: {x: 'y', z: true}\n  d: [1, 2]\ne:\n";
        let n = parse(src, 32).unwrap().unwrap();
        assert_eq!(n.text("a"), Some("1"));
        let b = n.get("b").unwrap();
        assert_eq!(b.entries()[0].line, 3);
        assert_eq!(b.get("c").unwrap().text("x"), Some("y"));
        assert_eq!(b.get("c").unwrap().get("z").unwrap().as_bool(), Some(true));
        assert_eq!(b.get("d").unwrap().items().len(), 2);
        assert!(n.get("e").unwrap().is_null());
        assert_eq!(n.entries()[2].line, 5);
    }

    #[test]
    fn refuses_hostile_yaml() {
        assert!(parse("a: &x [1]\nb: *x\n", 32).is_err());
        assert!(parse("a: 1\na: 2\n", 32).is_err());
        assert!(parse("? [a]\n: 1\n", 32).is_err());
        assert!(parse("a: 1\n---\nb: 2\n", 32).is_err());
        let deep = format!("{}{}", "[".repeat(500), "]".repeat(500));
        assert!(parse(&deep, 32).is_err());
        assert!(parse("a: [", 32).is_err());
    }

    #[test]
    fn empty_stream_has_no_document() {
        assert_eq!(parse("# only a comment\n", 32).unwrap(), None);
        assert_eq!(parse("", 32).unwrap(), None);
    }
}

//! Text helpers shared by the renderers: making hostile strings safe to print.

use std::borrow::Cow;

/// Escape control characters (newlines included) and bidi overrides.
///
/// Producers already sanitise snippets and messages, but names, versions and paths come from
/// lockfiles and tarballs: one stray ESC byte would let a package restyle the terminal or hide
/// text, and a newline would forge extra report lines.
pub(crate) fn escape_controls(s: &str) -> Cow<'_, str> {
    if !s.chars().any(needs_escape) {
        return Cow::Borrowed(s);
    }
    let mut out = String::with_capacity(s.len() + 8);
    for c in s.chars() {
        if needs_escape(c) {
            out.extend(c.escape_unicode());
        } else {
            out.push(c);
        }
    }
    Cow::Owned(out)
}

fn needs_escape(c: char) -> bool {
    c.is_control() || matches!(c, '\u{202A}'..='\u{202E}' | '\u{2066}'..='\u{2069}')
}

/// `path:line`, or `path` when the line is unknown.
pub(crate) fn location(path: &str, line: Option<u32>) -> String {
    match line {
        Some(l) => format!("{path}:{l}"),
        None => path.to_string(),
    }
}

/// `1 package`, `2 packages`.
pub(crate) fn plural(n: usize, one: &str, many: &str) -> String {
    format!("{n} {}", if n == 1 { one } else { many })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn controls_and_bidi_are_escaped() {
        assert_eq!(escape_controls("plain → text"), "plain → text");
        assert!(matches!(escape_controls("plain"), Cow::Borrowed(_)));
        assert_eq!(escape_controls("a\x1b[31mb"), "a\\u{1b}[31mb");
        assert_eq!(escape_controls("a\nb"), "a\\u{a}b");
        assert_eq!(escape_controls("x\u{202E}y"), "x\\u{202e}y");
    }

    #[test]
    fn plural_forms() {
        assert_eq!(plural(1, "package", "packages"), "1 package");
        assert_eq!(plural(0, "package", "packages"), "0 packages");
    }
}

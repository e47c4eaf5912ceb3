//! Findings are data, not errors.
//!
//! Every check in turncoat (lockfile lint, static analysis, publish-path drift, sandbox
//! events) reports [`Finding`]s: a stable kebab-case code, a severity, a one-line message and
//! evidence pointing into a file. The policy later maps each code to a [`Level`]
//! (allow / warn / deny). Each rule documents itself with a [`RuleDoc`], which is what
//! `turncoat explain <code>` prints.

use std::fmt;

use serde::{Deserialize, Serialize};

/// How bad a finding is on its own, before policy.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Severity {
    Info,
    Low,
    Medium,
    High,
    Critical,
}

impl Severity {
    pub fn as_str(self) -> &'static str {
        match self {
            Severity::Info => "info",
            Severity::Low => "low",
            Severity::Medium => "medium",
            Severity::High => "high",
            Severity::Critical => "critical",
        }
    }
}

impl fmt::Display for Severity {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// What the policy does with a finding.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Level {
    /// Recorded in JSON output only; never changes a verdict.
    Allow,
    /// Shown, and makes the verdict `warn`.
    Warn,
    /// Makes the verdict `block` (exit 1).
    Deny,
}

impl Level {
    pub fn as_str(self) -> &'static str {
        match self {
            Level::Allow => "allow",
            Level::Warn => "warn",
            Level::Deny => "deny",
        }
    }

    pub fn parse(s: &str) -> Option<Level> {
        match s {
            "allow" => Some(Level::Allow),
            "warn" => Some(Level::Warn),
            "deny" => Some(Level::Deny),
            _ => None,
        }
    }
}

impl fmt::Display for Level {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Where a finding was seen: a file inside a package (or a lockfile), a line, a snippet.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Evidence {
    pub path: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub line: Option<u32>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub snippet: Option<String>,
}

/// Longest snippet kept as evidence, in characters.
pub const SNIPPET_MAX_CHARS: usize = 160;

impl Evidence {
    pub fn new(path: impl Into<String>) -> Self {
        Evidence {
            path: path.into(),
            line: None,
            snippet: None,
        }
    }

    pub fn at(path: impl Into<String>, line: u32) -> Self {
        Evidence {
            path: path.into(),
            line: Some(line),
            snippet: None,
        }
    }

    /// Attach a snippet, made safe to print: control characters are escaped and the text is
    /// cut at [`SNIPPET_MAX_CHARS`] (package code is hostile: it may carry terminal escapes
    /// or megabyte-long lines).
    pub fn with_snippet(mut self, snippet: &str) -> Self {
        self.snippet = Some(sanitize_snippet(snippet));
        self
    }
}

/// Escape control characters and cut to [`SNIPPET_MAX_CHARS`] characters (adding `…`).
pub fn sanitize_snippet(s: &str) -> String {
    let mut out = String::with_capacity(s.len().min(SNIPPET_MAX_CHARS * 2));
    let trimmed = s.trim();
    for (count, c) in trimmed.chars().enumerate() {
        if count >= SNIPPET_MAX_CHARS {
            out.push('…');
            break;
        }
        match c {
            '\t' => out.push(' '),
            c if c.is_control() => out.extend(c.escape_default()),
            // Bidi overrides can make code read differently from what runs (trojan source).
            '\u{202A}'..='\u{202E}' | '\u{2066}'..='\u{2069}' => out.extend(c.escape_unicode()),
            c => out.push(c),
        }
    }
    out
}

/// One observation of a rule. Findings carry no policy decision; see `turncoat-policy`.
///
/// `non_exhaustive`: outside this crate a finding can only be made by [`Finding::new`] from a
/// [`RuleDoc`], so every code a check emits is the code of a declared rule (the rule registry
/// in `turncoat-gate` checks that every declared rule is registered).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct Finding {
    /// Stable kebab-case rule code, e.g. `new-install-script`.
    pub code: String,
    pub severity: Severity,
    /// One line saying what was seen and why it matters.
    pub message: String,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub evidence: Vec<Evidence>,
}

impl Finding {
    /// A finding of `rule`, with the rule's own severity.
    pub fn new(rule: &RuleDoc, message: impl Into<String>) -> Self {
        Finding {
            code: rule.code.to_string(),
            severity: rule.severity,
            message: message.into(),
            evidence: Vec::new(),
        }
    }

    pub fn with_severity(mut self, severity: Severity) -> Self {
        self.severity = severity;
        self
    }

    pub fn with_evidence(mut self, evidence: Evidence) -> Self {
        self.evidence.push(evidence);
        self
    }

    pub fn with_evidence_all(mut self, evidence: impl IntoIterator<Item = Evidence>) -> Self {
        self.evidence.extend(evidence);
        self
    }
}

/// The documentation of one rule, printed by `turncoat explain <code>`.
///
/// Every rule declares exactly one `RuleDoc` constant beside its code.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RuleDoc {
    /// Stable kebab-case code.
    pub code: &'static str,
    /// Which check produces it (`lockfile`, `analyze`, `metadata`, `attest`, `sandbox`).
    pub group: &'static str,
    pub severity: Severity,
    /// What the built-in policy does with it.
    pub default_level: Level,
    /// One line: what the rule flags.
    pub summary: &'static str,
    /// Markdown: what it does, why it matters, what triggers it, how to silence it.
    pub doc: &'static str,
}

/// True when `code` is lower-case kebab-case (`a-z`, `0-9`, single dashes inside).
pub fn is_kebab_case(code: &str) -> bool {
    !code.is_empty()
        && !code.starts_with('-')
        && !code.ends_with('-')
        && !code.contains("--")
        && code
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
}

#[cfg(test)]
mod tests {
    use super::*;

    const RULE: RuleDoc = RuleDoc {
        code: "example-rule",
        group: "test",
        severity: Severity::High,
        default_level: Level::Deny,
        summary: "an example",
        doc: "Example.",
    };

    #[test]
    fn finding_takes_code_and_severity_from_rule() {
        let f = Finding::new(&RULE, "seen")
            .with_evidence(Evidence::at("index.js", 3).with_snippet("x"));
        assert_eq!(f.code, "example-rule");
        assert_eq!(f.severity, Severity::High);
        assert_eq!(f.evidence[0].line, Some(3));
        let json = serde_json::to_string(&f).unwrap();
        assert_eq!(
            json,
            r#"{"code":"example-rule","severity":"high","message":"seen","evidence":[{"path":"index.js","line":3,"snippet":"x"}]}"#
        );
    }

    #[test]
    fn snippets_are_cut_and_escaped() {
        let long = "a".repeat(1000);
        let s = sanitize_snippet(&long);
        assert_eq!(s.chars().count(), SNIPPET_MAX_CHARS + 1);
        assert!(s.ends_with('…'));
        assert_eq!(sanitize_snippet("a\x1b[31mb"), "a\\u{1b}[31mb");
        assert_eq!(sanitize_snippet("x\u{202E}y"), "x\\u{202e}y");
        assert_eq!(sanitize_snippet("  keep  "), "keep");
    }

    #[test]
    fn kebab_case_check() {
        assert!(is_kebab_case("new-install-script"));
        assert!(is_kebab_case("sha1-only"));
        assert!(!is_kebab_case("New"));
        assert!(!is_kebab_case("a--b"));
        assert!(!is_kebab_case("-a"));
        assert!(!is_kebab_case(""));
    }

    #[test]
    fn levels_parse_and_order() {
        assert_eq!(Level::parse("deny"), Some(Level::Deny));
        assert_eq!(Level::parse("block"), None);
        assert!(Level::Deny > Level::Warn && Level::Warn > Level::Allow);
    }
}

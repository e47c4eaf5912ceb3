//! The policy: what turncoat does with each finding.
//!
//! Sans-IO: [`Policy::parse`] takes the text of a `turncoat.toml`, [`Policy::evaluate`] takes
//! findings and returns levels and a verdict. The built-in policy is every rule's documented
//! default level ([`turncoat_finding::RuleDoc::default_level`]); a `turncoat.toml` overrides
//! levels per code, sets the cooldown and allowed registries, and pins exceptions to
//! `name@version` with a reason and an expiry date.
//!
//! ```toml
//! [gate]
//! cooldown-days = 2
//! registries = ["https://registry.npmjs.org/"]
//!
//! [levels]
//! release-too-new = "allow"
//! new-network = "deny"
//!
//! [[exception]]
//! package = "esbuild@0.25.0"
//! codes = ["new-install-script"]
//! reason = "reviewed: postinstall only selects the platform binary"
//! expires = "2027-01-31"
//! ```

use std::collections::{BTreeMap, HashMap};
use std::fmt;

use serde::Deserialize;
use toml::Spanned;
use turncoat_finding::{Finding, Level, RuleDoc};
use turncoat_report::{ReportFinding, UnusedException, Verdict};

/// Default cooldown: releases younger than this are flagged by `release-too-new`.
pub const DEFAULT_COOLDOWN_DAYS: u32 = 2;

#[derive(Debug, thiserror::Error)]
pub enum PolicyError {
    /// Syntax, unknown keys and wrong types: toml's message already shows the line.
    #[error("{path}: {message}")]
    Parse { path: String, message: String },
    #[error("{path}:{line}: {message}")]
    Invalid {
        path: String,
        line: usize,
        message: String,
    },
}

/// A calendar date (`YYYY-MM-DD`, UTC), validated by the `time` crate: `2027-02-31` is not a
/// date (a hand-written range check accepted it, and an exception then outlived its expiry
/// by however the comparison rolled).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Date(time::Date);

impl Date {
    /// Parse exactly `YYYY-MM-DD` (four-digit year from 1970, real month and day).
    pub fn parse(s: &str) -> Option<Date> {
        let s = s.trim();
        // `time` accepts a leading sign on years; a policy date is plain digits.
        if s.len() != 10 || !s.bytes().all(|b| b.is_ascii_digit() || b == b'-') {
            return None;
        }
        let format = time::macros::format_description!("[year]-[month]-[day]");
        let d = time::Date::parse(s, &format).ok()?;
        (d.year() >= 1970).then_some(Date(d))
    }

    /// A date from its parts, `None` when it does not exist.
    pub fn from_ymd(year: i32, month: u8, day: u8) -> Option<Date> {
        let month = time::Month::try_from(month).ok()?;
        time::Date::from_calendar_date(year, month, day)
            .ok()
            .map(Date)
    }

    /// The UTC date of a Unix timestamp (clamped to what `time` represents).
    pub fn from_unix(secs: i64) -> Date {
        match time::OffsetDateTime::from_unix_timestamp(secs) {
            Ok(t) => Date(t.date()),
            Err(_) if secs < 0 => Date(time::Date::MIN),
            Err(_) => Date(time::Date::MAX),
        }
    }

    pub fn year(&self) -> i32 {
        self.0.year()
    }

    pub fn month(&self) -> u8 {
        self.0.month().into()
    }

    pub fn day(&self) -> u8 {
        self.0.day()
    }
}

impl fmt::Display for Date {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{:04}-{:02}-{:02}",
            self.year(),
            self.month(),
            self.day()
        )
    }
}

/// Codes an exception covers only when it names them in `codes`: integrity and signature
/// failures. An exception written for "the new hook is fine" must not also wave through a
/// swapped tarball or a stripped signature that shows up on the same `name@version` later.
pub const INTEGRITY_CODES: &[&str] = &[
    "integrity-mismatch",
    "invalid-signature",
    "invalid-provenance",
    "signature-missing",
    "signature-unknown-key",
    "lockfile-integrity-changed",
];

/// An exception: findings of `codes` on exactly `name@version` are accepted until `expires`.
/// Empty `codes` means every code except the [`INTEGRITY_CODES`], which must be named.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Exception {
    pub name: String,
    pub version: String,
    pub codes: Vec<String>,
    pub reason: String,
    pub expires: Date,
    /// Line in turncoat.toml, for "matched nothing" reports.
    pub line: Option<u32>,
}

impl Exception {
    pub fn package(&self) -> String {
        format!("{}@{}", self.name, self.version)
    }

    /// Whether this exception covers findings of `code` (see [`INTEGRITY_CODES`]).
    pub fn covers(&self, code: &str) -> bool {
        if self.codes.is_empty() {
            !INTEGRITY_CODES.contains(&code)
        } else {
            self.codes.iter().any(|c| c == code)
        }
    }
}

/// The effective policy.
#[derive(Debug, Clone)]
pub struct Policy {
    /// Where it came from (`built-in` or a path), for messages.
    pub source: String,
    defaults: HashMap<&'static str, Level>,
    pub overrides: BTreeMap<String, Level>,
    pub cooldown_days: u32,
    /// Registry URLs allowed in lockfiles; empty = whatever the registry config says.
    pub registries: Vec<String>,
    pub exceptions: Vec<Exception>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawPolicy {
    #[serde(default)]
    gate: RawGate,
    #[serde(default)]
    levels: BTreeMap<String, Spanned<String>>,
    #[serde(default, rename = "exception")]
    exceptions: Vec<Spanned<RawException>>,
    /// The team's roster, read by `turncoat evaluate` (turncoat-posture's evaluate::roster);
    /// accepted here so a policy file may carry it.
    #[serde(default)]
    #[allow(dead_code)]
    publishers: Option<toml::Table>,
}

#[derive(Deserialize, Default)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
struct RawGate {
    cooldown_days: Option<u32>,
    #[serde(default)]
    registries: Vec<String>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawException {
    package: Spanned<String>,
    #[serde(default)]
    codes: Vec<Spanned<String>>,
    reason: String,
    expires: Spanned<String>,
}

fn line_of(text: &str, offset: usize) -> usize {
    text.get(..offset.min(text.len()))
        .map(|s| s.bytes().filter(|&b| b == b'\n').count() + 1)
        .unwrap_or(1)
}

/// Line of a `[levels]` key: the map keys carry no span, so find the key's line in the text.
fn line_of_key(text: &str, key: &str) -> usize {
    text.lines()
        .position(|l| {
            let l = l.trim_start();
            l.strip_prefix(key)
                .or_else(|| l.strip_prefix(&format!("\"{key}\"")))
                .is_some_and(|rest| rest.trim_start().starts_with('='))
        })
        .map(|i| i + 1)
        .unwrap_or(1)
}

impl Policy {
    /// The built-in policy over `rules`: each code at its documented default level.
    pub fn builtin(rules: &[&'static RuleDoc]) -> Policy {
        Policy {
            source: "built-in".into(),
            defaults: rules.iter().map(|r| (r.code, r.default_level)).collect(),
            overrides: BTreeMap::new(),
            cooldown_days: DEFAULT_COOLDOWN_DAYS,
            registries: Vec::new(),
            exceptions: Vec::new(),
        }
    }

    /// Parse a `turncoat.toml` on top of the built-in policy. Unknown keys, unknown codes and
    /// bad values are errors that name the line.
    pub fn parse(
        text: &str,
        path: &str,
        rules: &[&'static RuleDoc],
    ) -> Result<Policy, PolicyError> {
        let raw: RawPolicy = toml::from_str(text).map_err(|e| PolicyError::Parse {
            path: path.to_string(),
            message: e.to_string().trim_end().to_string(),
        })?;
        let invalid = |line: usize, message: String| PolicyError::Invalid {
            path: path.to_string(),
            line,
            message,
        };
        let mut policy = Policy::builtin(rules);
        policy.source = path.to_string();
        if let Some(days) = raw.gate.cooldown_days {
            policy.cooldown_days = days;
        }
        for r in &raw.gate.registries {
            if !(r.starts_with("https://") || r.starts_with("http://") || r.starts_with("file://"))
            {
                return Err(invalid(
                    line_of_key(text, "registries"),
                    format!("registry {r:?} is not an http(s):// or file:// URL"),
                ));
            }
        }
        policy.registries = raw.gate.registries;
        for (code, level) in raw.levels {
            if !policy.defaults.contains_key(code.as_str()) {
                return Err(invalid(
                    line_of_key(text, &code),
                    format!(
                        "unknown finding code {code:?} in [levels] (see `turncoat explain --list`)"
                    ),
                ));
            }
            let Some(l) = Level::parse(level.get_ref()) else {
                return Err(invalid(
                    line_of(text, level.span().start),
                    format!(
                        "level for {code:?} must be \"allow\", \"warn\" or \"deny\", not {:?}",
                        level.get_ref()
                    ),
                ));
            };
            policy.overrides.insert(code, l);
        }
        for ex in raw.exceptions {
            let line = line_of(text, ex.span().start);
            let ex = ex.into_inner();
            let pkg = ex.package.get_ref();
            // `@scope/name@1.2.3`: split at the last '@' that is not the first character.
            let split = pkg
                .char_indices()
                .skip(1)
                .filter(|(_, c)| *c == '@')
                .last()
                .map(|(i, _)| i);
            let Some((name, version)) = split.map(|i| (&pkg[..i], &pkg[i + 1..])) else {
                return Err(invalid(
                    line_of(text, ex.package.span().start),
                    format!("exception package {pkg:?} must be pinned as name@version"),
                ));
            };
            if version.is_empty()
                || version.contains(['*', '^', '~', '>', '<', ' ', 'x']) && !version.contains('-')
            {
                return Err(invalid(
                    line_of(text, ex.package.span().start),
                    format!("exception {pkg:?} must pin one exact version, not a range"),
                ));
            }
            let Some(expires) = Date::parse(ex.expires.get_ref()) else {
                return Err(invalid(
                    line_of(text, ex.expires.span().start),
                    format!(
                        "expires must be a date YYYY-MM-DD, not {:?}",
                        ex.expires.get_ref()
                    ),
                ));
            };
            let mut codes = Vec::new();
            for c in ex.codes {
                if !policy.defaults.contains_key(c.get_ref().as_str()) {
                    return Err(invalid(
                        line_of(text, c.span().start),
                        format!(
                            "unknown finding code {:?} in exception for {pkg}",
                            c.get_ref()
                        ),
                    ));
                }
                codes.push(c.into_inner());
            }
            if ex.reason.trim().is_empty() {
                return Err(invalid(line, format!("exception for {pkg} needs a reason")));
            }
            policy.exceptions.push(Exception {
                name: name.to_string(),
                version: version.to_string(),
                codes,
                reason: ex.reason,
                expires,
                line: u32::try_from(line).ok(),
            });
        }
        Ok(policy)
    }

    /// The level for `code`: the override, else the rule's default, else `deny` — a code no
    /// registered rule declares fails closed.
    pub fn level(&self, code: &str) -> Level {
        self.overrides
            .get(code)
            .copied()
            .or_else(|| self.defaults.get(code).copied())
            .unwrap_or(Level::Deny)
    }

    /// Apply levels and exceptions to the findings of `name@version`.
    pub fn evaluate(
        &self,
        name: &str,
        version: Option<&str>,
        findings: Vec<Finding>,
        today: Date,
        used: &mut ExceptionUse,
    ) -> (Verdict, Vec<ReportFinding>) {
        let mut verdict = Verdict::Pass;
        let mut out = Vec::with_capacity(findings.len());
        for f in findings {
            let level = self.level(&f.code);
            let exception = self.exceptions.iter().enumerate().find(|(_, e)| {
                e.name == name
                    && Some(e.version.as_str()) == version
                    && e.expires >= today
                    && e.covers(&f.code)
            });
            let excepted = exception.map(|(i, e)| {
                used.0.insert(i, true);
                e.reason.clone()
            });
            if excepted.is_none() {
                verdict = verdict.max(Verdict::from_level(level));
            }
            out.push(ReportFinding {
                code: f.code,
                severity: f.severity,
                level,
                message: f.message,
                evidence: f.evidence,
                excepted,
            });
        }
        // Most severe first, so the reason for a block leads.
        out.sort_by(|a, b| {
            (
                a.excepted.is_some(),
                std::cmp::Reverse(a.level),
                std::cmp::Reverse(a.severity),
            )
                .cmp(&(
                    b.excepted.is_some(),
                    std::cmp::Reverse(b.level),
                    std::cmp::Reverse(b.severity),
                ))
        });
        (verdict, out)
    }

    /// Exceptions that matched nothing in this run (expired ones included, with a note).
    pub fn unused_exceptions(&self, used: &ExceptionUse, today: Date) -> Vec<UnusedException> {
        self.exceptions
            .iter()
            .enumerate()
            .filter(|(i, _)| !used.0.contains_key(i))
            .map(|(_, e)| UnusedException {
                package: e.package(),
                reason: if e.expires < today {
                    format!("{} (expired {})", e.reason, e.expires)
                } else {
                    e.reason.clone()
                },
                line: e.line,
            })
            .collect()
    }
}

/// Which exceptions matched during a run.
#[derive(Debug, Default)]
pub struct ExceptionUse(HashMap<usize, bool>);

#[cfg(test)]
mod tests {
    use turncoat_finding::Severity;

    use super::*;

    const A: RuleDoc = RuleDoc {
        code: "new-install-script",
        group: "analyze",
        severity: Severity::High,
        default_level: Level::Deny,
        summary: "s",
        doc: "d",
    };
    const B: RuleDoc = RuleDoc {
        code: "release-too-new",
        group: "metadata",
        severity: Severity::Low,
        default_level: Level::Warn,
        summary: "s",
        doc: "d",
    };
    fn rules() -> Vec<&'static RuleDoc> {
        vec![&A, &B]
    }
    fn today() -> Date {
        Date::from_ymd(2026, 11, 27).unwrap()
    }

    #[test]
    fn builtin_uses_rule_defaults() {
        let p = Policy::builtin(&rules());
        assert_eq!(p.level("new-install-script"), Level::Deny);
        assert_eq!(p.level("release-too-new"), Level::Warn);
        // A code no rule declares fails closed.
        assert_eq!(p.level("unknown-thing"), Level::Deny);
        let (v, f) = p.evaluate(
            "x",
            Some("1.0.1"),
            vec![Finding::new(&B, "young")],
            today(),
            &mut ExceptionUse::default(),
        );
        assert_eq!(v, Verdict::Warn);
        assert_eq!(f[0].level, Level::Warn);
        let (v, _) = p.evaluate(
            "x",
            Some("1.0.1"),
            vec![],
            today(),
            &mut ExceptionUse::default(),
        );
        assert_eq!(v, Verdict::Pass);
    }

    #[test]
    fn parses_levels_cooldown_and_exceptions() {
        let text = r#"
[gate]
cooldown-days = 7

[levels]
release-too-new = "allow"

[[exception]]
package = "@scope/pkg@1.2.3"
codes = ["new-install-script"]
reason = "reviewed"
expires = "2027-01-31"

[[exception]]
package = "old@1.0.0"
reason = "stale"
expires = "2020-01-01"
"#;
        let p = Policy::parse(text, "turncoat.toml", &rules()).unwrap();
        assert_eq!(p.cooldown_days, 7);
        assert_eq!(p.level("release-too-new"), Level::Allow);
        assert_eq!(p.exceptions[0].name, "@scope/pkg");
        assert_eq!(p.exceptions[0].line, Some(8));
        let mut used = ExceptionUse::default();
        let (v, f) = p.evaluate(
            "@scope/pkg",
            Some("1.2.3"),
            vec![Finding::new(&A, "hook")],
            today(),
            &mut used,
        );
        assert_eq!(v, Verdict::Pass);
        assert_eq!(f[0].excepted.as_deref(), Some("reviewed"));
        // Another version is not covered.
        let (v, _) = p.evaluate(
            "@scope/pkg",
            Some("1.2.4"),
            vec![Finding::new(&A, "hook")],
            today(),
            &mut used,
        );
        assert_eq!(v, Verdict::Block);
        let unused = p.unused_exceptions(&used, today());
        assert_eq!(unused.len(), 1);
        assert_eq!(unused[0].package, "old@1.0.0");
        assert!(unused[0].reason.contains("expired 2020-01-01"));
    }

    const SIG: RuleDoc = RuleDoc {
        code: "signature-missing",
        group: "attest",
        severity: Severity::High,
        default_level: Level::Deny,
        summary: "s",
        doc: "d",
    };

    #[test]
    fn unknown_codes_block() {
        let p = Policy::builtin(&rules());
        let mut f = Finding::new(&B, "from a rule the policy was not told about");
        f.code = "brand-new-rule".into();
        let (v, out) = p.evaluate(
            "x",
            Some("1.0.0"),
            vec![f],
            today(),
            &mut ExceptionUse::default(),
        );
        assert_eq!(v, Verdict::Block);
        assert_eq!(out[0].level, Level::Deny);
    }

    #[test]
    fn a_blanket_exception_does_not_cover_integrity_or_signature_failures() {
        let text = r#"
[[exception]]
package = "pkg@1.0.1"
reason = "reviewed the hook"
expires = "2027-01-31"
"#;
        let mut all = rules();
        all.push(&SIG);
        let p = Policy::parse(text, "turncoat.toml", &all).unwrap();
        for code in INTEGRITY_CODES {
            let mut f = Finding::new(&SIG, "downgrade");
            f.code = (*code).to_string();
            let (v, out) = p.evaluate(
                "pkg",
                Some("1.0.1"),
                vec![f],
                today(),
                &mut ExceptionUse::default(),
            );
            assert_eq!(
                v,
                Verdict::Block,
                "{code} must not be covered by an exception without codes"
            );
            assert_eq!(out[0].excepted, None, "{code}");
        }
        // Other codes are covered.
        let (v, _) = p.evaluate(
            "pkg",
            Some("1.0.1"),
            vec![Finding::new(&A, "hook")],
            today(),
            &mut ExceptionUse::default(),
        );
        assert_eq!(v, Verdict::Pass);
    }

    #[test]
    fn an_exception_naming_the_code_covers_a_signature_failure() {
        let text = r#"
[[exception]]
package = "pkg@1.0.1"
codes = ["signature-missing"]
reason = "the mirror strips signatures of this one version; checked by hand"
expires = "2027-01-31"
"#;
        let mut all = rules();
        all.push(&SIG);
        let p = Policy::parse(text, "turncoat.toml", &all).unwrap();
        let mut used = ExceptionUse::default();
        let (v, out) = p.evaluate(
            "pkg",
            Some("1.0.1"),
            vec![Finding::new(&SIG, "x")],
            today(),
            &mut used,
        );
        assert_eq!(v, Verdict::Pass);
        assert!(out[0].excepted.is_some());
        assert!(p.unused_exceptions(&used, today()).is_empty());
    }

    #[test]
    fn errors_name_the_line() {
        let cases = [
            (
                "[levels]\nnope = \"deny\"\n",
                "turncoat.toml:2: unknown finding code",
            ),
            (
                "[levels]\nrelease-too-new = \"block\"\n",
                "turncoat.toml:2: level for",
            ),
            (
                "[[exception]]\npackage = \"x\"\nreason = \"r\"\nexpires = \"2027-01-01\"\n",
                "turncoat.toml:2: exception package",
            ),
            (
                "[[exception]]\npackage = \"x@^1.0.0\"\nreason = \"r\"\nexpires = \"2027-01-01\"\n",
                "must pin one exact version",
            ),
            (
                "[[exception]]\npackage = \"x@1.0.0\"\nreason = \"r\"\nexpires = \"soon\"\n",
                "turncoat.toml:4: expires must be",
            ),
            (
                "[[exception]]\npackage = \"x@1.0.0\"\ncodes = [\"zzz\"]\nreason = \"r\"\nexpires = \"2027-01-01\"\n",
                "turncoat.toml:3: unknown finding code",
            ),
        ];
        for (text, want) in cases {
            let err = Policy::parse(text, "turncoat.toml", &rules())
                .unwrap_err()
                .to_string();
            assert!(err.contains(want), "{err:?} should contain {want:?}");
        }
        let err = Policy::parse("[gate]\ncooldown = 3\n", "turncoat.toml", &rules())
            .unwrap_err()
            .to_string();
        assert!(
            err.contains("line 2") && err.contains("unknown field"),
            "{err}"
        );
        let err = Policy::parse("[gate]\ncooldown-days = -1\n", "turncoat.toml", &rules())
            .unwrap_err()
            .to_string();
        assert!(err.contains("line 2"), "{err}");
    }

    #[test]
    fn dates() {
        assert_eq!(Date::from_unix(0).to_string(), "1970-01-01");
        assert_eq!(Date::from_unix(1_795_824_000).to_string(), "2026-11-28");
        assert_eq!(Date::parse("2027-01-31"), Date::from_ymd(2027, 1, 31));
        assert_eq!(Date::parse("2027-13-01"), None);
    }

    #[test]
    fn impossible_calendar_dates_are_rejected() {
        // Day 31 of a 30-day month, February 29 of a common year, February 30/31.
        for bad in [
            "2027-02-31",
            "2027-02-29",
            "2027-04-31",
            "2026-11-31",
            "2027-1-5",
            "+2027-01-05",
            "2027-01-05T00:00:00Z",
        ] {
            assert_eq!(Date::parse(bad), None, "{bad} must not parse");
        }
        assert!(Date::parse("2028-02-29").is_some(), "leap day");
        let text =
            "[[exception]]\npackage = \"x@1.0.0\"\nreason = \"r\"\nexpires = \"2027-02-31\"\n";
        let err = Policy::parse(text, "turncoat.toml", &rules())
            .unwrap_err()
            .to_string();
        assert!(err.contains("turncoat.toml:4: expires must be"), "{err}");
    }
}

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
//!
//! The install-time half of the policy, which `turncoat policy compile` writes into every
//! package manager's and update bot's own settings (a top-level `cooldown` is the same value
//! as `[gate] cooldown-days`, with a unit; give one of them):
//!
//! ```toml
//! cooldown = "3d"
//!
//! [[cooldown-exclude]]
//! package = "@acme/*"
//! reason = "our own packages"
//! expires = "2027-06-30"
//!
//! [[allow-script]]
//! package = "esbuild@0.25.0"
//! integrity = "sha512-..."
//! reason = "selects the platform binary"
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
    /// The cooldown with its unit, in seconds (`cooldown_days` is it rounded up to days).
    pub cooldown_secs: u64,
    /// The turncoat.toml set a cooldown (else the built-in default applies).
    pub cooldown_set: bool,
    pub cooldown_excludes: Vec<CooldownExclude>,
    pub allow_scripts: Vec<AllowScript>,
    /// `[metrics] record = true`: commands record their battlecard metrics in the store
    /// without `--record`.
    pub record_metrics: bool,
}

/// Packages the cooldown does not hold back: a name, a name pattern (`@acme/*`) or one pinned
/// `name@version`, each with a reason and an expiry date.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CooldownExclude {
    /// The name or pattern.
    pub name: String,
    /// A pinned version, when the entry names one.
    pub version: Option<String>,
    pub reason: String,
    pub expires: Date,
    pub line: Option<u32>,
}

impl CooldownExclude {
    pub fn spec(&self) -> String {
        match &self.version {
            Some(v) => format!("{}@{v}", self.name),
            None => self.name.clone(),
        }
    }
}

/// A dependency whose install scripts may run: exactly `name@version` with that tarball
/// integrity (a republished tarball under the same version is not approved).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AllowScript {
    pub name: String,
    pub version: String,
    pub integrity: String,
    pub reason: String,
    pub line: Option<u32>,
}

impl AllowScript {
    pub fn spec(&self) -> String {
        format!("{}@{}", self.name, self.version)
    }
}

/// Parse a cooldown: a whole number with a unit, `m` (minutes), `h`, `d` or `w`.
pub fn parse_duration(s: &str) -> Option<u64> {
    let s = s.trim();
    let unit = s.chars().last()?;
    let n: u64 = s[..s.len() - unit.len_utf8()].trim().parse().ok()?;
    let secs = match unit {
        'm' => 60,
        'h' => 3_600,
        'd' => 86_400,
        'w' => 7 * 86_400,
        _ => return None,
    };
    n.checked_mul(secs).filter(|&v| v <= 366 * 86_400)
}

/// `name@version` split at the last `@` that is not the first character.
fn split_spec(spec: &str) -> Option<(&str, &str)> {
    let i = spec
        .char_indices()
        .skip(1)
        .filter(|(_, c)| *c == '@')
        .last()
        .map(|(i, _)| i)?;
    Some((&spec[..i], &spec[i + 1..]))
}

/// One exact version: no range operators, wildcards or spaces.
fn is_exact_version(v: &str) -> bool {
    !v.is_empty()
        && v.chars().next().is_some_and(|c| c.is_ascii_digit())
        && !v.contains(['*', '^', '~', '>', '<', ' ', '|', '='])
        && !v.split(['.', '-', '+']).any(|p| p == "x" || p == "X")
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawPolicy {
    cooldown: Option<Spanned<String>>,
    #[serde(default, rename = "cooldown-exclude")]
    cooldown_excludes: Vec<Spanned<RawCooldownExclude>>,
    #[serde(default, rename = "allow-script")]
    allow_scripts: Vec<Spanned<RawAllowScript>>,
    #[serde(default)]
    gate: RawGate,
    #[serde(default)]
    metrics: RawMetrics,
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

#[derive(Deserialize, Default)]
#[serde(deny_unknown_fields)]
struct RawMetrics {
    #[serde(default)]
    record: bool,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawCooldownExclude {
    package: Spanned<String>,
    reason: String,
    expires: Spanned<String>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawAllowScript {
    package: Spanned<String>,
    integrity: Spanned<String>,
    reason: String,
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
            cooldown_secs: u64::from(DEFAULT_COOLDOWN_DAYS) * 86_400,
            cooldown_set: false,
            cooldown_excludes: Vec::new(),
            allow_scripts: Vec::new(),
            record_metrics: false,
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
            policy.cooldown_secs = u64::from(days) * 86_400;
            policy.cooldown_set = true;
        }
        if let Some(c) = &raw.cooldown {
            let line = line_of(text, c.span().start);
            if raw.gate.cooldown_days.is_some() {
                return Err(invalid(
                    line,
                    "give the cooldown once: `cooldown` or `[gate] cooldown-days`, not both".into(),
                ));
            }
            let Some(secs) = parse_duration(c.get_ref()) else {
                return Err(invalid(
                    line,
                    format!(
                        "cooldown must be a whole number with a unit m, h, d or w (at most a year), like \"3d\", not {:?}",
                        c.get_ref()
                    ),
                ));
            };
            policy.cooldown_secs = secs;
            policy.cooldown_days = u32::try_from(secs.div_ceil(86_400)).unwrap_or(u32::MAX);
            policy.cooldown_set = true;
        }
        policy.record_metrics = raw.metrics.record;
        policy.cooldown_excludes = parse_cooldown_excludes(text, path, raw.cooldown_excludes)?;
        policy.allow_scripts = parse_allow_scripts(text, path, raw.allow_scripts)?;
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

    /// The active cooldown exclusion that covers `name@version`: the exact name, a `@scope/*`
    /// or `prefix*` pattern, or the pinned version.
    pub fn cooldown_exclusion(
        &self,
        name: &str,
        version: Option<&str>,
        today: Date,
    ) -> Option<&CooldownExclude> {
        self.active_cooldown_excludes(today).find(|e| {
            let name_ok = match e.name.strip_suffix('*') {
                Some(prefix) => name.starts_with(prefix),
                None => e.name == name,
            };
            name_ok && e.version.as_deref().is_none_or(|v| Some(v) == version)
        })
    }

    /// Cooldown exclusions still in force on `today`.
    pub fn active_cooldown_excludes(&self, today: Date) -> impl Iterator<Item = &CooldownExclude> {
        self.cooldown_excludes
            .iter()
            .filter(move |e| e.expires >= today)
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
            let mut excepted = exception.map(|(i, e)| {
                used.0.insert(i, true);
                e.reason.clone()
            });
            // The cooldown's own exclusions (the same list `policy compile` writes into every
            // package manager) silence the gate's cooldown finding, and only that one.
            if excepted.is_none()
                && f.code == "release-too-new"
                && let Some(e) = self.cooldown_exclusion(name, version, today)
            {
                excepted = Some(format!("cooldown-exclude {}: {}", e.spec(), e.reason));
            }
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

fn parse_cooldown_excludes(
    text: &str,
    path: &str,
    raw: Vec<Spanned<RawCooldownExclude>>,
) -> Result<Vec<CooldownExclude>, PolicyError> {
    let invalid = |offset: usize, message: String| PolicyError::Invalid {
        path: path.to_string(),
        line: line_of(text, offset),
        message,
    };
    let mut out = Vec::new();
    for entry in raw {
        let line = line_of(text, entry.span().start);
        let e = entry.into_inner();
        let spec = e.package.get_ref().trim();
        let at = e.package.span().start;
        let (name, version) = match split_spec(spec) {
            Some((n, v)) if is_exact_version(v) => (n, Some(v.to_string())),
            Some(_) => {
                return Err(invalid(
                    at,
                    format!(
                        "cooldown-exclude {spec:?}: pin one exact version or name only the package"
                    ),
                ));
            }
            None => (spec, None),
        };
        let name_ok = !name.is_empty()
            && name
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || "@/-._*".contains(c))
            && name != "*"
            && name != "@*/*";
        if !name_ok {
            return Err(invalid(
                at,
                format!(
                    "cooldown-exclude {spec:?} is not a package name or a scope pattern like \"@acme/*\" (a bare \"*\" would switch the cooldown off)"
                ),
            ));
        }
        let Some(expires) = Date::parse(e.expires.get_ref()) else {
            return Err(invalid(
                e.expires.span().start,
                format!(
                    "expires must be a date YYYY-MM-DD, not {:?}",
                    e.expires.get_ref()
                ),
            ));
        };
        if e.reason.trim().is_empty() {
            return Err(PolicyError::Invalid {
                path: path.to_string(),
                line,
                message: format!("cooldown-exclude {spec} needs a reason"),
            });
        }
        out.push(CooldownExclude {
            name: name.to_string(),
            version,
            reason: e.reason,
            expires,
            line: u32::try_from(line).ok(),
        });
    }
    Ok(out)
}

fn parse_allow_scripts(
    text: &str,
    path: &str,
    raw: Vec<Spanned<RawAllowScript>>,
) -> Result<Vec<AllowScript>, PolicyError> {
    let invalid = |offset: usize, message: String| PolicyError::Invalid {
        path: path.to_string(),
        line: line_of(text, offset),
        message,
    };
    let mut out: Vec<AllowScript> = Vec::new();
    for entry in raw {
        let line = line_of(text, entry.span().start);
        let e = entry.into_inner();
        let spec = e.package.get_ref().trim();
        let at = e.package.span().start;
        let Some((name, version)) = split_spec(spec).filter(|(_, v)| is_exact_version(v)) else {
            return Err(invalid(
                at,
                format!("allow-script {spec:?} must be pinned as name@version (one exact version)"),
            ));
        };
        let integrity = e.integrity.get_ref().trim();
        let sri_ok = ["sha512-", "sha384-", "sha256-"].iter().any(|p| {
            integrity.strip_prefix(p).is_some_and(|b| {
                b.len() >= 40
                    && b.bytes()
                        .all(|c| c.is_ascii_alphanumeric() || c == b'+' || c == b'/' || c == b'=')
            })
        });
        // Yarn 2+ locks no SRI but the checksum of its archive: `<cacheKey>/<sha512 hex>`.
        let yarn_ok = integrity.split_once('/').is_some_and(|(k, h)| {
            !k.is_empty()
                && k.bytes().all(|c| c.is_ascii_alphanumeric())
                && h.len() == 128
                && h.bytes().all(|c| c.is_ascii_hexdigit())
        });
        if !sri_ok && !yarn_ok {
            return Err(invalid(
                e.integrity.span().start,
                format!(
                    "allow-script {spec}: integrity must be the lockfile's sha512-/sha384-/sha256- value (Yarn: its checksum, `10c0/<hex>`)"
                ),
            ));
        }
        if e.reason.trim().is_empty() {
            return Err(PolicyError::Invalid {
                path: path.to_string(),
                line,
                message: format!("allow-script {spec} needs a reason"),
            });
        }
        if out.iter().any(|a| a.name == name && a.version == version) {
            return Err(invalid(at, format!("allow-script {spec} is listed twice")));
        }
        out.push(AllowScript {
            name: name.to_string(),
            version: version.to_string(),
            integrity: integrity.to_string(),
            reason: e.reason,
            line: u32::try_from(line).ok(),
        });
    }
    Ok(out)
}

#[cfg(test)]
mod install_policy_tests {
    use super::*;

    fn parse(text: &str) -> Result<Policy, PolicyError> {
        Policy::parse(text, "turncoat.toml", &[])
    }

    const SRI: &str = "sha512-AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA==";

    #[test]
    fn a_cooldown_has_a_unit_and_feeds_the_gate() {
        let p = parse("cooldown = \"3d\"\n").unwrap();
        assert_eq!(
            (p.cooldown_secs, p.cooldown_days, p.cooldown_set),
            (259_200, 3, true)
        );
        let p = parse("cooldown = \"36h\"\n").unwrap();
        assert_eq!((p.cooldown_secs, p.cooldown_days), (129_600, 2));
        let p = parse("").unwrap();
        assert_eq!((p.cooldown_secs, p.cooldown_set), (2 * 86_400, false));
        for bad in ["3", "3 days", "-1d", "1y", "9999w", "d"] {
            let e = parse(&format!("cooldown = {bad:?}\n"))
                .unwrap_err()
                .to_string();
            assert!(e.contains("turncoat.toml:1:"), "{bad}: {e}");
        }
        let e = parse("cooldown = \"3d\"\n[gate]\ncooldown-days = 2\n").unwrap_err();
        assert!(e.to_string().contains("not both"), "{e}");
    }

    #[test]
    fn exclusions_are_names_patterns_or_pins_with_a_reason_and_expiry() {
        let p = parse(
            "[[cooldown-exclude]]\npackage = \"@acme/*\"\nreason = \"ours\"\nexpires = \"2027-01-01\"\n\n[[cooldown-exclude]]\npackage = \"left-pad@1.3.1\"\nreason = \"hotfix\"\nexpires = \"2026-01-01\"\n",
        )
        .unwrap();
        assert_eq!(p.cooldown_excludes.len(), 2);
        assert_eq!(p.cooldown_excludes[1].spec(), "left-pad@1.3.1");
        assert_eq!(p.cooldown_excludes[1].line, Some(6));
        let today = Date::parse("2026-12-07").unwrap();
        let active: Vec<_> = p
            .active_cooldown_excludes(today)
            .map(|e| e.spec())
            .collect();
        assert_eq!(active, ["@acme/*"]);
        // Ways to switch the cooldown off wholesale, or to hide a range in a "pin".
        for bad in [
            "*",
            "@*/*",
            "left-pad@^1.0.0",
            "left-pad@1.x",
            "left-pad@>=1",
            "a b",
            "",
        ] {
            let text = format!(
                "[[cooldown-exclude]]\npackage = {bad:?}\nreason = \"r\"\nexpires = \"2027-01-01\"\n"
            );
            assert!(parse(&text).is_err(), "{bad} accepted");
        }
        let no_reason =
            "[[cooldown-exclude]]\npackage = \"x\"\nreason = \" \"\nexpires = \"2027-01-01\"\n";
        assert!(
            parse(no_reason)
                .unwrap_err()
                .to_string()
                .contains("needs a reason")
        );
        let no_expiry = "[[cooldown-exclude]]\npackage = \"x\"\nreason = \"r\"\n";
        assert!(parse(no_expiry).is_err());
    }

    #[test]
    fn cooldown_exclusions_silence_only_the_cooldown_finding_of_what_they_name() {
        use turncoat_finding::{Finding, Severity};
        static RULES: [RuleDoc; 2] = [
            RuleDoc {
                code: "release-too-new",
                group: "metadata",
                severity: Severity::Medium,
                default_level: Level::Deny,
                summary: "s",
                doc: "d",
            },
            RuleDoc {
                code: "new-network",
                group: "analyze",
                severity: Severity::High,
                default_level: Level::Deny,
                summary: "s",
                doc: "d",
            },
        ];
        let rules: Vec<&'static RuleDoc> = RULES.iter().collect();
        let text = "cooldown = \"3d\"\n[[cooldown-exclude]]\npackage = \"@acme/*\"\nreason = \"ours\"\nexpires = \"2027-01-01\"\n[[cooldown-exclude]]\npackage = \"left-pad@1.3.1\"\nreason = \"hotfix\"\nexpires = \"2027-01-01\"\n";
        let p = Policy::parse(text, "turncoat.toml", &rules).unwrap();
        let today = Date::parse("2026-12-07").unwrap();
        let rule = |code: &str| RULES.iter().find(|r| r.code == code).unwrap();
        let verdict = |name: &str, version: &str, code: &str| {
            let f = Finding::new(rule(code), "m");
            p.evaluate(
                name,
                Some(version),
                vec![f],
                today,
                &mut ExceptionUse::default(),
            )
            .0
        };
        assert_eq!(
            verdict("@acme/ui", "2.0.0", "release-too-new"),
            Verdict::Pass
        );
        assert_eq!(
            verdict("left-pad", "1.3.1", "release-too-new"),
            Verdict::Pass
        );
        // Another version of a pinned exclusion, a look-alike scope, another code: not covered.
        assert_ne!(
            verdict("left-pad", "1.3.2", "release-too-new"),
            Verdict::Pass
        );
        assert_ne!(
            verdict("@acme-evil/ui", "2.0.0", "release-too-new"),
            Verdict::Pass
        );
        assert_ne!(verdict("@acme/ui", "2.0.0", "new-network"), Verdict::Pass);
        // Expired: not covered.
        let later = Date::parse("2027-02-01").unwrap();
        let f = Finding::new(rule("release-too-new"), "m");
        assert_ne!(
            p.evaluate(
                "@acme/ui",
                Some("2.0.0"),
                vec![f],
                later,
                &mut ExceptionUse::default()
            )
            .0,
            Verdict::Pass
        );
    }

    #[test]
    fn approved_scripts_are_pinned_to_version_and_integrity() {
        let ok = format!(
            "[[allow-script]]\npackage = \"@scope/esbuild@0.25.0\"\nintegrity = \"{SRI}\"\nreason = \"platform binary\"\n"
        );
        let p = parse(&ok).unwrap();
        assert_eq!(p.allow_scripts[0].name, "@scope/esbuild");
        assert_eq!(p.allow_scripts[0].version, "0.25.0");
        // Yarn 2+ pins its archive checksum instead of an SRI.
        let yarn = format!("10c0/{}", "ab".repeat(64));
        let yarn_bad = format!("10c0/{}", "zz".repeat(64));
        let text = format!(
            "[[allow-script]]\npackage = \"esbuild@0.25.0\"\nintegrity = \"{yarn}\"\nreason = \"r\"\n"
        );
        assert_eq!(parse(&text).unwrap().allow_scripts[0].integrity, yarn);
        for (pkg, integrity) in [
            ("esbuild", SRI),
            ("esbuild@^0.25.0", SRI),
            ("esbuild@*", SRI),
            ("esbuild@0.25.0 || 0.26.0", SRI),
            ("esbuild@0.25.0", "sha1-abc"),
            ("esbuild@0.25.0", "sha512-short"),
            ("esbuild@0.25.0", "10c0/abc"),
            ("esbuild@0.25.0", &yarn_bad),
        ] {
            let text = format!(
                "[[allow-script]]\npackage = {pkg:?}\nintegrity = {integrity:?}\nreason = \"r\"\n"
            );
            assert!(parse(&text).is_err(), "{pkg} {integrity} accepted");
        }
        let twice = format!("{ok}\n{ok}");
        assert!(parse(&twice).unwrap_err().to_string().contains("twice"));
    }
}

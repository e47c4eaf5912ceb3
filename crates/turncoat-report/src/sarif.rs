//! SARIF 2.1.0 for code-scanning dashboards (GitHub code scanning, Azure DevOps, sarif-tools).
//!
//! One run, one result per finding, one rule per finding code that appears.
//!
//! # Locations
//!
//! A finding's evidence points *into a package tarball* (`lib/setup.js:12` of
//! `secure-data-sanitizer@3.1.5`), a file that does not exist in the repository being scanned.
//! GitHub code scanning only resolves locations to files of the repository and drops or
//! mis-anchors the rest, so the **primary location is the lockfile line** of the package
//! ([`PackageReport::lockfile`]): that is the line a reviewer must change. The evidence goes
//! to `relatedLocations` under a virtual URI, `pkg/<name>@<version>/<path>`, which reads as
//! "this file of that package" in any viewer and can never be confused with a repository path
//! (npm names cannot start with `pkg/`, so the prefix is unambiguous). When there is no lockfile
//! location (`turncoat scan`), the first piece of evidence becomes the primary location, still
//! under its virtual URI. For reports about files rather than packages (no version at all,
//! e.g. `turncoat lockfile lint`, where the "package" is the lockfile), evidence paths are
//! repository paths and are used as they are.
//!
//! # Deduplication
//!
//! Each result carries `partialFingerprints["turncoat/v1"]`, a SHA-256 of (code, package name,
//! version, first evidence path): stable across runs and across line shifts in the lockfile,
//! so a re-run updates the existing alert instead of opening a new one.

use std::collections::{BTreeMap, BTreeSet};

use serde_json::{Map, Value, json};
use sha2::{Digest, Sha256};
use turncoat_finding::{Evidence, Level, RuleDoc, Severity};

use crate::text::escape_controls;
use crate::{PackageReport, Report, ReportFinding};

const SARIF_SCHEMA: &str = "https://json.schemastore.org/sarif-2.1.0.json";
const FINGERPRINT_KEY: &str = "turncoat/v1";

/// Render `report` as a SARIF 2.1.0 log (pretty JSON, trailing newline). `rules` documents the
/// codes; a code with no entry still gets a minimal rule so every result has one.
pub fn render(report: &Report, rules: &[&RuleDoc]) -> String {
    let codes: BTreeSet<&str> = report
        .packages
        .iter()
        .flat_map(|p| p.findings.iter().map(|f| f.code.as_str()))
        .collect();
    let rule_index: BTreeMap<&str, usize> =
        codes.iter().enumerate().map(|(i, c)| (*c, i)).collect();
    let rules_json: Vec<Value> = codes
        .iter()
        .map(|code| rule(code, rules.iter().find(|r| r.code == *code).copied()))
        .collect();
    let results: Vec<Value> = report
        .packages
        .iter()
        .flat_map(|p| {
            p.findings
                .iter()
                .map(|f| result(p, f, rule_index.get(f.code.as_str()).copied()))
        })
        .collect();

    let mut run = Map::new();
    run.insert(
        "tool".into(),
        json!({
            "driver": {
                "name": "turncoat",
                "version": env!("CARGO_PKG_VERSION"),
                "informationUri": env!("CARGO_PKG_REPOSITORY"),
                "rules": rules_json,
            }
        }),
    );
    if !report.unused_exceptions.is_empty() {
        // Stale policy exceptions are a configuration problem, not a result.
        let notes: Vec<Value> = report
            .unused_exceptions
            .iter()
            .map(|u| {
                let at = u.line.map(|l| format!(" (line {l})")).unwrap_or_default();
                json!({
                    "level": "warning",
                    "message": {
                        "text": escape_controls(&format!(
                            "policy exception for {}{at} matched nothing: {}",
                            u.package, u.reason
                        )),
                    },
                })
            })
            .collect();
        run.insert(
            "invocations".into(),
            json!([{ "executionSuccessful": true, "toolConfigurationNotifications": notes }]),
        );
    }
    run.insert("results".into(), Value::Array(results));
    run.insert(
        "properties".into(),
        json!({
            "command": report.command,
            "summary": {
                "packages": report.summary.packages,
                "block": report.summary.block,
                "warn": report.summary.warn,
                "pass": report.summary.pass,
            },
        }),
    );
    let log = json!({
        "$schema": SARIF_SCHEMA,
        "version": "2.1.0",
        "runs": [run],
    });
    // A `serde_json::Value` always serialises.
    let mut out = serde_json::to_string_pretty(&log).expect("a JSON value always serialises");
    out.push('\n');
    out
}

/// SARIF `level` for a policy level (results) or a rule's default level.
pub fn sarif_level(level: Level) -> &'static str {
    match level {
        Level::Deny => "error",
        Level::Warn => "warning",
        Level::Allow => "note",
    }
}

/// GitHub's `security-severity` score: it buckets ≥ 9.0 as critical, 7.0–8.9 high,
/// 4.0–6.9 medium, 0.1–3.9 low.
fn security_severity(s: Severity) -> &'static str {
    match s {
        Severity::Critical => "9.5",
        Severity::High => "8.0",
        Severity::Medium => "5.5",
        Severity::Low => "3.0",
        Severity::Info => "0.0",
    }
}

fn rule(code: &str, doc: Option<&RuleDoc>) -> Value {
    let Some(doc) = doc else {
        return json!({
            "id": code,
            "shortDescription": { "text": code },
        });
    };
    json!({
        "id": code,
        "shortDescription": { "text": doc.summary },
        "fullDescription": { "text": doc.doc },
        "help": { "text": doc.doc, "markdown": doc.doc },
        "defaultConfiguration": { "level": sarif_level(doc.default_level) },
        "properties": {
            "tags": ["security", "supply-chain", doc.group],
            "security-severity": security_severity(doc.severity),
        },
    })
}

fn result(p: &PackageReport, f: &ReportFinding, rule_index: Option<usize>) -> Value {
    let version = p.to.as_deref().or(p.from.as_deref());
    let related: Vec<Value> = f
        .evidence
        .iter()
        .enumerate()
        .map(|(i, e)| {
            let what = match version {
                Some(v) => format!("{}@{}: {}", p.name, v, evidence_label(e)),
                None => evidence_label(e),
            };
            let mut loc = Map::new();
            loc.insert("id".into(), json!(i));
            loc.extend(evidence_location(e, &p.name, version));
            loc.insert("message".into(), json!({ "text": escape_controls(&what) }));
            Value::Object(loc)
        })
        .collect();
    let primary: Option<Value> = match (&p.lockfile, f.evidence.first()) {
        (Some(lock), _) => Some(Value::Object(physical(
            &repo_uri(&lock.path),
            Some(lock.line),
            None,
        ))),
        (None, Some(e)) => Some(Value::Object(evidence_location(e, &p.name, version))),
        (None, None) => None,
    };

    let mut r = Map::new();
    r.insert("ruleId".into(), json!(f.code));
    if let Some(i) = rule_index {
        r.insert("ruleIndex".into(), json!(i));
    }
    r.insert("level".into(), json!(sarif_level(f.level)));
    r.insert(
        "message".into(),
        json!({ "text": escape_controls(&format!("{}: {}", p.title(), f.message)) }),
    );
    if let Some(primary) = primary {
        r.insert("locations".into(), json!([primary]));
    }
    if !related.is_empty() {
        r.insert("relatedLocations".into(), Value::Array(related));
    }
    r.insert(
        "partialFingerprints".into(),
        json!({ FINGERPRINT_KEY: fingerprint(f, p, version) }),
    );
    if let Some(reason) = &f.excepted {
        // An exception in turncoat.toml is an external suppression: dashboards show the alert
        // as dismissed with the reviewer's reason instead of hiding it.
        r.insert(
            "suppressions".into(),
            json!([{ "kind": "external", "justification": reason }]),
        );
    }
    let mut props = Map::new();
    props.insert("package".into(), json!(p.name));
    if let Some(from) = &p.from {
        props.insert("from".into(), json!(from));
    }
    if let Some(to) = &p.to {
        props.insert("to".into(), json!(to));
    }
    props.insert("change".into(), json!(p.change));
    props.insert("verdict".into(), json!(p.verdict));
    props.insert("severity".into(), json!(f.severity));
    r.insert("properties".into(), Value::Object(props));
    Value::Object(r)
}

fn evidence_label(e: &Evidence) -> String {
    crate::text::location(&e.path, e.line)
}

/// A location for a piece of evidence: inside the package (virtual URI) when there is a
/// package version, a repository file otherwise.
fn evidence_location(e: &Evidence, name: &str, version: Option<&str>) -> Map<String, Value> {
    let uri = match version {
        Some(v) => package_uri(name, v, &e.path),
        None => repo_uri(&e.path),
    };
    physical(&uri, e.line, e.snippet.as_deref())
}

/// A SARIF `location` holding one `physicalLocation`.
fn physical(uri: &str, line: Option<u32>, snippet: Option<&str>) -> Map<String, Value> {
    let mut loc = Map::new();
    loc.insert("artifactLocation".into(), json!({ "uri": uri }));
    // SARIF lines are 1-based; an unknown (0) line gets no region rather than an invalid one.
    if let Some(line) = line.filter(|l| *l > 0) {
        let mut region = Map::new();
        region.insert("startLine".into(), json!(line));
        if let Some(s) = snippet {
            region.insert("snippet".into(), json!({ "text": s }));
        }
        loc.insert("region".into(), Value::Object(region));
    }
    let mut outer = Map::new();
    outer.insert("physicalLocation".into(), Value::Object(loc));
    outer
}

/// `pkg/<name>@<version>/<path>`, percent-encoded.
pub fn package_uri(name: &str, version: &str, path: &str) -> String {
    let path = path.replace('\\', "/");
    let path = path.trim_start_matches("./").trim_start_matches('/');
    encode_uri_path(&format!("pkg/{name}@{version}/{path}"))
}

/// A repository path as a relative URI (`./` dropped, backslashes turned into slashes);
/// absolute paths become `file://` URIs.
fn repo_uri(path: &str) -> String {
    let path = path.replace('\\', "/");
    if path.starts_with('/') {
        return format!("file://{}", encode_uri_path(&path));
    }
    let mut rest = path.as_str();
    while let Some(r) = rest.strip_prefix("./") {
        rest = r;
    }
    encode_uri_path(rest)
}

/// Percent-encode everything but RFC 3986 unreserved characters, sub-delims, `:`, `@` and `/`.
fn encode_uri_path(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for b in s.bytes() {
        let keep = b.is_ascii_alphanumeric()
            || matches!(
                b,
                b'-' | b'.'
                    | b'_'
                    | b'~'
                    | b'/'
                    | b':'
                    | b'@'
                    | b'!'
                    | b'$'
                    | b'&'
                    | b'\''
                    | b'('
                    | b')'
                    | b'*'
                    | b'+'
                    | b','
                    | b';'
                    | b'='
            );
        if keep {
            out.push(char::from(b));
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

/// Hex SHA-256 of (code, name, version, first evidence path), NUL-separated.
fn fingerprint(f: &ReportFinding, p: &PackageReport, version: Option<&str>) -> String {
    let mut h = Sha256::new();
    for part in [
        f.code.as_str(),
        p.name.as_str(),
        version.unwrap_or(""),
        f.evidence.first().map(|e| e.path.as_str()).unwrap_or(""),
    ] {
        h.update(part.as_bytes());
        h.update([0u8]);
    }
    h.finalize()
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect::<String>()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{Change, LockfileLocation, Verdict};

    const DENY_RULE: RuleDoc = RuleDoc {
        code: "new-install-script",
        group: "analyze",
        severity: Severity::High,
        default_level: Level::Deny,
        summary: "an update adds an install script",
        doc: "Flags install scripts that are new.",
    };
    const WARN_RULE: RuleDoc = RuleDoc {
        code: "release-too-new",
        group: "metadata",
        severity: Severity::Medium,
        default_level: Level::Warn,
        summary: "the release is younger than the cooldown",
        doc: "Flags young releases.",
    };
    const ALLOW_RULE: RuleDoc = RuleDoc {
        code: "became-minified",
        group: "analyze",
        severity: Severity::Low,
        default_level: Level::Allow,
        summary: "code became minified",
        doc: "Flags minification.",
    };

    fn f(code: &str, level: Level, evidence: Vec<Evidence>) -> ReportFinding {
        ReportFinding {
            code: code.into(),
            severity: Severity::High,
            level,
            message: "seen".into(),
            evidence,
            excepted: None,
        }
    }

    fn report(findings: Vec<ReportFinding>, lockfile: bool) -> Report {
        Report::new(
            "diff",
            vec![],
            vec![PackageReport {
                name: "@scope/pkg".into(),
                from: Some("1.0.0".into()),
                to: Some("1.0.1".into()),
                change: Change::Updated,
                verdict: Verdict::Block,
                findings,
                lockfile: lockfile.then(|| LockfileLocation {
                    path: "./package-lock.json".into(),
                    line: 42,
                }),
                introduced_by: vec![],
                rests_on_cache: Vec::new(),
                detonation: None,
            }],
        )
    }

    fn parse(s: &str) -> Value {
        serde_json::from_str(s).expect("SARIF is JSON")
    }

    #[test]
    fn levels_map_for_rules_and_results() {
        let r = report(
            vec![
                f("new-install-script", Level::Deny, vec![]),
                f("release-too-new", Level::Warn, vec![]),
                f("became-minified", Level::Allow, vec![]),
            ],
            true,
        );
        let v = parse(&render(&r, &[&DENY_RULE, &WARN_RULE, &ALLOW_RULE]));
        let run = &v["runs"][0];
        let rules = run["tool"]["driver"]["rules"].as_array().expect("rules");
        let level_of = |id: &str| {
            rules
                .iter()
                .find(|r| r["id"] == id)
                .map(|r| r["defaultConfiguration"]["level"].clone())
        };
        assert_eq!(level_of("new-install-script"), Some(json!("error")));
        assert_eq!(level_of("release-too-new"), Some(json!("warning")));
        assert_eq!(level_of("became-minified"), Some(json!("note")));
        let levels: Vec<&Value> = run["results"]
            .as_array()
            .expect("results")
            .iter()
            .map(|r| &r["level"])
            .collect();
        assert_eq!(levels, [&json!("error"), &json!("warning"), &json!("note")]);
        // ruleIndex points at the rule with the same id.
        for result in run["results"].as_array().expect("results") {
            let i = result["ruleIndex"].as_u64().expect("index") as usize;
            assert_eq!(rules.get(i).map(|r| &r["id"]), Some(&result["ruleId"]));
        }
    }

    #[test]
    fn policy_level_wins_over_rule_default() {
        // The rule defaults to deny, but this run's policy lowered it to warn.
        let r = report(vec![f("new-install-script", Level::Warn, vec![])], true);
        let v = parse(&render(&r, &[&DENY_RULE]));
        assert_eq!(v["runs"][0]["results"][0]["level"], "warning");
        assert_eq!(
            v["runs"][0]["tool"]["driver"]["rules"][0]["defaultConfiguration"]["level"],
            "error"
        );
    }

    #[test]
    fn unknown_codes_get_a_minimal_rule() {
        let r = report(vec![f("mystery", Level::Deny, vec![])], true);
        let v = parse(&render(&r, &[]));
        assert_eq!(
            v["runs"][0]["tool"]["driver"]["rules"][0],
            json!({"id": "mystery", "shortDescription": {"text": "mystery"}})
        );
    }

    #[test]
    fn lockfile_is_primary_and_evidence_is_related() {
        let ev = vec![Evidence::at("lib/a b.js", 3).with_snippet("x()")];
        let v = parse(&render(
            &report(vec![f("new-install-script", Level::Deny, ev.clone())], true),
            &[],
        ));
        let res = &v["runs"][0]["results"][0];
        let primary = &res["locations"][0]["physicalLocation"];
        assert_eq!(primary["artifactLocation"]["uri"], "package-lock.json");
        assert_eq!(primary["region"]["startLine"], 42);
        let related = &res["relatedLocations"][0];
        assert_eq!(
            related["physicalLocation"]["artifactLocation"]["uri"],
            "pkg/@scope/pkg@1.0.1/lib/a%20b.js"
        );
        assert_eq!(related["message"]["text"], "@scope/pkg@1.0.1: lib/a b.js:3");
        assert_eq!(res["message"]["text"], "@scope/pkg 1.0.0 → 1.0.1: seen");

        // Without a lockfile line the evidence is the primary location.
        let v = parse(&render(
            &report(vec![f("new-install-script", Level::Deny, ev)], false),
            &[],
        ));
        assert_eq!(
            v["runs"][0]["results"][0]["locations"][0]["physicalLocation"]["artifactLocation"]["uri"],
            "pkg/@scope/pkg@1.0.1/lib/a%20b.js"
        );
    }

    #[test]
    fn fingerprints_are_stable_and_distinguish_findings() {
        let a = f(
            "new-install-script",
            Level::Deny,
            vec![Evidence::at("a.js", 1)],
        );
        let mut moved = a.clone();
        moved.evidence = vec![Evidence::at("a.js", 90)];
        let b = f(
            "new-install-script",
            Level::Deny,
            vec![Evidence::at("b.js", 1)],
        );
        let fp = |x: &ReportFinding| {
            let v = parse(&render(&report(vec![x.clone()], true), &[]));
            v["runs"][0]["results"][0]["partialFingerprints"][FINGERPRINT_KEY]
                .as_str()
                .expect("fingerprint")
                .to_string()
        };
        assert_eq!(fp(&a), fp(&a));
        assert_eq!(fp(&a), fp(&moved), "a line shift keeps the alert");
        assert_ne!(fp(&a), fp(&b));
        assert_eq!(fp(&a).len(), 64);
    }

    #[test]
    fn file_reports_point_at_repository_files() {
        // `lockfile lint`: the "package" is the lockfile and evidence paths are repo paths.
        let mut r = report(
            vec![f(
                "missing-integrity",
                Level::Deny,
                vec![Evidence::at("./web/package-lock.json", 12)],
            )],
            false,
        );
        r.packages[0].name = "web/package-lock.json".into();
        r.packages[0].from = None;
        r.packages[0].to = None;
        r.packages[0].change = Change::Scanned;
        let v = parse(&render(&r, &[]));
        let res = &v["runs"][0]["results"][0];
        assert_eq!(
            res["locations"][0]["physicalLocation"]["artifactLocation"]["uri"],
            "web/package-lock.json"
        );
        assert_eq!(
            res["locations"][0]["physicalLocation"]["region"]["startLine"],
            12
        );
        assert_eq!(res["message"]["text"], "web/package-lock.json: seen");
    }

    #[test]
    fn uris_are_relative_and_encoded() {
        assert_eq!(repo_uri("./sub/package-lock.json"), "sub/package-lock.json");
        assert_eq!(repo_uri("sub\\yarn.lock"), "sub/yarn.lock");
        assert_eq!(
            repo_uri("/abs/pnpm-lock.yaml"),
            "file:///abs/pnpm-lock.yaml"
        );
        assert_eq!(
            package_uri("x", "1.0.0", "./a%b#c?.js"),
            "pkg/x@1.0.0/a%25b%23c%3F.js"
        );
        assert_eq!(package_uri("x", "1.0.0", "é.js"), "pkg/x@1.0.0/%C3%A9.js");
    }
}

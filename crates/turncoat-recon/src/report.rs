//! The recon report (schema `turncoat-recon/1`, documented in `docs/recon.md`): judging facts
//! into findings with levels, totals, and the human, JSON, SARIF and Markdown renderers.
//!
//! No renderer can print a secret: the report holds only [`crate::detect::Redacted`] values.

use std::collections::{BTreeMap, HashSet};
use std::fmt::Write as _;

use serde::Serialize;
use turncoat_finding::{Finding, Level, RuleDoc};

use crate::baseline::Baseline;
use crate::email::EmailClass;
use crate::history::{RepoFacts, SkippedBlob};
use crate::identity::{Person, count_emails, people};
use crate::rules;
use crate::secrets::{SecretRecord, records};

pub const SCHEMA: &str = "turncoat-recon/1";
/// Bumped on any incompatible change of the JSON report (`docs/recon.md`).
pub const SCHEMA_VERSION: u32 = 1;

/// `YYYY-MM-DD` of a Unix time (UTC).
pub fn date(unix: i64) -> String {
    time::OffsetDateTime::from_unix_timestamp(unix)
        .map(|t| format!("{:04}-{:02}-{:02}", t.year(), u8::from(t.month()), t.day()))
        .unwrap_or_else(|_| "?".into())
}

/// The first 12 hex digits of a commit id.
pub fn short(commit: &str) -> &str {
    &commit[..commit.len().min(12)]
}

#[derive(Debug, Clone, Serialize)]
pub struct LeveledFinding {
    #[serde(flatten)]
    pub finding: Finding,
    pub level: Level,
    pub fingerprint: String,
}

#[derive(Debug, Clone, Default, Serialize)]
pub struct Metrics {
    pub people: usize,
    pub emails: usize,
    pub personal_emails_exposed: usize,
    pub organisation_emails: usize,
    pub noreply_emails: usize,
    pub local_identities: usize,
    pub secrets: usize,
    pub publish_tokens: usize,
    pub secrets_at_head: usize,
}

#[derive(Debug, Clone, Default, Serialize)]
pub struct ScanStats {
    pub commits: usize,
    pub blobs_scanned: u64,
    pub bytes_scanned: u64,
    pub binary_blobs: u64,
    pub blobs_not_scanned: usize,
    /// Findings silenced by the baseline.
    pub baselined: usize,
}

#[derive(Debug, Clone, Serialize)]
pub struct NotScanned {
    pub blob: String,
    pub commit: String,
    pub path: String,
    pub size: u64,
}

#[derive(Debug, Clone, Serialize)]
pub struct RepoReport {
    pub path: String,
    /// Forge owner from `remote.origin.url`, else the parent directory's name.
    pub organisation: String,
    pub metrics: Metrics,
    pub stats: ScanStats,
    pub people: Vec<Person>,
    pub secrets: Vec<SecretRecord>,
    pub not_scanned: Vec<NotScanned>,
    pub findings: Vec<LeveledFinding>,
}

#[derive(Debug, Clone, Default, Serialize)]
pub struct Totals {
    pub repositories: usize,
    pub commits: usize,
    /// Distinct canonical addresses across repositories.
    pub people: usize,
    /// Distinct personal addresses across repositories (the battlecard metric).
    pub personal_emails_exposed: usize,
    pub local_identities: usize,
    pub secrets: usize,
    pub publish_tokens: usize,
    pub secrets_at_head: usize,
    /// Findings per level after the policy and the baseline.
    pub findings: BTreeMap<String, usize>,
    /// The battlecard metric per organisation.
    pub organisations: Vec<OrgMetrics>,
}

#[derive(Debug, Clone, Default, Serialize)]
pub struct OrgMetrics {
    pub organisation: String,
    pub repositories: usize,
    /// Distinct canonical addresses across the organisation's repositories.
    pub people: usize,
    /// Distinct personal addresses across the organisation's repositories.
    pub personal_emails_exposed: usize,
}

#[derive(Debug, Clone, Serialize)]
pub struct ReconReport {
    pub schema: &'static str,
    pub schema_version: u32,
    pub repositories: Vec<RepoReport>,
    pub totals: Totals,
}

impl ReconReport {
    /// The battlecard samples of this scan, measured at `at`: personal emails exposed and
    /// publish tokens in history, per repository (`repo:PATH`) and per organisation (`org:NAME`).
    pub fn samples(&self, at: time::OffsetDateTime) -> Vec<turncoat_metrics::Sample> {
        let mut out = Vec::new();
        let mut push = |metric: &str, value: usize, scope: String| {
            if let Ok(s) = turncoat_metrics::Sample::new(metric, value as f64, at, scope) {
                out.push(s);
            }
        };
        for r in &self.repositories {
            push(
                "personal-emails-exposed",
                r.metrics.personal_emails_exposed,
                format!("repo:{}", r.path),
            );
            push(
                "publish-tokens-in-history",
                r.metrics.publish_tokens,
                format!("repo:{}", r.path),
            );
        }
        for o in &self.totals.organisations {
            push(
                "personal-emails-exposed",
                o.personal_emails_exposed,
                format!("org:{}", o.organisation),
            );
        }
        out
    }

    pub fn new(repositories: Vec<RepoReport>) -> ReconReport {
        let mut t = Totals {
            repositories: repositories.len(),
            ..Totals::default()
        };
        let mut people_set = HashSet::new();
        let mut personal = HashSet::new();
        let mut local = HashSet::new();
        for r in &repositories {
            t.commits += r.stats.commits;
            t.secrets += r.metrics.secrets;
            t.publish_tokens += r.metrics.publish_tokens;
            t.secrets_at_head += r.metrics.secrets_at_head;
            for p in &r.people {
                people_set.insert(p.email.to_ascii_lowercase());
                for e in &p.emails {
                    match e.class {
                        EmailClass::Personal => personal.insert(e.email.to_ascii_lowercase()),
                        EmailClass::Local => local.insert(e.email.to_ascii_lowercase()),
                        _ => false,
                    };
                }
            }
            for f in &r.findings {
                *t.findings.entry(f.level.as_str().to_string()).or_default() += 1;
            }
        }
        t.people = people_set.len();
        t.personal_emails_exposed = personal.len();
        t.local_identities = local.len();
        t.organisations = organisations(&repositories);
        ReconReport {
            schema: SCHEMA,
            schema_version: SCHEMA_VERSION,
            repositories,
            totals: t,
        }
    }

    /// A finding at `deny` after policy and baseline.
    pub fn violation(&self) -> bool {
        self.findings().any(|f| f.level == Level::Deny)
    }

    pub fn findings(&self) -> impl Iterator<Item = &LeveledFinding> {
        self.repositories.iter().flat_map(|r| r.findings.iter())
    }
}

fn organisations(repositories: &[RepoReport]) -> Vec<OrgMetrics> {
    type Sets = (usize, HashSet<String>, HashSet<String>);
    let mut by: BTreeMap<&str, Sets> = BTreeMap::new();
    for r in repositories {
        let (repos, people, personal) = by.entry(r.organisation.as_str()).or_default();
        *repos += 1;
        for p in &r.people {
            people.insert(p.email.to_ascii_lowercase());
            personal.extend(
                p.emails_of(EmailClass::Personal)
                    .map(|e| e.email.to_ascii_lowercase()),
            );
        }
    }
    by.into_iter()
        .map(|(org, (repositories, people, personal))| OrgMetrics {
            organisation: org.to_string(),
            repositories,
            people: people.len(),
            personal_emails_exposed: personal.len(),
        })
        .collect()
}

/// Judge one repository's facts: people, secrets, findings with their policy level, minus
/// what the baseline silences.
pub fn judge(facts: &RepoFacts, level: &dyn Fn(&str) -> Level, baseline: &Baseline) -> RepoReport {
    let repo = facts.path.display().to_string();
    let people = people(&facts.signatures);
    let secrets = records(facts);
    let mut raw: Vec<(Finding, String)> = Vec::new();
    for p in &people {
        let mut out = Vec::new();
        rules::personal_email_exposed::judge(&repo, p, &mut out);
        rules::local_identity_exposed::judge(&repo, p, &mut out);
        for f in out {
            let address = f.evidence[0].snippet.clone().unwrap_or_default();
            let fp = format!("{}:{address}", f.code);
            raw.push((f, fp));
        }
    }
    for s in &secrets {
        let f = rules::secret_at_head::judge(s)
            .or_else(|| rules::publish_token_in_history::judge(s))
            .or_else(|| rules::secret_in_history::judge(s));
        if let Some(f) = f {
            raw.push((f, s.fingerprint.clone()));
        }
    }
    for b in &facts.skipped {
        let commit = &facts.commits[b.commit].id;
        let f = rules::history_blob_not_scanned::judge(commit, b);
        raw.push((
            f,
            format!("{}:{}", rules::history_blob_not_scanned::RULE.code, b.blob),
        ));
    }
    let mut baselined = 0;
    let findings = raw
        .into_iter()
        .filter(|(_, fp)| {
            let silenced = baseline.contains(fp);
            baselined += usize::from(silenced);
            !silenced
        })
        .map(|(finding, fingerprint)| LeveledFinding {
            level: level(&finding.code),
            finding,
            fingerprint,
        })
        .collect();
    RepoReport {
        metrics: Metrics {
            people: people.len(),
            emails: people.iter().map(|p| p.emails.len()).sum(),
            personal_emails_exposed: count_emails(&people, EmailClass::Personal),
            organisation_emails: count_emails(&people, EmailClass::Organisation),
            noreply_emails: count_emails(&people, EmailClass::Noreply),
            local_identities: count_emails(&people, EmailClass::Local),
            secrets: secrets.len(),
            publish_tokens: secrets.iter().filter(|s| s.publish_credential).count(),
            secrets_at_head: secrets.iter().filter(|s| s.at_head).count(),
        },
        stats: ScanStats {
            commits: facts.commits.len(),
            blobs_scanned: facts.blobs_scanned,
            bytes_scanned: facts.bytes_scanned,
            binary_blobs: facts.binary_blobs,
            blobs_not_scanned: facts.skipped.len(),
            baselined,
        },
        not_scanned: facts
            .skipped
            .iter()
            .map(|b: &SkippedBlob| NotScanned {
                blob: b.blob.clone(),
                commit: facts.commits[b.commit].id.clone(),
                path: b.path.clone(),
                size: b.size,
            })
            .collect(),
        path: repo,
        organisation: facts.organisation.clone(),
        people,
        secrets,
        findings,
    }
}

pub fn render_json(report: &ReconReport) -> String {
    let mut s = serde_json::to_string_pretty(report).unwrap_or_default();
    s.push('\n');
    s
}

/// Human output: per repository the metrics, the people table (`max_people` rows) and the
/// findings at `warn` and `deny` (all of them with `verbose`).
pub fn render_human(report: &ReconReport, max_people: usize, verbose: bool) -> String {
    let mut o = String::new();
    for r in &report.repositories {
        let m = &r.metrics;
        let _ = writeln!(
            o,
            "{}: {} commits, {} people, {} addresses",
            r.path, r.stats.commits, m.people, m.emails
        );
        let _ = writeln!(
            o,
            "  personal emails exposed: {}   organisation: {}   noreply: {}   local: {}",
            m.personal_emails_exposed, m.organisation_emails, m.noreply_emails, m.local_identities
        );
        let _ = writeln!(
            o,
            "  secrets: {} ({} publish tokens, {} at HEAD); {} blobs scanned ({:.1} MB, {} binary), {} not scanned, {} baselined",
            m.secrets,
            m.publish_tokens,
            m.secrets_at_head,
            r.stats.blobs_scanned,
            r.stats.bytes_scanned as f64 / 1e6,
            r.stats.binary_blobs,
            r.stats.blobs_not_scanned,
            r.stats.baselined
        );
        people_table(&mut o, &r.people, max_people);
        secrets_table(&mut o, &r.secrets);
        let shown: Vec<_> = r
            .findings
            .iter()
            .filter(|f| verbose || f.level != Level::Allow)
            .collect();
        if !shown.is_empty() {
            let _ = writeln!(o, "\n  findings");
            // At most `max_people` lines per code unless verbose: a large history has hundreds
            // of personal addresses, and the JSON report has every one.
            let mut per_code: BTreeMap<&str, usize> = BTreeMap::new();
            for f in shown {
                let n = per_code.entry(f.finding.code.as_str()).or_default();
                *n += 1;
                if !verbose && *n > max_people {
                    continue;
                }
                let ev = f
                    .finding
                    .evidence
                    .first()
                    .map(|e| match e.line {
                        Some(l) => format!(" [{}:{l}]", e.path),
                        None => String::new(),
                    })
                    .unwrap_or_default();
                let _ = writeln!(
                    o,
                    "  {:5} {}: {}{ev}",
                    f.level.as_str(),
                    f.finding.code,
                    terminal_safe(&f.finding.message)
                );
            }
            for (code, n) in per_code {
                if !verbose && n > max_people {
                    let _ = writeln!(
                        o,
                        "  … {} more {code} findings (--verbose, or --format json)",
                        n - max_people
                    );
                }
            }
        }
        o.push('\n');
    }
    let t = &report.totals;
    let _ = writeln!(
        o,
        "total: {} repositories, {} commits, {} people, {} personal emails exposed, {} secrets ({} publish tokens, {} at HEAD)",
        t.repositories,
        t.commits,
        t.people,
        t.personal_emails_exposed,
        t.secrets,
        t.publish_tokens,
        t.secrets_at_head
    );
    for org in &t.organisations {
        let _ = writeln!(
            o,
            "  organisation {}: {} repositories, {} people, {} personal emails exposed",
            turncoat_finding::sanitize_snippet(&org.organisation),
            org.repositories,
            org.people,
            org.personal_emails_exposed
        );
    }
    o
}

fn at_head(s: &SecretRecord) -> &'static str {
    if s.at_head { "yes" } else { "no" }
}

fn location(s: &SecretRecord) -> String {
    match s.line {
        Some(l) => format!("{}:{l}", s.path),
        None => format!("{} (binary)", s.path),
    }
}

fn secrets_table(o: &mut String, secrets: &[SecretRecord]) {
    if secrets.is_empty() {
        return;
    }
    let _ = writeln!(
        o,
        "\n  {:26}  {:24}  {:12}  {:7}  path:line",
        "rule", "redacted", "commit", "at HEAD"
    );
    for s in secrets {
        let _ = writeln!(
            o,
            "  {:26}  {:24}  {:12}  {:7}  {}",
            s.rule.as_str(),
            s.redacted.to_string(),
            short(&s.commit),
            at_head(s),
            turncoat_finding::sanitize_snippet(&location(s))
        );
    }
}

fn people_table(o: &mut String, people: &[Person], max: usize) {
    if people.is_empty() {
        return;
    }
    let _ = writeln!(
        o,
        "\n  {:>7}  {:10}  {:10}  person / addresses",
        "commits", "first", "last"
    );
    for p in people.iter().take(max) {
        let _ = writeln!(
            o,
            "  {:>7}  {:10}  {:10}  {} <{}>",
            p.commits,
            date(p.first_seen),
            date(p.last_seen),
            turncoat_finding::sanitize_snippet(&p.name),
            turncoat_finding::sanitize_snippet(&p.email)
        );
        for e in &p.emails {
            let _ = writeln!(
                o,
                "  {:>7}  {:10}  {:10}    {} ({})",
                e.commits,
                date(e.first_seen),
                date(e.last_seen),
                turncoat_finding::sanitize_snippet(&e.email),
                e.class.as_str()
            );
        }
    }
    if people.len() > max {
        let _ = writeln!(
            o,
            "  … {} more people (--max-people N, or --format json)",
            people.len() - max
        );
    }
}

pub fn render_markdown(report: &ReconReport) -> String {
    let mut o = String::from("## turncoat recon\n\n");
    o.push_str("| repository | commits | people | personal emails exposed | local identities | secrets | publish tokens | at HEAD |\n|---|---:|---:|---:|---:|---:|---:|---:|\n");
    for r in &report.repositories {
        let m = &r.metrics;
        let _ = writeln!(
            o,
            "| `{}` | {} | {} | {} | {} | {} | {} | {} |",
            r.path.replace('|', "\\|"),
            r.stats.commits,
            m.people,
            m.personal_emails_exposed,
            m.local_identities,
            m.secrets,
            m.publish_tokens,
            m.secrets_at_head
        );
    }
    if report.totals.organisations.len() > 1 {
        o.push_str("\n| organisation | repositories | people | personal emails exposed |\n|---|---:|---:|---:|\n");
        for org in &report.totals.organisations {
            let _ = writeln!(
                o,
                "| {} | {} | {} | {} |",
                turncoat_finding::sanitize_snippet(&org.organisation).replace('|', "\\|"),
                org.repositories,
                org.people,
                org.personal_emails_exposed
            );
        }
    }
    let secrets: Vec<_> = report
        .repositories
        .iter()
        .flat_map(|r| r.secrets.iter().map(move |s| (r, s)))
        .collect();
    if !secrets.is_empty() {
        o.push_str("\n| repository | rule | redacted | commit | path:line | at HEAD |\n|---|---|---|---|---|---|\n");
        for (r, s) in secrets {
            let _ = writeln!(
                o,
                "| `{}` | `{}` | `{}` | `{}` | `{}` | {} |",
                r.path.replace('|', "\\|"),
                s.rule,
                s.redacted,
                short(&s.commit),
                turncoat_finding::sanitize_snippet(&location(s)).replace('|', "\\|"),
                at_head(s)
            );
        }
    }
    let findings: Vec<_> = report
        .findings()
        .filter(|f| f.level != Level::Allow)
        .collect();
    if !findings.is_empty() {
        o.push_str("\n| level | code | finding |\n|---|---|---|\n");
        for f in findings {
            let _ = writeln!(
                o,
                "| {} | `{}` | {} |",
                f.level,
                f.finding.code,
                md_cell(&f.finding.message, 1000)
            );
        }
    }
    o
}

/// Control characters escaped: names and addresses in messages come from commits, and an
/// escape sequence in an author name must not reach the terminal.
fn terminal_safe(s: &str) -> String {
    s.chars()
        .flat_map(|c| {
            let escaped: Vec<char> = if c.is_control() {
                c.escape_default().collect()
            } else {
                vec![c]
            };
            escaped
        })
        .collect()
}

/// A Markdown table cell: control characters escaped, `|`, backticks and angle brackets
/// neutralised, at most `max` characters. Messages hold names and addresses from commits and
/// registries, which anyone can write: a cell must not end the table, open a code span or
/// carry HTML into a PR comment.
pub(crate) fn md_cell(s: &str, max: usize) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars().take(max) {
        match c {
            '|' => out.push_str("\\|"),
            '`' => out.push('\''),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            c if c.is_control() => out.extend(c.escape_default()),
            c => out.push(c),
        }
    }
    out
}

/// SARIF 2.1.0: one result per finding at `warn` or `deny`.
pub fn render_sarif(report: &ReconReport, rules: &[&RuleDoc]) -> String {
    render_sarif_with(report, &[], rules)
}

/// SARIF with the breach sections' findings too (`extra`: the artifact each points at, and
/// the finding; see [`crate::exposure::Exposure::findings`]).
pub fn render_sarif_with(
    report: &ReconReport,
    extra: &[(&str, &LeveledFinding)],
    rules: &[&RuleDoc],
) -> String {
    let used: HashSet<&str> = report
        .findings()
        .chain(extra.iter().map(|(_, f)| *f))
        .map(|f| f.finding.code.as_str())
        .collect();
    let rule_objs: Vec<_> = rules
        .iter()
        .filter(|r| used.contains(r.code))
        .map(|r| {
            serde_json::json!({
                "id": r.code,
                "shortDescription": {"text": r.summary},
                "fullDescription": {"text": r.summary},
                "help": {"text": r.doc, "markdown": r.doc},
                "defaultConfiguration": {"level": sarif_level(r.default_level)},
                "properties": {"tags": [r.group]},
            })
        })
        .collect();
    let results: Vec<_> = report
        .repositories
        .iter()
        .flat_map(|repo| repo.findings.iter().map(move |f| (repo, f)))
        .filter(|(_, f)| f.level != Level::Allow)
        .map(|(repo, f)| {
            let ev = f.finding.evidence.first();
            let mut loc = serde_json::json!({
                "physicalLocation": {
                    "artifactLocation": {"uri": ev.map(|e| e.path.as_str()).unwrap_or(repo.path.as_str())},
                }
            });
            if let Some(l) = ev.and_then(|e| e.line) {
                loc["physicalLocation"]["region"] = serde_json::json!({"startLine": l});
            }
            serde_json::json!({
                "ruleId": f.finding.code,
                "level": sarif_level(f.level),
                "message": {"text": f.finding.message},
                "locations": [loc],
                "partialFingerprints": {"turncoatRecon/v1": f.fingerprint},
                "properties": {"repository": repo.path, "severity": f.finding.severity.as_str()},
            })
        })
        .chain(
            extra
                .iter()
                .filter(|(_, f)| f.level != Level::Allow)
                .map(|(artifact, f)| {
                    // The artifact is a file of the repository (the manifest, the lockfile,
                    // or the scanned path); the evidence names a registry subject
                    // (`npm:widget`), kept as a property.
                    let subject = f.finding.evidence.first().map(|e| e.path.as_str());
                    serde_json::json!({
                        "ruleId": f.finding.code,
                        "level": sarif_level(f.level),
                        "message": {"text": f.finding.message},
                        "locations": [{"physicalLocation": {"artifactLocation": {"uri": artifact}}}],
                        "partialFingerprints": {"turncoatRecon/v1": f.fingerprint},
                        "properties": {
                            "section": "exposure",
                            "subject": subject,
                            "severity": f.finding.severity.as_str(),
                        },
                    })
                }),
        )
        .collect();
    let doc = serde_json::json!({
        "$schema": "https://json.schemastore.org/sarif-2.1.0.json",
        "version": "2.1.0",
        "runs": [{
            "tool": {"driver": {
                "name": "turncoat",
                "informationUri": "https://example.invalid/turncoat",
                "version": env!("CARGO_PKG_VERSION"),
                "rules": rule_objs,
            }},
            "results": results,
        }],
    });
    let mut s = serde_json::to_string_pretty(&doc).unwrap_or_default();
    s.push('\n');
    s
}

fn sarif_level(l: Level) -> &'static str {
    match l {
        Level::Deny => "error",
        Level::Warn => "warning",
        Level::Allow => "note",
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::history::RepoFacts;
    use crate::identity::{Role, Signature};

    #[test]
    fn names_from_commits_cannot_reach_the_terminal_raw() {
        let name = "Mallory\x1b]0;owned\x07\x1b[2J";
        let facts = RepoFacts {
            signatures: vec![Signature {
                commit: "c".into(),
                role: Role::Author,
                name: name.into(),
                email: "m@gmail.com".into(),
                canonical_name: name.into(),
                canonical_email: "m@gmail.com".into(),
                time: 0,
            }],
            ..RepoFacts::default()
        };
        let r = judge(&facts, &|_| Level::Warn, &Baseline::default());
        assert_eq!(r.findings.len(), 1);
        let report = ReconReport::new(vec![r]);
        for (what, out) in [
            ("human", render_human(&report, 10, true)),
            ("markdown", render_markdown(&report)),
        ] {
            assert!(
                !out.contains('\x1b') && !out.contains('\x07'),
                "{what}: {out:?}"
            );
            assert!(out.contains("Mallory"), "{what}");
        }
    }
}

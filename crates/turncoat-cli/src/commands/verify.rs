//! `turncoat verify`: registry signatures and Sigstore provenance of every locked package,
//! verified offline against embedded keys and trust root, judged by the verification rules
//! (`invalid-signature`, `signature-missing`, `signature-unknown-key`, `invalid-provenance`,
//! relative to each package's release line) through `Policy::evaluate`, so `--policy` levels
//! and exceptions apply as they do in `diff`. Python lockfiles and wheel/sdist files go to
//! [`super::verify_py`] (hashes against the index, PEP 740 provenance).

use std::path::PathBuf;

use anyhow::Context as _;
use clap::{Args, ValueEnum};
use serde_json::json;

use crate::Outcome;
use crate::settings::Context;

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum VerifyFormat {
    Human,
    Json,
    Sarif,
}

#[derive(Debug, Args)]
pub struct VerifyArgs {
    /// A lockfile, a project directory (default: the current directory), or a Python
    /// wheel/sdist file.
    #[arg(default_value = ".")]
    pub path: PathBuf,
    /// Registry URL; overrides .npmrc and the default.
    #[arg(long, value_name = "URL")]
    pub registry: Option<String>,
    /// Python package index (simple API root, https:// or a file:// directory index) for
    /// Python lockfiles and files; default: PIP_INDEX_URL / uv settings / pip.conf, else PyPI.
    #[arg(long, value_name = "URL")]
    pub index_url: Option<String>,
    /// Use only the cache.
    #[arg(long)]
    pub offline: bool,
    /// Policy file (default: turncoat.toml beside the lockfile or in the current directory, else the built-in policy): levels and exceptions apply to verify's findings.
    #[arg(long, value_name = "FILE")]
    pub policy: Option<PathBuf>,
    /// npm registry keys document (the /-/npm/v1/keys shape or the Sigstore TUF target shape) instead of the embedded keys.
    #[arg(long, value_name = "FILE")]
    pub keys: Option<PathBuf>,
    /// Sigstore trusted_root.json instead of the embedded one.
    #[arg(long, value_name = "FILE")]
    pub trusted_root: Option<PathBuf>,
    #[arg(long, value_enum, default_value_t = VerifyFormat::Human)]
    pub format: VerifyFormat,
    #[arg(long, short, value_name = "FILE")]
    pub output: Option<PathBuf>,
}

/// One verified package: the facts and the policy's judgement of them.
struct Verified {
    facts: PackageVerification,
    verdict: Verdict,
    findings: Vec<ReportFinding>,
}

pub fn run(args: VerifyArgs, ctx: &Context) -> anyhow::Result<Outcome> {
    let root = super::trust_root(args.trusted_root.as_deref())?;
    if args.path.is_file() && turncoat_gate::python::is_python_dist(&args.path.to_string_lossy()) {
        return super::verify_py::run(
            super::verify_py::Target::File(&args.path),
            &args,
            &root,
            ctx,
        );
    }
    let lock_path = super::single_lockfile(&args.path)?;
    let lock = super::read_any_lockfile(&lock_path)?;
    if lock.ecosystem == turncoat_lockfile::Ecosystem::Pypi {
        return super::verify_py::run(super::verify_py::Target::Lockfile(&lock), &args, &root, ctx);
    }
    let project = super::project_dir_of(&lock_path);
    let policy = super::load_policy(args.policy.as_deref(), &project)?;
    let client = super::client(ctx, &project, args.registry.as_deref(), args.offline)?;
    let keys = match &args.keys {
        Some(p) => turncoat_attest::Keys::from_json(
            &std::fs::read(p).with_context(|| format!("cannot read {}", p.display()))?,
        )
        .with_context(|| format!("invalid keys file {}", p.display()))?,
        None => turncoat_attest::Keys::embedded().context("embedded npm registry keys")?,
    };
    let mut seen = std::collections::BTreeSet::new();
    let items: Vec<&turncoat_lockfile::LockedPackage> = lock
        .registry_packages()
        .filter(|p| seen.insert((p.name.clone(), p.version.clone())))
        .collect();
    let client = client.with_progress(std::sync::Arc::new(crate::progress::Bar::new(ctx.progress)));
    let results: Vec<anyhow::Result<(PackageVerification, Vec<Finding>)>> =
        client.fetch_many(&items, "verifying packages", |client, p| {
            let name = turncoat_npm::PackageName::new(&p.name)?;
            let packument = client.packument(&name)?;
            let manifest = packument.versions.get(&p.version).with_context(|| {
                format!(
                    "{}@{}: the registry does not serve this locked version",
                    p.name, p.version
                )
            })?;
            let attestations = if manifest.dist.attestations.is_some() {
                client.attestations(&name, &p.version)?
            } else {
                None
            };
            // The locked integrity is what gets installed: verify signatures over it.
            let integrity = p
                .integrity
                .clone()
                .or_else(|| manifest.dist.integrity.clone())
                .unwrap_or_default();
            let facts = turncoat_attest::verify_package(
                &turncoat_attest::PackageInput {
                    name: &p.name,
                    version: &p.version,
                    integrity: &integrity,
                    manifest,
                    published: packument.published(&p.version),
                    attestations: attestations.as_deref(),
                },
                &keys,
                &root,
            );
            let findings = turncoat_attest::drift::verification(
                &packument,
                &p.version,
                p.integrity.as_deref(),
                &facts,
            );
            Ok((facts, findings))
        });
    let today = turncoat_policy::Date::from_unix(ctx.now_unix());
    let mut used = turncoat_policy::ExceptionUse::default();
    let mut verified = Vec::with_capacity(results.len());
    for r in results {
        let (facts, findings) = r?;
        let (verdict, findings) = policy.evaluate(
            &facts.name,
            Some(&facts.version),
            findings,
            today,
            &mut used,
        );
        verified.push(Verified {
            facts,
            verdict,
            findings,
        });
    }
    let failed = verified.iter().any(|v| v.verdict == Verdict::Block);
    let text = match args.format {
        VerifyFormat::Json => {
            let packages: Vec<serde_json::Value> = verified
                .iter()
                .map(|v| {
                    let mut o = serde_json::to_value(&v.facts).unwrap_or_default();
                    o["verdict"] = json!(v.verdict);
                    o["findings"] = json!(v.findings);
                    o
                })
                .collect();
            format!(
                "{}\n",
                serde_json::to_string_pretty(&json!({
                    "lockfile": lock.path,
                    "policy": policy.source,
                    "packages": packages,
                    "unused_exceptions": policy.unused_exceptions(&used, today),
                }))?
            )
        }
        VerifyFormat::Sarif => {
            let report = as_report(&lock.path, &verified);
            turncoat_report::sarif::render(&report, &turncoat_gate::all_rules())
        }
        VerifyFormat::Human => human(&verified),
    };
    crate::output::emit(&text, args.output.as_deref())?;
    Ok(if failed {
        Outcome::Violation
    } else {
        Outcome::Pass
    })
}

use turncoat_attest::PackageVerification;
use turncoat_finding::Finding;
use turncoat_report::{ReportFinding, Verdict};

fn human(verified: &[Verified]) -> String {
    let mut out = String::new();
    let width = verified
        .iter()
        .map(|v| v.facts.name.len() + v.facts.version.len() + 1)
        .max()
        .unwrap_or(10);
    for v in verified {
        let f = &v.facts;
        let spec = format!("{}@{}", f.name, f.version);
        let line = format!(
            "{spec:width$}  signature {:12} provenance {:9} {}",
            f.signature.as_str(),
            f.provenance.as_str(),
            summary(v)
        );
        out.push_str(line.trim_end());
        out.push('\n');
        finding_lines(&mut out, &v.findings);
    }
    let bad = verified
        .iter()
        .filter(|v| v.verdict == Verdict::Block)
        .count();
    out.push_str(&format!(
        "{} packages verified, {} failed\n",
        verified.len(),
        bad
    ));
    out
}

use turncoat_finding::Level;

/// One line: the reason for a failure, else where it was built.
/// One indented line per finding at `warn` or `deny`, with its exception's reason.
pub(super) fn finding_lines(out: &mut String, findings: &[ReportFinding]) {
    for finding in findings.iter().filter(|x| x.level != Level::Allow) {
        let excepted = match &finding.excepted {
            Some(reason) => format!(" (excepted: {reason})"),
            None => String::new(),
        };
        out.push_str(&format!(
            "  {} {}: {}{excepted}\n",
            finding.level, finding.code, finding.message
        ));
    }
}

fn summary(v: &Verified) -> String {
    let f = &v.facts;
    if let Some(r) = f.reason.as_deref().filter(|_| v.verdict == Verdict::Block) {
        return r.to_string();
    }
    match &f.publisher {
        Some(p) => {
            let repo = p.source_repository.as_deref().unwrap_or("?");
            let signer = p
                .build_signer_uri
                .as_deref()
                .map(|s| {
                    s.rsplit_once("/.github/")
                        .map(|(_, w)| format!(" .github/{w}"))
                        .unwrap_or_default()
                })
                .unwrap_or_default();
            format!("built from {repo}{signer}")
        }
        None if f.trusted_publisher.is_some() => "trusted publisher".to_string(),
        None => String::new(),
    }
}

/// The verification as a gate report, so SARIF output shares one renderer.
fn as_report(lockfile: &str, verified: &[Verified]) -> turncoat_report::Report {
    use turncoat_finding::Evidence;
    use turncoat_report::PackageReport;
    let packages = verified
        .iter()
        .map(|v| {
            let mut findings = v.findings.clone();
            for f in &mut findings {
                f.evidence.push(Evidence::new(lockfile));
            }
            PackageReport::scanned(
                v.facts.name.clone(),
                Some(v.facts.version.clone()),
                v.verdict,
                findings,
            )
        })
        .collect();
    turncoat_report::Report::new("verify", vec![lockfile.to_string()], packages)
}

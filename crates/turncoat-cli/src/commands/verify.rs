//! `turncoat verify`: registry signatures and Sigstore provenance of every locked package,
//! verified offline against embedded keys and trust root.

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
    /// A lockfile or a project directory (default: the current directory).
    #[arg(default_value = ".")]
    pub path: PathBuf,
    /// Registry URL; overrides .npmrc and the default.
    #[arg(long, value_name = "URL")]
    pub registry: Option<String>,
    /// Use only the cache.
    #[arg(long)]
    pub offline: bool,
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

pub fn run(args: VerifyArgs, ctx: &Context) -> anyhow::Result<Outcome> {
    let lock_path = super::single_lockfile(&args.path)?;
    let lock = super::read_lockfile(&lock_path)?;
    let project = super::project_dir_of(&lock_path);
    let client = super::client(ctx, &project, args.registry.as_deref(), args.offline)?;
    let keys = match &args.keys {
        Some(p) => turncoat_attest::Keys::from_json(
            &std::fs::read(p).with_context(|| format!("cannot read {}", p.display()))?,
        )
        .with_context(|| format!("invalid keys file {}", p.display()))?,
        None => turncoat_attest::Keys::embedded().context("embedded npm registry keys")?,
    };
    let root = match &args.trusted_root {
        Some(p) => turncoat_attest::TrustRoot::from_json(
            &std::fs::read(p).with_context(|| format!("cannot read {}", p.display()))?,
        )
        .with_context(|| format!("invalid trusted root {}", p.display()))?,
        None => turncoat_attest::TrustRoot::embedded(),
    };
    let mut seen = std::collections::BTreeSet::new();
    let items: Vec<&turncoat_lockfile::LockedPackage> = lock
        .registry_packages()
        .filter(|p| seen.insert((p.name.clone(), p.version.clone())))
        .collect();
    let client = client.with_progress(std::sync::Arc::new(crate::progress::Bar::new(ctx.progress)));
    let results: Vec<anyhow::Result<turncoat_attest::PackageVerification>> =
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
            Ok(turncoat_attest::verify_package(
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
            ))
        });
    let mut verified = Vec::with_capacity(results.len());
    for r in results {
        verified.push(r?);
    }
    let failed = verified.iter().any(is_failure);
    let text = match args.format {
        VerifyFormat::Json => format!(
            "{}\n",
            serde_json::to_string_pretty(&json!({ "lockfile": lock.path, "packages": verified }))?
        ),
        VerifyFormat::Sarif => {
            let report = as_report(&lock.path, &verified);
            turncoat_report::sarif::render(&report, &turncoat_gate::all_rules())
        }
        VerifyFormat::Human => {
            let mut out = String::new();
            let width = verified
                .iter()
                .map(|v| v.name.len() + v.version.len() + 1)
                .max()
                .unwrap_or(10);
            for v in &verified {
                let spec = format!("{}@{}", v.name, v.version);
                let line = format!(
                    "{spec:width$}  signature {:12} provenance {:9} {}",
                    v.signature.as_str(),
                    v.provenance.as_str(),
                    summary(v)
                );
                out.push_str(line.trim_end());
                out.push('\n');
            }
            let bad = verified.iter().filter(|v| is_failure(v)).count();
            out.push_str(&format!(
                "{} packages verified, {} failed\n",
                verified.len(),
                bad
            ));
            out
        }
    };
    crate::output::emit(&text, args.output.as_deref())?;
    Ok(if failed {
        Outcome::Violation
    } else {
        Outcome::Pass
    })
}

use turncoat_attest::{PackageVerification, ProvenanceStatus, SignatureStatus};

/// Invalid signatures (expired keys included, as npm does) and invalid provenance fail the run;
/// missing ones do not (third-party registries serve none).
fn is_failure(v: &PackageVerification) -> bool {
    matches!(
        v.signature,
        SignatureStatus::Invalid | SignatureStatus::ExpiredKey
    ) || v.provenance == ProvenanceStatus::Invalid
}

/// One line: the reason for a failure, else where it was built.
fn summary(v: &PackageVerification) -> String {
    if let Some(r) = v.reason.as_deref().filter(|_| is_failure(v)) {
        return r.to_string();
    }
    match &v.publisher {
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
        None if v.trusted_publisher.is_some() => "trusted publisher".to_string(),
        None => String::new(),
    }
}

/// The verification as a gate report, so SARIF output shares one renderer.
fn as_report(lockfile: &str, verified: &[PackageVerification]) -> turncoat_report::Report {
    use turncoat_finding::{Evidence, Level, Severity};
    use turncoat_report::{Change, PackageReport, ReportFinding, Verdict};
    let packages = verified
        .iter()
        .map(|v| {
            let mut findings = Vec::new();
            let reason = v.reason.clone().unwrap_or_default();
            if matches!(
                v.signature,
                SignatureStatus::Invalid | SignatureStatus::ExpiredKey
            ) {
                findings.push(ReportFinding {
                    code: "invalid-signature".into(),
                    severity: Severity::Critical,
                    level: Level::Deny,
                    message: format!("registry signature is {}: {reason}", v.signature.as_str()),
                    evidence: vec![Evidence::new(lockfile)],
                    excepted: None,
                });
            }
            if v.provenance == ProvenanceStatus::Invalid {
                findings.push(ReportFinding {
                    code: "invalid-provenance".into(),
                    severity: Severity::Critical,
                    level: Level::Deny,
                    message: format!("provenance does not verify: {reason}"),
                    evidence: vec![Evidence::new(lockfile)],
                    excepted: None,
                });
            }
            PackageReport {
                name: v.name.clone(),
                from: None,
                to: Some(v.version.clone()),
                change: Change::Scanned,
                verdict: if findings.is_empty() {
                    Verdict::Pass
                } else {
                    Verdict::Block
                },
                findings,
                lockfile: None,
                introduced_by: Vec::new(),
            }
        })
        .collect();
    turncoat_report::Report::new("verify", vec![lockfile.to_string()], packages)
}

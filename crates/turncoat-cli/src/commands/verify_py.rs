//! `turncoat verify` on a Python lockfile or one wheel/sdist: pinned hashes against the
//! index and PEP 740 provenance verified offline (`turncoat_gate::python_verify`).

use std::path::Path;

use anyhow::Context as _;
use serde_json::json;
use turncoat_attest::pep740::rules::Pep740Status;
use turncoat_gate::python_verify::{PyVerified, PyVerifyReport};

use super::verify::{VerifyArgs, VerifyFormat};
use crate::Outcome;
use crate::settings::Context;

/// The index client for a Python project: `--index-url`, else pip/uv configuration, else
/// PyPI; the cache is turncoat's.
pub fn pypi_client(
    ctx: &Context,
    index_url: Option<&str>,
    project: &Path,
    offline: bool,
) -> anyhow::Result<turncoat_pypi::PypiClient> {
    let index = turncoat_pypi::IndexConfig::load(index_url, project)?;
    if !index.extra_index_urls.is_empty() {
        crate::output::note(
            ctx,
            "extra index URLs are configured; only the main index is read (an extra index is dependency confusion: `turncoat lockfile lint` reports it)",
        );
    }
    let cache = super::cache(ctx)?;
    Ok(turncoat_pypi::PypiClient::new(
        index.index_url.clone(),
        Some(turncoat_pypi::PypiCache::new(&cache.dir().join("pypi"))),
        turncoat_pypi::ClientOptions {
            offline,
            ..Default::default()
        },
    )?)
}

/// What to verify.
pub enum Target<'a> {
    Lockfile(&'a turncoat_lockfile::Lockfile),
    File(&'a Path),
}

pub fn run(
    target: Target<'_>,
    args: &VerifyArgs,
    root: &turncoat_attest::TrustRoot,
    ctx: &Context,
) -> anyhow::Result<Outcome> {
    let project = match &target {
        Target::Lockfile(l) => super::project_dir_of(Path::new(&l.path)),
        Target::File(p) => super::project_dir_of(p),
    };
    let policy = super::load_policy(args.policy.as_deref(), &project)?;
    let client = pypi_client(ctx, args.index_url.as_deref(), &project, args.offline)?;
    let today = turncoat_policy::Date::from_unix(ctx.now_unix());
    let quiet = ctx.quiet;
    let report = match target {
        Target::Lockfile(lock) => turncoat_gate::python_verify::verify_lockfile(
            lock,
            &client,
            root,
            &policy,
            today,
            &|what| {
                if !quiet {
                    crate::output::note(ctx, &format!("verifying {what}"));
                }
            },
        )?,
        Target::File(path) => {
            let bytes =
                std::fs::read(path).with_context(|| format!("cannot read {}", path.display()))?;
            turncoat_gate::python_verify::verify_file(
                &path.to_string_lossy(),
                &bytes,
                &client,
                root,
                &policy,
                today,
            )?
        }
    };
    let text = match args.format {
        VerifyFormat::Json => {
            let mut v = serde_json::to_value(&report)?;
            v["policy"] = json!(policy.source);
            format!("{}\n", serde_json::to_string_pretty(&v)?)
        }
        VerifyFormat::Sarif => {
            turncoat_report::sarif::render(&as_report(&report), &turncoat_gate::all_rules())
        }
        VerifyFormat::Human => human(&report),
    };
    crate::output::emit(&text, args.output.as_deref())?;
    Ok(if report.blocked() {
        Outcome::Violation
    } else {
        Outcome::Pass
    })
}

fn provenance_line(s: &Pep740Status) -> String {
    match s {
        Pep740Status::Verified(v) => {
            let who: Vec<String> = v.publishers.iter().map(|p| p.describe()).collect();
            format!("provenance verified ({})", who.join(", "))
        }
        Pep740Status::Absent => "provenance absent".to_string(),
        Pep740Status::Invalid { reason } => format!("provenance INVALID: {reason}"),
    }
}

fn human(report: &PyVerifyReport) -> String {
    let mut out = String::new();
    for p in &report.packages {
        out.push_str(&format!(
            "{}=={}  {}\n",
            p.name,
            p.version,
            p.verdict.as_str()
        ));
        for f in &p.files {
            out.push_str(&format!(
                "  {}  {}\n",
                f.filename,
                provenance_line(&f.provenance)
            ));
        }
        if let (Some(v), Some(f)) = (&p.previous_version, &p.previous) {
            out.push_str(&format!(
                "  previous {v}: {}  {}\n",
                f.filename,
                provenance_line(&f.provenance)
            ));
        }
        super::verify::finding_lines(&mut out, &p.findings);
        if !p.rests_on_cache.is_empty() {
            out.push_str("  rests on cached documents (--offline): ");
            let docs: Vec<&str> = p
                .rests_on_cache
                .iter()
                .map(|c| c.document.as_str())
                .collect();
            out.push_str(&docs.join(", "));
            out.push('\n');
        }
    }
    let bad = report
        .packages
        .iter()
        .filter(|p| p.verdict == turncoat_report::Verdict::Block)
        .count();
    out.push_str(&format!(
        "{} releases verified, {} failed\n",
        report.packages.len(),
        bad
    ));
    out
}

/// The verification as a gate report, so SARIF output shares one renderer.
fn as_report(report: &PyVerifyReport) -> turncoat_report::Report {
    use turncoat_finding::Evidence;
    use turncoat_report::PackageReport;
    let packages = report
        .packages
        .iter()
        .map(|v: &PyVerified| {
            let mut findings = v.findings.clone();
            for f in &mut findings {
                f.evidence.push(Evidence::new(&report.target));
            }
            PackageReport {
                rests_on_cache: v.rests_on_cache.clone(),
                ..PackageReport::scanned(
                    v.name.clone(),
                    Some(v.version.clone()),
                    v.verdict,
                    findings,
                )
            }
        })
        .collect();
    let mut r = turncoat_report::Report::new("verify", vec![report.target.clone()], packages);
    r.ecosystem = turncoat_report::Ecosystem::Pypi;
    r
}

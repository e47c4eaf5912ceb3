//! The update gate: should this dependency update be merged?
//!
//! [`diff`] takes two parsed lockfiles, works out the changed set ([`changes`]), fetches the
//! old and new tarballs and packuments through the registry client (cache first), computes
//! static facts for both versions, compares them (history-relative), adds registry-metadata and
//! publish-path findings, applies the policy and returns a [`Report`]. [`scan`] judges single
//! versions without history. [`scenario`] materialises offline worlds for the demo and tests.
//!
//! This crate does IO (through `turncoat-registry`); everything it calls to *judge* is sans-IO.

use std::collections::{BTreeMap, BTreeSet};
use std::sync::Arc;

use rayon::prelude::*;
use turncoat_analyze::{Analyzer, DiffContext, FileRef, VersionFacts};
use turncoat_finding::{Evidence, Finding};
use turncoat_lockfile::{Lockfile, SourceKind};
use turncoat_npm::{Integrity, PackageName, Packument};
use turncoat_policy::{Date, ExceptionUse, Policy};
use turncoat_registry::{Client, Progress};
use turncoat_report::{
    CacheUse, Change as ReportChange, DetonationCoverage, LockfileLocation, PackageReport, Report,
    Verdict,
};

pub mod changes;
pub mod demo;
pub mod detonation;
pub mod python;
pub mod python_scan;
pub mod python_verify;
pub mod registry;
pub mod rules;
pub mod scenario;

#[derive(Debug, thiserror::Error)]
pub enum GateError {
    // The cause is part of the message (not a `source`), so the CLI prints it once.
    #[error("{name}@{version}: {error}")]
    Registry {
        name: String,
        version: String,
        error: Box<turncoat_registry::RegistryError>,
    },
    #[error(
        "{name}@{version}: the registry does not serve this locked version (unpublished or never published); failing closed"
    )]
    VersionMissing { name: String, version: String },
    #[error("{name}@{version}: cannot read the tarball: {error}")]
    Archive {
        name: String,
        version: String,
        error: Box<turncoat_archive::ArchiveError>,
    },
    /// A Python release the index could not supply as the lockfile pins it.
    #[error("{name}=={version}: {message}; failing closed")]
    Pypi {
        name: String,
        version: String,
        message: String,
    },
    /// `diff OLD NEW` of two Python files of different projects.
    #[error("the two files are different projects ({0} and {1})")]
    DifferentProjects(String, String),
    #[error("invalid package name in lockfile: {0}")]
    Name(#[from] turncoat_npm::NameError),
    #[error("{name}@{version}: detonation failed: {error}")]
    Detonation {
        name: String,
        version: String,
        error: String,
    },
}

pub use registry::all_rules;

/// What the gate needs besides the lockfiles.
pub struct GateContext<'a> {
    pub client: &'a Client,
    pub policy: &'a Policy,
    /// "Now", for cooldowns and exception expiry (injectable for reproducible runs).
    pub now_unix: i64,
    pub keys: &'a turncoat_attest::Keys,
    pub trust_root: &'a turncoat_attest::TrustRoot,
    pub progress: &'a dyn Progress,
    /// Threads for analysis (0 = rayon's default).
    pub jobs: usize,
    /// Run each changed version (and, when it misbehaves, the one it replaces) in the sandbox
    /// (`diff --detonate`).
    pub detonator: Option<&'a dyn Detonator>,
}

/// Installs and loads one package version in the sandbox and reports what it did. The CLI
/// implements it with `turncoat_sandbox::detonate`; the gate only judges the events.
pub trait Detonator: Sync {
    /// Install `name@version` (its `files`) with `deps` beside it in `node_modules`, run its
    /// install scripts and load it.
    fn detonate(
        &self,
        name: &str,
        version: &str,
        files: &[turncoat_archive::PackageFile],
        deps: &[DetonationDep],
    ) -> Result<turncoat_sandbox::detonate::Detonation, String>;

    /// Install one Python release file (`filename`, its hash-checked bytes) with pip, start an
    /// interpreter and import what it installed. A detonator that cannot fails closed.
    fn detonate_python(
        &self,
        name: &str,
        version: &str,
        filename: &str,
        data: &[u8],
    ) -> Result<turncoat_sandbox::detonate::Detonation, String> {
        let _ = (name, version, filename, data);
        Err("this detonator cannot run Python releases".into())
    }
}

/// A dependency installed beside a detonated package: what the head lockfile resolves it to.
pub struct DetonationDep {
    pub name: String,
    pub version: String,
    pub files: Vec<turncoat_archive::PackageFile>,
}

/// At most this many dependencies are installed for one detonation (the transitive closure
/// in breadth-first order): enough for what install scripts and entry points load first.
pub const MAX_DETONATION_DEPS: usize = 64;

/// The registry dependencies `entry` needs at run time (not dev), transitively, as the head
/// lockfile resolves them: the nested copy under `entry`'s install path when there is one,
/// else the hoisted one.
fn dependency_closure<'h>(
    head: &'h Lockfile,
    entry: &'h turncoat_lockfile::LockedPackage,
) -> Vec<&'h turncoat_lockfile::LockedPackage> {
    let mut by_path: BTreeMap<&str, &turncoat_lockfile::LockedPackage> = BTreeMap::new();
    let mut by_name: BTreeMap<&str, &turncoat_lockfile::LockedPackage> = BTreeMap::new();
    for p in &head.packages {
        for path in &p.paths {
            by_path.insert(path.as_str(), p);
        }
        by_name
            .entry(p.alias.as_deref().unwrap_or(&p.name))
            .or_insert(p);
    }
    let mut out: Vec<&turncoat_lockfile::LockedPackage> = Vec::new();
    let mut seen: BTreeSet<String> = BTreeSet::new();
    seen.insert(entry.name.clone());
    let mut queue: std::collections::VecDeque<&turncoat_lockfile::LockedPackage> =
        std::collections::VecDeque::from([entry]);
    while let Some(p) = queue.pop_front() {
        for d in &p.dependencies {
            if d.kind == turncoat_lockfile::DepKind::Dev || out.len() >= MAX_DETONATION_DEPS {
                continue;
            }
            let nested = p
                .paths
                .first()
                .map(|base| format!("{base}/node_modules/{}", d.name));
            let hoisted = format!("node_modules/{}", d.name);
            let found = nested
                .as_deref()
                .and_then(|n| by_path.get(n))
                .or_else(|| by_path.get(hoisted.as_str()))
                .or_else(|| by_name.get(d.name.as_str()))
                .copied();
            let Some(dep) = found else { continue };
            if dep.source != SourceKind::Registry || dep.bundled || !seen.insert(d.name.clone()) {
                continue;
            }
            out.push(dep);
            queue.push_back(dep);
        }
    }
    out
}

/// Fetch and unpack the dependencies to install beside a detonated package. One that cannot
/// be fetched is left out (the package then fails to load it, as it would without network).
fn detonation_deps(
    ctx: &GateContext<'_>,
    deps: &[&turncoat_lockfile::LockedPackage],
) -> Vec<DetonationDep> {
    let mut out = Vec::new();
    for d in deps {
        let Ok(name) = PackageName::new(&d.name) else {
            continue;
        };
        let integrity = d
            .integrity
            .as_deref()
            .and_then(|i| Integrity::parse(i).ok());
        let Ok(bytes) =
            ctx.client
                .tarball(&name, &d.version, d.resolved.as_deref(), integrity.as_ref())
        else {
            continue;
        };
        let Ok(archive) = turncoat_archive::read_tgz(&bytes, &turncoat_archive::Limits::default())
        else {
            continue;
        };
        out.push(DetonationDep {
            name: d.alias.clone().unwrap_or_else(|| d.name.clone()),
            version: d.version.clone(),
            files: archive.files,
        });
    }
    out
}

/// One version, fetched and analysed.
struct Judged {
    packument: Arc<Packument>,
    facts: VersionFacts,
    verification: turncoat_attest::PackageVerification,
    /// The package's files, kept only when they will be detonated.
    files: Vec<turncoat_archive::PackageFile>,
}

/// Analysis options for `concurrent` packages judged at once: cores left over from one
/// package per thread go to the scripts inside a package (a lone big update, a single scan).
fn analysis_options(concurrent: usize, jobs: usize) -> turncoat_analyze::Options {
    let threads = if jobs > 0 {
        jobs
    } else {
        std::thread::available_parallelism().map_or(1, |n| n.get())
    };
    turncoat_analyze::Options {
        file_threads: (threads / concurrent.max(1)).max(1),
        ..turncoat_analyze::Options::default()
    }
}

/// Static facts of an unpacked tarball.
fn archive_facts(
    analyzer: &mut Analyzer,
    archive: &turncoat_archive::Archive,
    opts: &turncoat_analyze::Options,
) -> VersionFacts {
    let files: Vec<FileRef<'_>> = archive
        .files
        .iter()
        .map(|f| FileRef {
            path: &f.path,
            data: &f.data,
        })
        .collect();
    analyzer.facts(&files, opts)
}

fn fetch_and_analyse(
    ctx: &GateContext<'_>,
    analyzer: &mut Analyzer,
    opts: &turncoat_analyze::Options,
    name: &PackageName,
    version: &str,
    resolved: Option<&str>,
    integrity: Option<&str>,
) -> Result<Judged, GateError> {
    let reg_err = |source| GateError::Registry {
        name: name.to_string(),
        version: version.to_string(),
        error: Box::new(source),
    };
    let packument = ctx.client.packument(name).map_err(reg_err)?;
    let Some(manifest) = packument.versions.get(version) else {
        return Err(GateError::VersionMissing {
            name: name.to_string(),
            version: version.to_string(),
        });
    };
    // Fetch by the registry's integrity: when the lockfile's differs, that is a finding
    // (integrity-mismatch), not a reason to stop judging.
    let registry_integrity = manifest
        .dist
        .integrity
        .as_deref()
        .or(integrity)
        .and_then(|i| Integrity::parse(i).ok());
    let bytes = ctx
        .client
        .tarball(name, version, resolved, registry_integrity.as_ref())
        .map_err(reg_err)?;
    let archive = turncoat_archive::read_tgz(&bytes, &turncoat_archive::Limits::default())
        .map_err(|source| GateError::Archive {
            name: name.to_string(),
            version: version.to_string(),
            error: Box::new(source),
        })?;
    let facts = archive_facts(analyzer, &archive, opts);
    let attestations = if manifest.dist.attestations.is_some() {
        ctx.client.attestations(name, version).map_err(reg_err)?
    } else {
        None
    };
    let integrity_for_verify = manifest
        .dist
        .integrity
        .clone()
        .or(integrity.map(str::to_string))
        .unwrap_or_default();
    let verification = turncoat_attest::verify_package(
        &turncoat_attest::PackageInput {
            name: name.as_str(),
            version,
            integrity: &integrity_for_verify,
            manifest,
            published: packument.published(version),
            attestations: attestations.as_deref(),
        },
        ctx.keys,
        ctx.trust_root,
    );
    let files = if ctx.detonator.is_some() {
        archive.files
    } else {
        Vec::new()
    };
    Ok(Judged {
        packument,
        facts,
        verification,
        files,
    })
}

/// What judging one change found (no policy yet).
#[derive(Default)]
struct Judgement {
    findings: Vec<Finding>,
    detonation: Option<DetonationCoverage>,
}

impl From<Vec<Finding>> for Judgement {
    fn from(findings: Vec<Finding>) -> Judgement {
        Judgement {
            findings,
            detonation: None,
        }
    }
}

/// Findings for one change (no policy yet).
fn judge_change(
    ctx: &GateContext<'_>,
    analyzer: &mut Analyzer,
    opts: &turncoat_analyze::Options,
    change: &changes::Change<'_>,
    head: &Lockfile,
) -> Result<Judgement, GateError> {
    let entry = change.entry;
    let Some(to) = change.to.as_deref() else {
        return Ok(Judgement::default());
    };
    if entry.source != SourceKind::Registry {
        let what = entry.source.as_str();
        let locator = entry.resolved.clone().unwrap_or_else(|| to.to_string());
        let mut f = Finding::new(
            &rules::UNVERIFIABLE_SOURCE,
            format!(
                "{} is now locked to a {what} source ({locator}); its content cannot be judged",
                change.name
            ),
        );
        if let Some(lock) = lockfile_path_hint(entry) {
            f = f.with_evidence(lock);
        }
        return Ok(vec![f].into());
    }
    let name = PackageName::new(&change.name)?;
    if let Some(base_entry) = change.relocked {
        return judge_relock(ctx, &name, to, base_entry, entry)
            .map(|f| f.into_iter().collect::<Vec<_>>().into());
    }
    let new = fetch_and_analyse(
        ctx,
        analyzer,
        opts,
        &name,
        to,
        entry.resolved.as_deref(),
        entry.integrity.as_deref(),
    )?;
    let mut findings = Vec::new();
    // A newly added package is judged against the version published before it, when there is
    // one: a staged attack (clean 4.2.0, then 4.2.1 with a hook) shows as a change, and an
    // established package newly depended upon stays quiet.
    let predecessor = match change.from.as_deref() {
        Some(_) => None,
        None => predecessor(&new.packument, to),
    };
    let old = match change.from.as_deref().or(predecessor.as_deref()) {
        Some(from) => match fetch_and_analyse(ctx, analyzer, opts, &name, from, None, None) {
            Ok(old) => Some((from, old)),
            Err(GateError::VersionMissing { .. }) => {
                findings.push(Finding::new(
                    &rules::FETCH_FAILED,
                    format!("{}@{from} is no longer served by the registry; {to} was judged without history", change.name),
                ));
                None
            }
            Err(e) => return Err(e),
        },
        None => None,
    };
    match &old {
        Some((from, old)) => findings.extend(turncoat_analyze::diff(
            &old.facts,
            &new.facts,
            &DiffContext {
                name: change.name.clone(),
                from_version: from.to_string(),
                to_version: to.to_string(),
                bump: turncoat_npm::semver::bump(from, to),
            },
        )),
        None => findings.extend(turncoat_analyze::scan(&new.facts, &change.name, to)),
    }
    findings.extend(turncoat_analyze::metadata::findings(
        &new.packument,
        old.as_ref().map(|(f, _)| *f),
        to,
        ctx.now_unix,
        &turncoat_analyze::metadata::MetadataOptions {
            cooldown_days: ctx.policy.cooldown_days,
            ..Default::default()
        },
    ));
    findings.extend(turncoat_attest::drift(
        &new.packument,
        old.as_ref().map(|(f, _)| *f),
        to,
        entry.integrity.as_deref(),
        old.as_ref().map(|(_, o)| &o.verification),
        &new.verification,
    ));
    let mut detonation = None;
    if let Some(det) = ctx.detonator {
        let deps = detonation_deps(ctx, &dependency_closure(head, entry));
        let (found, coverage) = detonate_change(det, &change.name, to, &new, old.as_ref(), &deps)?;
        findings.extend(found);
        detonation = Some(coverage);
    }
    Ok(Judgement {
        findings,
        detonation,
    })
}

/// A same-version re-lock: fetch what the registry serves for `name@version` (verified
/// against the registry's own `dist.integrity`) and check both lockfiles' integrities
/// against those bytes. `None` only when both describe the same bytes (an algorithm change).
fn judge_relock(
    ctx: &GateContext<'_>,
    name: &PackageName,
    version: &str,
    base: &turncoat_lockfile::LockedPackage,
    head: &turncoat_lockfile::LockedPackage,
) -> Result<Option<Finding>, GateError> {
    let reg_err = |source| GateError::Registry {
        name: name.to_string(),
        version: version.to_string(),
        error: Box::new(source),
    };
    let packument = ctx.client.packument(name).map_err(reg_err)?;
    if !packument.versions.contains_key(version) {
        return Err(GateError::VersionMissing {
            name: name.to_string(),
            version: version.to_string(),
        });
    }
    // No lockfile URL and no lockfile hash: the registry's own tarball, by its own hash.
    let bytes = ctx
        .client
        .tarball(name, version, None, None)
        .map_err(reg_err)?;
    let matches = |i: Option<&str>| {
        i.and_then(|i| Integrity::parse(i).ok())
            .is_some_and(|i| i.verify(&bytes).is_ok())
    };
    let (b, h) = (base.integrity.as_deref(), head.integrity.as_deref());
    let (bm, hm) = (matches(b), matches(h));
    let verdict = match (bm, hm) {
        (true, true) => return Ok(None),
        (true, false) if h.is_none() => {
            "the base lockfile's integrity matches what the registry serves; the head lockfile's does not (it drops the integrity, so any tarball would install)"
        }
        (true, false) => {
            "the base lockfile's integrity matches what the registry serves; the head lockfile's does not (a swapped tarball)"
        }
        (false, true) => {
            "the head lockfile's integrity matches what the registry serves; the base lockfile's did not"
        }
        (false, false) => "neither lockfile's integrity matches what the registry serves",
    };
    let show = |i: Option<&str>| i.unwrap_or("none").to_string();
    let mut f = Finding::new(
        &rules::LOCKFILE_INTEGRITY_CHANGED,
        format!(
            "{name}@{version} is re-locked from {} to {}: {verdict}",
            show(b),
            show(h)
        ),
    );
    if let Some(path) = head.paths.first() {
        f = f.with_evidence(Evidence::new(path.clone()).with_snippet(&format!(
            "integrity: {} (resolved: {})",
            show(h),
            head.resolved.as_deref().unwrap_or("none")
        )));
    }
    let registry = packument.versions[version]
        .dist
        .integrity
        .clone()
        .unwrap_or_else(|| "none".into());
    f = f.with_evidence(
        Evidence::new(format!("registry:{name}@{version}"))
            .with_snippet(&format!("dist.integrity: {registry}")),
    );
    Ok(Some(f))
}

/// Detonate the new version; only when it did something worth reporting, detonate the old one
/// too and keep just what is new. Also says what the run covered.
fn detonate_change(
    det: &dyn Detonator,
    name: &str,
    to: &str,
    new: &Judged,
    old: Option<&(&str, Judged)>,
    deps: &[DetonationDep],
) -> Result<(Vec<Finding>, DetonationCoverage), GateError> {
    let from = old.map(|(from, _)| *from);
    detonate_and_compare(name, to, from, &|previous| match (previous, old) {
        (true, Some((from, old))) => det.detonate(name, from, &old.files, deps),
        _ => det.detonate(name, to, &new.files, deps),
    })
}

/// The comparison every ecosystem shares: `run(false)` detonates the new release, and only
/// when it showed something, `run(true)` the one it replaces (`from`); the findings are what
/// the new one did that the old one did not. A detonation error fails closed.
pub(crate) fn detonate_and_compare(
    name: &str,
    to: &str,
    from: Option<&str>,
    run: &dyn Fn(bool) -> Result<turncoat_sandbox::detonate::Detonation, String>,
) -> Result<(Vec<Finding>, DetonationCoverage), GateError> {
    let fail = |version: &str, error: String| GateError::Detonation {
        name: name.to_string(),
        version: version.to_string(),
        error,
    };
    let pkg = format!("{name}@{to}");
    let new_run = run(false).map_err(|e| fail(to, e))?;
    let new_view = detonation::Run::of(&new_run);
    let alone = detonation::findings(&pkg, &new_view, None);
    let mut coverage = DetonationCoverage {
        stages: new_run.stages.clone(),
        timed_out: new_run.timed_out,
        duration_ms: u64::try_from(new_run.duration.as_millis()).unwrap_or(u64::MAX),
        events: new_run.events.len(),
        previous: None,
    };
    let Some(from) = from else {
        return Ok((alone, coverage));
    };
    if alone.is_empty() {
        return Ok((alone, coverage));
    }
    // The same dependencies for both: only the package itself differs between the runs.
    let old_run = run(true).map_err(|e| fail(from, e))?;
    let old_view = detonation::Run::of(&old_run);
    coverage.previous = Some(from.to_string());
    Ok((
        detonation::findings(&pkg, &new_view, Some(&old_view)),
        coverage,
    ))
}

/// The registry documents about `name` this process answered from the cache alone.
fn rests_on_cache(client: &Client, name: &str) -> Vec<CacheUse> {
    client
        .cache_reliance(name)
        .into_iter()
        .map(|r| CacheUse {
            document: r.document,
            fetched_at: r.fetched_at,
            future: r.future,
        })
        .collect()
}

/// The highest version published before `to` (by semver; prereleases only for a prerelease).
fn predecessor(p: &Packument, to: &str) -> Option<String> {
    let tv: node_semver::Version = to.parse().ok()?;
    p.versions
        .keys()
        .filter_map(|v| v.parse::<node_semver::Version>().ok())
        .filter(|v| v < &tv && (v.pre_release.is_empty() || !tv.pre_release.is_empty()))
        .max()
        .map(|v| v.to_string())
}

fn lockfile_path_hint(entry: &turncoat_lockfile::LockedPackage) -> Option<Evidence> {
    entry.paths.first().map(|p| {
        Evidence::new(p.clone()).with_snippet(entry.resolved.as_deref().unwrap_or_default())
    })
}

fn today(now_unix: i64) -> Date {
    Date::from_unix(now_unix)
}

fn run_pool<T: Send>(jobs: usize, f: impl FnOnce() -> T + Send) -> T {
    if jobs == 0 {
        return f();
    }
    match rayon::ThreadPoolBuilder::new().num_threads(jobs).build() {
        Ok(pool) => pool.install(f),
        Err(_) => f(),
    }
}

/// Judge every update from `base` to `head`.
pub fn diff(base: &Lockfile, head: &Lockfile, ctx: &GateContext<'_>) -> Result<Report, GateError> {
    let changes = changes::changed(base, head);
    let active: Vec<&changes::Change<'_>> = changes.iter().filter(|c| c.to.is_some()).collect();
    ctx.progress.start(active.len() as u64, "judging updates");
    let opts = analysis_options(active.len(), ctx.jobs);
    let judged: Vec<Result<Judgement, GateError>> = run_pool(ctx.jobs, || {
        active
            .par_iter()
            .map_init(Analyzer::new, |analyzer, change| {
                let r = judge_change(ctx, analyzer, &opts, change, head);
                ctx.progress.inc(1);
                r
            })
            .collect()
    });
    ctx.progress.finish();

    let mut used = ExceptionUse::default();
    let today = today(ctx.now_unix);
    let mut reports: Vec<PackageReport> = Vec::new();
    for (change, judged) in active.iter().zip(judged) {
        let judged = judged?;
        let (verdict, findings) = ctx.policy.evaluate(
            &change.name,
            change.to.as_deref(),
            judged.findings,
            today,
            &mut used,
        );
        reports.push(PackageReport {
            name: change.name.clone(),
            from: change.from.clone(),
            to: change.to.clone(),
            change: if change.from.is_some() {
                ReportChange::Updated
            } else {
                ReportChange::Added
            },
            verdict,
            findings,
            lockfile: Some(LockfileLocation {
                path: head.path.clone(),
                line: change.entry.line,
            }),
            introduced_by: Vec::new(),
            rests_on_cache: rests_on_cache(ctx.client, &change.name),
            detonation: judged.detonation,
        });
    }
    attribute_new_dependencies(head, &mut reports, ctx, today, &mut used);
    for change in changes.iter().filter(|c| c.to.is_none()) {
        reports.push(PackageReport {
            name: change.name.clone(),
            from: change.from.clone(),
            to: None,
            change: ReportChange::Removed,
            verdict: Verdict::Pass,
            findings: Vec::new(),
            lockfile: Some(LockfileLocation {
                path: base.path.clone(),
                line: change.entry.line,
            }),
            introduced_by: Vec::new(),
            rests_on_cache: Vec::new(),
            detonation: None,
        });
    }
    let mut report = Report::new("diff", vec![base.path.clone(), head.path.clone()], reports);
    report.unused_exceptions = ctx.policy.unused_exceptions(&used, today);
    Ok(report)
}

/// Link added packages to the changed packages that depend on them, and make a blocked new
/// dependency block its parents too (the payload-in-a-new-dependency shape).
fn attribute_new_dependencies(
    head: &Lockfile,
    reports: &mut [PackageReport],
    ctx: &GateContext<'_>,
    today: Date,
    used: &mut ExceptionUse,
) {
    let changed: BTreeSet<String> = reports.iter().map(|r| r.name.clone()).collect();
    let added: BTreeMap<String, usize> = reports
        .iter()
        .enumerate()
        .filter(|(_, r)| r.change == ReportChange::Added)
        .map(|(i, r)| (r.name.clone(), i))
        .collect();
    let mut parents: BTreeMap<usize, Vec<String>> = BTreeMap::new();
    for p in &head.packages {
        if !changed.contains(&p.name) {
            continue;
        }
        for d in &p.dependencies {
            if let Some(&i) = added.get(&d.name)
                && reports[i].name != p.name
            {
                parents.entry(i).or_default().push(p.name.clone());
            }
        }
    }
    let mut escalate: Vec<(String, String, Vec<Evidence>)> = Vec::new();
    for (i, mut by) in parents {
        by.sort();
        by.dedup();
        let child = &reports[i];
        if child.verdict == Verdict::Block {
            let ev: Vec<Evidence> = child
                .findings
                .iter()
                .filter(|f| f.excepted.is_none())
                .flat_map(|f| f.evidence.iter().take(1).cloned())
                .take(3)
                .collect();
            let codes: Vec<&str> = child
                .findings
                .iter()
                .filter(|f| f.excepted.is_none())
                .map(|f| f.code.as_str())
                .take(4)
                .collect();
            for parent in &by {
                escalate.push((
                    parent.clone(),
                    format!(
                        "new dependency {}@{} is blocked ({})",
                        child.name,
                        child.to.as_deref().unwrap_or("?"),
                        codes.join(", ")
                    ),
                    ev.clone(),
                ));
            }
        }
        reports[i].introduced_by = by;
    }
    for (parent, message, evidence) in escalate {
        for r in reports
            .iter_mut()
            .filter(|r| r.name == parent && r.change != ReportChange::Removed)
        {
            let f = Finding::new(&rules::NEW_DEPENDENCY_BLOCKED, message.clone())
                .with_evidence_all(evidence.clone());
            let (v, mut extra) =
                ctx.policy
                    .evaluate(&r.name, r.to.as_deref(), vec![f], today, used);
            r.verdict = r.verdict.max(v);
            extra.append(&mut r.findings);
            r.findings = extra;
        }
    }
}

/// A target for [`scan`].
pub enum ScanTarget<'a> {
    /// Every registry package in a lockfile.
    Lockfile(&'a Lockfile),
    /// One version from the registry.
    Spec { name: String, version: String },
    /// A local tarball (`label` is its path).
    Tarball { label: String, bytes: Vec<u8> },
}

/// One version to scan.
struct ScanItem {
    name: String,
    version: String,
    resolved: Option<String>,
    integrity: Option<String>,
    location: Option<LockfileLocation>,
}

/// Judge single versions without history.
pub fn scan(target: ScanTarget<'_>, ctx: &GateContext<'_>) -> Result<Report, GateError> {
    let today = today(ctx.now_unix);
    let mut used = ExceptionUse::default();
    let mut inputs = Vec::new();
    let mut items: Vec<ScanItem> = Vec::new();
    match target {
        ScanTarget::Tarball { label, bytes } => {
            let archive = turncoat_archive::read_tgz(&bytes, &turncoat_archive::Limits::default())
                .map_err(|source| GateError::Archive {
                    name: label.clone(),
                    version: String::new(),
                    error: Box::new(source),
                })?;
            let facts = archive_facts(
                &mut Analyzer::new(),
                &archive,
                &analysis_options(1, ctx.jobs),
            );
            let manifest = archive
                .package_json()
                .and_then(|pj| turncoat_npm::Manifest::from_slice(&pj.data).ok())
                .unwrap_or_default();
            let name = manifest.name.clone().unwrap_or_else(|| label.clone());
            let version = manifest.version.clone().unwrap_or_default();
            let findings = turncoat_analyze::scan(&facts, &name, &version);
            let (verdict, findings) =
                ctx.policy
                    .evaluate(&name, Some(&version), findings, today, &mut used);
            let report = PackageReport::scanned(name, Some(version), verdict, findings);
            let mut r = Report::new("scan", vec![label], vec![report]);
            r.unused_exceptions = ctx.policy.unused_exceptions(&used, today);
            return Ok(r);
        }
        ScanTarget::Spec { name, version } => {
            inputs.push(format!("{name}@{version}"));
            items.push(ScanItem {
                name,
                version,
                resolved: None,
                integrity: None,
                location: None,
            });
        }
        ScanTarget::Lockfile(lock) => {
            inputs.push(lock.path.clone());
            let mut seen = BTreeSet::new();
            for p in lock.registry_packages() {
                if seen.insert((p.name.clone(), p.version.clone())) {
                    items.push(ScanItem {
                        name: p.name.clone(),
                        version: p.version.clone(),
                        resolved: p.resolved.clone(),
                        integrity: p.integrity.clone(),
                        location: Some(LockfileLocation {
                            path: lock.path.clone(),
                            line: p.line,
                        }),
                    });
                }
            }
        }
    }
    ctx.progress.start(items.len() as u64, "scanning packages");
    let opts = analysis_options(items.len(), ctx.jobs);
    let judged: Vec<Result<Vec<Finding>, GateError>> = run_pool(ctx.jobs, || {
        items
            .par_iter()
            .map_init(Analyzer::new, |analyzer, item| {
                let ScanItem {
                    name,
                    version,
                    resolved,
                    integrity,
                    ..
                } = item;
                let r = (|| {
                    let pkg = PackageName::new(name)?;
                    let j = fetch_and_analyse(
                        ctx,
                        analyzer,
                        &opts,
                        &pkg,
                        version,
                        resolved.as_deref(),
                        integrity.as_deref(),
                    )?;
                    let mut f = turncoat_analyze::scan(&j.facts, name, version);
                    f.extend(turncoat_attest::drift(
                        &j.packument,
                        None,
                        version,
                        integrity.as_deref(),
                        None,
                        &j.verification,
                    ));
                    Ok(f)
                })();
                ctx.progress.inc(1);
                r
            })
            .collect()
    });
    ctx.progress.finish();
    let mut reports = Vec::new();
    for (item, findings) in items.into_iter().zip(judged) {
        let ScanItem {
            name,
            version,
            location: loc,
            ..
        } = item;
        let (verdict, findings) =
            ctx.policy
                .evaluate(&name, Some(&version), findings?, today, &mut used);
        let rests_on_cache = rests_on_cache(ctx.client, &name);
        reports.push(PackageReport {
            lockfile: loc,
            rests_on_cache,
            ..PackageReport::scanned(name, Some(version), verdict, findings)
        });
    }
    let mut r = Report::new("scan", inputs, reports);
    r.unused_exceptions = ctx.policy.unused_exceptions(&used, today);
    Ok(r)
}

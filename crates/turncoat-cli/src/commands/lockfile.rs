//! `turncoat lockfile list|lint`.

use std::path::{Path, PathBuf};

use clap::{Subcommand, ValueEnum};
use serde_json::json;
use turncoat_finding::Level;
use turncoat_report::{PackageReport, Report, ReportFinding, Verdict};

use crate::Outcome;
use crate::settings::Context;

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum ListFormat {
    Human,
    Json,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum LintFormat {
    Human,
    Json,
    Sarif,
}

#[derive(Debug, Subcommand)]
pub enum LockfileCommand {
    /// List every locked package (a lockfile, or every lockfile in a project directory).
    List {
        path: PathBuf,
        #[arg(long, value_enum, default_value_t = ListFormat::Human)]
        format: ListFormat,
    },
    /// Lint how packages are locked: integrity, URLs, hosts, sources, drift from package.json;
    /// for Python lockfiles hashes, pins, sources, indexes and PEP 503 name collisions.
    Lint {
        path: PathBuf,
        /// Allow this registry or index host (repeatable); adds to the hosts of .npmrc, PyPI
        /// and the policy.
        #[arg(long = "allow-host", value_name = "HOST")]
        allow_host: Vec<String>,
        /// Policy file (levels per code).
        #[arg(long, value_name = "FILE")]
        policy: Option<PathBuf>,
        #[arg(long, value_enum, default_value_t = LintFormat::Human)]
        format: LintFormat,
    },
}

fn lockfiles_at(path: &Path) -> anyhow::Result<Vec<PathBuf>> {
    if path.is_dir() {
        let mut found = turncoat_lockfile::discover(path)?;
        found.extend(turncoat_lockfile::discover_pypi(path)?);
        if found.is_empty() {
            anyhow::bail!(
                "no lockfile found in {} (supported: {})",
                path.display(),
                turncoat_lockfile::SUPPORTED_FORMATS
            );
        }
        Ok(found)
    } else {
        Ok(vec![path.to_path_buf()])
    }
}

fn list_json(lock: &turncoat_lockfile::Lockfile) -> serde_json::Value {
    let pypi = lock.ecosystem == turncoat_lockfile::Ecosystem::Pypi;
    let redact = turncoat_lockfile::lint::redact_url;
    let packages: Vec<serde_json::Value> = lock
        .packages
        .iter()
        .map(|p| {
            let mut v = json!({
                "name": p.name,
                "alias": p.alias,
                "version": p.version,
                "source": p.source.as_str(),
                "resolved": p.resolved.as_deref().map(redact),
                "integrity": p.integrity,
                "dev": p.dev,
                "optional": p.optional,
                "peer": p.peer,
                "hasInstallScript": p.has_install_script,
                "paths": p.paths,
                "line": p.line,
            });
            // The PyPI fields, only where they mean something.
            if let (true, Some(o)) = (pypi, v.as_object_mut()) {
                o.insert("index".into(), json!(p.index.as_deref().map(redact)));
                o.insert("hashes".into(), json!(p.hashes));
                o.insert("markers".into(), json!(p.markers));
                o.insert("requirement".into(), json!(p.requirement));
            }
            v
        })
        .collect();
    let mut out = json!({
        "path": lock.path,
        "format": lock.format.id(),
        "ecosystem": lock.ecosystem.as_str(),
        "packages": packages,
    });
    if let (true, Some(o)) = (pypi, out.as_object_mut()) {
        let indexes: Vec<serde_json::Value> = lock
            .indexes
            .iter()
            .map(|i| json!({"url": redact(&i.url), "role": i.role, "file": i.file, "line": i.line}))
            .collect();
        o.insert("indexes".into(), json!(indexes));
    }
    out
}

pub fn run(cmd: LockfileCommand, ctx: &Context) -> anyhow::Result<Outcome> {
    match cmd {
        LockfileCommand::List { path, format } => {
            let locks = lockfiles_at(&path)?
                .iter()
                .map(|p| super::read_any_lockfile(p))
                .collect::<anyhow::Result<Vec<_>>>()?;
            let text = match format {
                ListFormat::Json => {
                    let v = if locks.len() == 1 {
                        list_json(&locks[0])
                    } else {
                        json!({"lockfiles": locks.iter().map(list_json).collect::<Vec<_>>()})
                    };
                    format!("{}\n", serde_json::to_string_pretty(&v)?)
                }
                ListFormat::Human => {
                    let mut out = String::new();
                    for lock in &locks {
                        out.push_str(&format!(
                            "{} ({}): {} packages\n",
                            lock.path,
                            lock.format.id(),
                            lock.packages.len()
                        ));
                        for p in &lock.packages {
                            let mut flags = Vec::new();
                            if p.source != turncoat_lockfile::SourceKind::Registry {
                                flags.push(p.source.as_str().to_string());
                            }
                            if p.dev {
                                flags.push("dev".into());
                            }
                            if p.optional {
                                flags.push("optional".into());
                            }
                            if p.peer {
                                flags.push("peer".into());
                            }
                            if p.has_install_script == Some(true) {
                                flags.push("install-script".into());
                            }
                            if let Some(a) = &p.alias {
                                flags.push(format!("as {a}"));
                            }
                            if let Some(m) = &p.markers {
                                flags.push(format!("; {m}"));
                            }
                            let flags = if flags.is_empty() {
                                String::new()
                            } else {
                                format!("  [{}]", flags.join(", "))
                            };
                            let spec = match (lock.ecosystem, p.version.is_empty()) {
                                (turncoat_lockfile::Ecosystem::Pypi, false) => {
                                    format!("{}=={}", p.name, p.version)
                                }
                                (turncoat_lockfile::Ecosystem::Pypi, true) => {
                                    p.requirement.clone().unwrap_or_else(|| p.name.clone())
                                }
                                _ => format!("{}@{}", p.name, p.version),
                            };
                            out.push_str(&format!("  {spec}{flags}\n"));
                        }
                    }
                    out
                }
            };
            crate::output::emit(&text, None)?;
            Ok(Outcome::Pass)
        }
        LockfileCommand::Lint {
            path,
            allow_host,
            policy,
            format,
        } => {
            let project = super::project_dir_of(&path);
            let policy = super::load_policy(policy.as_deref(), &project)?;
            let config = turncoat_registry::RegistryConfig::load(&project, None)?;
            let mut hosts: Vec<String> = turncoat_registry::DEFAULT_REGISTRY_HOSTS
                .iter()
                .map(|h| h.to_string())
                .collect();
            hosts.extend(config.registry().host_str().map(str::to_string));
            hosts.extend(
                config
                    .scope_registries()
                    .values()
                    .filter_map(|u| u.host_str().map(str::to_string)),
            );
            let policy_hosts: Vec<String> = policy
                .registries
                .iter()
                .filter_map(|r| host_of(r))
                .collect();
            hosts.extend(policy_hosts.iter().cloned());
            hosts.extend(allow_host.iter().cloned());
            hosts.sort();
            hosts.dedup();
            // Python indexes: PyPI, plus the policy's registries and --allow-host.
            let mut index_hosts: Vec<String> = turncoat_lockfile::lint::DEFAULT_PYPI_HOSTS
                .iter()
                .map(|h| h.to_string())
                .collect();
            index_hosts.extend(policy_hosts);
            index_hosts.extend(allow_host);
            index_hosts.sort();
            index_hosts.dedup();
            let opts = turncoat_lockfile::LintOptions {
                allowed_hosts: hosts,
                allowed_index_hosts: index_hosts,
            };
            let mut reports = Vec::new();
            let today = turncoat_policy::Date::from_unix(ctx.now_unix());
            let mut used = turncoat_policy::ExceptionUse::default();
            for lp in lockfiles_at(&path)? {
                let lock = super::read_any_lockfile(&lp)?;
                let dir = super::project_dir_of(&lp);
                let manifests = if lock.ecosystem == turncoat_lockfile::Ecosystem::Npm {
                    read_manifests(&lock, &dir)
                } else {
                    Vec::new()
                };
                let findings = turncoat_lockfile::lint(&lock, &manifests, &opts);
                let (verdict, findings) =
                    policy.evaluate(&lock.path, None, findings, today, &mut used);
                reports.push(PackageReport::scanned(
                    lock.path.clone(),
                    None,
                    verdict,
                    findings,
                ));
            }
            let report = Report::new(
                "lockfile-lint",
                reports.iter().map(|r| r.name.clone()).collect(),
                reports,
            );
            let text = match format {
                LintFormat::Json => turncoat_report::json::render(&report),
                LintFormat::Sarif => {
                    turncoat_report::sarif::render(&report, &turncoat_gate::all_rules())
                }
                LintFormat::Human => lint_human(&report),
            };
            crate::output::emit(&text, None)?;
            Ok(
                if report.packages.iter().any(|p| p.verdict == Verdict::Block) {
                    Outcome::Violation
                } else {
                    Outcome::Pass
                },
            )
        }
    }
}

/// package.json of every importer the lockfile names (missing ones are skipped: drift is
/// judged where a manifest exists).
fn read_manifests(
    lock: &turncoat_lockfile::Lockfile,
    dir: &Path,
) -> Vec<(String, serde_json::Value)> {
    let mut importers: Vec<String> = lock.importers.iter().map(|i| i.path.clone()).collect();
    if importers.is_empty() {
        importers.push(String::new());
    }
    importers
        .into_iter()
        .filter_map(|imp| {
            let p = if imp.is_empty() || imp == "." {
                dir.join("package.json")
            } else {
                dir.join(&imp).join("package.json")
            };
            let bytes = std::fs::read(p).ok()?;
            let v: serde_json::Value = serde_json::from_slice(&bytes).ok()?;
            Some((imp, v))
        })
        .collect()
}

fn lint_human(report: &Report) -> String {
    let mut out = String::new();
    for p in &report.packages {
        let shown: Vec<&ReportFinding> = p
            .findings
            .iter()
            .filter(|f| f.level != Level::Allow && f.excepted.is_none())
            .collect();
        if shown.is_empty() {
            out.push_str(&format!("{}: no findings\n", p.name));
            continue;
        }
        out.push_str(&format!("{}: {} finding(s)\n", p.name, shown.len()));
        for f in shown {
            let loc = f
                .evidence
                .first()
                .map(|e| match e.line {
                    Some(l) => format!("{}:{}", e.path, l),
                    None => e.path.clone(),
                })
                .unwrap_or_default();
            out.push_str(&format!(
                "  {:4}  {}  {}  {}\n",
                f.level.as_str(),
                f.code,
                loc,
                f.message
            ));
        }
    }
    out
}

/// The host of an http(s) URL written in the policy.
fn host_of(url: &str) -> Option<String> {
    let rest = url.split_once("://")?.1;
    let host = rest.split(['/', '?', '#']).next()?;
    let host = host.rsplit('@').next()?.split(':').next()?;
    (!host.is_empty()).then(|| host.to_ascii_lowercase())
}

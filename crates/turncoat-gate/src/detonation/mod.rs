//! Findings from detonation: what a package version did when installed and loaded in the
//! sandbox (no network, honeytokens planted), judged against what the version it replaces did
//! under the same conditions. Sans-IO: events in, findings out. One rule per file.
//!
//! Each rule groups its events into one finding per package (evidence: up to
//! [`MAX_EVIDENCE`] events, each naming the lifecycle stage and the target). A behaviour the
//! previous version showed too (same kind, same target) is not reported: it was always there.

use std::collections::BTreeSet;
use std::path::Path;

use turncoat_finding::{Evidence, Finding, RuleDoc};
use turncoat_sandbox::event::{Event, EventKind, Verdict};

mod canary_read;
mod network;
mod persistence;
mod refused;
mod sensitive_read;

pub use canary_read::DETONATION_CANARY_READ;
pub use network::DETONATION_NETWORK;
pub use persistence::DETONATION_PERSISTENCE;
pub use refused::DETONATION_REFUSED;
pub use sensitive_read::DETONATION_SENSITIVE_READ;

pub const MAX_EVIDENCE: usize = 5;

/// The gate's [`crate::Detonator`] backed by the sandbox (`turncoat_sandbox::detonate`). The
/// sandbox init runs as a re-execution of `opts.init_exe` (default: the current executable,
/// which must call `turncoat_sandbox::init_main_if_requested` first thing in `main`).
pub struct SandboxDetonator {
    pub opts: turncoat_sandbox::detonate::DetonateOptions,
}

impl crate::Detonator for SandboxDetonator {
    fn detonate(
        &self,
        name: &str,
        version: &str,
        files: &[turncoat_archive::PackageFile],
        deps: &[crate::DetonationDep],
    ) -> Result<turncoat_sandbox::detonate::Detonation, String> {
        let files = view(files);
        let deps: Vec<turncoat_sandbox::detonate::Dependency<'_>> = deps
            .iter()
            .map(|d| turncoat_sandbox::detonate::Dependency {
                name: &d.name,
                files: view(&d.files),
            })
            .collect();
        turncoat_sandbox::detonate::detonate(name, version, &files, &deps, &self.opts)
            .map_err(|e| e.to_string())
    }

    fn detonate_python(
        &self,
        name: &str,
        version: &str,
        filename: &str,
        data: &[u8],
    ) -> Result<turncoat_sandbox::detonate::Detonation, String> {
        let dist = turncoat_sandbox::detonate_python::PythonDist {
            name,
            version,
            filename,
            data,
        };
        turncoat_sandbox::detonate_python::detonate_python(&dist, &self.opts)
            .map_err(|e| e.to_string())
    }
}

/// The sandbox's borrowed view of archive files.
fn view(
    files: &[turncoat_archive::PackageFile],
) -> Vec<turncoat_sandbox::detonate::PackageFile<'_>> {
    files
        .iter()
        .map(|f| turncoat_sandbox::detonate::PackageFile {
            path: &f.path,
            data: &f.data,
            mode: f.mode,
        })
        .collect()
}

/// A detonation rule: which events it owns and how to say what they mean.
struct Rule {
    doc: &'static RuleDoc,
    matches: fn(&Event) -> bool,
    /// Comparison key: the same key in the previous version's run means "not new".
    key: fn(&Event, &Context) -> String,
    /// One-line message given the package id and the matching events.
    message: fn(&str, &[&Event], &Context) -> String,
}

const RULES: &[Rule] = &[
    canary_read::RULE,
    network::RULE,
    sensitive_read::RULE,
    persistence::RULE,
    refused::RULE,
];

/// Paths in events differ per run (temporary directories): keys are made relative to them.
pub struct Context<'a> {
    pub home: &'a str,
    pub project: &'a str,
}

impl Context<'_> {
    fn rel(&self, path: &str) -> String {
        // An empty base (a run that never started) must match nothing; a relative "\0" is
        // never a prefix of an absolute path.
        let base =
            |b: &str| -> std::path::PathBuf { if b.is_empty() { "\0".into() } else { b.into() } };
        turncoat_sandbox::paths::display(Path::new(path), &base(self.home), &base(self.project))
    }
}

/// One detonated version's events and the temporary paths they mention.
pub struct Run<'a> {
    pub events: &'a [Event],
    pub ctx: Context<'a>,
}

impl<'a> Run<'a> {
    /// The view of one sandbox detonation.
    pub fn of(d: &'a turncoat_sandbox::detonate::Detonation) -> Run<'a> {
        Run {
            events: &d.events,
            ctx: Context {
                home: &d.home,
                project: &d.project,
            },
        }
    }
}

pub fn rules() -> Vec<&'static RuleDoc> {
    RULES.iter().map(|r| r.doc).collect()
}

/// Findings for `package` (`name@version`) from its detonation, minus what `old` also did.
pub fn findings(package: &str, new: &Run<'_>, old: Option<&Run<'_>>) -> Vec<Finding> {
    let mut out = Vec::new();
    for rule in RULES {
        let before: BTreeSet<String> = old
            .map(|o| {
                o.events
                    .iter()
                    .filter(|e| (rule.matches)(e))
                    .map(|e| (rule.key)(e, &o.ctx))
                    .collect()
            })
            .unwrap_or_default();
        // One event per key, in order of first sight; the resolver and the seccomp supervisor
        // both see a DNS query, and the copy that names the process and stage is kept.
        let mut index: std::collections::HashMap<String, usize> = std::collections::HashMap::new();
        let mut hits: Vec<&Event> = Vec::new();
        for e in new.events.iter().filter(|e| (rule.matches)(e)) {
            let k = (rule.key)(e, &new.ctx);
            if before.contains(&k) {
                continue;
            }
            match index.get(&k) {
                Some(&i) if hits[i].stage.is_none() && e.stage.is_some() => hits[i] = e,
                Some(_) => {}
                None => {
                    index.insert(k, hits.len());
                    hits.push(e);
                }
            }
        }
        if hits.is_empty() {
            continue;
        }
        let evidence = hits
            .iter()
            .take(MAX_EVIDENCE)
            .map(|e| evidence(e, &new.ctx));
        out.push(
            Finding::new(rule.doc, (rule.message)(package, &hits, &new.ctx))
                .with_evidence_all(evidence),
        );
    }
    out
}

/// `detonation:<stage>` with the target (and process) as the snippet.
fn evidence(e: &Event, ctx: &Context) -> Evidence {
    let stage = e.stage.as_deref().unwrap_or("unattributed");
    let mut snippet = format!("{} {}", e.event.as_str(), ctx.rel(&e.target));
    if let Some(exe) = &e.exe {
        let base = exe.rsplit('/').next().unwrap_or(exe);
        snippet.push_str(&format!(" (by {base})"));
    }
    if let Some(d) = &e.detail {
        snippet.push_str(&format!(" — {d}"));
    }
    Evidence::new(format!("detonation:{stage}")).with_snippet(&snippet)
}

/// `<pkg> <verb> <n> <noun>(s) during <stages> (first: <path>)`, paths home-relative.
fn counted(pkg: &str, verb: &str, noun: &str, hits: &[&Event], ctx: &Context) -> String {
    let first = hits.first().map(|e| ctx.rel(&e.target)).unwrap_or_default();
    let n = hits.len();
    let s = if n == 1 { "" } else { "s" };
    format!(
        "{pkg} {verb} {n} {noun}{s} during {} (first: {first})",
        stages(hits)
    )
}

/// The stages the events happened in, for messages: `postinstall`, `require and import`.
/// Events no process could be tied to (seen only by the resolver or proxy) add nothing.
fn stages(events: &[&Event]) -> String {
    let mut s: Vec<&str> = events.iter().filter_map(|e| e.stage.as_deref()).collect();
    s.sort();
    s.dedup();
    if s.is_empty() {
        return "install or load".to_string();
    }
    s.join(" and ")
}

fn is_kind(e: &Event, kinds: &[EventKind]) -> bool {
    kinds.contains(&e.event)
}

/// Did the sandbox stop it (for wording)?
fn denied(e: &Event) -> bool {
    e.verdict == Verdict::Deny
}

#[cfg(test)]
pub(crate) mod testing {
    use turncoat_sandbox::event::{Event, EventKind, Source, Verdict};

    pub fn ev(kind: EventKind, target: &str, stage: &str) -> Event {
        let mut e = Event::new(kind, target, Verdict::Deny, Source::Seccomp);
        e.stage = Some(stage.to_string());
        e.exe = Some("/usr/bin/node".to_string());
        e
    }
}

#[cfg(test)]
mod tests {
    use super::testing::ev;
    use super::*;

    fn run(events: &[Event]) -> Run<'_> {
        Run {
            events,
            ctx: Context {
                home: "/tmp/h",
                project: "/tmp/p",
            },
        }
    }

    #[test]
    fn only_what_is_new_is_reported() {
        let old = vec![ev(EventKind::Dns, "telemetry.example.com", "postinstall")];
        let new = vec![
            ev(EventKind::Dns, "telemetry.example.com", "postinstall"),
            ev(EventKind::Dns, "abc.exfil.invalid", "postinstall"),
            ev(EventKind::CanaryRead, "/tmp/h/.npmrc", "postinstall"),
        ];
        let f = findings("x@1.0.1", &run(&new), Some(&run(&old)));
        let codes: Vec<&str> = f.iter().map(|f| f.code.as_str()).collect();
        assert_eq!(codes, vec!["detonation-canary-read", "detonation-network"]);
        let net = &f[1];
        assert_eq!(net.evidence.len(), 1, "{net:?}");
        assert!(
            net.evidence[0]
                .snippet
                .as_deref()
                .unwrap()
                .contains("abc.exfil.invalid")
        );
        assert_eq!(net.evidence[0].path, "detonation:postinstall");
        let canary = &f[0];
        assert!(
            canary.evidence[0]
                .snippet
                .as_deref()
                .unwrap()
                .contains("~/.npmrc")
        );
    }

    #[test]
    fn home_relative_keys_match_across_runs() {
        let old_ev = vec![ev(
            EventKind::CanaryRead,
            "/tmp/old-home/.npmrc",
            "postinstall",
        )];
        let new_ev = vec![ev(
            EventKind::CanaryRead,
            "/tmp/new-home/.npmrc",
            "postinstall",
        )];
        let old = Run {
            events: &old_ev,
            ctx: Context {
                home: "/tmp/old-home",
                project: "/p1",
            },
        };
        let new = Run {
            events: &new_ev,
            ctx: Context {
                home: "/tmp/new-home",
                project: "/p2",
            },
        };
        assert!(findings("x@2", &new, Some(&old)).is_empty());
        assert_eq!(findings("x@2", &new, None).len(), 1);
    }

    #[test]
    fn a_quiet_package_has_no_findings() {
        let new = vec![ev(EventKind::Exec, "/usr/bin/node", "postinstall")];
        assert!(findings("x@1", &run(&new), None).is_empty());
    }
}

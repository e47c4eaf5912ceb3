//! Baselines: the normalised set of what a known-good run did (domains, endpoints,
//! executables per package, sensitive reads, persistence writes), committed to the repository,
//! so later runs report only what is new. Paths are shown relative to `~` and `<project>` so a
//! baseline recorded on one machine holds on another.

use std::collections::BTreeSet;
use std::path::Path;

use serde::{Deserialize, Serialize};

use crate::event::{Event, EventKind};
use crate::paths;

pub const BASELINE_VERSION: u32 = 1;

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Baseline {
    pub version: u32,
    /// Every DNS name asked (allowed or not).
    pub domains: BTreeSet<String>,
    /// Hosts reached through the proxy and addresses connected to directly (`host:port`).
    pub endpoints: BTreeSet<String>,
    /// `<package or ->: <program>` for every exec.
    pub executables: BTreeSet<String>,
    /// `<package or ->: <path>` for every sensitive read.
    pub sensitive_reads: BTreeSet<String>,
    /// `<package or ->: <path>` for every persistence write.
    pub persistence_writes: BTreeSet<String>,
}

/// One thing a run did that its baseline does not contain.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Novelty {
    pub kind: &'static str,
    pub item: String,
}

#[derive(Debug, thiserror::Error)]
pub enum BaselineError {
    #[error("not a turncoat watch baseline: {0}")]
    Parse(#[from] serde_json::Error),
    #[error("baseline version {0} is not supported (expected {BASELINE_VERSION})")]
    Version(u32),
}

fn who(ev: &Event) -> String {
    // The package name without its version: an ordinary update must not make every exec new.
    match ev.package.as_deref() {
        Some(p) => match p.rfind('@') {
            Some(i) if i > 0 => p[..i].to_string(),
            _ => p.to_string(),
        },
        None => "-".to_string(),
    }
}

impl Baseline {
    pub fn from_events(events: &[Event], home: &Path, project: &Path) -> Baseline {
        let mut b = Baseline {
            version: BASELINE_VERSION,
            ..Baseline::default()
        };
        for ev in events {
            match ev.event {
                EventKind::Dns => {
                    b.domains
                        .insert(ev.target.trim_end_matches('.').to_ascii_lowercase());
                }
                EventKind::Proxy => {
                    b.endpoints.insert(ev.target.clone());
                }
                EventKind::Connect | EventKind::Send if !ev.target.starts_with("unix:") => {
                    b.endpoints.insert(ev.target.clone());
                }
                EventKind::Exec => {
                    let prog = Path::new(&ev.target)
                        .file_name()
                        .map(|f| f.to_string_lossy().into_owned());
                    b.executables.insert(format!(
                        "{}: {}",
                        who(ev),
                        prog.unwrap_or_else(|| ev.target.clone())
                    ));
                }
                EventKind::SensitiveRead | EventKind::CanaryRead => {
                    let p = paths::display(Path::new(&ev.target), home, project);
                    b.sensitive_reads
                        .insert(format!("{}: {}", who(ev), paths::generic_proc(&p)));
                }
                EventKind::PersistenceWrite => {
                    let p = paths::display(Path::new(&ev.target), home, project);
                    b.persistence_writes.insert(format!("{}: {p}", who(ev)));
                }
                _ => {}
            }
        }
        b
    }

    pub fn parse(text: &str) -> Result<Baseline, BaselineError> {
        let b: Baseline = serde_json::from_str(text)?;
        if b.version != BASELINE_VERSION {
            return Err(BaselineError::Version(b.version));
        }
        Ok(b)
    }

    pub fn to_json(&self) -> String {
        serde_json::to_string_pretty(self).unwrap_or_default() + "\n"
    }

    /// What `run` did that `self` (the baseline) does not contain.
    pub fn novelties(&self, run: &Baseline) -> Vec<Novelty> {
        let mut out = Vec::new();
        let mut diff = |kind: &'static str, base: &BTreeSet<String>, now: &BTreeSet<String>| {
            out.extend(now.difference(base).map(|i| Novelty {
                kind,
                item: i.clone(),
            }));
        };
        diff("domain", &self.domains, &run.domains);
        diff("endpoint", &self.endpoints, &run.endpoints);
        diff("executable", &self.executables, &run.executables);
        diff(
            "sensitive-read",
            &self.sensitive_reads,
            &run.sensitive_reads,
        );
        diff(
            "persistence-write",
            &self.persistence_writes,
            &run.persistence_writes,
        );
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::event::{Source, Verdict};

    fn ev(kind: EventKind, target: &str, pkg: Option<&str>) -> Event {
        let mut e = Event::new(kind, target, Verdict::Observe, Source::Seccomp);
        e.package = pkg.map(str::to_string);
        e
    }

    #[test]
    fn a_new_domain_and_exec_are_novel_and_versions_do_not_matter() {
        let home = Path::new("/home/u");
        let proj = Path::new("/work/p");
        let base = Baseline::from_events(
            &[
                ev(EventKind::Proxy, "registry.npmjs.org:443", None),
                ev(EventKind::Exec, "/usr/bin/node", Some("esbuild@0.19.0")),
            ],
            home,
            proj,
        );
        let run = Baseline::from_events(
            &[
                ev(EventKind::Proxy, "registry.npmjs.org:443", None),
                ev(EventKind::Exec, "/usr/bin/node", Some("esbuild@0.19.1")),
                ev(
                    EventKind::Exec,
                    "/bin/sh",
                    Some("secure-data-sanitizer@3.1.5"),
                ),
                ev(EventKind::Dns, "abc.exfil.invalid", None),
                ev(
                    EventKind::SensitiveRead,
                    "/home/u/.npmrc",
                    Some("secure-data-sanitizer@3.1.5"),
                ),
                ev(EventKind::SensitiveRead, "/proc/77/environ", None),
            ],
            home,
            proj,
        );
        let n = base.novelties(&run);
        let items: Vec<String> = n.iter().map(|n| format!("{} {}", n.kind, n.item)).collect();
        assert_eq!(
            items,
            vec![
                "domain abc.exfil.invalid",
                "executable secure-data-sanitizer: sh",
                "sensitive-read -: /proc/<pid>/environ",
                "sensitive-read secure-data-sanitizer: ~/.npmrc",
            ]
        );
        assert!(base.novelties(&base).is_empty());
    }

    #[test]
    fn round_trip_and_errors() {
        let b = Baseline::from_events(
            &[ev(EventKind::Dns, "x.example", None)],
            Path::new("/h"),
            Path::new("/p"),
        );
        assert_eq!(Baseline::parse(&b.to_json()).unwrap(), b);
        assert!(matches!(
            Baseline::parse("{}"),
            Err(BaselineError::Parse(_))
        ));
        assert!(matches!(
            Baseline::parse(
                r#"{"version":9,"domains":[],"endpoints":[],"executables":[],"sensitive_reads":[],"persistence_writes":[]}"#
            ),
            Err(BaselineError::Version(9))
        ));
    }
}

//! Python distributions judged file against file: `turncoat diff OLD.whl NEW.whl` (wheels or
//! sdists, `.tar.gz`/`.zip`). The facts and rules are `turncoat-pyanalyze`'s; this module reads
//! the two files, names the release from its file name (PEP 427 / sdist naming: the name a
//! package gives itself inside is not trusted more than its file name) and applies the policy.

use std::collections::{BTreeMap, BTreeSet};

use turncoat_archive::{ArchiveError, Limits};
use turncoat_attest::pep740::rules::{Pep740Status, Release};
use turncoat_lockfile::{LockedPackage, Lockfile, SourceKind};
use turncoat_policy::{Date, ExceptionUse, Policy};
use turncoat_pyanalyze::{DiffContext, DistFacts, DistKind, IndexedFile, PublishContext};
use turncoat_pypi::{DistFile, ProjectName, PypiClient};
use turncoat_report::{Change, Ecosystem, LockfileLocation, PackageReport, Report};

use crate::{Detonator, GateError};

/// True for a file name a Python distribution has (`.whl`, `.tar.gz`, `.zip`).
pub fn is_python_dist(name: &str) -> bool {
    let n = name.to_ascii_lowercase();
    n.ends_with(".whl") || n.ends_with(".tar.gz") || n.ends_with(".zip")
}

/// `(name, version)` from a distribution's file name: `demo_pkg-1.0.1-py3-none-any.whl`,
/// `demo-pkg-1.0.1.tar.gz`. The name is PEP 503-normalised.
pub fn dist_name_version(file: &str) -> Option<(String, String)> {
    let base = file.rsplit(['/', '\\']).next()?;
    let lower = base.to_ascii_lowercase();
    let (stem, wheel) = if let Some(s) = lower.strip_suffix(".whl") {
        (&base[..s.len()], true)
    } else if let Some(s) = lower.strip_suffix(".tar.gz") {
        (&base[..s.len()], false)
    } else {
        (&base[..lower.strip_suffix(".zip")?.len()], false)
    };
    let (name, version) = if wheel {
        let mut parts = stem.split('-');
        (parts.next()?, parts.next()?)
    } else {
        stem.rsplit_once('-')?
    };
    let mut norm = String::new();
    for c in name.chars() {
        if matches!(c, '-' | '_' | '.') {
            if !norm.ends_with('-') {
                norm.push('-');
            }
        } else {
            norm.push(c.to_ascii_lowercase());
        }
    }
    (!norm.is_empty() && !version.is_empty()).then(|| (norm, version.to_string()))
}

pub(crate) fn facts(label: &str, bytes: &[u8]) -> Result<DistFacts, ArchiveError> {
    let limits = Limits::default();
    if label.to_ascii_lowercase().ends_with(".whl") {
        Ok(turncoat_pyanalyze::wheel_facts(
            &turncoat_archive::read_wheel(bytes, &limits)?,
        ))
    } else {
        Ok(turncoat_pyanalyze::sdist_facts(
            &turncoat_archive::read_sdist(bytes, &limits)?,
        ))
    }
}

/// Judge `new` (label and bytes) against `old`, the release it replaces. With a detonator,
/// both are also installed and imported in the sandbox ([`Detonator::detonate_python`]).
pub fn diff_files(
    old: (&str, &[u8]),
    new: (&str, &[u8]),
    policy: &Policy,
    today: Date,
    detonator: Option<&dyn Detonator>,
) -> Result<Report, GateError> {
    diff_files_with(old, new, policy, today, detonator, Vec::new())
}

/// [`diff_files`] with findings judged alongside the analysis (the PEP 740 rules of
/// [`pep740_for_files`]).
pub fn diff_files_with(
    old: (&str, &[u8]),
    new: (&str, &[u8]),
    policy: &Policy,
    today: Date,
    detonator: Option<&dyn Detonator>,
    extra: Vec<turncoat_finding::Finding>,
) -> Result<Report, GateError> {
    let mut used = ExceptionUse::default();
    let judge = Judge {
        policy,
        today,
        // Local files: no index, so no upload times to judge.
        now_unix: 0,
        detonator,
    };
    let package = judge.pair(
        old,
        new,
        Change::Updated,
        &mut used,
        extra,
        Kinds::default(),
    )?;
    let mut report = Report::new(
        "diff",
        vec![old.0.to_string(), new.0.to_string()],
        vec![package],
    );
    report.ecosystem = Ecosystem::Pypi;
    report.unused_exceptions = policy.unused_exceptions(&used, today);
    Ok(report)
}

/// What judging one pair needs besides the two files: the policy, the day it is judged on,
/// and the sandbox detonator when `--detonate` asks for one.
pub struct Judge<'a> {
    pub policy: &'a Policy,
    pub today: Date,
    /// Now, Unix seconds: upload times later than this (past a skew) are in the future
    /// (`turncoat_pyanalyze::publish`).
    pub now_unix: i64,
    pub detonator: Option<&'a dyn Detonator>,
}

impl Judge<'_> {
    fn pair(
        &self,
        old: (&str, &[u8]),
        new: (&str, &[u8]),
        change: Change,
        used: &mut ExceptionUse,
        extra: Vec<turncoat_finding::Finding>,
        kinds: Kinds,
    ) -> Result<PackageReport, GateError> {
        let (name, from) =
            dist_name_version(old.0).unwrap_or_else(|| (old.0.to_string(), String::new()));
        let (new_name, to) =
            dist_name_version(new.0).unwrap_or_else(|| (new.0.to_string(), String::new()));
        let read = |label: &str, bytes: &[u8], version: &str| {
            facts(label, bytes).map_err(|e| GateError::Archive {
                name: label.to_string(),
                version: version.to_string(),
                error: Box::new(e),
            })
        };
        // One file after the other: each read already inflates and analyses on several
        // threads, and only one inflated wheel is held at a time (reading both at once was no
        // faster in scripts/bench-wheel.sh and held both).
        let old_facts = read(old.0, old.1, &from)?;
        let new_facts = read(new.0, new.1, &to)?;
        let mut ctx = DiffContext::new(&new_name, &from, &to);
        (ctx.old_kinds, ctx.new_kinds) = (kinds.old, kinds.new);
        let mut findings = turncoat_pyanalyze::diff(&old_facts, &new_facts, &ctx);
        findings.extend(extra);
        if new_name != name {
            return Err(GateError::DifferentProjects(name, new_name));
        }
        let mut detonation = None;
        if let Some(det) = self.detonator {
            let base = |label: &str| {
                label
                    .rsplit(['/', '\\'])
                    .next()
                    .unwrap_or(label)
                    .to_string()
            };
            let (old_file, new_file) = (base(old.0), base(new.0));
            let (found, coverage) =
                crate::detonate_and_compare(&new_name, &to, Some(&from), &|previous| {
                    if previous {
                        det.detonate_python(&new_name, &from, &old_file, old.1)
                    } else {
                        det.detonate_python(&new_name, &to, &new_file, new.1)
                    }
                })?;
            findings.extend(found);
            detonation = Some(coverage);
        }
        let (verdict, findings) =
            self.policy
                .evaluate(&new_name, Some(&to), findings, self.today, used);
        Ok(PackageReport {
            name: new_name,
            from: Some(from),
            to: Some(to),
            change,
            verdict,
            findings,
            lockfile: None,
            introduced_by: Vec::new(),
            rests_on_cache: Vec::new(),
            detonation,
        })
    }
}

/// The kinds of file (wheel, sdist) each release has on the index; empty when only the two
/// compared files are known.
#[derive(Debug, Clone, Default)]
pub(crate) struct Kinds {
    old: BTreeSet<DistKind>,
    new: BTreeSet<DistKind>,
}

/// The kinds of distribution file `version` has on the index.
pub(crate) fn kinds_of(page: &turncoat_pypi::ProjectPage, version: &str) -> BTreeSet<DistKind> {
    page.files_of(version)
        .filter(|f| is_python_dist(&f.filename))
        .map(|f| {
            if f.filename.to_ascii_lowercase().ends_with(".whl") {
                DistKind::Wheel
            } else {
                DistKind::Sdist
            }
        })
        .collect()
}

/// The publish-path findings (`turncoat_pyanalyze::publish`) for `from → to` from the upload
/// times the page gives for every file of the project.
pub(crate) fn publish_findings(
    page: &turncoat_pypi::ProjectPage,
    name: &str,
    from: &str,
    to: &str,
    now_unix: i64,
) -> Vec<turncoat_finding::Finding> {
    let files: Vec<IndexedFile> = page
        .files
        .iter()
        .filter_map(|f| {
            let (project, version) = turncoat_pypi::file_project(&f.filename)?;
            Some(IndexedFile {
                filename: f.filename.clone(),
                project,
                version,
                upload_time: f.upload_time.clone(),
            })
        })
        .collect();
    turncoat_pyanalyze::publish_findings(&PublishContext {
        name,
        from: Some(from),
        to,
        now_unix,
        files: &files,
    })
}

/// The PEP 740 rules for two local files of one project, with the provenance the index
/// lists for each file name verified against the *local* bytes (a file the index does not
/// list has none). Fetch errors fail closed.
pub fn pep740_for_files(
    old: (&str, &[u8]),
    new: (&str, &[u8]),
    client: &PypiClient,
    root: &turncoat_attest::TrustRoot,
) -> Result<Vec<turncoat_finding::Finding>, GateError> {
    let base = |l: &str| l.rsplit(['/', '\\']).next().unwrap_or(l).to_string();
    let (old_name, new_name) = (base(old.0), base(new.0));
    let (Some((project, from)), Some((_, to))) =
        (dist_name_version(&old_name), dist_name_version(&new_name))
    else {
        return Ok(Vec::new());
    };
    let fail = |v: &str, e: String| GateError::Pypi {
        name: project.clone(),
        version: v.to_string(),
        message: e,
    };
    let page = ProjectName::new(&project)
        .map_err(|e| fail(&to, e.to_string()))
        .and_then(|p| client.project(&p).map_err(|e| fail(&to, e.to_string())))?;
    let status = |name: &str, bytes: &[u8], v: &str| -> Result<Pep740Status, GateError> {
        match page.files.iter().find(|f| f.filename == name) {
            None => Ok(Pep740Status::Absent),
            Some(f) => {
                let sha = crate::python_verify::sha256_hex(bytes);
                crate::python_verify::pep740_status(client, f, &sha, root)
                    .map_err(|e| fail(v, e.to_string()))
            }
        }
    };
    let old_s = status(&old_name, old.1, &from)?;
    let new_s = status(&new_name, new.1, &to)?;
    Ok(turncoat_attest::pep740::rules::pep740_findings(
        &project,
        &Release {
            version: &to,
            filename: &new_name,
            status: &new_s,
        },
        &[Release {
            version: &from,
            filename: &old_name,
            status: &old_s,
        }],
    ))
}

/// One changed Python dependency between two lockfiles.
#[derive(Debug, Clone, PartialEq)]
pub struct PyChange<'a> {
    pub name: String,
    /// The base lockfile's entry (None: newly added).
    pub base: Option<&'a LockedPackage>,
    pub head: &'a LockedPackage,
}

/// Index packages whose version changed or that are new, by PEP 503 name. Packages from VCS,
/// URLs or paths are not judged here (`lockfile lint` reports them).
pub fn changed<'a>(base: &'a Lockfile, head: &'a Lockfile) -> Vec<PyChange<'a>> {
    let index: BTreeMap<&str, &LockedPackage> = base
        .packages
        .iter()
        .filter(|p| p.source == SourceKind::Registry)
        .map(|p| (p.name.as_str(), p))
        .collect();
    let mut out: Vec<PyChange<'a>> = Vec::new();
    for p in head
        .packages
        .iter()
        .filter(|p| p.source == SourceKind::Registry)
    {
        if p.version.is_empty()
            || out
                .iter()
                .any(|c| c.name == p.name && c.head.version == p.version)
        {
            continue;
        }
        match index.get(p.name.as_str()) {
            Some(b) if b.version == p.version => {}
            other => out.push(PyChange {
                name: p.name.clone(),
                base: other.copied(),
                head: p,
            }),
        }
    }
    out
}

/// A wheel for any platform first (the same file kind on both sides keeps the comparison
/// like for like), then any wheel, then the sdist.
pub(crate) fn rank(file: &str) -> u8 {
    let f = file.to_ascii_lowercase();
    if f.ends_with("-none-any.whl") {
        0
    } else if f.ends_with(".whl") {
        1
    } else {
        2
    }
}

/// The file of `version` to judge, with the sha256 values it must match: those the lockfile
/// accepts for it (`pkg`), or, for a release the lockfile does not pin (the previous release
/// of a newly added dependency), the index's own sha256.
pub(crate) fn pick<'p>(
    page: &'p turncoat_pypi::ProjectPage,
    version: &'p str,
    pkg: Option<&LockedPackage>,
    prefer_rank: Option<u8>,
) -> Option<(&'p DistFile, Vec<String>)> {
    let mut files: Vec<(&DistFile, Vec<String>)> = page
        .files_of(version)
        .filter(|f| is_python_dist(&f.filename))
        .filter_map(|f| {
            let expected = match pkg {
                Some(p) => {
                    let accepted = turncoat_pypi::expected_sha256(p, &f.filename);
                    // The index must also list the file with one of the accepted hashes when
                    // the lockfile does not name files (requirements.txt): pick the one it is.
                    match &f.sha256 {
                        Some(h) if !accepted.contains(h) => return None,
                        _ => accepted,
                    }
                }
                None => vec![f.sha256.clone()?],
            };
            (!expected.is_empty()).then_some((f, expected))
        })
        .collect();
    files.sort_by_key(|(f, _)| {
        let r = rank(&f.filename);
        (prefer_rank.is_some_and(|p| p != r), r, f.filename.clone())
    });
    files.into_iter().next()
}

/// The release published just before `version` on the index (by the versions the page lists,
/// in upload order of their first file), for a newly added dependency.
pub(crate) fn previous_release(page: &turncoat_pypi::ProjectPage, version: &str) -> Option<String> {
    let mut firsts: Vec<(String, String)> = Vec::new();
    for f in &page.files {
        let Some((_, v)) = turncoat_pypi::file_project(&f.filename) else {
            continue;
        };
        let t = f.upload_time.clone().unwrap_or_default();
        match firsts.iter_mut().find(|(vv, _)| *vv == v) {
            Some(e) => {
                if t < e.1 {
                    e.1 = t;
                }
            }
            None => firsts.push((v, t)),
        }
    }
    firsts.sort_by(|a, b| a.1.cmp(&b.1));
    let at = firsts.iter().position(|(v, _)| v == version)?;
    at.checked_sub(1).map(|i| firsts[i].0.clone())
}

/// Judge every changed Python dependency between two lockfiles: each new release's file,
/// downloaded and checked against the lockfile's hashes, against the file of the release it
/// replaces (a newly added dependency: against its own previous release on the index), and
/// the PEP 740 provenance of both files (verified against `root`) by the PEP 740 rules. With a
/// detonator, both files are also installed and imported in the sandbox.
pub fn diff_lockfiles(
    base: &Lockfile,
    head: &Lockfile,
    client: &PypiClient,
    root: &turncoat_attest::TrustRoot,
    judge: &Judge<'_>,
    progress: &dyn Fn(&str),
) -> Result<Report, GateError> {
    let (policy, today, detonator) = (judge.policy, judge.today, judge.detonator);
    let fail = |name: &str, version: &str, message: String| GateError::Pypi {
        name: name.to_string(),
        version: version.to_string(),
        message,
    };
    let mut used = ExceptionUse::default();
    let mut packages = Vec::new();
    for c in changed(base, head) {
        let to = c.head.version.as_str();
        progress(&format!("{}=={to}", c.name));
        let project = ProjectName::new(&c.name).map_err(|e| fail(&c.name, to, e.to_string()))?;
        let page = client
            .project(&project)
            .map_err(|e| fail(&c.name, to, e.to_string()))?;
        let (new_file, new_expected) = pick(&page, to, Some(c.head), None).ok_or_else(|| {
            fail(
                &c.name,
                to,
                "no file of this release on the index matches the lockfile's hashes".into(),
            )
        })?;
        let (from, old_pkg) = match c.base {
            Some(b) => (Some(b.version.clone()), Some(b)),
            None => (previous_release(&page, to), None),
        };
        let Some(from) = from else {
            // A first release: nothing of its own to compare with, so no static findings; a
            // detonation reports everything it did (nothing is "always there" yet).
            let mut findings = Vec::new();
            let mut detonation = None;
            if let Some(det) = detonator {
                let bytes = client
                    .download(new_file, &new_expected)
                    .map_err(|e| fail(&c.name, to, e.to_string()))?;
                let (found, coverage) = crate::detonate_and_compare(&c.name, to, None, &|_| {
                    det.detonate_python(&c.name, to, &new_file.filename, &bytes)
                })?;
                findings = found;
                detonation = Some(coverage);
            }
            let (verdict, findings) =
                policy.evaluate(&c.name, Some(to), findings, today, &mut used);
            packages.push(PackageReport {
                name: c.name.clone(),
                from: None,
                to: Some(to.to_string()),
                change: Change::Added,
                verdict,
                findings,
                lockfile: Some(LockfileLocation {
                    path: head.path.clone(),
                    line: c.head.line,
                }),
                introduced_by: Vec::new(),
                rests_on_cache: crate::python_verify::rests_on_cache(client, &c.name),
                detonation,
            });
            continue;
        };
        let (old_file, old_expected) = pick(&page, &from, old_pkg, Some(rank(&new_file.filename)))
            .ok_or_else(|| {
                fail(
                    &c.name,
                    &from,
                    "no file of the release it replaces on the index matches".into(),
                )
            })?;
        let download = |f: &DistFile, expected: &[String], v: &str| {
            client
                .download(f, expected)
                .map_err(|e| fail(&c.name, v, e.to_string()))
        };
        let old_bytes = download(old_file, &old_expected, &from)?;
        let new_bytes = download(new_file, &new_expected, to)?;
        let change = if c.base.is_some() {
            Change::Updated
        } else {
            Change::Added
        };
        let provenance = |f: &DistFile, bytes: &[u8], v: &str| {
            let sha = crate::python_verify::sha256_hex(bytes);
            crate::python_verify::pep740_status(client, f, &sha, root)
                .map_err(|e| fail(&c.name, v, e.to_string()))
        };
        let (old_p, new_p) = (
            provenance(old_file, &old_bytes, &from)?,
            provenance(new_file, &new_bytes, to)?,
        );
        // History: the replaced release, then the ones before it on the index.
        let earlier = crate::python_verify::earlier_releases(
            client,
            root,
            &c.name,
            &page,
            &from,
            &old_file.filename,
        )?;
        let mut history = vec![Release {
            version: &from,
            filename: &old_file.filename,
            status: &old_p,
        }];
        history.extend(earlier.iter().take(2).map(|(v, f)| Release {
            version: v,
            filename: &f.filename,
            status: &f.provenance,
        }));
        let mut extra = turncoat_attest::pep740::rules::pep740_findings(
            &c.name,
            &Release {
                version: to,
                filename: &new_file.filename,
                status: &new_p,
            },
            &history,
        );
        extra.extend(publish_findings(&page, &c.name, &from, to, judge.now_unix));
        let kinds = Kinds {
            old: kinds_of(&page, &from),
            new: kinds_of(&page, to),
        };
        let mut p = judge.pair(
            (&old_file.filename, &old_bytes),
            (&new_file.filename, &new_bytes),
            change,
            &mut used,
            extra,
            kinds,
        )?;
        p.lockfile = Some(LockfileLocation {
            path: head.path.clone(),
            line: c.head.line,
        });
        p.rests_on_cache = crate::python_verify::rests_on_cache(client, &c.name);
        packages.push(p);
    }
    let mut report = Report::new("diff", vec![base.path.clone(), head.path.clone()], packages);
    report.ecosystem = Ecosystem::Pypi;
    report.unused_exceptions = policy.unused_exceptions(&used, today);
    Ok(report)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_come_from_file_names() {
        assert_eq!(
            dist_name_version("x/Demo_Pkg-1.0.1-py3-none-any.whl"),
            Some(("demo-pkg".into(), "1.0.1".into()))
        );
        assert_eq!(
            dist_name_version("demo-pkg-2.0.tar.gz"),
            Some(("demo-pkg".into(), "2.0".into()))
        );
        assert_eq!(dist_name_version("package.json"), None);
    }

    fn wheel(files: &[(&str, &str)]) -> Vec<u8> {
        use std::io::Write;
        let mut w = zip::ZipWriter::new(std::io::Cursor::new(Vec::new()));
        for (p, d) in files {
            w.start_file(*p, zip::write::SimpleFileOptions::default())
                .unwrap();
            w.write_all(d.as_bytes()).unwrap();
        }
        w.finish().unwrap().into_inner()
    }

    #[test]
    fn a_trojanized_wheel_is_blocked_and_the_report_says_pypi() {
        let old = wheel(&[("demo/__init__.py", "x = 1\n")]);
        let new = wheel(&[
            ("demo/__init__.py", "x = 1\n"),
            ("demo.pth", "import os; os.system('id')\n"),
        ]);
        let policy = Policy::builtin(&crate::registry::all_rules());
        let today = Date::from_unix(1_800_000_000);
        let r = diff_files(
            ("demo-1.0.0-py3-none-any.whl", &old),
            ("demo-1.0.1-py3-none-any.whl", &new),
            &policy,
            today,
            None,
        )
        .unwrap();
        assert_eq!(r.ecosystem, Ecosystem::Pypi);
        assert_eq!(r.summary.block, 1, "{r:#?}");
        let json = serde_json::to_value(&r).unwrap();
        assert_eq!(json["ecosystem"], "pypi");
        let same = diff_files(
            ("demo-1.0.0-py3-none-any.whl", &old),
            ("demo-1.0.1-py3-none-any.whl", &old),
            &policy,
            today,
            None,
        )
        .unwrap();
        assert_eq!(same.summary.pass, 1);
    }

    fn sdist(top: &str, files: &[(&str, &str)]) -> Vec<u8> {
        let mut b = tar::Builder::new(flate2::write::GzEncoder::new(
            Vec::new(),
            flate2::Compression::fast(),
        ));
        for (p, d) in files {
            let mut h = tar::Header::new_gnu();
            h.set_size(d.len() as u64);
            h.set_mode(0o644);
            h.set_cksum();
            b.append_data(&mut h, format!("{top}/{p}"), d.as_bytes())
                .unwrap();
        }
        b.into_inner().unwrap().finish().unwrap()
    }

    /// A directory index for `demo`: `(file name, bytes, upload time)`, plus a file of another
    /// project listed on demo's page; returns the index URL and each file's sha256.
    fn index(
        root: &std::path::Path,
        files: &[(&str, Vec<u8>, Option<&str>)],
    ) -> (url::Url, BTreeMap<String, String>) {
        let dir = root.join("simple/demo");
        std::fs::create_dir_all(&dir).unwrap();
        let mut listed = Vec::new();
        let mut hashes = BTreeMap::new();
        for (name, bytes, at) in files {
            std::fs::write(dir.join(name), bytes).unwrap();
            let sha = crate::python_verify::sha256_hex(bytes);
            hashes.insert(name.to_string(), sha.clone());
            listed.push(serde_json::json!({"filename": name, "url": name,
                "hashes": {"sha256": sha}, "upload-time": at}));
        }
        let other = wheel(&[("other/__init__.py", "")]);
        std::fs::write(dir.join("other-1.0.0-py3-none-any.whl"), &other).unwrap();
        listed.push(
            serde_json::json!({"filename": "other-1.0.0-py3-none-any.whl",
            "url": "other-1.0.0-py3-none-any.whl",
            "hashes": {"sha256": crate::python_verify::sha256_hex(&other)},
            "upload-time": "2026-11-30T00:00:00Z"}),
        );
        let page =
            serde_json::json!({"meta": {"api-version": "1.1"}, "name": "demo", "files": listed});
        std::fs::write(dir.join("index.json"), page.to_string()).unwrap();
        let url = url::Url::from_directory_path(root.join("simple")).unwrap();
        (url, hashes)
    }

    /// Judge the update `demo 1.0.0 → 1.0.1` (pinning `new_file`) on that index.
    fn judge_update(files: &[(&str, Vec<u8>, Option<&str>)], new_file: &str) -> Report {
        let dir = tempfile::tempdir().unwrap();
        let (url, h) = index(dir.path(), files);
        let pins = |v: &str| {
            h.iter()
                .filter(|(f, _)| f.starts_with(&format!("demo-{v}")))
                .filter(|(f, _)| v != "1.0.1" || f.as_str() == new_file)
                .map(|(_, s)| format!(" --hash=sha256:{s}"))
                .collect::<String>()
        };
        let base = turncoat_lockfile::parse(
            "requirements.txt",
            format!("demo==1.0.0{}\n", pins("1.0.0")).as_bytes(),
        )
        .unwrap();
        let head = turncoat_lockfile::parse(
            "requirements.txt",
            format!("demo==1.0.1{}\n", pins("1.0.1")).as_bytes(),
        )
        .unwrap();
        let client = PypiClient::new(url, None, turncoat_pypi::ClientOptions::default()).unwrap();
        let policy = Policy::builtin(&crate::registry::all_rules());
        let now = 1_796_083_200; // 2026-12-01T00:00:00Z
        diff_lockfiles(
            &base,
            &head,
            &client,
            &turncoat_attest::TrustRoot::embedded(),
            &Judge {
                policy: &policy,
                today: Date::from_unix(now),
                now_unix: now,
                detonator: None,
            },
            &|_| {},
        )
        .unwrap()
    }

    fn codes(r: &Report) -> Vec<String> {
        r.packages[0]
            .findings
            .iter()
            .map(|f| f.code.clone())
            .collect()
    }

    const T0: Option<&str> = Some("2026-01-10T00:00:00Z");
    const T1: Option<&str> = Some("2026-11-28T00:00:00Z");

    fn release<'t>(v: &str, t: Option<&'t str>) -> Vec<(String, Vec<u8>, Option<&'t str>)> {
        let top = format!("demo-{v}");
        vec![
            (
                format!("demo-{v}-py3-none-any.whl"),
                wheel(&[("demo/__init__.py", "x = 1\n")]),
                t,
            ),
            (
                format!("{top}.tar.gz"),
                sdist(&top, &[("demo/__init__.py", "x = 1\n"), ("setup.py", "")]),
                t,
            ),
        ]
    }

    fn files(
        v: Vec<(String, Vec<u8>, Option<&str>)>,
    ) -> Vec<(&'static str, Vec<u8>, Option<&'static str>)> {
        v.into_iter()
            .map(|(n, b, t)| (&*n.leak(), b, t.map(|t| &*t.to_string().leak())))
            .collect()
    }

    #[test]
    fn index_history_feeds_the_publish_path_rules() {
        // The control: both releases uploaded at once, wheels on both sides.
        let mut all = release("1.0.0", T0);
        all.extend(release("1.0.1", T1));
        let control = judge_update(&files(all.clone()), "demo-1.0.1-py3-none-any.whl");
        assert_eq!(control.summary.pass, 1, "{:?}", codes(&control));

        // 1.0.1 ships only its sdist: the two sdists compared look alike, but the index
        // shows 1.0.0 had a wheel.
        let mut sdist_only = release("1.0.0", T0);
        sdist_only.extend(release("1.0.1", T1).into_iter().skip(1));
        let r = judge_update(&files(sdist_only), "demo-1.0.1.tar.gz");
        assert!(
            codes(&r).contains(&"py-sdist-only".to_string()),
            "{:?}",
            codes(&r)
        );

        // A wheel added to 1.0.0 ten months after its release, after 1.0.1 was out.
        let mut late = all.clone();
        late.push((
            "demo-1.0.0-cp313-cp313-manylinux_2_17_x86_64.whl".into(),
            wheel(&[("demo/__init__.py", "x = 2\n")]),
            Some("2026-11-29T00:00:00Z"),
        ));
        let r = judge_update(&files(late), "demo-1.0.1-py3-none-any.whl");
        assert_eq!(r.summary.block, 1, "{:?}", codes(&r));
        assert!(codes(&r).contains(&"py-file-added-to-old-release".to_string()));

        // A page without upload times: said, not passed silently, not blocked.
        let mut undated = release("1.0.0", None);
        undated.extend(release("1.0.1", None));
        let r = judge_update(&files(undated), "demo-1.0.1-py3-none-any.whl");
        assert_eq!(r.summary.pass, 1, "{:?}", codes(&r));
        assert!(codes(&r).contains(&"py-upload-times-unknown".to_string()));
    }
}

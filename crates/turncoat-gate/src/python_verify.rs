//! `turncoat verify` for Python: every locked release (or one wheel/sdist file) checked
//! against the index, offline-verifiable where it can be.
//!
//! 1. **Hashes**: every sha256 the lockfile pins must be a file the index lists for that
//!    release with that sha256 (`py-index-hash-mismatch` otherwise). A release pinned without
//!    a hash fails closed: there is nothing to hold the index to.
//! 2. **PEP 740**: for every pinned file, the provenance object the index links is fetched and
//!    verified by `turncoat_attest::pep740` against the *lockfile's* sha256 (what pip installs),
//!    so an attestation of other bytes cannot vouch for it.
//! 3. **History**: the [`HISTORY_DEPTH`] releases published before it on the index (same kind
//!    of file) are checked the same way, and the PEP 740 rules compare with the latest
//!    verified one (`py-provenance-lost`, `py-publisher-changed`, `py-provenance-invalid`).
//!
//! IO is the index client's; the judging is the attest crate's (sans-IO).

use std::collections::{BTreeMap, BTreeSet};

use serde::Serialize;
use sha2::{Digest, Sha256};
use turncoat_attest::TrustRoot;
use turncoat_attest::pep740::rules::{
    Pep740Status, Pinned, Release, Served, index_hash_mismatch, pep740_findings,
};
use turncoat_finding::Finding;
use turncoat_lockfile::{LockedPackage, Lockfile};
use turncoat_policy::{Date, ExceptionUse, Policy};
use turncoat_pypi::{DistFile, ProjectName, ProjectPage, PypiClient, PypiError};
use turncoat_report::{CacheUse, ReportFinding, UnusedException, Verdict};

use crate::GateError;
use crate::python::{dist_name_version, pick, previous_release, rank};

/// One checked distribution file.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct FileCheck {
    pub filename: String,
    /// The sha256 verified against: the lockfile's (or the local file's).
    pub sha256: String,
    pub provenance: Pep740Status,
}

/// One verified release.
#[derive(Debug, Clone, Serialize)]
pub struct PyVerified {
    pub name: String,
    pub version: String,
    pub files: Vec<FileCheck>,
    /// The release just before (the newest of the history), and its file's PEP 740 state.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub previous: Option<FileCheck>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub previous_version: Option<String>,
    pub verdict: Verdict,
    pub findings: Vec<ReportFinding>,
    /// Index documents this verdict rests on that came from the cache alone (`--offline`).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub rests_on_cache: Vec<CacheUse>,
}

/// The result of `verify` on a Python lockfile or file.
#[derive(Debug, Clone, Serialize)]
pub struct PyVerifyReport {
    /// The lockfile or file verified.
    pub target: String,
    pub ecosystem: &'static str,
    pub packages: Vec<PyVerified>,
    pub unused_exceptions: Vec<UnusedException>,
}

impl PyVerifyReport {
    pub fn blocked(&self) -> bool {
        self.packages.iter().any(|p| p.verdict == Verdict::Block)
    }
}

/// The PEP 740 state of `file` whose bytes have `sha256`: absent when the index links no
/// provenance, invalid when what it serves does not verify. Fetch errors fail closed.
pub fn pep740_status(
    client: &PypiClient,
    file: &DistFile,
    sha256: &str,
    root: &TrustRoot,
) -> Result<Pep740Status, PypiError> {
    Ok(match client.provenance(file)? {
        None => Pep740Status::Absent,
        Some(bytes) => {
            match turncoat_attest::pep740::verify_pep740(&bytes, &file.filename, sha256, root) {
                Ok(v) => Pep740Status::Verified(v),
                Err(e) => Pep740Status::Invalid {
                    reason: e.to_string(),
                },
            }
        }
    })
}

/// Shared state of one verify run.
struct Run<'a> {
    client: &'a PypiClient,
    root: &'a TrustRoot,
    policy: &'a Policy,
    today: Date,
    used: ExceptionUse,
}

impl Run<'_> {
    fn fail(name: &str, version: &str, e: impl ToString) -> GateError {
        GateError::Pypi {
            name: name.to_string(),
            version: version.to_string(),
            message: e.to_string(),
        }
    }

    fn page(&self, name: &str, version: &str) -> Result<ProjectPage, GateError> {
        let project = ProjectName::new(name).map_err(|e| Self::fail(name, version, e))?;
        self.client
            .project(&project)
            .map_err(|e| Self::fail(name, version, e))
    }

    /// Judge the checked files of one release against the releases before it.
    fn finish(
        &mut self,
        name: &str,
        version: &str,
        files: Vec<FileCheck>,
        mut findings: Vec<Finding>,
        page: &ProjectPage,
    ) -> Result<PyVerified, GateError> {
        let like = files
            .iter()
            .min_by_key(|f| rank(&f.filename))
            .map(|f| f.filename.clone());
        let earlier = match &like {
            Some(like) => earlier_releases(self.client, self.root, name, page, version, like)?,
            None => Vec::new(),
        };
        let history: Vec<Release<'_>> = earlier
            .iter()
            .map(|(v, f)| Release {
                version: v,
                filename: &f.filename,
                status: &f.provenance,
            })
            .collect();
        for f in &files {
            findings.extend(pep740_findings(
                name,
                &Release {
                    version,
                    filename: &f.filename,
                    status: &f.provenance,
                },
                &history,
            ));
        }
        let (verdict, findings) =
            self.policy
                .evaluate(name, Some(version), findings, self.today, &mut self.used);
        let (previous_version, previous) = earlier
            .into_iter()
            .next()
            .map_or((None, None), |(v, f)| (Some(v), Some(f)));
        Ok(PyVerified {
            name: name.to_string(),
            version: version.to_string(),
            files,
            previous,
            previous_version,
            verdict,
            findings,
            rests_on_cache: rests_on_cache(self.client, name),
        })
    }

    fn package(&mut self, lock: &Lockfile, p: &LockedPackage) -> Result<PyVerified, GateError> {
        let (name, version) = (p.name.as_str(), p.version.as_str());
        let pinned: Vec<Pinned<'_>> = p
            .hashes
            .iter()
            .filter(|h| h.algorithm == "sha256")
            .map(|h| Pinned {
                file: h.file.as_deref(),
                sha256: &h.digest,
            })
            .collect();
        if pinned.is_empty() {
            return Err(Self::fail(
                name,
                version,
                "the lockfile pins no sha256 for this release: nothing to verify the index against (`turncoat lockfile lint` reports missing-hashes)",
            ));
        }
        let page = self.page(name, version)?;
        let listed: Vec<&DistFile> = page.files_of(version).collect();
        let served: Vec<Served<'_>> = listed
            .iter()
            .map(|f| Served {
                filename: &f.filename,
                sha256: f.sha256.as_deref(),
            })
            .collect();
        let findings = index_hash_mismatch(name, version, &pinned, &served, &lock.path);
        // The files the lockfile pins that the index lists with the pinned hash.
        let mut files = Vec::new();
        for f in &listed {
            let Some(sha) = f.sha256.as_deref() else {
                continue;
            };
            let accepted = turncoat_pypi::expected_sha256(p, &f.filename);
            if !accepted.iter().any(|h| h.eq_ignore_ascii_case(sha)) {
                continue;
            }
            let status = pep740_status(self.client, f, &sha.to_ascii_lowercase(), self.root)
                .map_err(|e| Self::fail(name, version, e))?;
            files.push(FileCheck {
                filename: f.filename.clone(),
                sha256: sha.to_ascii_lowercase(),
                provenance: status,
            });
        }
        self.finish(name, version, files, findings, &page)
    }
}

/// How many earlier releases the PEP 740 history reads (newest first): a project that
/// attested, then had one unattested release, is still compared with the attested one.
pub const HISTORY_DEPTH: usize = 3;

/// Up to [`HISTORY_DEPTH`] releases published before `version` on the index (by upload time,
/// newest first), each with its file of the kind `like` and that file's PEP 740 state
/// (verified against the index's sha256). Fetch errors fail closed.
pub(crate) fn earlier_releases(
    client: &PypiClient,
    root: &TrustRoot,
    name: &str,
    page: &ProjectPage,
    version: &str,
    like: &str,
) -> Result<Vec<(String, FileCheck)>, GateError> {
    let mut out = Vec::new();
    let mut at = version.to_string();
    while out.len() < HISTORY_DEPTH {
        let Some(prev) = previous_release(page, &at) else {
            break;
        };
        if let Some((file, expected)) = pick(page, &prev, None, Some(rank(like))) {
            let sha = expected.first().cloned().unwrap_or_default();
            let status =
                pep740_status(client, file, &sha, root).map_err(|e| Run::fail(name, &prev, e))?;
            out.push((
                prev.clone(),
                FileCheck {
                    filename: file.filename.clone(),
                    sha256: sha,
                    provenance: status,
                },
            ));
        }
        at = prev;
    }
    Ok(out)
}

/// The index documents about `name` this run answered from the cache alone.
pub(crate) fn rests_on_cache(client: &PypiClient, name: &str) -> Vec<CacheUse> {
    client
        .cache_reliance_for(name)
        .into_iter()
        .map(|r| CacheUse {
            document: r.document,
            fetched_at: r.fetched_at,
            future: r.future,
        })
        .collect()
}

/// Verify every index release a Python lockfile pins.
pub fn verify_lockfile(
    lock: &Lockfile,
    client: &PypiClient,
    root: &TrustRoot,
    policy: &Policy,
    today: Date,
    progress: &dyn Fn(&str),
) -> Result<PyVerifyReport, GateError> {
    let mut run = Run {
        client,
        root,
        policy,
        today,
        used: ExceptionUse::default(),
    };
    let mut seen = BTreeSet::new();
    let mut packages = Vec::new();
    for p in lock.registry_packages() {
        if p.version.is_empty() || !seen.insert((p.name.clone(), p.version.clone())) {
            continue;
        }
        progress(&format!("{}=={}", p.name, p.version));
        packages.push(run.package(lock, p)?);
    }
    Ok(PyVerifyReport {
        target: lock.path.clone(),
        ecosystem: "pypi",
        packages,
        unused_exceptions: policy.unused_exceptions(&run.used, today),
    })
}

/// Verify one local wheel or sdist: the index must list it (by file name, for the release its
/// name says) with its sha256, and its provenance must verify against *these* bytes.
pub fn verify_file(
    label: &str,
    bytes: &[u8],
    client: &PypiClient,
    root: &TrustRoot,
    policy: &Policy,
    today: Date,
) -> Result<PyVerifyReport, GateError> {
    let filename = label.rsplit(['/', '\\']).next().unwrap_or(label);
    let Some((name, version)) = dist_name_version(filename) else {
        return Err(Run::fail(
            label,
            "",
            "not a wheel or sdist file name (name-version.tar.gz, name-version-….whl)",
        ));
    };
    let sha = sha256_hex(bytes);
    let mut run = Run {
        client,
        root,
        policy,
        today,
        used: ExceptionUse::default(),
    };
    let page = run.page(&name, &version)?;
    let listed: BTreeMap<&str, &DistFile> = page
        .files_of(&version)
        .map(|f| (f.filename.as_str(), f))
        .collect();
    let served: Vec<Served<'_>> = listed
        .values()
        .map(|f| Served {
            filename: &f.filename,
            sha256: f.sha256.as_deref(),
        })
        .collect();
    let pinned = [Pinned {
        file: Some(filename),
        sha256: &sha,
    }];
    let findings = index_hash_mismatch(&name, &version, &pinned, &served, label);
    let mut files = Vec::new();
    if let Some(f) = listed.get(filename) {
        let status =
            pep740_status(client, f, &sha, root).map_err(|e| Run::fail(&name, &version, e))?;
        files.push(FileCheck {
            filename: filename.to_string(),
            sha256: sha.clone(),
            provenance: status,
        });
    }
    let package = run.finish(&name, &version, files, findings, &page)?;
    Ok(PyVerifyReport {
        target: label.to_string(),
        ecosystem: "pypi",
        packages: vec![package],
        unused_exceptions: policy.unused_exceptions(&run.used, today),
    })
}

/// Lower-case hex sha256 of `bytes`.
pub(crate) fn sha256_hex(bytes: &[u8]) -> String {
    format!("{:x}", Sha256::digest(bytes))
}

//! `turncoat scan` for Python: one wheel/sdist file, or every index release a Python lockfile
//! pins (downloaded from the index and held to the lockfile's sha256 while it streams),
//! judged alone by `turncoat_pyanalyze::scan` and the policy.

use std::collections::BTreeSet;

use turncoat_lockfile::Lockfile;
use turncoat_policy::{Date, ExceptionUse, Policy};
use turncoat_pypi::{ProjectName, PypiClient};
use turncoat_report::{Ecosystem, LockfileLocation, PackageReport, Report};

use crate::GateError;
use crate::python::{dist_name_version, facts, pick};

fn judge(
    label: &str,
    bytes: &[u8],
    policy: &Policy,
    today: Date,
    used: &mut ExceptionUse,
) -> Result<PackageReport, GateError> {
    let (name, version) =
        dist_name_version(label).unwrap_or_else(|| (label.to_string(), String::new()));
    let f = facts(label, bytes).map_err(|e| GateError::Archive {
        name: label.to_string(),
        version: version.clone(),
        error: Box::new(e),
    })?;
    let findings = turncoat_pyanalyze::scan(&f, &name, &version);
    let (verdict, findings) = policy.evaluate(&name, Some(&version), findings, today, used);
    Ok(PackageReport::scanned(
        name,
        Some(version),
        verdict,
        findings,
    ))
}

/// Scan one local wheel or sdist (name and version from its file name).
pub fn scan_file(
    label: &str,
    bytes: &[u8],
    policy: &Policy,
    today: Date,
) -> Result<Report, GateError> {
    let mut used = ExceptionUse::default();
    let p = judge(label, bytes, policy, today, &mut used)?;
    let mut report = Report::new("scan", vec![label.to_string()], vec![p]);
    report.ecosystem = Ecosystem::Pypi;
    report.unused_exceptions = policy.unused_exceptions(&used, today);
    Ok(report)
}

/// Scan every index release a Python lockfile pins: the file of each release that matches
/// the lockfile's hashes (a wheel for any platform first, then any wheel, then the sdist).
/// A pin without a hash, or a hash no file of the release has, fails closed.
pub fn scan_lockfile(
    lock: &Lockfile,
    client: &PypiClient,
    policy: &Policy,
    today: Date,
    progress: &dyn Fn(&str),
) -> Result<Report, GateError> {
    let fail = |name: &str, version: &str, message: String| GateError::Pypi {
        name: name.to_string(),
        version: version.to_string(),
        message,
    };
    let mut used = ExceptionUse::default();
    let mut seen = BTreeSet::new();
    let mut packages = Vec::new();
    for p in lock.registry_packages() {
        let (name, version) = (p.name.as_str(), p.version.as_str());
        if version.is_empty() || !seen.insert((name, version)) {
            continue;
        }
        progress(&format!("{name}=={version}"));
        let project = ProjectName::new(name).map_err(|e| fail(name, version, e.to_string()))?;
        let page = client
            .project(&project)
            .map_err(|e| fail(name, version, e.to_string()))?;
        let (file, expected) = pick(&page, version, Some(p), None).ok_or_else(|| {
            fail(
                name,
                version,
                "no file of this release on the index matches the lockfile's hashes (or the lockfile pins none)".into(),
            )
        })?;
        let bytes = client
            .download(file, &expected)
            .map_err(|e| fail(name, version, e.to_string()))?;
        let mut r = judge(&file.filename, &bytes, policy, today, &mut used)?;
        r.lockfile = Some(LockfileLocation {
            path: lock.path.clone(),
            line: p.line,
        });
        r.rests_on_cache = crate::python_verify::rests_on_cache(client, name);
        packages.push(r);
    }
    let mut report = Report::new("scan", vec![lock.path.clone()], packages);
    report.ecosystem = Ecosystem::Pypi;
    report.unused_exceptions = policy.unused_exceptions(&used, today);
    Ok(report)
}

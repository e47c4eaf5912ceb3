//! Python distributions judged file against file: `turncoat diff OLD.whl NEW.whl` (wheels or
//! sdists, `.tar.gz`/`.zip`). The facts and rules are `turncoat-pyanalyze`'s; this module reads
//! the two files, names the release from its file name (PEP 427 / sdist naming: the name a
//! package gives itself inside is not trusted more than its file name) and applies the policy.

use turncoat_archive::{ArchiveError, Limits};
use turncoat_policy::{Date, ExceptionUse, Policy};
use turncoat_pyanalyze::{DiffContext, DistFacts};
use turncoat_report::{Change, Ecosystem, PackageReport, Report};

use crate::GateError;

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

fn facts(label: &str, bytes: &[u8]) -> Result<DistFacts, ArchiveError> {
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

/// Judge `new` (label and bytes) against `old`, the release it replaces.
pub fn diff_files(
    old: (&str, &[u8]),
    new: (&str, &[u8]),
    policy: &Policy,
    today: Date,
) -> Result<Report, GateError> {
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
    let old_facts = read(old.0, old.1, &from)?;
    let new_facts = read(new.0, new.1, &to)?;
    let findings = turncoat_pyanalyze::diff(
        &old_facts,
        &new_facts,
        &DiffContext::new(&new_name, &from, &to),
    );
    if new_name != name {
        return Err(GateError::DifferentProjects(name, new_name));
    }
    let mut used = ExceptionUse::default();
    let (verdict, findings) = policy.evaluate(&new_name, Some(&to), findings, today, &mut used);
    let package = PackageReport {
        name: new_name,
        from: Some(from),
        to: Some(to),
        change: Change::Updated,
        verdict,
        findings,
        lockfile: None,
        introduced_by: Vec::new(),
        rests_on_cache: Vec::new(),
        detonation: None,
    };
    let mut report = Report::new(
        "diff",
        vec![old.0.to_string(), new.0.to_string()],
        vec![package],
    );
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
        )
        .unwrap();
        assert_eq!(same.summary.pass, 1);
    }
}

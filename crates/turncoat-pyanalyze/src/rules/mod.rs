//! The rules: each compares the facts of release N-1 ([`DiffCx::old`]) with release N and
//! fires only on what N gained. One rule per file with its `RULE` and its tests.
//!
//! Moments weigh: a capability new at install time or interpreter start is the strongest
//! signal (it runs without anyone importing the package), import time next, call time last.

use turncoat_finding::{Evidence, Finding, RuleDoc};

use crate::DiffContext;
use crate::facts::{Capability, DistFacts, Moment, Occurrence};

pub(crate) mod download_exec;
pub(crate) mod encoded_exec;
pub(crate) mod entry_point_shadow;
pub(crate) mod env_exfiltration;
pub(crate) mod install_capability;
pub(crate) mod native_capability;
pub(crate) mod new_capability;
pub(crate) mod new_dependency;
pub(crate) mod obfuscation;
pub(crate) mod persistence;
pub(crate) mod pth_exec;
pub(crate) mod record_mismatch;
pub(crate) mod scan;
pub(crate) mod sdist_only;
pub(crate) mod sensitive_read;

/// Most evidence entries per finding.
pub(crate) const MAX_EVIDENCE: usize = 5;

pub(crate) struct DiffCx<'a> {
    pub old: &'a DistFacts,
    pub new: &'a DistFacts,
    pub ctx: &'a DiffContext,
}

impl DiffCx<'_> {
    pub fn from(&self) -> String {
        format!("{} {}", self.ctx.name, self.ctx.from_version)
    }
    pub fn to(&self) -> String {
        format!("{} {}", self.ctx.name, self.ctx.to_version)
    }
}

type Rule = fn(&DiffCx<'_>, &mut Vec<Finding>);

const RULES: &[Rule] = &[
    env_exfiltration::diff,
    download_exec::diff,
    pth_exec::diff,
    encoded_exec::diff,
    obfuscation::diff,
    install_capability::diff,
    sensitive_read::diff,
    persistence::diff,
    entry_point_shadow::diff,
    native_capability::diff,
    record_mismatch::diff,
    sdist_only::diff,
    new_capability::diff,
    new_dependency::diff,
];

pub(crate) fn docs() -> Vec<&'static RuleDoc> {
    vec![
        &env_exfiltration::RULE,
        &download_exec::RULE,
        &pth_exec::RULE,
        &encoded_exec::RULE,
        &obfuscation::RULE,
        &install_capability::RULE,
        &sensitive_read::RULE,
        &persistence::RULE,
        &entry_point_shadow::RULE,
        &native_capability::RULE,
        &record_mismatch::RULE,
        &sdist_only::RULE,
        &new_capability::RULE,
        &new_dependency::RULE,
    ]
}

pub(crate) fn run(cx: &DiffCx<'_>) -> Vec<Finding> {
    let mut out = Vec::new();
    for r in RULES {
        r(cx, &mut out);
    }
    out
}

pub(crate) fn evidence(o: &Occurrence) -> Evidence {
    Evidence::at(&o.path, o.line).with_snippet(&o.snippet)
}

/// Occurrences of `cap` in `new` whose detail `old` never had for that capability.
pub(crate) fn new_details<'a>(cx: &DiffCx<'a>, cap: Capability) -> Vec<&'a Occurrence> {
    let known = cx.old.details(cap);
    cx.new
        .uses(cap)
        .filter(|o| o.detail.as_deref().is_some_and(|d| !known.contains(d)))
        .collect()
}

/// "at import time" etc., the strongest of `occ`.
pub(crate) fn strongest(occ: &[&Occurrence]) -> Moment {
    occ.iter().map(|o| o.moment).min().unwrap_or(Moment::Call)
}

/// A finding for the occurrences of `cap` whose detail is new, if any: the message names the
/// details and the strongest moment; `severity_for` picks the severity from that moment.
pub(crate) fn detail_rule(
    cx: &DiffCx<'_>,
    rule: &RuleDoc,
    cap: Capability,
    what: &str,
    severity_for: fn(Moment) -> turncoat_finding::Severity,
) -> Option<Finding> {
    let occ = new_details(cx, cap);
    if occ.is_empty() {
        return None;
    }
    let details: std::collections::BTreeSet<&str> =
        occ.iter().filter_map(|o| o.detail.as_deref()).collect();
    let moment = strongest(&occ);
    Some(
        Finding::new(
            rule,
            format!(
                "{} newly {what}: {} (at {}); {} did not",
                cx.to(),
                details.into_iter().take(8).collect::<Vec<_>>().join(", "),
                moment.as_str(),
                cx.from()
            ),
        )
        .with_severity(severity_for(moment))
        .with_evidence_all(occ.iter().take(MAX_EVIDENCE).map(|o| evidence(o))),
    )
}

#[cfg(test)]
pub(crate) mod testing {
    use turncoat_archive::PackageFile;
    use turncoat_finding::Finding;

    use crate::facts::{DistFacts, DistKind};
    use crate::{DiffContext, diff};

    pub fn facts(kind: DistKind, files: &[(&str, &str)]) -> DistFacts {
        let files: Vec<PackageFile> = files
            .iter()
            .map(|(p, d)| PackageFile {
                path: (*p).to_string(),
                data: d.as_bytes().to_vec(),
                mode: 0o644,
            })
            .collect();
        crate::dist::dist_facts(kind, &files, &[])
    }

    pub fn wheel(files: &[(&str, &str)]) -> DistFacts {
        facts(DistKind::Wheel, files)
    }

    pub fn run(old: &DistFacts, new: &DistFacts) -> Vec<Finding> {
        diff(old, new, &DiffContext::new("demo", "1.0.0", "1.0.1"))
    }

    /// Findings of one code between two wheels of one `demo/__init__.py` each.
    pub fn init_diff(old: &str, new: &str, code: &str) -> Vec<Finding> {
        let o = wheel(&[("demo/__init__.py", old)]);
        let n = wheel(&[("demo/__init__.py", new)]);
        run(&o, &n).into_iter().filter(|f| f.code == code).collect()
    }
}

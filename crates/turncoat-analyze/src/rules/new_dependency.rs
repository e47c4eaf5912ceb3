//! `new-dependency`: the version adds a runtime dependency.

use turncoat_finding::{Evidence, Finding, Level, RuleDoc, Severity};

use super::DiffCx;
use crate::facts::{DependencyKind, SpecSource};

pub(crate) const RULE: RuleDoc = RuleDoc {
    code: "new-dependency",
    group: "analyze",
    severity: Severity::Info,
    default_level: Level::Allow,
    summary: "The version adds a runtime dependency (the caller analyses the new dependency itself).",
    doc: r#"Lists dependencies (prod, optional, peer) present in the new version and not in the previous one, and dependencies whose spec became an `npm:` alias (low: the name now points at another package).

**Why it matters.** A payload can arrive one hop away: event-stream 3.3.6 added `flatmap-stream`; axios 1.14.1 added `plain-crypto-js`, whose postinstall dropped a RAT. The finding is information; the new dependency is judged by `scan` (it has no history in this tree) and by its own metadata (`release-too-new`).

**Example.** `"plain-crypto-js": "^4.2.1"` appears in a patch release.

**How to silence.** It is allowed by default; set the level in policy."#,
};

fn kind(k: DependencyKind) -> &'static str {
    match k {
        DependencyKind::Prod => "dependency",
        DependencyKind::Optional => "optional dependency",
        DependencyKind::Peer => "peer dependency",
    }
}

pub(crate) fn diff(cx: &DiffCx<'_>, out: &mut Vec<Finding>) {
    let Some(new) = &cx.new.manifest else { return };
    let old = cx.old.manifest.as_ref();
    for (name, dep) in &new.dependencies {
        let before = old.and_then(|m| m.dependencies.get(name));
        let evidence =
            Evidence::new("package.json").with_snippet(&format!("\"{name}\": {:?}", dep.spec));
        match before {
            None => out.push(
                Finding::new(
                    &RULE,
                    format!("{} adds {} {name}@{}", cx.to(), kind(dep.kind), dep.spec),
                )
                .with_evidence(evidence),
            ),
            Some(b) if dep.source == SpecSource::Alias && b.source != SpecSource::Alias => out
                .push(
                    Finding::new(
                        &RULE,
                        format!(
                            "{name} now aliases another package ({}) in {}; it was {} in {}",
                            dep.spec,
                            cx.to(),
                            b.spec,
                            cx.from()
                        ),
                    )
                    .with_severity(Severity::Low)
                    .with_evidence(evidence),
                ),
            _ => {}
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::rules::testing::*;

    #[test]
    fn added_dependency_is_info() {
        let f = diff_versions(
            "1.14.0",
            &[(
                "package.json",
                &manifest("1.14.0", r#""dependencies":{"follow-redirects":"^1"}"#),
            )],
            "1.14.1",
            &[(
                "package.json",
                &manifest(
                    "1.14.1",
                    r#""dependencies":{"follow-redirects":"^1","plain-crypto-js":"^4.2.1"}"#,
                ),
            )],
        );
        let hit = find(&f, RULE.code).expect("finding");
        assert_eq!(hit.severity, Severity::Info);
        assert!(hit.message.contains("plain-crypto-js"));
    }

    #[test]
    fn range_bump_is_quiet() {
        let f = diff_versions(
            "1.0.0",
            &[(
                "package.json",
                &manifest("1.0.0", r#""dependencies":{"a":"^1"}"#),
            )],
            "1.0.1",
            &[(
                "package.json",
                &manifest("1.0.1", r#""dependencies":{"a":"^2"}"#),
            )],
        );
        assert!(find(&f, RULE.code).is_none());
    }
}

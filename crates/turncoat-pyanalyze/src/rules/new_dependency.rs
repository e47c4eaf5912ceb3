//! `py-new-dependency`: the release requires a project the previous one did not.

use turncoat_finding::{Finding, Level, RuleDoc, Severity};

use super::DiffCx;

pub(crate) const RULE: RuleDoc = RuleDoc {
    code: "py-new-dependency",
    group: "pyanalyze",
    severity: Severity::Low,
    // As npm's `new-dependency`: recorded, not a verdict by itself; the gate judges the new
    // dependency against its own history when the lockfile resolves it.
    default_level: Level::Allow,
    summary: "The release adds a requirement (`Requires-Dist`, `[project] dependencies`) the previous release did not have.",
    doc: r#"Compares requirement names (PEP 503-normalised); requirements only an extra pulls in (`; extra == "test"`) are not counted, other markers are ignored. Allow level, as npm's `new-dependency`: the finding is recorded in the JSON report, the verdict comes from judging the dependency itself. A new dependency is new code from a new set of maintainers; the gate judges it against its own history when the lockfile resolves it.

**Why it matters.** Adding a dependency is the quietest way to ship a payload: the release itself stays clean and the dependency, often minutes old, carries it.

**How to silence.** A policy exception on `py-new-dependency` for `name@version`."#,
};

pub(crate) fn diff(cx: &DiffCx<'_>, out: &mut Vec<Finding>) {
    let added: Vec<&str> = cx
        .new
        .requires
        .difference(&cx.old.requires)
        .map(String::as_str)
        .collect();
    if added.is_empty() {
        return;
    }
    out.push(Finding::new(
        &RULE,
        format!(
            "{} requires {}, which {} did not",
            cx.to(),
            added.join(", "),
            cx.from()
        ),
    ));
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::rules::testing::*;

    const META: &str = "demo-1.0.dist-info/METADATA";

    #[test]
    fn fires_for_an_added_requirement() {
        let old = wheel(&[(META, "Name: demo\nRequires-Dist: requests>=2\n")]);
        let new = wheel(&[(
            META,
            "Name: demo\nRequires-Dist: requests>=2\nRequires-Dist: evil_pkg; python_version > '3'\n",
        )]);
        let f: Vec<_> = run(&old, &new)
            .into_iter()
            .filter(|f| f.code == RULE.code)
            .collect();
        assert_eq!(f.len(), 1);
        assert!(f[0].message.contains("evil-pkg"));
    }

    #[test]
    fn quiet_for_changed_pins_and_spelling() {
        let old = wheel(&[(META, "Name: demo\nRequires-Dist: Requests>=2\n")]);
        let new = wheel(&[(
            META,
            "Name: demo\nRequires-Dist: requests (>=2.31)\n\nRequires-Dist: in-the-body\n",
        )]);
        assert!(run(&old, &new).iter().all(|f| f.code != RULE.code));
    }
}

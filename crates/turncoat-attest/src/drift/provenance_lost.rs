//! `provenance-lost`: the candidate has no provenance although its history had it.

use turncoat_finding::{Finding, Level, RuleDoc, Severity};
use turncoat_npm::semver::release_line;

use super::Ctx;
use crate::attestations::ProvenanceStatus;

pub const RULE: RuleDoc = RuleDoc {
    code: "provenance-lost",
    group: "attest",
    severity: Severity::High,
    default_level: Level::Deny,
    summary: "published without provenance while the replaced version or its release line had it",
    doc: "\
## What it does
Flags a candidate version without SLSA provenance when the version it replaces, or an earlier
version of the *same release line* (`4.x`, or `0.7.x` below 1.0), was published with
provenance. Prereleases count only when the candidate is itself a prerelease. Release lines
are compared instead of publish dates, so a maintainer who publishes `4.x` from CI and
backports `3.x` by hand is not flagged.

## Why it matters
Provenance is produced by the project's CI. A stolen npm token publishes from the attacker's
machine, which cannot produce provenance from the project's workflow: a release line that
suddenly stops carrying provenance is the signature of most account-takeover publishes.

## Example
`nx@21.5.0` was published with provenance; `nx@21.5.1` arrives without it.

## How to silence it
Confirm with the maintainers that the release was made by hand, then pin an exception for the
`name@version` in `turncoat.toml`, or set the level to `warn` for packages that publish both
ways.
",
};

pub(crate) fn check(cx: &Ctx<'_>) -> Option<Finding> {
    if cx.verif_to.provenance == ProvenanceStatus::Invalid || cx.to_has_provenance() {
        return None;
    }
    let with: Vec<&str> = cx
        .history()
        .into_iter()
        .filter(|v| cx.had_provenance(v))
        .collect();
    let latest = *with.first()?;
    let line = release_line(cx.to).map_or_else(String::new, |l| format!(" {l}.x"));
    let replaced = if cx.from.is_some_and(|f| with.contains(&f)) {
        format!(
            ", including {} which it replaces",
            cx.from.unwrap_or_default()
        )
    } else {
        String::new()
    };
    Some(
        Finding::new(
            &RULE,
            format!(
                "{}@{} has no provenance, but {} earlier{line} version(s) had it (latest {latest}{replaced})",
                cx.name,
                cx.to,
                with.len()
            ),
        )
        .with_evidence(cx.evidence(cx.to, "dist.attestations: absent"))
        .with_evidence(cx.evidence(latest, "dist.attestations.provenance: present")),
    )
}

#[cfg(test)]
mod tests {
    use super::super::test_support::*;
    use super::*;

    fn hits(p: &turncoat_npm::Packument, from: Option<&str>, to: &str) -> usize {
        super::super::drift(p, from, to, None, None, &plain(to))
            .iter()
            .filter(|f| f.code == RULE.code)
            .count()
    }

    #[test]
    fn flags_a_release_line_that_loses_provenance() {
        let p = packument(vec![
            v("2.0.0", "2024-01-01T00:00:00Z", "alice").prov(),
            v("2.0.1", "2024-02-01T00:00:00Z", "alice").prov(),
            v("2.0.2", "2024-03-01T00:00:00Z", "mallory"),
        ]);
        assert_eq!(hits(&p, Some("2.0.1"), "2.0.2"), 1);
        // New dependency (no `from`): the release line alone is evidence.
        assert_eq!(hits(&p, None, "2.0.2"), 1);
    }

    #[test]
    fn ignores_other_release_lines_and_prereleases() {
        // 4.x from CI, 3.x backports by hand: not a downgrade (the pnpm false positive).
        let p = packument(vec![
            v("3.0.0", "2024-01-01T00:00:00Z", "alice"),
            v("4.0.0", "2024-02-01T00:00:00Z", "alice").prov(),
            v("3.0.1-beta.1", "2024-02-15T00:00:00Z", "alice").prov(),
            v("3.0.1", "2024-03-01T00:00:00Z", "alice"),
        ]);
        assert_eq!(hits(&p, Some("3.0.0"), "3.0.1"), 0);
        // …but the version being replaced always counts, whatever its line.
        assert_eq!(hits(&p, Some("4.0.0"), "3.0.1"), 1);
    }

    #[test]
    fn quiet_when_the_candidate_has_or_advertises_provenance() {
        let p = packument(vec![
            v("1.0.0", "2024-01-01T00:00:00Z", "alice").prov(),
            v("1.0.1", "2024-02-01T00:00:00Z", "alice").prov(),
        ]);
        // Attestations not fetched, but the registry lists them.
        assert_eq!(hits(&p, Some("1.0.0"), "1.0.1"), 0);
    }
}

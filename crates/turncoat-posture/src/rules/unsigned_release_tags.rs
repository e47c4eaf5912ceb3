//! `unsigned-release-tags`: release tags (`v1.2.3`) that are lightweight or carry no signature.

use turncoat_finding::{Level, RuleDoc, Severity, sanitize_snippet};

use super::GROUP;
use crate::PostureFinding;
use crate::signing::{HISTORY, History, pct};

pub const RULE: RuleDoc = RuleDoc {
    code: "unsigned-release-tags",
    group: GROUP,
    severity: Severity::Medium,
    default_level: Level::Warn,
    summary: "release tags are lightweight or unsigned",
    doc: "\
A release tag is what a publish workflow (`on: push: tags: ['v*']`) and a downstream \
verifier trust as \"this is the release\". A lightweight tag is only a name for a commit and \
an unsigned annotated tag only claims its tagger: whoever can push tags can cut a release. \
A signed tag (`git tag -s`) binds the release to a maintainer's key, which the publish job \
or a consumer can check. Release tags are those whose name is a dotted version, optionally \
after `v`, `name@` or `name-v` (`v1.2.3`, `pkg@2.0.0`).

Fix: `git config --global tag.gpgSign true` and create releases with `git tag -s`; protect \
`v*` tags with a tag ruleset so only maintainers can create them.",
};

pub fn check(h: &History) -> Vec<PostureFinding> {
    let release: Vec<_> = h.tags.iter().filter(|t| t.release).collect();
    let unsigned: Vec<_> = release.iter().filter(|t| t.kind.is_none()).collect();
    // The newest by tag time (lightweight tags have none and sort first), then by name.
    let Some(example) = unsigned.iter().max_by_key(|t| (t.time, &t.name)) else {
        return Vec::new();
    };
    let lightweight = unsigned.iter().filter(|t| !t.annotated).count();
    vec![PostureFinding::new(
        &RULE,
        format!(
            "{} of {} release tags ({}%) are unsigned ({} lightweight, {} annotated without a signature), e.g. {}",
            unsigned.len(),
            release.len(),
            pct(unsigned.len(), release.len()).unwrap_or(0.0),
            lightweight,
            unsigned.len() - lightweight,
            sanitize_snippet(&example.name),
        ),
        HISTORY,
        0,
        &format!("tag {}", example.name),
        Vec::new(),
    )]
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::signing::{SigKind, TagSig};

    fn tag(name: &str, annotated: bool, kind: Option<SigKind>) -> TagSig {
        TagSig {
            name: name.into(),
            annotated,
            release: crate::signing::is_release_tag(name),
            time: 0,
            kind,
            verification: None,
        }
    }

    #[test]
    fn counts_unsigned_release_tags_only() {
        let h = History {
            tags: vec![
                tag("v1.0.0", false, None),
                tag("v1.1.0", true, None),
                tag("v2.0.0", true, Some(SigKind::Ssh)),
                tag("nightly", false, None),
            ],
            ..History::default()
        };
        let f = check(&h);
        assert_eq!(f.len(), 1);
        assert_eq!(
            f[0].finding.message,
            "2 of 3 release tags (66.7%) are unsigned (1 lightweight, 1 annotated without a signature), e.g. v1.1.0"
        );
    }

    #[test]
    fn signed_releases_and_other_tags_are_quiet() {
        let h = History {
            tags: vec![
                tag("v1.0.0", true, Some(SigKind::Openpgp)),
                tag("latest", false, None),
            ],
            ..History::default()
        };
        assert!(check(&h).is_empty());
    }
}

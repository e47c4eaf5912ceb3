//! `signature-unverified`: with the team's keys given, a signed commit or tag whose signature
//! does not verify (bad signature, unknown key, key not allowed for git or at that time).

use turncoat_finding::{Level, RuleDoc, Severity, sanitize_snippet};

use super::GROUP;
use crate::PostureFinding;
use crate::signing::{HISTORY, History, Verification};

/// Findings named one by one; past this, one more finding counts the rest.
pub const MAX_LISTED: usize = 50;

pub const RULE: RuleDoc = RuleDoc {
    code: "signature-unverified",
    group: GROUP,
    severity: Severity::High,
    default_level: Level::Warn,
    summary: "a signed commit or tag does not verify against the team's keys",
    doc: "\
Given the team's keys (`--allowed-signers FILE`, OpenSSH's `allowed_signers` format, and/or \
`--keyring FILE`, OpenPGP public keys), every signed commit on the default branch and every \
signed tag is verified over the object as stored. A signature that does not verify is \
either a key the team does not know (a former contributor, or an attacker signing with \
their own key so the commit shows a \"signed\" badge), a key restricted from signing git \
objects (`namespaces=`) or at that time (`valid-after` / `valid-before`, checked against \
the commit's own time as git does), or a signature that was made over something else — \
copied from another commit or left behind when the object was altered. The last kind is \
reported at high severity: it is what tampering looks like. X.509 (gitsign) signatures are \
not verified yet and are reported as unverified. Unsigned objects are \
`unsigned-commits` / `unsigned-release-tags`, not this.

Fix: add the missing key to the allowed signers or keyring if it is the team's; otherwise \
find out who made the commit.",
};

fn tampered(reason: &str) -> bool {
    reason.starts_with("bad ") || reason.starts_with("malformed")
}

pub fn check(h: &History) -> Vec<PostureFinding> {
    let mut out = Vec::new();
    let objects = h
        .commits
        .iter()
        .map(|c| (format!("commit {}", c.id), c.kind, &c.verification))
        .chain(h.tags.iter().map(|t| {
            (
                format!("tag {}", sanitize_snippet(&t.name)),
                t.kind,
                &t.verification,
            )
        }));
    let mut extra = 0usize;
    for (what, kind, v) in objects {
        let (Some(kind), Some(Verification::Unverified { reason })) = (kind, v) else {
            continue;
        };
        if out.len() >= MAX_LISTED {
            extra += 1;
            continue;
        }
        let f = PostureFinding::new(
            &RULE,
            format!(
                "{} signature on {what} does not verify: {reason}",
                kind.as_str()
            ),
            HISTORY,
            0,
            &what,
            Vec::new(),
        );
        out.push(if tampered(reason) {
            f
        } else {
            f.with_severity(Severity::Medium)
        });
    }
    if extra > 0 {
        out.push(PostureFinding::new(
            &RULE,
            format!("{extra} more signed objects do not verify"),
            HISTORY,
            0,
            "",
            Vec::new(),
        ));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::signing::{CommitSig, SigKind};

    fn commit(id: &str, kind: Option<SigKind>, v: Option<Verification>) -> CommitSig {
        CommitSig {
            id: id.into(),
            time: 0,
            kind,
            verification: v,
        }
    }

    #[test]
    fn names_each_unverified_signature_and_grades_tampering() {
        let h = History {
            commits: vec![
                commit(
                    "a1",
                    Some(SigKind::Ssh),
                    Some(Verification::Unverified {
                        reason: "bad SSH signature".into(),
                    }),
                ),
                commit(
                    "b2",
                    Some(SigKind::Openpgp),
                    Some(Verification::Unverified {
                        reason: "OpenPGP key 12 not in the keyring".into(),
                    }),
                ),
                commit(
                    "c3",
                    Some(SigKind::Ssh),
                    Some(Verification::Verified {
                        signer: "a@x".into(),
                    }),
                ),
                commit(
                    "d4",
                    None,
                    Some(Verification::Unverified {
                        reason: "unsigned".into(),
                    }),
                ),
            ],
            keys_given: true,
            ..History::default()
        };
        let f = check(&h);
        assert_eq!(f.len(), 2);
        assert_eq!(
            f[0].finding.message,
            "SSH signature on commit a1 does not verify: bad SSH signature"
        );
        assert_eq!(f[0].finding.severity, Severity::High);
        assert_eq!(f[1].finding.severity, Severity::Medium);
    }

    #[test]
    fn without_keys_nothing_is_unverified() {
        let h = History {
            commits: vec![commit("a1", Some(SigKind::Ssh), None)],
            ..History::default()
        };
        assert!(check(&h).is_empty());
    }

    #[test]
    fn caps_the_listing() {
        let v = || {
            Some(Verification::Unverified {
                reason: "SSH key not in the allowed signers".into(),
            })
        };
        let h = History {
            commits: (0..MAX_LISTED + 3)
                .map(|i| commit(&i.to_string(), Some(SigKind::Ssh), v()))
                .collect(),
            ..History::default()
        };
        let f = check(&h);
        assert_eq!(f.len(), MAX_LISTED + 1);
        assert_eq!(
            f[MAX_LISTED].finding.message,
            "3 more signed objects do not verify"
        );
    }
}

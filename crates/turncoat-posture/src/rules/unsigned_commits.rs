//! `unsigned-commits`: commits on the default branch without a signature.

use turncoat_finding::{Level, RuleDoc, Severity};

use super::GROUP;
use crate::PostureFinding;
use crate::signing::{HISTORY, History, pct};

pub const RULE: RuleDoc = RuleDoc {
    code: "unsigned-commits",
    group: GROUP,
    severity: Severity::Low,
    default_level: Level::Warn,
    summary: "commits on the default branch carry no signature",
    doc: "\
A commit's author and committer are free text: anyone who can push (a stolen token, a \
compromised CI job, a hijacked maintainer account) can write a commit in a maintainer's \
name. A signature (OpenPGP, SSH or X.509/gitsign) binds the commit to a key; with every \
commit signed, a reviewer or `turncoat fortify --allowed-signers` can tell a commit the team \
made from one that only claims to be. The finding counts the commits reachable from `HEAD` \
without a `gpgsig` header and names the newest; the monthly trend in the report shows \
whether signing has become the habit.

Fix: `git config --global commit.gpgsign true` (with `gpg.format ssh` and \
`user.signingkey ~/.ssh/id_ed25519.pub` for SSH keys), and require signed commits in the \
branch protection of the default branch.",
};

pub fn check(h: &History) -> Vec<PostureFinding> {
    let unsigned: Vec<_> = h.commits.iter().filter(|c| c.kind.is_none()).collect();
    let Some(newest) = unsigned.last() else {
        return Vec::new();
    };
    vec![PostureFinding::new(
        &RULE,
        format!(
            "{} of {} commits on {} ({}%) are unsigned; the newest is {}",
            unsigned.len(),
            h.commits.len(),
            h.branch,
            pct(unsigned.len(), h.commits.len()).unwrap_or(0.0),
            &newest.id[..newest.id.len().min(12)],
        ),
        HISTORY,
        0,
        &format!("commit {}", newest.id),
        Vec::new(),
    )]
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::signing::{CommitSig, SigKind};

    fn commit(id: &str, kind: Option<SigKind>) -> CommitSig {
        CommitSig {
            id: id.into(),
            time: 0,
            kind,
            verification: None,
        }
    }

    #[test]
    fn counts_unsigned_commits() {
        let h = History {
            branch: "main".into(),
            commits: vec![
                commit("aaaa", None),
                commit("bbbb", Some(SigKind::Ssh)),
                commit("cccc", None),
            ],
            ..History::default()
        };
        let f = check(&h);
        assert_eq!(f.len(), 1);
        assert_eq!(
            f[0].finding.message,
            "2 of 3 commits on main (66.7%) are unsigned; the newest is cccc"
        );
    }

    #[test]
    fn all_signed_or_empty_is_quiet() {
        let h = History {
            commits: vec![
                commit("a", Some(SigKind::Openpgp)),
                commit("b", Some(SigKind::X509)),
            ],
            ..History::default()
        };
        assert!(check(&h).is_empty());
        assert!(check(&History::default()).is_empty());
    }
}

//! `no-release-environment` in GitLab CI: a job that publishes to a public registry has no
//! `environment:`, so no protected environment (approvals, allowed deployers) can gate it.

use crate::gitlab::rules::{chain, sites};
use crate::rules::no_release_environment::RULE;
use crate::{PostureFinding, Repo};

pub fn check(repo: &Repo) -> Vec<PostureFinding> {
    let mut out: Vec<PostureFinding> = Vec::new();
    for s in sites(repo) {
        if s.own_registry || s.job.environment.is_some() {
            continue;
        }
        if out.iter().any(|f| {
            f.chain
                .iter()
                .any(|l| l.label == s.job.id && l.file == s.job.file && l.line == s.job.line)
        }) {
            continue;
        }
        out.push(PostureFinding::new(
            &RULE,
            format!(
                "job `{}` publishes with no `environment:`: a protected environment (required approval, allowed deployers) cannot gate the release",
                s.job.id
            ),
            &s.job.file,
            s.job.line,
            &format!("{}:", s.job.id),
            chain(s.p, None, s.job, Some(s.link())),
        ));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::gitlab::testutil::repo;

    #[test]
    fn true_and_false() {
        let r = repo(&[(
            ".gitlab-ci.yml",
            "a:\n  script: [npm publish, cargo publish]\nb:\n  environment:\n    name: release\n  script: [npm publish]\n",
        )]);
        let f = check(&r);
        assert_eq!(f.len(), 1, "{f:?}");
        assert!(f[0].finding.message.contains("`a`"));
    }
}

//! `publish-from-unprotected-ref`: a GitLab CI job that publishes can run on a push to a
//! branch the pusher names (no rule, `only:` or `workflow:` restricting it to tags or named
//! branches).

use turncoat_finding::{Level, RuleDoc, Severity};

use crate::gitlab::reach::Scenario;
use crate::gitlab::rules::{chain, publish_jobs, reach, sites};
use crate::rules::GROUP;
use crate::{PostureFinding, Repo};

pub const RULE: RuleDoc = RuleDoc {
    code: "publish-from-unprotected-ref",
    group: GROUP,
    severity: Severity::High,
    default_level: Level::Warn,
    summary: "a GitLab CI publish job runs on pushes to any branch, not only protected refs",
    doc: "\
A GitLab CI job that publishes to a registry has no `rules:`, `only:` or `workflow: rules:` \
that limit it to tags or to named (protected) branches: GitLab's default is every branch and \
tag, and a pattern (`$CI_COMMIT_BRANCH =~ /^release/`, `only: [/^v.*/]`) lets anyone who can \
push create a branch that matches. Whoever holds a Developer account — or a stolen one — \
pushes a branch and the job publishes it, unless every credential is a *protected* variable \
(exposed to protected refs only), which the file does not show.

Tags and named branches are taken as protected: whether the project actually protects them \
(Settings → Repository → Protected branches / tags) is a setting turncoat cannot see.

Fix: `rules: - if: $CI_COMMIT_TAG` (with the tag pattern protected) or `if: \
$CI_COMMIT_BRANCH == $CI_DEFAULT_BRANCH`, mark registry variables Protected, and prefer \
trusted publishing (`id_tokens:`), whose claims name the ref.",
};

pub fn check(repo: &Repo) -> Vec<PostureFinding> {
    let mut out = Vec::new();
    let all = sites(repo);
    for (p, job) in publish_jobs(repo) {
        let Some(trigger) = reach(p, repo, job, Scenario::AnyBranch) else {
            continue;
        };
        let Some(site) = all
            .iter()
            .find(|s| s.p.path == p.path && s.job.id == job.id)
        else {
            continue;
        };
        let at = trigger
            .first()
            .map_or((job.file.clone(), job.line), |l| (l.file.clone(), l.line));
        out.push(PostureFinding::new(
            &RULE,
            format!(
                "job `{}` publishes and runs on a push to any branch: anyone who can push a branch can publish, unless every registry credential is a protected variable",
                job.id
            ),
            &at.0,
            at.1,
            &format!("{}:", job.id),
            chain(p, Some(trigger), job, Some(site.link())),
        ));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::gitlab::testutil::repo;

    #[test]
    fn no_rules_and_a_branch_pattern_fire() {
        let r = repo(&[(
            ".gitlab-ci.yml",
            "a:\n  script: [npx semantic-release]\nb:\n  rules:\n    - if: $CI_COMMIT_BRANCH =~ /^release/\n  script: [npm publish]\n",
        )]);
        let f = check(&r);
        assert_eq!(f.len(), 2, "{f:?}");
        assert_eq!(f[1].line, 5);
    }

    #[test]
    fn tags_and_the_default_branch_do_not_fire() {
        let r = repo(&[(
            ".gitlab-ci.yml",
            "a:\n  only: [tags]\n  script: [npm publish]\nb:\n  rules:\n    - if: $CI_COMMIT_BRANCH == $CI_DEFAULT_BRANCH\n  script: [npm publish]\nc:\n  only:\n    refs: [main, release]\n  script: [npm publish]\n",
        )]);
        assert!(check(&r).is_empty(), "{:?}", check(&r));
    }

    #[test]
    fn workflow_rules_limit_every_job() {
        let r = repo(&[(
            ".gitlab-ci.yml",
            "workflow:\n  rules:\n    - if: $CI_COMMIT_TAG\na:\n  script: [npm publish]\n",
        )]);
        assert!(check(&r).is_empty());
    }
}

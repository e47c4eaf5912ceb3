//! `unpinned-action` in GitLab CI: configuration included from outside the repository at a
//! moving ref — `include: project:` without a `ref:` that is a full commit SHA, `include:
//! remote:` (no integrity at all), `include: component:` at a tag or `~latest`. Whoever can
//! change that project or URL adds jobs, scripts and rules to this pipeline.

use crate::rules::unpinned_action::RULE;
use crate::{Link, LinkKind, PostureFinding, Repo};

fn is_sha(r: &str) -> bool {
    r.len() == 40 && r.bytes().all(|b| b.is_ascii_hexdigit())
}

pub fn check(repo: &Repo) -> Vec<PostureFinding> {
    let mut out = Vec::new();
    for p in &repo.gitlab {
        for inc in &p.includes {
            if inc.reference.as_deref().is_some_and(is_sha) {
                continue;
            }
            let how = match (inc.kind.as_str(), &inc.reference) {
                ("remote", _) => "is fetched from a URL each run".to_string(),
                (_, None) => "has no ref (the default branch, whatever it holds)".to_string(),
                (_, Some(r)) => format!("is at `{r}`, not a commit SHA"),
            };
            out.push(PostureFinding::new(
                &RULE,
                format!(
                    "include {} `{}` {how}: whoever can change it adds jobs to this pipeline",
                    inc.kind, inc.target
                ),
                &inc.file,
                inc.line,
                &format!("{}: {}", inc.kind, inc.target),
                vec![Link {
                    kind: LinkKind::Step,
                    label: format!("include {}", inc.kind),
                    file: inc.file.clone(),
                    line: inc.line,
                }],
            ));
        }
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
            "include:\n  - project: g/t\n    file: a.yml\n  - project: g/t\n    ref: 0123456789abcdef0123456789abcdef01234567\n    file: a.yml\n  - remote: https://example.com/ci.yml\n  - component: gitlab.com/g/c/npm@1.2.0\njob:\n  script: [echo]\n",
        )]);
        let f = check(&r);
        assert_eq!(f.len(), 3, "{f:?}");
    }
}

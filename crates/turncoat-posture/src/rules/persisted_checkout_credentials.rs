//! `persisted-checkout-credentials` (zizmor's `artipacked`, on the publish path):
//! `actions/checkout` leaves the job's token in the workspace's git configuration, and the
//! same job then uploads the workspace as an artifact or publishes a release.

use turncoat_finding::{Level, RuleDoc, Severity};

use super::{GROUP, is_publish_job};
use crate::model::Step;
use crate::{PostureFinding, Repo, chain};

pub const RULE: RuleDoc = RuleDoc {
    code: "persisted-checkout-credentials",
    group: GROUP,
    severity: Severity::High,
    default_level: Level::Warn,
    summary: "actions/checkout keeps the token in .git/config in a job that uploads the workspace or publishes",
    doc: "\
`actions/checkout` writes the job's token into the checkout's git configuration unless it is \
given `persist-credentials: false`. In the same job:

- an `actions/upload-artifact` of the workspace (`path: .`, `./`, `${{ github.workspace }}`, \
`**`) with hidden files (`include-hidden-files: true`, or upload-artifact before v4.4, which \
included them by default) ships `.git/config` — the token — to anyone who can download the \
run's artifacts (high);
- a publish step runs build and lifecycle scripts (`prepare`, `prepublishOnly`, a build \
backend, a dependency's install script) that can read the token from `.git/config` and push \
with it (medium). checkout v6 keeps the credential in a file outside the workspace, which \
stops the artifact leak but not this one.

This is zizmor's `artipacked`, reported where it touches the release path.

Fix: `persist-credentials: false` on every checkout that does not push; where a later step \
must push, hand it the token for that step only.",
};

fn persists(step: &Step) -> bool {
    step.action().as_deref() == Some("actions/checkout")
        && step
            .with_value("persist-credentials")
            .is_none_or(|v| v.trim() != "false")
}

/// The major and minor of a `@vX[.Y]` ref; `None` for a SHA or branch.
fn version(uses: &str) -> Option<(u32, u32)> {
    let r = uses.rsplit_once('@')?.1.strip_prefix('v')?;
    let mut it = r.split('.');
    let major = it.next()?.parse().ok()?;
    let minor = it.next().and_then(|m| m.parse().ok()).unwrap_or(0);
    Some((major, minor))
}

/// Does this step upload the workspace with its hidden files (`.git`)?
fn uploads_workspace(step: &Step) -> bool {
    if step.action().as_deref() != Some("actions/upload-artifact") {
        return false;
    }
    let path = step.with_value("path").unwrap_or("");
    let whole = path.lines().any(|p| {
        let p = p.trim().trim_matches(['"', '\'']);
        matches!(
            p,
            "." | "./" | "**" | "./**" | "*" | "${{ github.workspace }}"
        ) || p.contains(".git")
            || p.replace(' ', "") == "${{github.workspace}}"
    });
    if !whole {
        return false;
    }
    let hidden = step.with_value("include-hidden-files").map(str::trim) == Some("true");
    // Before v4.4 hidden files were uploaded by default; a SHA pin is an unknown version.
    let old = version(step.uses.as_deref().unwrap_or("")).is_none_or(|v| v < (4, 4));
    hidden || old
}

pub fn check(repo: &Repo) -> Vec<PostureFinding> {
    let mut out = Vec::new();
    for wf in &repo.workflows {
        for job in &wf.jobs {
            let Some(checkout) = job.steps.iter().find(|s| persists(s)) else {
                continue;
            };
            let upload = job
                .steps
                .iter()
                .skip(checkout.index + 1)
                .find(|s| uploads_workspace(s));
            let (why, sink, severity) = if let Some(u) = upload {
                (
                    "uploads the workspace, .git/config and its token included, as an artifact",
                    u,
                    Severity::High,
                )
            } else if is_publish_job(repo, job) {
                let p = job
                    .steps
                    .iter()
                    .skip(checkout.index + 1)
                    .find(|s| !super::publishes_of(repo, s).is_empty())
                    .unwrap_or(checkout);
                (
                    "publishes, running build and lifecycle scripts that can read the token from .git/config",
                    p,
                    Severity::Medium,
                )
            } else {
                continue;
            };
            let mut c = chain(wf, None, job, Some(checkout));
            c.push(crate::step_link(wf, sink));
            out.push(
                PostureFinding::new(
                    &RULE,
                    format!(
                        "job `{}` checks out with persisted credentials (no `persist-credentials: false`) and {why}",
                        job.id
                    ),
                    &wf.path,
                    checkout.line,
                    checkout.uses.as_deref().unwrap_or(""),
                    c,
                )
                .with_severity(severity),
            );
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::rules::testutil::repo;

    #[test]
    fn workspace_upload_after_a_persisting_checkout_fires() {
        let r = repo(&[(
            "build.yml",
            "on: push\njobs:\n  b:\n    steps:\n      - uses: actions/checkout@v4\n      - run: make\n      - uses: actions/upload-artifact@v4\n        with:\n          path: .\n          include-hidden-files: true\n",
        )]);
        let f = check(&r);
        assert_eq!(f.len(), 1);
        assert_eq!(f[0].line, 5);
        assert_eq!(f[0].finding.severity, Severity::High);
        assert_eq!(f[0].chain.len(), 4);
    }

    #[test]
    fn an_old_upload_artifact_includes_hidden_files_by_default() {
        let r = repo(&[(
            "build.yml",
            "on: push\njobs:\n  b:\n    steps:\n      - uses: actions/checkout@v3\n      - uses: actions/upload-artifact@v3\n        with:\n          path: ${{ github.workspace }}\n",
        )]);
        assert_eq!(check(&r).len(), 1);
    }

    #[test]
    fn a_publish_job_with_a_persisting_checkout_fires() {
        let r = repo(&[(
            "release.yml",
            "on: push\njobs:\n  p:\n    steps:\n      - uses: actions/checkout@v4\n        with:\n          persist-credentials: true\n      - run: npm publish --provenance\n",
        )]);
        let f = check(&r);
        assert_eq!(f.len(), 1);
        assert_eq!(f[0].finding.severity, Severity::Medium);
    }

    #[test]
    fn false_cases() {
        let r = repo(&[(
            "ok.yml",
            "on: push\njobs:\n  a:\n    steps:\n      - uses: actions/checkout@v4\n        with:\n          persist-credentials: false\n      - run: npm publish\n  b:\n    steps:\n      - uses: actions/checkout@v4\n      - uses: actions/upload-artifact@v4\n        with:\n          path: dist/\n  c:\n    steps:\n      - uses: actions/checkout@v4\n      - uses: actions/upload-artifact@v4.6.0\n        with:\n          path: .\n",
        )]);
        assert!(check(&r).is_empty(), "{:?}", check(&r));
    }
}

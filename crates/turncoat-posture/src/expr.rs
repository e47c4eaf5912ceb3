//! `${{ … }}` expressions: which ones an attacker writes, which secrets they name.
//!
//! Hand-written because no maintained Rust crate parses GitHub Actions expressions; we need
//! only the context paths they mention (`github.event.pull_request.title`, `secrets.NPM_TOKEN`),
//! not their evaluation, so a scanner over identifiers is enough. Index forms
//! (`github.event['pull_request']['title']`, `commits[0]`) are normalised to dotted paths first
//! so that they cannot hide a field.

/// Every `${{ … }}` body in `text`, with the byte offset of its `${{`.
pub fn expressions(text: &str) -> Vec<(usize, &str)> {
    let mut out = Vec::new();
    let mut rest = 0;
    while let Some(i) = text[rest..].find("${{") {
        let start = rest + i;
        let body_start = start + 3;
        match text[body_start..].find("}}") {
            Some(j) => {
                out.push((start, &text[body_start..body_start + j]));
                rest = body_start + j + 2;
            }
            None => {
                out.push((start, &text[body_start..]));
                break;
            }
        }
    }
    out
}

/// The context paths an expression mentions, lower-cased, indexes turned into dotted
/// segments (`['title']` → `.title`, `[0]` → `.*`).
pub fn paths(expr: &str) -> Vec<String> {
    let mut norm = String::with_capacity(expr.len());
    let mut chars = expr.chars().peekable();
    while let Some(c) = chars.next() {
        if c == '[' {
            let mut inner = String::new();
            for d in chars.by_ref() {
                if d == ']' {
                    break;
                }
                inner.push(d);
            }
            let inner = inner.trim().trim_matches(|q| q == '\'' || q == '"');
            if !inner.is_empty()
                && inner
                    .chars()
                    .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-')
                && !inner.chars().all(|c| c.is_ascii_digit())
            {
                norm.push('.');
                norm.push_str(inner);
            } else {
                norm.push_str(".*");
            }
        } else {
            norm.push(c);
        }
    }
    let mut out = Vec::new();
    let mut cur = String::new();
    for c in norm.chars() {
        if c.is_ascii_alphanumeric() || matches!(c, '_' | '-' | '.' | '*') {
            cur.push(c.to_ascii_lowercase());
        } else if !cur.is_empty() {
            out.push(std::mem::take(&mut cur));
        }
    }
    if !cur.is_empty() {
        out.push(cur);
    }
    out.retain(|p| p.contains('.') || p == "github.head_ref");
    out
}

/// Fields of `github.event` (and `github.head_ref`) that whoever opens the issue, the pull
/// request, the comment or pushes the commit chooses freely. Matched on the path's ending, so
/// `github.event.workflow_run.pull_requests.*.head.ref` is caught by `.head.ref`.
const ATTACKER_SUFFIXES: &[&str] = &[
    ".title",
    ".body",
    ".head.ref",
    ".head.label",
    ".head.repo.default_branch",
    ".head.repo.description",
    ".head.repo.homepage",
    ".message",
    ".author.email",
    ".author.name",
    ".committer.email",
    ".committer.name",
    ".page_name",
    ".head_branch",
    ".display_title",
];

/// Is `path` an attacker-controlled context (`github.event.pull_request.title`,
/// `github.head_ref`, …)?
pub fn is_attacker_controlled(path: &str) -> bool {
    // Whole objects (`toJSON(github.event.pull_request)`) carry every field.
    if matches!(
        path,
        "github.head_ref"
            | "github.event"
            | "github.event.pull_request"
            | "github.event.issue"
            | "github.event.comment"
            | "github.event.review"
            | "github.event.head_commit"
            | "github.event.commits"
            | "github.event.discussion"
            | "github.event.workflow_run"
    ) {
        return true;
    }
    let Some(rest) = path.strip_prefix("github.event.") else {
        return false;
    };
    let rest = format!(".{rest}");
    ATTACKER_SUFFIXES.iter().any(|s| rest.ends_with(s))
        // `github.event.pull_request.head.ref` and friends under any index form
        || rest.contains(".head.ref.")
}

/// `secrets.NAME` mentioned in `text`, as written (upper-cased).
pub fn secrets(text: &str) -> Vec<String> {
    let mut out = Vec::new();
    for (_, e) in expressions(text) {
        for p in paths(e) {
            if let Some(name) = p.strip_prefix("secrets.") {
                out.push(name.to_ascii_uppercase());
            }
        }
    }
    out
}

/// A secret whose name says it publishes to a registry (npm, PyPI, crates.io) or is a
/// general-purpose token other than the workflow's own `GITHUB_TOKEN`.
pub fn is_registry_secret(name: &str) -> bool {
    let n = name.to_ascii_uppercase();
    if n == "GITHUB_TOKEN" {
        return false;
    }
    [
        "NPM",
        "NODE_AUTH",
        "YARN",
        "PYPI",
        "TWINE",
        "CARGO",
        "CRATES",
        "REGISTRY",
        "PUBLISH",
        "UV_PUBLISH",
        "POETRY",
        "HATCH",
        "FLIT",
    ]
    .iter()
    .any(|k| n.contains(k))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn finds_expressions_and_paths() {
        let e = expressions("echo ${{ github.event.pull_request.title }} ${{secrets.NPM_TOKEN}}");
        assert_eq!(e.len(), 2);
        assert_eq!(paths(e[0].1), vec!["github.event.pull_request.title"]);
        assert_eq!(secrets("x ${{ secrets.npm_token }}"), vec!["NPM_TOKEN"]);
    }

    #[test]
    fn index_forms_do_not_hide_fields() {
        let p = paths("github.event['pull_request'][\"title\"]");
        assert_eq!(p, vec!["github.event.pull_request.title"]);
        assert!(is_attacker_controlled(&p[0]));
        let p = paths("github.event.commits[0].message");
        assert_eq!(p, vec!["github.event.commits.*.message"]);
        assert!(is_attacker_controlled(&p[0]));
        let p = paths("toJSON(github.event.workflow_run.pull_requests[0].head.ref)");
        assert!(is_attacker_controlled(&p[0]), "{p:?}");
    }

    #[test]
    fn attacker_fields_true_and_false() {
        for t in [
            "github.head_ref",
            "github.event.issue.title",
            "github.event.comment.body",
            "github.event.head_commit.message",
            "github.event.pull_request.head.ref",
            "github.event.workflow_run.head_branch",
        ] {
            assert!(is_attacker_controlled(t), "{t}");
        }
        for f in [
            "github.event.pull_request.number",
            "github.event.pull_request.head.sha",
            "github.sha",
            "github.ref",
            "github.event.repository.full_name",
        ] {
            assert!(!is_attacker_controlled(f), "{f}");
        }
    }

    #[test]
    fn registry_secrets() {
        assert!(is_registry_secret("NPM_TOKEN"));
        assert!(is_registry_secret("pypi_api_token"));
        assert!(is_registry_secret("CARGO_REGISTRY_TOKEN"));
        assert!(!is_registry_secret("GITHUB_TOKEN"));
        assert!(!is_registry_secret("CODECOV_TOKEN"));
    }
}

//! Small string helpers shared by the format readers and the lints: `name@version`
//! splitting, npm aliases, URL hosts, and what kind of source a resolved string names.

use crate::model::SourceKind;

/// Split `name@rest` where `name` may be scoped (`@scope/name@rest`).
/// Returns `None` when there is no `@` after the name or the name is empty.
pub fn split_name(s: &str) -> Option<(&str, &str)> {
    let search_from = usize::from(s.starts_with('@'));
    let at = s.get(search_from..)?.find('@')? + search_from;
    let (name, rest) = (&s[..at], &s[at + 1..]);
    if name.is_empty() || name == "@" {
        return None;
    }
    Some((name, rest))
}

/// `npm:real@range` → `(real, range)`.
pub fn npm_alias(spec: &str) -> Option<(&str, &str)> {
    let inner = spec.strip_prefix("npm:")?;
    match split_name(inner) {
        Some((n, r)) => Some((n, r)),
        // `npm:real` without a range.
        None if !inner.is_empty() => Some((inner, "")),
        None => None,
    }
}

/// The host of an `scheme://[user@]host[:port]/…` URL, lower-cased.
pub fn url_host(url: &str) -> Option<String> {
    host_as_written(url).map(str::to_ascii_lowercase)
}

/// [`url_host`] without the lower-casing (and so without an allocation).
fn host_as_written(url: &str) -> Option<&str> {
    let rest = url.split_once("://")?.1;
    let authority = rest.split(['/', '?', '#']).next()?;
    let host_port = authority.rsplit('@').next()?;
    let host = if let Some(v6) = host_port.strip_prefix('[') {
        v6.split(']').next()?
    } else {
        host_port.split(':').next()?
    };
    (!host.is_empty()).then_some(host)
}

/// The path of an URL (without query and fragment), or `None` for non-URLs.
pub fn url_path(url: &str) -> Option<&str> {
    let rest = url.split_once("://")?.1;
    let rest = rest.split(['?', '#']).next()?;
    Some(rest.find('/').map_or("/", |i| &rest[i..]))
}

/// True when a URL has the registry tarball shape `…/-/<file>.tgz`.
pub fn is_registry_tarball_url(url: &str) -> bool {
    url_path(url).is_some_and(|p| p.contains("/-/") && p.ends_with(".tgz"))
}

/// True when `v` starts like a version number (`1`, `1.2.3`, `0.0.0-x`).
pub fn looks_like_version(v: &str) -> bool {
    v.as_bytes().first().is_some_and(u8::is_ascii_digit)
}

/// Classify a resolved string (URL, git locator, path) into a [`SourceKind`].
/// `None` when it is a bare relative path (the caller knows what it points at).
pub fn classify(resolved: &str) -> Option<SourceKind> {
    let r = resolved.trim();
    // Lower-case only when needed: nearly every resolved URL already is, and this runs once
    // per locked package.
    let lower: std::borrow::Cow<'_, str> = if r.bytes().any(|b| b.is_ascii_uppercase()) {
        r.to_ascii_lowercase().into()
    } else {
        r.into()
    };
    const GIT_PREFIXES: [&str; 9] = [
        "git+",
        "git:",
        "git@",
        "ssh://",
        "github:",
        "gitlab:",
        "bitbucket:",
        "gist:",
        "git://",
    ];
    if GIT_PREFIXES.iter().any(|p| lower.starts_with(p)) {
        return Some(SourceKind::Git);
    }
    if lower.starts_with("file:") {
        return Some(SourceKind::File);
    }
    if lower.starts_with("link:") || lower.starts_with("portal:") {
        return Some(SourceKind::Link);
    }
    if lower.starts_with("workspace:") {
        return Some(SourceKind::Workspace);
    }
    if lower.starts_with("<npm-registry>") {
        return Some(SourceKind::Registry);
    }
    if lower.starts_with("http://") || lower.starts_with("https://") {
        let before_fragment = lower.split('#').next().unwrap_or(&lower);
        if host_as_written(&lower) == Some("codeload.github.com")
            || before_fragment.ends_with(".git")
            || lower.contains("#commit=")
            || lower.contains("#commit:")
        {
            return Some(SourceKind::Git);
        }
        if is_registry_tarball_url(&lower) {
            return Some(SourceKind::Registry);
        }
        return Some(SourceKind::Tarball);
    }
    // GitHub shorthand `owner/repo#ref`.
    if !lower.starts_with('.') && !lower.starts_with('/') && lower.contains('#') {
        let base = lower.split('#').next().unwrap_or("");
        if base.split('/').count() == 2 && !base.contains(':') {
            return Some(SourceKind::Git);
        }
    }
    None
}

/// Match a workspace glob (`packages/*`, `apps/**`, `docs`) against a folder path.
pub fn glob_match(pattern: &str, path: &str) -> bool {
    let pattern = pattern.trim_start_matches("./").trim_end_matches('/');
    let path = path.trim_start_matches("./").trim_end_matches('/');
    let pat: Vec<&str> = pattern.split('/').collect();
    let segs: Vec<&str> = path.split('/').collect();
    glob_segments(&pat, &segs)
}

fn glob_segments(pat: &[&str], segs: &[&str]) -> bool {
    // Iterative over `**` positions would be overkill: patterns are short and come from
    // the lockfile's own root entry; bound the work by refusing long patterns.
    if pat.len() > 16 || segs.len() > 64 {
        return false;
    }
    match pat.split_first() {
        None => segs.is_empty(),
        Some((&"**", rest)) => (0..=segs.len()).any(|i| glob_segments(rest, &segs[i..])),
        Some((p, rest)) => match segs.split_first() {
            Some((s, srest)) => segment_match(p, s) && glob_segments(rest, srest),
            None => false,
        },
    }
}

fn segment_match(p: &str, s: &str) -> bool {
    match p.split_once('*') {
        None => p == s,
        Some((pre, post)) => {
            !post.contains('*')
                && s.len() >= pre.len() + post.len()
                && s.starts_with(pre)
                && s.ends_with(post)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names() {
        assert_eq!(split_name("a@1.0.0"), Some(("a", "1.0.0")));
        assert_eq!(split_name("@s/a@^1"), Some(("@s/a", "^1")));
        assert_eq!(split_name("@s/a"), None);
        assert_eq!(split_name("@"), None);
        assert_eq!(split_name("@@"), None);
        assert_eq!(npm_alias("npm:@s/a@1"), Some(("@s/a", "1")));
        assert_eq!(npm_alias("npm:a"), Some(("a", "")));
        assert_eq!(npm_alias("^1"), None);
    }

    #[test]
    fn hosts() {
        assert_eq!(
            url_host("https://u:p@Registry.NPMjs.org:443/a").as_deref(),
            Some("registry.npmjs.org")
        );
        assert_eq!(
            url_host("git+ssh://git@github.com/x.git").as_deref(),
            Some("github.com")
        );
        assert_eq!(url_host("file:x"), None);
        assert_eq!(url_path("https://h/a/-/a-1.tgz?x#y"), Some("/a/-/a-1.tgz"));
    }

    #[test]
    fn classification() {
        use SourceKind::*;
        let cases = [
            ("https://registry.npmjs.org/a/-/a-1.0.0.tgz", Some(Registry)),
            (
                "https://registry.yarnpkg.com/a/-/a-1.0.0.tgz#abc",
                Some(Registry),
            ),
            ("https://example.com/a.tgz", Some(Tarball)),
            ("https://codeload.github.com/o/r/tar.gz/abc", Some(Git)),
            ("https://github.com/o/r.git#abc", Some(Git)),
            ("git+ssh://git@github.com/o/r.git#abc", Some(Git)),
            ("github:o/r#abc", Some(Git)),
            ("o/r#abc", Some(Git)),
            ("file:../x", Some(File)),
            ("link:../x", Some(Link)),
            ("packages/a", None),
        ];
        for (s, want) in cases {
            assert_eq!(classify(s), want, "{s}");
        }
    }

    #[test]
    fn globs() {
        assert!(glob_match("packages/*", "packages/a"));
        assert!(!glob_match("packages/*", "packages/a/b"));
        assert!(glob_match("packages/**", "packages/a/b"));
        assert!(glob_match("./docs", "docs"));
        assert!(glob_match("pkg-*", "pkg-a"));
        assert!(!glob_match("packages/*", "deps/etag"));
    }
}

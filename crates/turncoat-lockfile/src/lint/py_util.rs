//! Shared by the PyPI lockfile rules: evidence that names the file an entry came from
//! (requirements files include others) and URLs with their credentials hidden.

use turncoat_finding::Evidence;

use crate::model::{LockedPackage, Lockfile};

/// Evidence at the entry: its own file (an included requirements file) or the lockfile.
pub(crate) fn evidence(lock: &Lockfile, p: &LockedPackage) -> Evidence {
    let file = p
        .paths
        .first()
        .cloned()
        .unwrap_or_else(|| lock.path.clone());
    let what = match (&p.requirement, &p.resolved) {
        (Some(r), _) => redact_url(r),
        (None, Some(r)) => format!("{} @ {}", p.install_name(), redact_url(r)),
        (None, None) => format!("{}=={}", p.install_name(), p.version),
    };
    Evidence::at(file, p.line).with_snippet(&what)
}

/// `name==version`, or the name alone.
pub(crate) fn label(p: &LockedPackage) -> String {
    if p.version.is_empty() {
        p.install_name().to_string()
    } else {
        format!("{}=={}", p.install_name(), p.version)
    }
}

/// `https://user:token@host/x` → `https://***@host/x`: index URLs often carry a token.
pub fn redact_url(s: &str) -> String {
    let Some((scheme, rest)) = s.split_once("://") else {
        return s.to_string();
    };
    let auth_end = rest.find(['/', '?', '#']).unwrap_or(rest.len());
    match rest[..auth_end].rfind('@') {
        Some(at) => format!("{scheme}://***{}", &rest[at..]),
        None => s.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn redacts_credentials() {
        assert_eq!(
            redact_url("https://u:tok@h.example/simple"),
            "https://***@h.example/simple"
        );
        assert_eq!(redact_url("https://h/a@b"), "https://h/a@b");
        assert_eq!(
            redact_url("pkg @ git+https://t@github.com/x"),
            "pkg @ git+https://***@github.com/x"
        );
    }
}

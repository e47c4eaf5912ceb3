//! `py-index-hash-mismatch`: the index does not serve the file the lockfile pins.

use turncoat_finding::{Evidence, Finding, Level, RuleDoc, Severity};

pub const RULE: RuleDoc = RuleDoc {
    code: "py-index-hash-mismatch",
    group: "attest",
    severity: Severity::Critical,
    default_level: Level::Deny,
    summary: "a file the lockfile pins is served by the index with another sha256, or not at all",
    doc: "\
## What it does
`turncoat verify` on a Python lockfile compares every sha256 the lockfile pins with the files
the index lists for that release. It fires when a file the lockfile names is listed with
another sha256, or when a pinned hash matches no file of the release (for formats that do not
name the file, such as requirements.txt).

## Why it matters
pip and uv refuse to install a file whose hash differs from the lockfile, so a mismatch means
the index now serves different bytes under the same name and version: a replaced file on a
mirror, a poisoned cache or proxy, or a lockfile edited to pin something the index never
served. Either the lockfile or the index is lying, and verification cannot vouch for either.

## Example
`requests-2.32.3-py3-none-any.whl` is pinned with `sha256:70761c…` and the mirror lists it
with `sha256:0c4c1e…`.

## How to silence it
Find out which side changed. Re-lock against the real index if the lockfile is wrong; never
pin an exception for a file that changed on the index.
",
};

/// One sha256 the lockfile pins, with the file it names when the format says.
#[derive(Debug, Clone, Copy)]
pub struct Pinned<'a> {
    pub file: Option<&'a str>,
    pub sha256: &'a str,
}

/// One file the index lists for the release, with the sha256 it lists (if any).
#[derive(Debug, Clone, Copy)]
pub struct Served<'a> {
    pub filename: &'a str,
    pub sha256: Option<&'a str>,
}

/// Every pinned hash the index does not serve: a named file listed with another (or no)
/// sha256 or not listed at all; an unnamed hash that no file of the release has.
pub fn check(
    project: &str,
    version: &str,
    pinned: &[Pinned<'_>],
    served: &[Served<'_>],
    lockfile: &str,
) -> Vec<Finding> {
    let mut out = Vec::new();
    for p in pinned {
        let message = match p.file {
            Some(file) => match served.iter().find(|s| s.filename == file) {
                Some(s) if s.sha256.is_some_and(|h| h.eq_ignore_ascii_case(p.sha256)) => continue,
                Some(s) => format!(
                    "{project}=={version}: the lockfile pins {file} with sha256 {}, the index lists {}",
                    p.sha256,
                    s.sha256.unwrap_or("no sha256")
                ),
                None => format!(
                    "{project}=={version}: the lockfile pins {file}, which the index does not list"
                ),
            },
            None => {
                if served
                    .iter()
                    .any(|s| s.sha256.is_some_and(|h| h.eq_ignore_ascii_case(p.sha256)))
                {
                    continue;
                }
                format!(
                    "{project}=={version}: no file of this release on the index has the pinned sha256 {}",
                    p.sha256
                )
            }
        };
        out.push(
            Finding::new(&RULE, message).with_evidence(
                Evidence::new(lockfile)
                    .with_snippet(&format!("{project}=={version} sha256:{}", p.sha256)),
            ),
        );
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    const A: &str = "aaaa";
    const B: &str = "bbbb";

    fn served(sha: Option<&'static str>) -> Vec<Served<'static>> {
        vec![Served {
            filename: "demo-1.0.tar.gz",
            sha256: sha,
        }]
    }

    #[test]
    fn named_files_must_be_listed_with_the_pinned_hash() {
        let pin = [Pinned {
            file: Some("demo-1.0.tar.gz"),
            sha256: A,
        }];
        assert!(check("demo", "1.0", &pin, &served(Some(A)), "uv.lock").is_empty());
        let f = check("demo", "1.0", &pin, &served(Some(B)), "uv.lock");
        assert_eq!(f.len(), 1);
        assert!(
            f[0].message.contains(A) && f[0].message.contains(B),
            "{}",
            f[0].message
        );
        assert_eq!(
            check("demo", "1.0", &pin, &served(None), "uv.lock").len(),
            1
        );
        assert_eq!(check("demo", "1.0", &pin, &[], "uv.lock").len(), 1);
    }

    #[test]
    fn unnamed_hashes_must_match_some_file() {
        let pin = [Pinned {
            file: None,
            sha256: A,
        }];
        assert!(check("demo", "1.0", &pin, &served(Some(A)), "r.txt").is_empty());
        let f = check("demo", "1.0", &pin, &served(Some(B)), "r.txt");
        assert_eq!(f[0].code, "py-index-hash-mismatch");
        assert!(f[0].message.contains("no file"), "{}", f[0].message);
    }
}

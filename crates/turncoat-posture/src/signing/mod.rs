//! Signed commits and tags: which commits of the default branch and which tags carry a
//! signature, of which kind (OpenPGP, SSH, X.509/gitsign), and — when the team's keys are
//! given — which of them verify ([`keys`]).
//!
//! Only [`read_history`] does IO (the repository's object database through gix, opened
//! without reading any git configuration); the signature itself and the exact bytes it covers
//! come from gix-object (`CommitRefIter::signature`, `TagRefIter::signature`, which follow
//! git's own parsing), and verification is sans-IO. A signature is never trusted for what it
//! says about itself: the key that made it must be one the team gave, and the payload is the
//! object as stored, so a signature copied from another commit does not verify.

pub mod keys;

use std::collections::{BTreeMap, HashSet};
use std::path::{Path, PathBuf};

use gix::ObjectId;
use gix::bstr::ByteSlice as _;
use gix::prelude::FindExt as _;
use serde::Serialize;

pub use keys::{Keys, KeysError, Verification};

/// The `file` of signing findings: they belong to the history, not to a file.
pub const HISTORY: &str = "(git history)";

/// The kind of a git signature, from its armor.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum SigKind {
    Openpgp,
    Ssh,
    X509,
}

impl SigKind {
    pub fn as_str(self) -> &'static str {
        match self {
            SigKind::Openpgp => "OpenPGP",
            SigKind::Ssh => "SSH",
            SigKind::X509 => "X.509",
        }
    }

    fn from_gix(f: gix::objs::signature::Format) -> SigKind {
        match f {
            gix::objs::signature::Format::OpenPgp => SigKind::Openpgp,
            gix::objs::signature::Format::Ssh => SigKind::Ssh,
            gix::objs::signature::Format::X509 => SigKind::X509,
        }
    }
}

/// One commit of the default branch.
#[derive(Debug, Clone, Serialize)]
pub struct CommitSig {
    pub id: String,
    /// Committer time, Unix seconds.
    pub time: i64,
    pub kind: Option<SigKind>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub verification: Option<Verification>,
}

/// One tag (`refs/tags/*`).
#[derive(Debug, Clone, Serialize)]
pub struct TagSig {
    pub name: String,
    /// An annotated tag (a tag object); a lightweight tag cannot carry a signature.
    pub annotated: bool,
    /// The name looks like a release (`v1.2.3`, `1.2`, `pkg@1.0.0`).
    pub release: bool,
    pub time: i64,
    pub kind: Option<SigKind>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub verification: Option<Verification>,
}

/// The signing facts of one repository.
#[derive(Debug, Clone, Default, Serialize)]
pub struct History {
    /// The branch `HEAD` names (`main`), or `HEAD` when detached.
    pub branch: String,
    /// Commits reachable from `HEAD`, oldest first.
    pub commits: Vec<CommitSig>,
    pub tags: Vec<TagSig>,
    /// The walk stopped at [`Limits::max_commits`].
    pub truncated: bool,
    /// Keys were given: `verification` is filled in.
    pub keys_given: bool,
}

#[derive(Debug, Clone, Copy)]
pub struct Limits {
    pub max_commits: usize,
    pub max_tags: usize,
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            max_commits: 500_000,
            max_tags: 50_000,
        }
    }
}

#[derive(Debug, thiserror::Error)]
pub enum HistoryError {
    #[error("{path}: {message}")]
    Git { path: PathBuf, message: String },
}

fn git_err(path: &Path, what: &str, e: impl std::fmt::Display) -> HistoryError {
    HistoryError::Git {
        path: path.to_path_buf(),
        message: format!("{what}: {e}"),
    }
}

/// Does a tag name look like a release: an optional `v`, or a `name@` / `name-v` prefix, then
/// a digit-led dotted version?
pub fn is_release_tag(name: &str) -> bool {
    let tail = name.rsplit_once('@').map_or(name, |(_, t)| t);
    let tail = tail.rsplit_once("-v").map_or(tail, |(_, t)| t);
    let tail = tail.strip_prefix(['v', 'V']).unwrap_or(tail);
    let mut parts = tail.split('.');
    let first_ok = parts
        .next()
        .is_some_and(|p| !p.is_empty() && p.bytes().all(|b| b.is_ascii_digit()));
    first_ok && tail.contains('.')
}

/// Read the default branch's commits and every tag, verifying signatures against `keys`.
pub fn read_history(path: &Path, keys: &Keys, limits: &Limits) -> Result<History, HistoryError> {
    let mut repo = gix::open_opts(path, gix::open::Options::isolated())
        .map_err(|e| git_err(path, "not a git repository", e))?;
    repo.object_cache_size(0);
    let mut history = History {
        keys_given: keys.any(),
        branch: repo
            .head_name()
            .ok()
            .flatten()
            .map(|n| n.shorten().to_str_lossy().into_owned())
            .unwrap_or_else(|| "HEAD".to_string()),
        ..History::default()
    };
    if let Ok(head) = repo.head_id() {
        walk_commits(&repo, path, head.detach(), keys, limits, &mut history)?;
    }
    read_tags(&repo, path, keys, limits, &mut history)?;
    Ok(history)
}

fn walk_commits(
    repo: &gix::Repository,
    path: &Path,
    head: ObjectId,
    keys: &Keys,
    limits: &Limits,
    history: &mut History,
) -> Result<(), HistoryError> {
    let hash = repo.object_hash();
    let mut seen: HashSet<ObjectId> = HashSet::from([head]);
    let mut stack = vec![head];
    let mut buf = Vec::new();
    while let Some(id) = stack.pop() {
        if history.commits.len() >= limits.max_commits {
            history.truncated = true;
            break;
        }
        let Ok(data) = repo.objects.find(&id, &mut buf) else {
            continue; // a shallow boundary
        };
        if data.kind != gix::object::Kind::Commit {
            continue;
        }
        let bytes = data.data;
        let commit = gix::objs::CommitRef::from_bytes(bytes, hash)
            .map_err(|e| git_err(path, &format!("commit {id}"), e))?;
        for p in commit.parents() {
            if seen.insert(p) {
                stack.push(p);
            }
        }
        let time = commit.committer().map(|c| c.seconds()).unwrap_or(0);
        let (kind, verification) = match gix::objs::CommitRefIter::signature(bytes, hash) {
            Ok(Some((sig, signed))) => {
                let sig_bytes: &[u8] = sig.as_ref();
                match gix::objs::signature::Format::from_signature(sig_bytes) {
                    Some(f) => {
                        let kind = SigKind::from_gix(f);
                        let payload = signed.to_bstring();
                        (
                            Some(kind),
                            keys::verify(keys, kind, sig_bytes, &payload, time),
                        )
                    }
                    // A `gpgsig` header of no known armor: a signature git cannot check either.
                    None => (None, None),
                }
            }
            _ => (None, None),
        };
        history.commits.push(CommitSig {
            id: id.to_string(),
            time,
            kind,
            verification,
        });
    }
    history
        .commits
        .sort_by(|a, b| a.time.cmp(&b.time).then_with(|| a.id.cmp(&b.id)));
    Ok(())
}

fn read_tags(
    repo: &gix::Repository,
    path: &Path,
    keys: &Keys,
    limits: &Limits,
    history: &mut History,
) -> Result<(), HistoryError> {
    let platform = repo.references().map_err(|e| git_err(path, "refs", e))?;
    let iter = platform.tags().map_err(|e| git_err(path, "refs", e))?;
    let mut buf = Vec::new();
    for r in iter {
        let Ok(r) = r else { continue };
        if history.tags.len() >= limits.max_tags {
            history.truncated = true;
            break;
        }
        let name = r.name().shorten().to_str_lossy().into_owned();
        let release = is_release_tag(&name);
        let Some(id) = r.target().try_id().map(|i| i.to_owned()) else {
            continue; // a symbolic tag ref
        };
        let mut tag = TagSig {
            name,
            annotated: false,
            release,
            time: 0,
            kind: None,
            verification: None,
        };
        if let Ok(data) = repo.objects.find(&id, &mut buf)
            && data.kind == gix::object::Kind::Tag
        {
            tag.annotated = true;
            let bytes = data.data;
            if let Ok(t) = gix::objs::TagRef::from_bytes(bytes, repo.object_hash()) {
                tag.time = t.tagger().ok().flatten().map(|s| s.seconds()).unwrap_or(0);
            }
            if let Some((sig, signed)) = gix::objs::TagRefIter::signature(bytes) {
                let kind = SigKind::from_gix(sig.format);
                tag.kind = Some(kind);
                tag.verification = keys::verify(
                    keys,
                    kind,
                    sig.data.as_ref(),
                    &signed.to_bstring(),
                    tag.time,
                );
            }
        }
        history.tags.push(tag);
    }
    history.tags.sort_by(|a, b| a.name.cmp(&b.name));
    Ok(())
}

/// Percent with one decimal, `None` for an empty set.
pub fn pct(part: usize, whole: usize) -> Option<f64> {
    (whole > 0).then(|| ((part as f64) * 1000.0 / whole as f64).round() / 10.0)
}

/// One month of the trend (UTC, by committer time).
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct Month {
    pub month: String,
    pub commits: usize,
    pub signed: usize,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub verified: Option<usize>,
}

/// The numbers `fortify` reports about signing.
#[derive(Debug, Clone, Default, Serialize)]
pub struct Summary {
    pub branch: String,
    pub commits: usize,
    pub signed: usize,
    pub signed_pct: Option<f64>,
    /// Signed commits per kind.
    pub by_kind: BTreeMap<SigKind, usize>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub verified: Option<usize>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub verified_pct: Option<f64>,
    pub tags: usize,
    pub signed_tags: usize,
    pub signed_tags_pct: Option<f64>,
    pub release_tags: usize,
    pub signed_release_tags: usize,
    pub signed_release_tags_pct: Option<f64>,
    pub monthly: Vec<Month>,
    pub truncated: bool,
}

fn month_of(time: i64) -> String {
    time::OffsetDateTime::from_unix_timestamp(time)
        .map(|t| format!("{:04}-{:02}", t.year(), u8::from(t.month())))
        .unwrap_or_else(|_| "unknown".to_string())
}

impl Summary {
    pub fn of(h: &History) -> Summary {
        let signed = h.commits.iter().filter(|c| c.kind.is_some()).count();
        let mut by_kind = BTreeMap::new();
        for k in h.commits.iter().filter_map(|c| c.kind) {
            *by_kind.entry(k).or_default() += 1;
        }
        let is_verified =
            |v: &Option<Verification>| v.as_ref().is_some_and(Verification::is_verified);
        let verified = h.keys_given.then(|| {
            h.commits
                .iter()
                .filter(|c| is_verified(&c.verification))
                .count()
        });
        let mut months: BTreeMap<String, Month> = BTreeMap::new();
        for c in &h.commits {
            let key = month_of(c.time);
            let m = months.entry(key.clone()).or_insert_with(|| Month {
                month: key,
                verified: h.keys_given.then_some(0),
                ..Month::default()
            });
            m.commits += 1;
            m.signed += usize::from(c.kind.is_some());
            if let Some(v) = &mut m.verified {
                *v += usize::from(is_verified(&c.verification));
            }
        }
        let signed_tags = h.tags.iter().filter(|t| t.kind.is_some()).count();
        let release: Vec<&TagSig> = h.tags.iter().filter(|t| t.release).collect();
        let signed_release = release.iter().filter(|t| t.kind.is_some()).count();
        Summary {
            branch: h.branch.clone(),
            commits: h.commits.len(),
            signed,
            signed_pct: pct(signed, h.commits.len()),
            by_kind,
            verified,
            verified_pct: verified.and_then(|v| pct(v, h.commits.len())),
            tags: h.tags.len(),
            signed_tags,
            signed_tags_pct: pct(signed_tags, h.tags.len()),
            release_tags: release.len(),
            signed_release_tags: signed_release,
            signed_release_tags_pct: pct(signed_release, release.len()),
            monthly: months.into_values().collect(),
            truncated: h.truncated,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn release_tag_names() {
        for t in [
            "v1.2.3",
            "1.0",
            "V2.0.0-rc.1",
            "pkg@1.2.3",
            "@scope/pkg@2.0.0",
            "lib-v0.3.1",
        ] {
            assert!(is_release_tag(t), "{t}");
        }
        for t in ["latest", "v1", "nightly-2024", "release", "vx.1", ""] {
            assert!(!is_release_tag(t), "{t}");
        }
    }

    #[test]
    fn percentages_round_to_one_decimal() {
        assert_eq!(pct(1, 3), Some(33.3));
        assert_eq!(pct(2, 3), Some(66.7));
        assert_eq!(pct(0, 0), None);
        assert_eq!(pct(5, 5), Some(100.0));
    }

    #[test]
    fn summary_counts_kinds_months_and_tags() {
        let c = |time, kind, verified: Option<bool>| CommitSig {
            id: format!("{time}"),
            time,
            kind,
            verification: verified.map(|v| {
                if v {
                    Verification::Verified { signer: "a".into() }
                } else {
                    Verification::Unverified { reason: "x".into() }
                }
            }),
        };
        let h = History {
            branch: "main".into(),
            commits: vec![
                c(0, None, Some(false)),
                c(10, Some(SigKind::Ssh), Some(true)),
                c(40 * 86400, Some(SigKind::Openpgp), Some(false)),
                c(41 * 86400, Some(SigKind::Ssh), Some(true)),
            ],
            tags: vec![TagSig {
                name: "v1.0.0".into(),
                annotated: false,
                release: true,
                time: 0,
                kind: None,
                verification: None,
            }],
            truncated: false,
            keys_given: true,
        };
        let s = Summary::of(&h);
        assert_eq!((s.commits, s.signed, s.signed_pct), (4, 3, Some(75.0)));
        assert_eq!(s.by_kind[&SigKind::Ssh], 2);
        assert_eq!(s.verified_pct, Some(50.0));
        assert_eq!(s.monthly.len(), 2);
        assert_eq!(s.monthly[0].month, "1970-01");
        assert_eq!(
            (
                s.monthly[1].commits,
                s.monthly[1].signed,
                s.monthly[1].verified
            ),
            (2, 2, Some(1))
        );
        assert_eq!((s.release_tags, s.signed_release_tags_pct), (1, Some(0.0)));
    }
}

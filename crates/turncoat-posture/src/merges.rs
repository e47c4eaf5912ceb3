//! Time-to-merge of dependency-update pull requests, from a repository's git history
//! (the `dependency-pr-time-to-merge` battlecard metric, `turncoat metrics merge-times`).
//!
//! **Definition.** Walk the first-parent chain of `HEAD` (the default branch as merged). A
//! *dependency-update merge* is a merge commit `M` on that chain whose tree differs from its
//! first parent's (`M^1`, the default branch before the merge) in at least one lockfile
//! ([`LOCKFILES`], at any depth outside `node_modules`). The *branch* is every commit reachable
//! from the other parents (`M^2`, ...) and not from `M^1`, i.e. what `git log M^1..M^2` lists.
//! The time to merge is `M`'s committer time minus the earliest **author** time among the
//! branch's commits (Dependabot and Renovate keep the author time when they rebase a PR, so it
//! is when the update was first proposed). Squash and rebase merges leave no merge commit and
//! are not seen; a merge whose branch is empty (already merged) or whose time comes out
//! negative (clock skew) is counted as skipped, not measured.
//!
//! The median over the measured merges is the sample. A short time is the window in which a
//! hijacked release reaches the default branch before anyone could hear of it; a cooldown
//! lengthens it on purpose.
//!
//! IO: the object database through gix (opened isolated: no user or system git
//! configuration). The "branch" walk is hand-written (git's merge-base painting: flags from
//! both sides, newest committer time first, stop when every queued commit is reachable from
//! both): the minimal gix build used across turncoat (no `revision` feature) has no
//! merge-base, and the walk is some 40 lines. Bounded by [`MergeLimits`].

use std::collections::{BTreeSet, BinaryHeap, HashMap};
use std::path::Path;

use gix::ObjectId;
use gix::bstr::ByteSlice as _;
use gix::prelude::FindExt as _;
use serde::Serialize;
use time::OffsetDateTime;

use crate::signing::HistoryError;

/// File names that are lockfiles (any ecosystem: a dependency update changes one of them).
pub const LOCKFILES: &[&str] = &[
    "package-lock.json",
    "npm-shrinkwrap.json",
    "yarn.lock",
    "pnpm-lock.yaml",
    "bun.lock",
    "bun.lockb",
    "poetry.lock",
    "uv.lock",
    "Pipfile.lock",
    "pdm.lock",
    "Cargo.lock",
    "Gemfile.lock",
    "composer.lock",
    "go.sum",
];

/// Folders whose lockfiles are not the project's.
const SKIP_DIRS: &[&str] = &["node_modules", ".git"];

#[derive(Debug, Clone)]
pub struct MergeLimits {
    /// First-parent commits walked from `HEAD`.
    pub max_first_parent: usize,
    /// Commits visited to find one merge's branch.
    pub max_walk_per_merge: usize,
    /// File names that count as lockfiles (default [`LOCKFILES`]).
    pub files: Vec<String>,
}

impl Default for MergeLimits {
    fn default() -> Self {
        MergeLimits {
            max_first_parent: 200_000,
            max_walk_per_merge: 100_000,
            files: LOCKFILES.iter().map(|s| s.to_string()).collect(),
        }
    }
}

/// One measured dependency-update merge.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct MergeTime {
    pub merge: String,
    /// The merge's committer time (Unix seconds).
    pub merged_at: i64,
    /// The earliest author time among the branch's commits.
    pub first_commit_at: i64,
    pub seconds: i64,
    pub branch_commits: usize,
    /// The lockfiles the merge changed (paths).
    pub lockfiles: Vec<String>,
    /// A branch commit's author name ends in `[bot]` (Dependabot, Renovate).
    pub bot: bool,
}

/// The merge times of one repository.
#[derive(Debug, Clone, Default, Serialize)]
pub struct MergeTimes {
    pub repo: String,
    /// The branch `HEAD` names, or `HEAD` when detached.
    pub branch: String,
    /// Merge commits on the first-parent chain.
    pub merges_seen: usize,
    /// Of those, merges that changed a lockfile and were measured.
    pub merges: Vec<MergeTime>,
    /// Merges that changed a lockfile but could not be measured (empty branch, negative
    /// time, walk limit).
    pub skipped: usize,
    /// The first-parent walk stopped at its limit.
    pub truncated: bool,
}

impl MergeTimes {
    /// Median time to merge, seconds (None without a measured merge).
    pub fn median(&self) -> Option<f64> {
        let mut v: Vec<i64> = self.merges.iter().map(|m| m.seconds).collect();
        if v.is_empty() {
            return None;
        }
        v.sort_unstable();
        let n = v.len();
        Some(if n % 2 == 1 {
            v[n / 2] as f64
        } else {
            (v[n / 2 - 1] as f64 + v[n / 2] as f64) / 2.0
        })
    }

    /// The `dependency-pr-time-to-merge` sample (none without a measured merge: no merge is
    /// not a time of zero).
    pub fn samples(&self, at: OffsetDateTime) -> Vec<turncoat_metrics::Sample> {
        let Some(median) = self.median() else {
            return Vec::new();
        };
        let Ok(s) =
            turncoat_metrics::Sample::new("dependency-pr-time-to-merge", median, at, &self.repo)
        else {
            return Vec::new();
        };
        let min = self.merges.iter().map(|m| m.seconds).min().unwrap_or(0);
        let max = self.merges.iter().map(|m| m.seconds).max().unwrap_or(0);
        vec![
            s.with("merges", self.merges.len())
                .with("bot_merges", self.merges.iter().filter(|m| m.bot).count())
                .with("min_seconds", min)
                .with("max_seconds", max)
                .with("branch", self.branch.clone()),
        ]
    }
}

fn git_err(path: &Path, what: &str, e: impl std::fmt::Display) -> HistoryError {
    HistoryError::Git {
        path: path.to_path_buf(),
        message: format!("{what}: {e}"),
    }
}

/// A tree entry: (is a tree, is a blob, object id).
type Entry = (bool, bool, ObjectId);

/// What the walks need of a commit.
struct CommitInfo {
    parents: Vec<ObjectId>,
    tree: ObjectId,
    committer: i64,
    author: i64,
    bot: bool,
}

struct Reader<'a> {
    repo: &'a gix::Repository,
    path: &'a Path,
    cache: HashMap<ObjectId, std::rc::Rc<CommitInfo>>,
    buf: Vec<u8>,
}

impl Reader<'_> {
    /// A commit's facts; None for an object missing from a shallow clone.
    fn commit(&mut self, id: ObjectId) -> Result<Option<std::rc::Rc<CommitInfo>>, HistoryError> {
        if let Some(c) = self.cache.get(&id) {
            return Ok(Some(c.clone()));
        }
        let Ok(data) = self.repo.objects.find(&id, &mut self.buf) else {
            return Ok(None);
        };
        if data.kind != gix::object::Kind::Commit {
            return Ok(None);
        }
        let c = gix::objs::CommitRef::from_bytes(data.data, self.repo.object_hash())
            .map_err(|e| git_err(self.path, &format!("commit {id}"), e))?;
        let author = c.author().ok();
        let info = std::rc::Rc::new(CommitInfo {
            parents: c.parents().collect(),
            tree: c.tree(),
            committer: c.committer().map(|s| s.seconds()).unwrap_or(0),
            author: author.map(|s| s.seconds()).unwrap_or(0),
            bot: author.is_some_and(|a| a.name.ends_with_str("[bot]")),
        });
        self.cache.insert(id, info.clone());
        Ok(Some(info))
    }

    /// Entries of a tree as (name, is_tree, oid); empty for None or an unreadable tree.
    fn entries(&mut self, tree: Option<ObjectId>) -> Vec<(String, bool, bool, ObjectId)> {
        let Some(id) = tree else { return Vec::new() };
        let Ok(t) = self.repo.objects.find_tree(&id, &mut self.buf) else {
            return Vec::new();
        };
        t.entries
            .iter()
            .map(|e| {
                (
                    e.filename.to_str_lossy().into_owned(),
                    e.mode.is_tree(),
                    e.mode.is_blob(),
                    e.oid.to_owned(),
                )
            })
            .collect()
    }

    /// Lockfile paths that differ between two trees, descending only into subtrees that
    /// differ.
    fn lockfile_changes(
        &mut self,
        a: Option<ObjectId>,
        b: Option<ObjectId>,
        files: &[String],
        prefix: &str,
        out: &mut BTreeSet<String>,
    ) {
        if a == b {
            return;
        }
        let mut side: HashMap<String, [Option<Entry>; 2]> = HashMap::new();
        for (i, tree) in [a, b].into_iter().enumerate() {
            for (name, is_tree, is_blob, oid) in self.entries(tree) {
                side.entry(name).or_default()[i] = Some((is_tree, is_blob, oid));
            }
        }
        for (name, [x, y]) in side {
            if x.map(|e| e.2) == y.map(|e| e.2) {
                continue;
            }
            let path = if prefix.is_empty() {
                name.clone()
            } else {
                format!("{prefix}/{name}")
            };
            let sub = |e: Option<Entry>| e.filter(|e| e.0).map(|e| e.2);
            let (ta, tb) = (sub(x), sub(y));
            if (ta.is_some() || tb.is_some()) && !SKIP_DIRS.contains(&name.as_str()) {
                self.lockfile_changes(ta, tb, files, &path, out);
            }
            let blob = |e: Option<Entry>| e.is_some_and(|e| e.1);
            if (blob(x) || blob(y)) && files.contains(&name) {
                out.insert(path);
            }
        }
    }

    /// Commits reachable from `tip` and not from `base` (`git rev-list base..tip`), or None
    /// when the walk passes `max` commits.
    fn branch(
        &mut self,
        base: ObjectId,
        tip: ObjectId,
        max: usize,
    ) -> Result<Option<Vec<ObjectId>>, HistoryError> {
        const BASE: u8 = 1;
        const TIP: u8 = 2;
        let mut flags: HashMap<ObjectId, u8> = HashMap::from([(base, BASE)]);
        *flags.entry(tip).or_insert(0) |= TIP;
        let mut queue = BinaryHeap::new();
        for id in [base, tip] {
            if let Some(c) = self.commit(id)? {
                queue.push((c.committer, id));
            }
        }
        let mut visited = 0usize;
        while let Some((_, id)) = queue.pop() {
            // Stop when everything still queued is reachable from both sides.
            let f = flags[&id];
            if f == BASE | TIP && queue.iter().all(|(_, q)| flags[q] == BASE | TIP) {
                break;
            }
            visited += 1;
            if visited > max {
                return Ok(None);
            }
            let Some(c) = self.commit(id)? else { continue };
            for p in &c.parents {
                let old = flags.get(p).copied().unwrap_or(0);
                if old | f != old {
                    flags.insert(*p, old | f);
                    if let Some(pc) = self.commit(*p)? {
                        queue.push((pc.committer, *p));
                    }
                }
            }
        }
        let mut out: Vec<ObjectId> = flags
            .into_iter()
            .filter(|(_, f)| *f == TIP)
            .map(|(id, _)| id)
            .collect();
        out.sort();
        Ok(Some(out))
    }
}

/// Measure every dependency-update merge on `HEAD`'s first-parent chain.
pub fn merge_times(path: &Path, limits: &MergeLimits) -> Result<MergeTimes, HistoryError> {
    let mut repo = gix::open_opts(path, gix::open::Options::isolated())
        .map_err(|e| git_err(path, "not a git repository", e))?;
    repo.object_cache_size(4 << 20);
    let mut out = MergeTimes {
        repo: std::fs::canonicalize(path)
            .unwrap_or_else(|_| path.to_path_buf())
            .display()
            .to_string(),
        branch: repo
            .head_name()
            .ok()
            .flatten()
            .map(|n| n.shorten().to_str_lossy().into_owned())
            .unwrap_or_else(|| "HEAD".to_string()),
        ..MergeTimes::default()
    };
    let Ok(head) = repo.head_id() else {
        return Ok(out); // an unborn branch: nothing merged yet
    };
    let mut reader = Reader {
        repo: &repo,
        path,
        cache: HashMap::new(),
        buf: Vec::new(),
    };
    let mut next = Some(head.detach());
    let mut walked = 0usize;
    while let Some(id) = next.take() {
        if walked >= limits.max_first_parent {
            out.truncated = true;
            break;
        }
        walked += 1;
        let Some(c) = reader.commit(id)? else { break };
        next = c.parents.first().copied();
        if c.parents.len() < 2 {
            continue;
        }
        out.merges_seen += 1;
        let base = c.parents[0];
        let base_tree = reader.commit(base)?.map(|b| b.tree);
        let mut changed = BTreeSet::new();
        reader.lockfile_changes(base_tree, Some(c.tree), &limits.files, "", &mut changed);
        if changed.is_empty() {
            continue;
        }
        match measure(&mut reader, id, &c, limits)? {
            Some(mut m) => {
                m.lockfiles = changed.into_iter().collect();
                out.merges.push(m);
            }
            None => out.skipped += 1,
        }
    }
    // A first-parent chain is newest first; report oldest first.
    out.merges.reverse();
    Ok(out)
}

/// The time to merge of one merge commit (None: empty branch, negative time, walk limit).
fn measure(
    reader: &mut Reader,
    id: ObjectId,
    merge: &CommitInfo,
    limits: &MergeLimits,
) -> Result<Option<MergeTime>, HistoryError> {
    let base = merge.parents[0];
    let mut branch = BTreeSet::new();
    for tip in &merge.parents[1..] {
        match reader.branch(base, *tip, limits.max_walk_per_merge)? {
            Some(ids) => branch.extend(ids),
            None => return Ok(None),
        }
    }
    let mut first: Option<i64> = None;
    let mut bot = false;
    for b in &branch {
        if let Some(c) = reader.commit(*b)? {
            first = Some(first.map_or(c.author, |f| f.min(c.author)));
            bot |= c.bot;
        }
    }
    let Some(first) = first else { return Ok(None) };
    let seconds = merge.committer - first;
    if seconds < 0 {
        return Ok(None);
    }
    Ok(Some(MergeTime {
        merge: id.to_string(),
        merged_at: merge.committer,
        first_commit_at: first,
        seconds,
        branch_commits: branch.len(),
        lockfiles: Vec::new(),
        bot,
    }))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn times(secs: &[i64]) -> MergeTimes {
        MergeTimes {
            repo: "/r".into(),
            branch: "main".into(),
            merges: secs
                .iter()
                .map(|s| MergeTime {
                    merge: "m".into(),
                    merged_at: 0,
                    first_commit_at: 0,
                    seconds: *s,
                    branch_commits: 1,
                    lockfiles: vec![],
                    bot: false,
                })
                .collect(),
            ..MergeTimes::default()
        }
    }

    #[test]
    fn median_of_odd_and_even_counts_and_no_sample_without_a_merge() {
        assert_eq!(times(&[30, 10, 20]).median(), Some(20.0));
        assert_eq!(times(&[40, 10, 20, 30]).median(), Some(25.0));
        assert_eq!(times(&[]).median(), None);
        assert!(times(&[]).samples(OffsetDateTime::UNIX_EPOCH).is_empty());
        let s = times(&[3600, 7200, 60]).samples(OffsetDateTime::UNIX_EPOCH);
        assert_eq!(s[0].metric, "dependency-pr-time-to-merge");
        assert_eq!(s[0].value, 3600.0);
        assert_eq!(s[0].detail["merges"], 3);
        assert_eq!(s[0].detail["min_seconds"], 60);
    }
}

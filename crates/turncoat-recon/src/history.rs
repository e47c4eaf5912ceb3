//! Reading a repository's whole history with gix (the only module here that does I/O on a
//! repository, with `packed.rs`; everything it returns is data for the sans-IO judges).
//!
//! One pass: the commits reachable from every ref (and a detached `HEAD`) are read on one
//! thread; each run of commits read goes to another thread, which walks its trees (a tree
//! already seen in a run holds only blobs already seen), and the earliest commit over all runs
//! wins each blob, so every blob is attributed to the first commit and path that introduced
//! it. Identities and commit messages are taken in parallel meanwhile. Every blob is then
//! scanned once, in parallel: those in packs through one delta tree per pack
//! (`packed.rs`), the rest one object at a time. No `git` process runs.
//!
//! Memory is bounded per blob: a blob larger than [`ScanOptions::max_blob_bytes`] is not
//! scanned (capped, not streamed: pack entries are delta-compressed against whole objects, so a
//! blob is decoded in one buffer). Its size is read before it is inflated (from the pack entry
//! or the object header), except for a delta in a pack's tree, which is decoded within gix's
//! per-buffer limit first. Such blobs are listed in the report (`history-blob-not-scanned`),
//! never silently skipped.

use std::collections::{HashMap, HashSet};
use std::path::{Path, PathBuf};

use gix::ObjectId;
use gix::bstr::ByteSlice;
use gix::prelude::FindExt;
use rayon::prelude::*;

use crate::Error;
use crate::detect::{self, Hit};
use crate::identity::Signature;
use crate::packed;

/// Sets and maps keyed by object id, with gix's hasher (an id is already a hash: its first
/// bytes are used as is, where SipHash cost 2 % of a scan).
type IdSet = gix::hashtable::HashSet<ObjectId>;
type IdMap<V> = gix::hashtable::HashMap<ObjectId, V>;

/// Delta-base cache of all scanning threads together (each gets its share, at least 16 MiB).
const PACK_CACHE_BYTES: usize = 128 * 1024 * 1024;

/// How a repository is scanned.
#[derive(Debug, Clone)]
pub struct ScanOptions {
    /// Only commits made at or after this time (seconds since the epoch, committer time).
    pub since: Option<i64>,
    /// Blobs larger than this are listed as not scanned instead of being read.
    pub max_blob_bytes: u64,
    /// Scan blobs for secrets (identities are always collected).
    pub secrets: bool,
}

impl Default for ScanOptions {
    fn default() -> Self {
        ScanOptions {
            since: None,
            max_blob_bytes: 32 * 1024 * 1024,
            secrets: true,
        }
    }
}

/// `--since`: a date (`YYYY-MM-DD`, midnight UTC) or an RFC 3339 time, as Unix seconds.
pub fn parse_since(s: &str) -> Option<i64> {
    use time::format_description::well_known::Rfc3339;
    let s = s.trim();
    if let Ok(t) = time::OffsetDateTime::parse(s, &Rfc3339) {
        return Some(t.unix_timestamp());
    }
    let fmt = time::macros::format_description!("[year]-[month]-[day]");
    time::Date::parse(s, &fmt)
        .ok()
        .map(|d| d.midnight().assume_utc().unix_timestamp())
}

/// One commit, as the secret findings cite it.
#[derive(Debug, Clone)]
pub struct CommitInfo {
    pub id: String,
    /// Committer time, seconds since the epoch.
    pub time: i64,
    pub author_email: String,
}

/// A secret found in a blob, with the first commit and path that introduced the blob.
#[derive(Debug, Clone)]
pub struct BlobHit {
    pub hit: Hit,
    /// Index into [`RepoFacts::commits`].
    pub commit: usize,
    pub path: String,
    /// The blob is in `HEAD`'s tree, at this path.
    pub head_path: Option<String>,
    /// Found in a commit or tag message, not a file (`path` is then [`MESSAGE_PATH`]).
    pub in_message: bool,
}

/// The path cited for a secret found in a commit message (a tag message is cited as
/// `(tag NAME message)` at the commit the tag points to).
pub const MESSAGE_PATH: &str = "(commit message)";

/// A commit or tag message to scan for secrets.
struct Message {
    /// The commit it is cited at.
    commit: ObjectId,
    path: String,
    text: Vec<u8>,
}

/// A blob that was not read because of its size.
#[derive(Debug, Clone)]
pub struct SkippedBlob {
    pub blob: String,
    pub commit: usize,
    pub path: String,
    pub size: u64,
}

/// Everything the judges need about one repository.
#[derive(Debug, Default)]
pub struct RepoFacts {
    pub path: PathBuf,
    /// Commits in scope, oldest first.
    pub commits: Vec<CommitInfo>,
    /// Author, committer and identity trailers of every commit in scope, and the tagger of
    /// every annotated tag, `.mailmap` applied.
    pub signatures: Vec<Signature>,
    pub blobs_scanned: u64,
    pub bytes_scanned: u64,
    pub binary_blobs: u64,
    pub skipped: Vec<SkippedBlob>,
    pub hits: Vec<BlobHit>,
    /// `HEAD` names no commit (empty repository).
    pub no_head: bool,
    /// The organisation the repository belongs to: the owner in `remote.origin.url`
    /// (`github.com/OWNER/repo`), else the name of the directory that holds the repository.
    /// Only the owner is kept; the URL (which can carry credentials) is not.
    pub organisation: String,
}

fn git_err(path: &Path, what: &str, e: impl std::fmt::Display) -> Error {
    Error::Git {
        path: path.to_path_buf(),
        message: format!("{what}: {e}"),
    }
}

/// Open a repository without reading the user's or the system's git configuration.
pub fn open(path: &Path) -> Result<gix::Repository, Error> {
    let mut repo = gix::open_opts(path, gix::open::Options::isolated())
        .map_err(|e| git_err(path, "not a git repository", e))?;
    // Every commit, tree and blob is read once: an object cache would only copy each of them
    // in (it cost 7 % of a scan). Delta bases are cached separately (the pack cache).
    repo.object_cache_size(0);
    Ok(repo)
}

/// Scan one repository's history.
pub fn scan_repo(
    path: &Path,
    opts: &ScanOptions,
    progress: &dyn Fn(&str),
) -> Result<RepoFacts, Error> {
    let repo = open(path)?;
    let mailmap = read_mailmap(&repo);
    let mut facts = RepoFacts {
        path: path.to_path_buf(),
        ..RepoFacts::default()
    };
    facts.organisation = organisation(
        repo.config_snapshot()
            .string("remote.origin.url")
            .map(|u| u.to_str_lossy().into_owned())
            .as_deref(),
        path,
    );
    let head = repo.head_id().ok().map(|id| id.detach());
    facts.no_head = head.is_none();
    let (tips, tags) = tips(&repo, path)?;
    progress(&format!(
        "{}: reading commits and walking their trees",
        path.display()
    ));
    // One thread reads the commits; each run of them read goes to another thread for its
    // trees, and the identities are taken while the last runs are walked.
    let (hash, sync) = (repo.object_hash(), repo.clone().into_sync());
    let found = Shards::default();
    let (read, (sigs, message_hits)) = rayon::scope(|s| -> Result<_, Error> {
        let repo = sync.to_thread_local();
        let mut walk = |run: Run| {
            let (sync, found) = (&sync, &found);
            s.spawn(move |_| found.add(walk_run(&sync.to_thread_local(), run)));
        };
        let read = read_commits(&repo, path, tips, opts.secrets.then_some(&mut walk))?;
        let identities = commit_identities(hash, &read, &mailmap, opts);
        Ok((read, identities))
    })?;
    let scope;
    (facts.commits, scope) = commit_list(&read, &sigs, opts);
    facts.signatures = sigs;
    drop(read);
    let mut messages = Vec::new();
    read_tags(&repo, &tags, &mailmap, opts, &mut facts, &mut messages);
    if !opts.secrets {
        return Ok(facts);
    }
    let blobs = found.in_scope(&scope)?;
    let head_blobs = match head {
        Some(h) => head_blobs(&repo, path, h)?,
        None => IdMap::default(),
    };
    for (commit, hits) in message_hits {
        let Some(&commit) = scope.get(&commit) else {
            continue;
        };
        facts.hits.extend(hits.into_iter().map(|hit| BlobHit {
            hit,
            commit,
            path: MESSAGE_PATH.to_string(),
            head_path: None,
            in_message: true,
        }));
    }
    scan_messages(messages, &scope, &mut facts);
    progress(&format!(
        "{}: scanning {} blobs",
        path.display(),
        blobs.len()
    ));
    scan_blobs(&repo, path, blobs, &head_blobs, opts, &mut facts)?;
    Ok(facts)
}

/// The owner segment of a forge URL (`https://host/OWNER/repo.git`, `git@host:OWNER/repo`,
/// `ssh://git@host/OWNER/repo`), else the name of the directory holding `repo_path`.
pub fn organisation(origin: Option<&str>, repo_path: &Path) -> String {
    let from_url = origin.and_then(|u| {
        let rest = if let Some((_, r)) = u.split_once("://") {
            // Drop the host (and any user:password@ before it).
            r.split_once('/')?.1
        } else if let Some((host, r)) = u.split_once(':') {
            // scp-like `git@host:owner/repo`; a Windows or local path has no `@` host.
            if !host.contains('@') {
                return None;
            }
            r
        } else {
            return None;
        };
        let owner = rest.trim_start_matches('/').split('/').next()?;
        (!owner.is_empty() && rest.contains('/')).then(|| owner.to_string())
    });
    from_url.unwrap_or_else(|| {
        let abs = std::path::absolute(repo_path).unwrap_or_else(|_| repo_path.to_path_buf());
        abs.parent()
            .and_then(|p| p.file_name())
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_default()
    })
}

/// `HEAD:.mailmap` (the committed file, what everyone reads). The repository's own
/// `mailmap.file` setting is not honoured: a repository under scan must not make us read a
/// file outside it.
fn read_mailmap(repo: &gix::Repository) -> gix_mailmap::Snapshot {
    let blob = (|| {
        let commit = repo.head_commit().ok()?;
        let tree = commit.tree().ok()?;
        let entry = tree.find_entry(".mailmap")?;
        let mut buf = Vec::new();
        let size = repo.find_header(entry.object_id()).ok()?.size();
        if size > 4 * 1024 * 1024 {
            return None;
        }
        repo.objects
            .find_blob(&entry.object_id(), &mut buf)
            .ok()
            .map(|b| b.data.to_vec())
    })();
    blob.map(|b| gix_mailmap::Snapshot::from_bytes(&b))
        .unwrap_or_default()
}

/// Every ref and `HEAD`, peeled to commits (tags to blobs or trees are ignored), and the
/// annotated tag objects the refs point at (for their tagger and message).
fn tips(repo: &gix::Repository, path: &Path) -> Result<(Vec<ObjectId>, Vec<ObjectId>), Error> {
    let mut out = Vec::new();
    let mut tags = Vec::new();
    if let Ok(id) = repo.head_id() {
        out.push(id.detach());
    }
    let platform = repo.references().map_err(|e| git_err(path, "refs", e))?;
    let iter = platform.all().map_err(|e| git_err(path, "refs", e))?;
    for r in iter {
        let mut r = r.map_err(|e| git_err(path, "refs", e))?;
        if let Some(direct) = r.target().try_id().map(|id| id.to_owned())
            && repo
                .find_header(direct)
                .is_ok_and(|h| h.kind() == gix::object::Kind::Tag)
        {
            tags.push(direct);
        }
        let peeled = r
            .peel_to_id()
            .map_err(|e| git_err(path, "refs", e))?
            .detach();
        out.push(peeled);
    }
    out.sort();
    out.dedup();
    tags.sort();
    tags.dedup();
    Ok((out, tags))
}

/// Taggers and messages of annotated tags (a tag of a tag is followed, a few levels at most).
fn read_tags(
    repo: &gix::Repository,
    tags: &[ObjectId],
    mailmap: &gix_mailmap::Snapshot,
    opts: &ScanOptions,
    facts: &mut RepoFacts,
    messages: &mut Vec<Message>,
) {
    const MAX_TAG_CHAIN: usize = 8;
    let mut seen = HashSet::new();
    let mut buf = Vec::new();
    for &start in tags {
        let mut id = start;
        let mut texts: Vec<(String, Vec<u8>)> = Vec::new();
        for _ in 0..MAX_TAG_CHAIN {
            if !seen.insert(id) {
                break;
            }
            let Ok(data) = repo.objects.find(&id, &mut buf) else {
                break;
            };
            if data.kind != gix::object::Kind::Tag {
                break;
            }
            let Ok(tag) = gix::objs::TagRef::from_bytes(data.data, repo.object_hash()) else {
                break;
            };
            let time = tag
                .tagger()
                .ok()
                .flatten()
                .map(|t| t.seconds())
                .unwrap_or(0);
            if opts.since.is_none_or(|s| time >= s) {
                if let Ok(Some(tagger)) = tag.tagger() {
                    facts.signatures.push(signature(
                        mailmap,
                        &id,
                        crate::identity::Role::Tagger,
                        tagger.trim(),
                    ));
                }
                if opts.secrets {
                    let name = tag.name.to_str_lossy().replace(char::is_control, "?");
                    texts.push((format!("(tag {name} message)"), tag.message.to_vec()));
                }
            }
            id = tag.target();
            if tag.target_kind != gix::object::Kind::Tag {
                // Messages are cited at the commit the tag names; a tag of a tree or blob has
                // no commit to cite and is not scanned.
                if tag.target_kind == gix::object::Kind::Commit {
                    messages.extend(texts.drain(..).map(|(path, text)| Message {
                        commit: id,
                        path,
                        text,
                    }));
                }
                break;
            }
        }
    }
}

/// Secrets in tag messages, cited at their commit (only commits in scope).
fn scan_messages(messages: Vec<Message>, index: &IdMap<usize>, facts: &mut RepoFacts) {
    let found: Vec<Vec<BlobHit>> = messages
        .par_iter()
        .map(|m| {
            let Some(&commit) = index.get(&m.commit) else {
                return Vec::new();
            };
            detect::scan(&m.path, &m.text)
                .into_iter()
                .map(|hit| BlobHit {
                    hit,
                    commit,
                    path: m.path.clone(),
                    head_path: None,
                    in_message: true,
                })
                .collect()
        })
        .collect();
    facts.hits.extend(found.into_iter().flatten());
}

/// One identity line, `.mailmap` applied.
fn signature(
    mailmap: &gix_mailmap::Snapshot,
    id: &ObjectId,
    role: crate::identity::Role,
    sig: gix::actor::SignatureRef<'_>,
) -> Signature {
    let mapped = mailmap.resolve_cow(sig);
    Signature {
        commit: id.to_string(),
        role,
        name: sig.name.to_str_lossy().into_owned(),
        email: sig.email.to_str_lossy().into_owned(),
        canonical_name: mapped.name.to_str_lossy().into_owned(),
        canonical_email: mapped.email.to_str_lossy().into_owned(),
        time: sig.seconds(),
    }
}

/// Identity trailers (`Co-authored-by: Name <address>`, `Signed-off-by:`, ...) of a message.
fn trailer_signatures(
    mailmap: &gix_mailmap::Snapshot,
    id: &ObjectId,
    commit: &gix::objs::CommitRef<'_>,
    time: gix::date::SecondsSinceUnixEpoch,
    out: &mut Vec<Signature>,
) {
    for t in commit.message_trailers() {
        let Some(role) = crate::identity::trailer_role(&t.token.to_str_lossy()) else {
            continue;
        };
        let person = turncoat_npm::Person::parse(&t.value.to_str_lossy());
        let Some(email) = person.email.filter(|e| !e.is_empty()) else {
            continue;
        };
        let name = person.name.unwrap_or_default();
        let when = gix::date::Time::new(time, 0).to_string();
        let sig = gix::actor::SignatureRef {
            name: name.as_bytes().as_bstr(),
            email: email.as_bytes().as_bstr(),
            time: &when,
        };
        let mut s = signature(mailmap, id, role, sig);
        s.time = time;
        out.push(s);
    }
}

/// A commit as the walk read it: its tree and committer time for the tree walk, its bytes for
/// the identities and the message.
struct ReadCommit {
    id: ObjectId,
    tree: ObjectId,
    time: i64,
    data: Vec<u8>,
}

/// Every commit reachable from `tips`, in the order the walk met them (depth first). Only this
/// walk is sequential (a commit's parents are known once it is read); the identities and
/// messages are taken from the bytes afterwards, in parallel.
fn read_commits(
    repo: &gix::Repository,
    path: &Path,
    tips: Vec<ObjectId>,
    mut walk: Option<&mut dyn FnMut(Run)>,
) -> Result<Vec<ReadCommit>, Error> {
    let mut seen: IdSet = tips.iter().copied().collect();
    let mut stack = tips;
    let mut buf = Vec::new();
    let mut out = Vec::new();
    let mut run = Run::with_capacity(RUN);
    while let Some(id) = stack.pop() {
        let Ok(data) = repo.objects.find(&id, &mut buf) else {
            // A shallow clone's boundary or a ref to a missing object: nothing to read.
            continue;
        };
        if data.kind != gix::object::Kind::Commit {
            continue;
        }
        let commit = gix::objs::CommitRef::from_bytes(data.data, repo.object_hash())
            .map_err(|e| git_err(path, &format!("commit {id}"), e))?;
        for p in commit.parents() {
            if seen.insert(p) {
                stack.push(p);
            }
        }
        let c = ReadCommit {
            id,
            tree: commit.tree(),
            time: commit.committer().map(|c| c.seconds()).unwrap_or(0),
            data: data.data.to_vec(),
        };
        if let Some(walk) = walk.as_mut() {
            run.push((c.time, c.id, c.tree));
            if run.len() == RUN {
                walk(std::mem::replace(&mut run, Run::with_capacity(RUN)));
            }
        }
        out.push(c);
    }
    if let Some(walk) = walk.as_mut()
        && !run.is_empty()
    {
        walk(run);
    }
    Ok(out)
}

/// The secrets in one commit's message.
type MessageHits = (ObjectId, Vec<Hit>);

/// The author, committer and identity trailers of each commit in scope, and the secrets in its
/// message when secrets are scanned, in the order of `commits`.
fn commit_identities(
    hash: gix::hash::Kind,
    commits: &[ReadCommit],
    mailmap: &gix_mailmap::Snapshot,
    opts: &ScanOptions,
) -> (Vec<Signature>, Vec<MessageHits>) {
    let per_commit: Vec<(Vec<Signature>, Option<MessageHits>)> = commits
        .par_iter()
        .filter(|c| opts.since.is_none_or(|s| c.time >= s))
        .map(|c| {
            let mut sigs = Vec::new();
            // It parsed in `read_commits`.
            let Ok(commit) = gix::objs::CommitRef::from_bytes(&c.data, hash) else {
                return (sigs, None);
            };
            for (sig, role) in [
                (commit.author().ok(), crate::identity::Role::Author),
                (commit.committer().ok(), crate::identity::Role::Committer),
            ] {
                let Some(sig) = sig else { continue };
                sigs.push(signature(mailmap, &c.id, role, sig.trim()));
            }
            trailer_signatures(mailmap, &c.id, &commit, c.time, &mut sigs);
            let found = opts
                .secrets
                .then(|| (c.id, detect::scan(MESSAGE_PATH, commit.message)))
                .filter(|(_, hits)| !hits.is_empty());
            (sigs, found)
        })
        .collect();
    let mut sigs = Vec::new();
    let mut found = Vec::new();
    for (s, m) in per_commit {
        sigs.extend(s);
        found.extend(m);
    }
    (sigs, found)
}

/// The commits in scope, oldest first, each with its author's email; and each one's index in
/// that list, by id.
fn commit_list(
    read: &[ReadCommit],
    sigs: &[Signature],
    opts: &ScanOptions,
) -> (Vec<CommitInfo>, IdMap<usize>) {
    let author_of: HashMap<&str, &str> = sigs
        .iter()
        .filter(|s| s.role == crate::identity::Role::Author)
        .map(|s| (s.commit.as_str(), s.email.as_str()))
        .collect();
    let mut out: Vec<(i64, ObjectId)> = read
        .iter()
        .filter(|c| opts.since.is_none_or(|s| c.time >= s))
        .map(|c| (c.time, c.id))
        .collect();
    out.sort();
    let scope = out.iter().enumerate().map(|(i, c)| (c.1, i)).collect();
    let list = out
        .into_iter()
        .map(|(time, id)| {
            let id = id.to_string();
            let author_email = author_of
                .get(id.as_str())
                .copied()
                .unwrap_or("")
                .to_string();
            CommitInfo {
                id,
                time,
                author_email,
            }
        })
        .collect();
    (list, scope)
}

/// The blobs of `HEAD`'s tree with their paths.
fn head_blobs(repo: &gix::Repository, path: &Path, head: ObjectId) -> Result<IdMap<String>, Error> {
    let mut buf = Vec::new();
    let tree = repo
        .objects
        .find_commit(&head, &mut buf)
        .map_err(|e| git_err(path, "HEAD", e))?
        .tree();
    let mut out = IdMap::default();
    walk_tree(repo, tree, None, &mut |id, prefix, name| {
        out.entry(id).or_insert_with(|| join(prefix, name));
    })?;
    Ok(out)
}

/// `prefix/name` (or `name` at the root).
fn join(prefix: &str, name: &gix::bstr::BStr) -> String {
    let name = name.to_str_lossy();
    if prefix.is_empty() {
        name.into_owned()
    } else {
        format!("{prefix}/{name}")
    }
}

/// Walk `tree` depth first; trees in `seen_trees` are skipped (and new ones added when the
/// set is used for deduplication). `on_blob` gets each blob's id, the path of its tree and its
/// name (a path is only built when it is kept).
fn walk_tree(
    repo: &gix::Repository,
    tree: ObjectId,
    mut seen_trees: Option<&mut IdSet>,
    on_blob: &mut dyn FnMut(ObjectId, &str, &gix::bstr::BStr),
) -> Result<(), Error> {
    let mut stack = vec![(tree, String::new())];
    let mut buf = Vec::new();
    while let Some((id, prefix)) = stack.pop() {
        if let Some(seen) = seen_trees.as_deref_mut()
            && !seen.insert(id)
        {
            continue;
        }
        let Ok(t) = repo.objects.find_tree(&id, &mut buf) else {
            continue;
        };
        for e in &t.entries {
            if e.mode.is_tree() {
                if seen_trees.as_deref().is_some_and(|s| s.contains(e.oid)) {
                    continue;
                }
                stack.push((e.oid.to_owned(), join(&prefix, e.filename)));
            } else if e.mode.is_blob_or_symlink() {
                // Regular files, executables and symlinks (a link's target can be a secret
                // too); submodule commits are not ours to read.
                on_blob(e.oid.to_owned(), &prefix, e.filename);
            }
        }
    }
    Ok(())
}

/// Commits per run of the tree walk.
const RUN: usize = 256;

/// A run of commits, walked together on one thread: (committer time, id, tree).
type Run = Vec<(i64, ObjectId, ObjectId)>;

/// Each blob a run's trees hold, with the earliest (time, commit) of the run that holds it
/// and its path there.
type FirstSeen = IdMap<((i64, ObjectId), String)>;

/// Walk one run's trees, oldest commit first, skipping trees already walked in the run.
///
/// Runs are cut in the order the commits are read (each run sorted by time), so that reading
/// and walking overlap. The earliest commit over all runs still wins each blob, with the
/// path the sequential walk gives: within the commit that first holds a blob, no tree that
/// leads to it was walked before in its run (an older commit of the run would hold the blob),
/// so the path is the first one a depth-first walk of that commit meets, in any run.
fn walk_run(repo: &gix::Repository, mut run: Run) -> Result<FirstSeen, Error> {
    run.sort();
    let mut seen_trees = IdSet::with_capacity_and_hasher(1024, Default::default());
    let mut first = FirstSeen::default();
    for (time, id, tree) in run {
        walk_tree(
            repo,
            tree,
            Some(&mut seen_trees),
            &mut |blob, prefix, name| {
                first
                    .entry(blob)
                    .or_insert_with(|| ((time, id), join(prefix, name)));
            },
        )?;
    }
    Ok(first)
}

/// The blobs the runs found, each with the earliest of its commits so far, in shards by
/// the blob id's first byte: each run merges its blobs in as soon as it is walked, on its
/// own thread, locking one shard at a time.
struct Shards {
    shards: Vec<std::sync::Mutex<FirstSeen>>,
    /// The first error of any run.
    error: std::sync::Mutex<Option<Error>>,
}

const SHARDS: usize = 16;

impl Default for Shards {
    fn default() -> Self {
        Shards {
            shards: (0..SHARDS).map(|_| Default::default()).collect(),
            error: Default::default(),
        }
    }
}

impl Shards {
    fn add(&self, run: Result<FirstSeen, Error>) {
        let run = match run {
            Ok(run) => run,
            Err(e) => {
                lock(&self.error).get_or_insert(e);
                return;
            }
        };
        let mut parts: Vec<Vec<_>> = (0..SHARDS).map(|_| Vec::new()).collect();
        for (blob, v) in run {
            parts[blob.as_bytes()[0] as usize % SHARDS].push((blob, v));
        }
        for (shard, part) in self.shards.iter().zip(parts) {
            let mut shard = lock(shard);
            for (blob, (at, p)) in part {
                match shard.entry(blob) {
                    gix::hashtable::hash_map::Entry::Occupied(mut e) => {
                        if at < e.get().0 {
                            e.insert((at, p));
                        }
                    }
                    gix::hashtable::hash_map::Entry::Vacant(e) => {
                        e.insert((at, p));
                    }
                }
            }
        }
    }

    /// Each blob with the first commit (over all runs) and path that has it, when that commit
    /// is in scope (`scope`: its index among the commits in scope), by commit then path.
    fn in_scope(self, scope: &IdMap<usize>) -> Result<Vec<(ObjectId, usize, String)>, Error> {
        if let Some(e) = into_inner(self.error) {
            return Err(e);
        }
        let mut out = Vec::new();
        for shard in self.shards {
            out.extend(
                into_inner(shard)
                    .into_iter()
                    .filter_map(|(blob, ((_, commit), p))| {
                        scope.get(&commit).map(|&i| (blob, i, p))
                    }),
            );
        }
        out.sort_by(|a, b| a.1.cmp(&b.1).then_with(|| a.2.cmp(&b.2)));
        Ok(out)
    }
}

/// A mutex's guard; a lock poisoned by a thread that panicked still holds whole entries (each
/// is written in one step), and a panic itself reaches the caller through rayon.
pub(crate) fn lock<T>(m: &std::sync::Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    m.lock().unwrap_or_else(std::sync::PoisonError::into_inner)
}

/// A mutex's value, poisoned or not (see [`lock`]).
pub(crate) fn into_inner<T>(m: std::sync::Mutex<T>) -> T {
    m.into_inner()
        .unwrap_or_else(std::sync::PoisonError::into_inner)
}

/// What the scan of a set of blobs found.
#[derive(Default)]
struct Scanned {
    hits: Vec<BlobHit>,
    skipped: Vec<SkippedBlob>,
    scanned: u64,
    bytes: u64,
    binary: u64,
}

impl Scanned {
    /// Record one blob (`(id, commit, path)`) that was read, or was too large to read.
    fn add(
        &mut self,
        (id, commit, path): &(ObjectId, usize, String),
        read: packed::Read<'_>,
        found: Vec<Hit>,
        head_blobs: &IdMap<String>,
    ) {
        let data = match read {
            packed::Read::TooLarge(size) => {
                self.skipped.push(SkippedBlob {
                    blob: id.to_string(),
                    commit: *commit,
                    path: path.clone(),
                    size,
                });
                return;
            }
            packed::Read::Data(data) => data,
        };
        self.scanned += 1;
        self.bytes += data.len() as u64;
        if detect::is_binary(data) {
            self.binary += 1;
        }
        for hit in found {
            self.hits.push(BlobHit {
                hit,
                commit: *commit,
                path: path.clone(),
                head_path: head_blobs.get(id).cloned(),
                in_message: false,
            });
        }
    }

    fn merge(&mut self, other: Scanned) {
        self.hits.extend(other.hits);
        self.skipped.extend(other.skipped);
        self.scanned += other.scanned;
        self.bytes += other.bytes;
        self.binary += other.binary;
    }
}

/// The secrets of a blob that was read (none for one that was not).
fn detect_in(path: &str, read: &packed::Read<'_>) -> Vec<Hit> {
    match read {
        packed::Read::Data(data) => detect::scan(path, data),
        packed::Read::TooLarge(_) => Vec::new(),
    }
}

/// Scan every blob: those in the repository's packs through one delta tree per pack (see
/// [`packed`]), the rest (loose objects, an alternate's, a pack the tree could not read)
/// one at a time through the object database.
fn scan_blobs(
    repo: &gix::Repository,
    path: &Path,
    blobs: Vec<(ObjectId, usize, String)>,
    head_blobs: &IdMap<String>,
    opts: &ScanOptions,
    facts: &mut RepoFacts,
) -> Result<(), Error> {
    let packs = packed::Packs::open(repo.objects.store_ref().path(), repo.object_hash());
    let ids: Vec<ObjectId> = blobs.iter().map(|b| b.0).collect();
    let from_packs = std::sync::Mutex::new(Scanned::default());
    let visit = |i: usize, read: packed::Read<'_>| {
        let found = detect_in(&blobs[i].2, &read);
        lock(&from_packs).add(&blobs[i], read, found, head_blobs);
    };
    let done = packs.read(
        &ids,
        opts.max_blob_bytes,
        rayon::current_num_threads(),
        &visit,
    );
    let mut total = into_inner(from_packs);
    let rest: Vec<&(ObjectId, usize, String)> = blobs
        .iter()
        .zip(&done)
        .filter(|(_, done)| !**done)
        .map(|(b, _)| b)
        .collect();
    total.merge(scan_one_by_one(repo, path, rest, head_blobs, opts)?);
    facts.hits.extend(total.hits);
    facts.skipped.extend(total.skipped);
    facts.blobs_scanned += total.scanned;
    facts.bytes_scanned += total.bytes;
    facts.binary_blobs += total.binary;
    facts
        .hits
        .sort_by(|a, b| a.commit.cmp(&b.commit).then(a.path.cmp(&b.path)));
    facts
        .skipped
        .sort_by(|a, b| a.commit.cmp(&b.commit).then(a.path.cmp(&b.path)));
    Ok(())
}

/// Blobs read one at a time through the object database, in parallel, with a size check
/// on each object's header before it is inflated.
fn scan_one_by_one(
    repo: &gix::Repository,
    path: &Path,
    mut blobs: Vec<&(ObjectId, usize, String)>,
    head_blobs: &IdMap<String>,
    opts: &ScanOptions,
) -> Result<Scanned, Error> {
    if blobs.is_empty() {
        return Ok(Scanned::default());
    }
    let sync = repo.clone().into_sync();
    let cache_bytes = (PACK_CACHE_BYTES / rayon::current_num_threads().max(1)).max(16 << 20);
    // The versions of one path are read together (a pack deltas a file's versions against
    // each other, so their bases stay in the thread's cache).
    blobs.sort_by(|a, b| a.2.cmp(&b.2).then(a.1.cmp(&b.1)));
    let results: Vec<Result<Scanned, Error>> = blobs
        .par_chunks(256)
        .map_init(
            || {
                let mut repo = sync.to_thread_local();
                repo.objects.set_pack_cache(move || {
                    Box::new(gix::odb::pack::cache::lru::MemoryCappedHashmap::new(
                        cache_bytes,
                    ))
                });
                (repo, Vec::new())
            },
            |(repo, buf), chunk| {
                let mut out = Scanned::default();
                for &blob in chunk {
                    let id = &blob.0;
                    let size = repo
                        .find_header(*id)
                        .map_err(|e| git_err(path, &format!("blob {id}"), e))?
                        .size();
                    let read = if size > opts.max_blob_bytes {
                        packed::Read::TooLarge(size)
                    } else {
                        let data = repo
                            .objects
                            .find_blob(id, buf)
                            .map_err(|e| git_err(path, &format!("blob {id}"), e))?
                            .data;
                        packed::Read::Data(data)
                    };
                    let found = detect_in(&blob.2, &read);
                    out.add(blob, read, found, head_blobs);
                }
                Ok(out)
            },
        )
        .collect();
    let mut total = Scanned::default();
    for r in results {
        total.merge(r?);
    }
    Ok(total)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn since_accepts_dates_and_rfc3339() {
        assert_eq!(parse_since("2020-01-02"), Some(86_400 * 18_263));
        assert_eq!(
            parse_since("2020-01-02T00:00:10Z"),
            Some(86_400 * 18_263 + 10)
        );
        assert_eq!(parse_since("yesterday"), None);
        assert_eq!(parse_since("2020-13-01"), None);
    }

    #[test]
    fn organisation_is_the_forge_owner_never_the_credentials() {
        let p = Path::new("/src/x/repo");
        for (url, org) in [
            ("https://github.com/expressjs/express.git", "expressjs"),
            ("https://user:ghp_secret@github.com/acme/r", "acme"),
            ("git@github.com:acme/r.git", "acme"),
            ("ssh://git@gitlab.com/group/sub/r.git", "group"),
            ("/work/shared/repos/express.bundle", "x"),
            ("C:/repos/r", "x"),
        ] {
            assert_eq!(organisation(Some(url), p), org, "{url}");
        }
        assert_eq!(organisation(None, p), "x");
    }
}

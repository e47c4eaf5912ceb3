//! Reading many blobs out of a repository's packs, each pack entry inflated once.
//!
//! A pack stores most versions of a file as deltas against another version. Read one object at
//! a time (gix's `find`), every blob re-inflates its delta chain, down to a whole base object
//! that gix's delta cache never holds (it caches delta results only): on express that was most
//! of a history scan. Here the blobs wanted from one pack and every base their chains need are
//! put into one delta tree (gix-pack's `cache::delta::Tree`, the structure `index-pack` uses),
//! which inflates each entry once and applies each delta once, on several threads.
//!
//! Bounds, for a pack that was built to hurt (the repository under scan is input like any
//! other): a chain longer than [`MAX_CHAIN`], a whole object above the size cap, a base outside
//! the pack (a ref-delta to a missing object) or a pack that fails to open keep their blobs out
//! of the tree; they, and every blob of a pack whose tree fails (a cycle, an allocation over
//! the limit, corruption), are left to the caller's one-object-at-a-time reader, which has its
//! own checks. gix limits each buffer of a tree to [`buffer_limit`] bytes (a larger object
//! fails the tree, and its pack's remaining blobs go to that reader, which skips it by size);
//! a base's buffer is kept while its deltas are resolved, so the chains are kept short.

use std::path::{Path, PathBuf};
use std::sync::atomic::AtomicBool;

use gix::ObjectId;
use gix::odb::pack;
use gix::odb::pack::data::entry::Header;

/// Where a pack's first entry starts (after `PACK`, the version and the object count).
const FIRST_ENTRY: u64 = 12;

/// The longest delta chain read through the tree (git's default `pack.depth` is 50).
pub const MAX_CHAIN: usize = 50;

/// gix's limit on each buffer of a tree: the blob size cap, at least 8 MiB (bases and delta
/// instructions can be larger than the blob itself), at most 64 MiB.
pub fn buffer_limit(max_blob_bytes: u64) -> usize {
    max_blob_bytes.clamp(8 << 20, 64 << 20) as usize
}

/// The packs of a repository's own object directory (not its alternates), by `.idx` file.
pub struct Packs {
    bundles: Vec<pack::Bundle>,
}

/// What happened to one wanted blob.
pub enum Read<'a> {
    /// Its content.
    Data(&'a [u8]),
    /// Larger than the cap (its size): not scanned.
    TooLarge(u64),
}

/// A wanted blob that a pack holds: its index among the caller's blobs and where it is.
#[derive(Debug, Clone, Copy)]
struct Want {
    blob: usize,
    offset: u64,
}

/// One node of a pack's tree: an entry to decode, and the caller's blob when it is one (none
/// for a base only).
#[derive(Clone)]
struct Node {
    offset: u64,
    blob: Option<usize>,
}

impl Packs {
    /// Open every `objects/pack/*.idx` with its pack. One that does not open is left out: its
    /// objects are then read one by one, through the object database.
    pub fn open(objects_dir: &Path, hash: gix::hash::Kind) -> Packs {
        let mut paths: Vec<PathBuf> = std::fs::read_dir(objects_dir.join("pack"))
            .map(|rd| {
                rd.flatten()
                    .map(|e| e.path())
                    .filter(|p| p.extension().is_some_and(|x| x == "idx"))
                    .collect()
            })
            .unwrap_or_default();
        paths.sort();
        let bundles = paths
            .iter()
            .filter_map(|p| pack::Bundle::at(p, hash).ok())
            .collect();
        Packs { bundles }
    }

    /// Read `blobs` (ids, in the caller's numbering) from the packs, calling `visit` once for
    /// each blob read, from several threads. Returns, for each blob, whether it was visited;
    /// the caller reads the others itself.
    pub fn read(
        &self,
        blobs: &[ObjectId],
        max_blob_bytes: u64,
        threads: usize,
        visit: &(dyn Fn(usize, Read<'_>) + Sync),
    ) -> Vec<bool> {
        let mut done = vec![false; blobs.len()];
        let mut wants: Vec<Vec<Want>> = vec![Vec::new(); self.bundles.len()];
        for (blob, id) in blobs.iter().enumerate() {
            if let Some((n, offset)) = self.locate(id) {
                wants[n].push(Want { blob, offset });
            }
        }
        for (bundle, wants) in self.bundles.iter().zip(wants) {
            if wants.is_empty() {
                continue;
            }
            let seen = std::sync::Mutex::new(Vec::new());
            let record = |blob: usize, read: Read<'_>| {
                visit(blob, read);
                crate::history::lock(&seen).push(blob);
            };
            // An error leaves the blobs not yet visited to the caller's reader.
            let _ = read_pack(bundle, wants, max_blob_bytes, threads, &record);
            for blob in crate::history::into_inner(seen) {
                done[blob] = true;
            }
        }
        done
    }

    /// The first pack holding `id`, and the entry's offset in it.
    fn locate(&self, id: &ObjectId) -> Option<(usize, u64)> {
        self.bundles.iter().enumerate().find_map(|(n, b)| {
            b.index
                .lookup(id)
                .map(|i| (n, b.index.pack_offset_at_index(i)))
        })
    }
}

/// The blobs of one pack through one delta tree.
fn read_pack(
    bundle: &pack::Bundle,
    wants: Vec<Want>,
    max_blob_bytes: u64,
    threads: usize,
    visit: &(dyn Fn(usize, Read<'_>) + Sync),
) -> Result<(), gix::Error> {
    let nodes = tree_nodes(bundle, wants, max_blob_bytes, visit);
    decode_tree(
        bundle,
        nodes,
        threads,
        buffer_limit(max_blob_bytes),
        |node, kind, data| {
            let Some(blob) = node.blob else {
                return Ok(());
            };
            if kind != gix::object::Kind::Blob {
                // Named as a blob by a tree but something else in the pack: the caller's reader
                // reports it.
                return Err(failed(format!(
                    "object at offset {} is not a blob",
                    node.offset
                )));
            }
            if data.len() as u64 > max_blob_bytes {
                visit(blob, Read::TooLarge(data.len() as u64));
            } else {
                visit(blob, Read::Data(data));
            }
            Ok(())
        },
    )
}

fn failed(message: String) -> gix::Error {
    gix::error::Error::from_error(std::io::Error::other(message))
}

/// Decode `nodes` (ascending offsets, each one's bases among them, the pack's first entry
/// first) through one delta tree, calling `inspect` with each node, its kind and its bytes.
fn decode_tree(
    bundle: &pack::Bundle,
    nodes: Vec<Node>,
    threads: usize,
    limit: usize,
    inspect: impl Fn(&Node, gix::object::Kind, &[u8]) -> Result<(), gix::Error> + Send + Clone,
) -> Result<(), gix::Error> {
    if nodes.is_empty() {
        return Ok(());
    }
    let stop = AtomicBool::new(false);
    let hash = bundle.index.object_hash();
    let index = &bundle.index;
    let tree = pack::cache::delta::Tree::from_offsets_in_pack(
        bundle.pack.path(),
        nodes.into_iter(),
        &|n: &Node| n.offset,
        &|id| Ok(index.lookup(id).map(|i| index.pack_offset_at_index(i))),
        &mut gix::progress::Discard,
        &stop,
        hash,
        Some(limit),
    )?;
    tree.traverse(
        |range, pack: &pack::data::File| pack.entry_slice(range),
        &bundle.pack,
        bundle.pack.pack_end() as u64,
        move |node: &mut Node,
              _: &dyn gix::Progress,
              cx: pack::cache::delta::traverse::Context<'_>| {
            let kind = cx
                .entry
                .header
                .as_kind()
                .ok_or_else(|| failed(format!("offset {} did not resolve", node.offset)))?;
            inspect(node, kind, cx.decompressed)
        },
        pack::cache::delta::traverse::Options {
            object_progress: Box::new(gix::progress::Discard),
            size_progress: &mut gix::progress::Discard,
            thread_limit: Some(threads.max(1)),
            should_interrupt: &stop,
            object_hash: hash,
            alloc_limit_bytes: Some(limit),
        },
    )?;
    Ok(())
}

/// The entries to decode, by ascending offset: the wanted blobs and the bases of their
/// chains. A whole blob above the cap is reported as too large here, without inflating it; a
/// blob whose chain is too long or leaves the pack is left out (and so to the caller).
fn tree_nodes(
    bundle: &pack::Bundle,
    wants: Vec<Want>,
    max_blob_bytes: u64,
    visit: &(dyn Fn(usize, Read<'_>) + Sync),
) -> Vec<Node> {
    // offset → the caller's blob, if the entry is wanted itself.
    let mut nodes: std::collections::BTreeMap<u64, Option<usize>> = Default::default();
    for want in wants {
        let Some(chain) = chain(bundle, want.offset) else {
            continue;
        };
        let Ok(entry) = bundle.pack.entry(want.offset) else {
            continue;
        };
        if !entry.header.is_delta() && entry.decompressed_size > max_blob_bytes {
            visit(want.blob, Read::TooLarge(entry.decompressed_size));
            continue;
        }
        for offset in chain {
            nodes.entry(offset).or_insert(None);
        }
        nodes.insert(want.offset, Some(want.blob));
    }
    if nodes.is_empty() {
        return Vec::new();
    }
    // gix reads the tree's entry headers from the pack's first entry on (it does not seek to
    // the first node), so that entry, and its chain, is a node too.
    let Some(first) = chain(bundle, FIRST_ENTRY) else {
        return Vec::new();
    };
    for offset in first.into_iter().chain([FIRST_ENTRY]) {
        nodes.entry(offset).or_insert(None);
    }
    nodes
        .into_iter()
        .map(|(offset, blob)| Node { offset, blob })
        .collect()
}

/// The offsets of the bases under the entry at `offset`, down to a whole object; `None` when
/// the chain is longer than [`MAX_CHAIN`], loops, leaves the pack or does not parse.
fn chain(bundle: &pack::Bundle, offset: u64) -> Option<Vec<u64>> {
    let mut out = Vec::new();
    let mut at = offset;
    loop {
        let entry = bundle.pack.entry(at).ok()?;
        let base = match entry.header {
            Header::OfsDelta { base_distance } => {
                Header::verified_base_pack_offset(at, base_distance)?
            }
            Header::RefDelta { base_id } => {
                let i = bundle.index.lookup(base_id)?;
                bundle.index.pack_offset_at_index(i)
            }
            _ => return Some(out),
        };
        if out.len() == MAX_CHAIN || base == offset || out.contains(&base) {
            return None;
        }
        out.push(base);
        at = base;
    }
}

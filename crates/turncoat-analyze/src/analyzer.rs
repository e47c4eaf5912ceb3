//! [`Analyzer`]: computes [`VersionFacts`] for one package version from its files.
//!
//! The oxc parser recurses without a depth limit, so every analysis runs on a dedicated
//! thread with a [`STACK_SIZE`] stack (address space only; pages are committed as touched),
//! and files big enough to nest deeper than that stack allows are pre-scanned
//! (see `js::depth`) and recorded as `too_deep` instead of parsed.
//!
//! An `Analyzer` remembers the script facts of the version it analysed last, by content: the
//! gate judges a version right after its predecessor on the same `Analyzer`, and most files of
//! an update are byte-identical, so those are not parsed twice. Facts are a pure function of
//! the bytes, the dialect and the [`Options`], so a remembered fact is the fact.

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::panic::{AssertUnwindSafe, catch_unwind};

use oxc_allocator::Allocator;

use crate::facts::{FACTS_SCHEMA, FileFacts, FileKind, JsFacts, VersionFacts};
use crate::{FileRef, Options, binary, js, manifest, shell};

/// Stack of the analysis thread.
pub const STACK_SIZE: usize = 256 << 20;

/// Reusable analysis state for one worker thread: the oxc arena is kept (and reset) between
/// files and packages, so analysing many packages does not reallocate it.
pub struct Analyzer {
    alloc: Allocator,
    /// Script facts of the last version, by content; valid for `memo_opts` only.
    memo: HashMap<MemoKey, JsFacts>,
    memo_opts: Option<Options>,
}

/// BLAKE3 of a script's bytes and the dialect it was parsed as.
type MemoKey = ([u8; 32], crate::facts::Dialect);

impl Default for Analyzer {
    fn default() -> Self {
        Analyzer::new()
    }
}

impl std::fmt::Debug for Analyzer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Analyzer")
            .field("arena_capacity", &self.alloc.capacity())
            .field("remembered_scripts", &self.memo.len())
            .finish()
    }
}

impl Analyzer {
    pub fn new() -> Analyzer {
        Analyzer {
            alloc: Allocator::default(),
            memo: HashMap::new(),
            memo_opts: None,
        }
    }

    /// How many scripts' facts are remembered from the last version analysed (reused for the
    /// byte-identical scripts of the next one).
    pub fn remembered_scripts(&self) -> usize {
        self.memo.len()
    }

    /// Facts of the package made of `files`. Never fails: unreadable, unparseable or
    /// oversized files are recorded as such.
    pub fn facts(&mut self, files: &[FileRef<'_>], opts: &Options) -> VersionFacts {
        let previous = match self.memo_opts.take() {
            Some(o) if o == *opts => std::mem::take(&mut self.memo),
            _ => HashMap::new(),
        };
        self.memo.clear();
        let alloc = &mut self.alloc;
        let computed = std::thread::scope(|scope| {
            let worker = std::thread::Builder::new()
                .name("turncoat-analyze".into())
                .stack_size(STACK_SIZE)
                .spawn_scoped(scope, || compute(alloc, files, opts, false, &previous));
            match worker {
                Ok(handle) => handle.join().ok(),
                Err(_) => None,
            }
        });
        match computed {
            Some((facts, memo)) => {
                self.memo = memo;
                self.memo_opts = Some(opts.clone());
                facts
            }
            // No thread (resource limits) or a panic escaped: analyse here, on the caller's
            // stack, pre-scanning every file against a small nesting limit (facts under other
            // options: nothing is remembered).
            None => {
                let small = Options {
                    max_nesting: opts.max_nesting.min(FALLBACK_MAX_NESTING),
                    ..opts.clone()
                };
                compute(&mut self.alloc, files, &small, true, &HashMap::new()).0
            }
        }
    }
}

/// How much of a shell script a hook runs is read (real install scripts are a few KB).
const SHELL_SCRIPT_MAX: usize = 1 << 20;

/// Nesting limit when running on an ordinary (8 MiB or smaller) stack.
const FALLBACK_MAX_NESTING: u32 = 300;

/// The facts of `files`, and the script facts to remember for the next version. Scripts whose
/// content and dialect are in `previous` are taken from there instead of parsed.
fn compute(
    alloc: &mut Allocator,
    files: &[FileRef<'_>],
    opts: &Options,
    prescan_all: bool,
    previous: &HashMap<MemoKey, JsFacts>,
) -> (VersionFacts, HashMap<MemoKey, JsFacts>) {
    // Tarballs may repeat a path; extraction keeps the last entry, so do we.
    let mut by_path: BTreeMap<String, &[u8]> = BTreeMap::new();
    for f in files {
        let path = f.path.trim_start_matches("./").replace('\\', "/");
        by_path.insert(path, f.data);
    }
    let binding_gyp = by_path.contains_key("binding.gyp");

    let mut out = VersionFacts {
        schema: FACTS_SCHEMA,
        ..VersionFacts::default()
    };
    // Classify every file; the scripts to parse are set aside for the (possibly parallel)
    // parse below, so the result does not depend on how the work was split.
    let mut to_parse: Vec<(&str, crate::facts::Dialect, &[u8])> = Vec::new();
    let mut memo: HashMap<MemoKey, JsFacts> = HashMap::new();
    for (path, data) in &by_path {
        let hash = blake3::hash(data);
        let mut ff = FileFacts {
            size: data.len() as u64,
            blake3: hash.to_hex().to_string(),
            ..FileFacts::default()
        };
        if path == "package.json" {
            ff.kind = FileKind::Manifest;
            out.manifest = Some(manifest::facts(data, binding_gyp));
        } else if let Some(kind) = binary::detect(path, data) {
            ff.kind = FileKind::Binary;
            ff.binary = Some(kind);
            ff.native = binary::native_capabilities(data);
        } else if js::is_declaration(path) {
            ff.kind = FileKind::Declaration;
        } else if let Some(dialect) = js::dialect(path) {
            ff.kind = FileKind::Script;
            let key = (*hash.as_bytes(), dialect);
            if let Some(data) = reuse_or_queue(&mut ff, key, data, opts, previous, &mut memo) {
                to_parse.push((path.as_str(), dialect, data));
            }
        }
        out.files.insert(path.clone(), ff);
    }
    for (path, js) in parse_scripts(alloc, &to_parse, opts, prescan_all) {
        store_script(&mut out, &mut memo, path, js);
    }
    load_what_node_loads(
        alloc,
        &mut out,
        &mut memo,
        &by_path,
        opts,
        prescan_all,
        previous,
    );
    // Shell scripts a hook runs (`sh preinstall.sh`) are read as shell too, one level deep, so
    // a download piped to a shell inside the script counts like one in the hook command.
    if let Some(m) = out.manifest.as_mut() {
        for hook in m.install_hooks.values_mut().chain(m.prepare.iter_mut()) {
            let mut extra = std::collections::BTreeSet::new();
            for file in hook
                .entry_files
                .iter()
                .filter(|f| shell::is_shell_script_path(f))
            {
                if let Some(data) = by_path.get(file.as_str()) {
                    let text = String::from_utf8_lossy(&data[..data.len().min(SHELL_SCRIPT_MAX)]);
                    extra.extend(shell::analyze(&text).features);
                }
            }
            hook.features.extend(extra);
        }
    }
    // Hook entry files as Node resolves them (`node setup` runs `setup` if it exists, else
    // `setup.js`), for the closure and the evidence.
    let files = &out.files;
    if let Some(m) = out.manifest.as_mut() {
        for hook in m.install_hooks.values_mut().chain(m.prepare.iter_mut()) {
            hook.entry_files = std::mem::take(&mut hook.entry_files)
                .into_iter()
                .map(|e| resolve_in(files, &e).unwrap_or(e))
                .collect();
        }
    }
    let (hooks, prepare) = match &out.manifest {
        Some(m) => (
            m.install_hooks
                .values()
                .flat_map(|h| h.entry_files.iter().cloned())
                .collect(),
            m.prepare
                .iter()
                .flat_map(|h| h.entry_files.iter().cloned())
                .collect(),
        ),
        None => (Vec::new(), Vec::new()),
    };
    out.install_time_files = closure(&out, hooks);
    out.prepare_files = closure(&out, prepare);
    (out, memo)
}

/// A script's facts from the last version when its content is the same (kept in `memo` for
/// the next), nothing when it is too large (`skipped`); otherwise its data, to be parsed.
fn reuse_or_queue<'d>(
    ff: &mut FileFacts,
    key: MemoKey,
    data: &'d [u8],
    opts: &Options,
    previous: &HashMap<MemoKey, JsFacts>,
    memo: &mut HashMap<MemoKey, JsFacts>,
) -> Option<&'d [u8]> {
    if ff.size > opts.max_file_size {
        ff.skipped = Some(format!("too large: {} bytes", ff.size));
    } else if let Some(js) = previous.get(&key) {
        ff.js = Some(js.clone());
        memo.insert(key, js.clone());
    } else {
        return Some(data);
    }
    None
}

fn store_script(
    out: &mut VersionFacts,
    memo: &mut HashMap<MemoKey, JsFacts>,
    path: &str,
    js: JsFacts,
) {
    if let Some(ff) = out.files.get_mut(path) {
        if let Ok(hash) = blake3::Hash::from_hex(&ff.blake3) {
            memo.insert((*hash.as_bytes(), js.dialect), js.clone());
        }
        ff.js = Some(js);
    }
}

/// Most rounds of "a newly loadable file requires another one" followed.
const MAX_LOAD_ROUNDS: usize = 16;

/// Files Node can load although their name does not say "script": a `#!…node` shebang file
/// (a `bin` without extension), the targets of `main`, `bin` and `exports`, and whatever a
/// script `require`s by a path that resolves to a non-script file first (`require('./lib/x')`
/// loads an extension-less `lib/x` before `lib/x.js`; `require('./data.bin')` compiles
/// `data.bin` as CommonJS). Each becomes a script, parsed as JavaScript, and its own requires
/// are followed until nothing new is reached. A payload cannot hide by its file name.
fn load_what_node_loads(
    alloc: &mut Allocator,
    out: &mut VersionFacts,
    memo: &mut HashMap<MemoKey, JsFacts>,
    by_path: &BTreeMap<String, &[u8]>,
    opts: &Options,
    prescan_all: bool,
    previous: &HashMap<MemoKey, JsFacts>,
) {
    let mut wanted: BTreeSet<String> = by_path
        .iter()
        .filter(|(p, d)| is_other(out, p) && has_node_shebang(d))
        .map(|(p, _)| p.clone())
        .collect();
    if let Some(m) = &out.manifest {
        let hooks = m.install_hooks.values().chain(m.prepare.iter());
        // Shell scripts a hook runs are read as shell below, not as JavaScript.
        let hook_files = hooks
            .flat_map(|h| h.entry_files.iter())
            .filter(|f| !shell::is_shell_script_path(f));
        wanted.extend(
            m.entry_points
                .iter()
                .chain(hook_files)
                .filter_map(|e| resolve(out, e)),
        );
    }
    for _ in 0..MAX_LOAD_ROUNDS {
        wanted.extend(required_targets(out));
        let batch: Vec<String> = std::mem::take(&mut wanted)
            .into_iter()
            .filter(|p| is_other(out, p))
            .collect();
        if batch.is_empty() {
            return;
        }
        let dialect = crate::facts::Dialect::Cjs;
        let mut to_parse: Vec<(&str, crate::facts::Dialect, &[u8])> = Vec::new();
        for path in &batch {
            let (Some(ff), Some(data)) = (out.files.get_mut(path), by_path.get(path)) else {
                continue;
            };
            ff.kind = FileKind::Script;
            ff.loaded_as_script = true;
            let key = (*blake3::hash(data).as_bytes(), dialect);
            if let Some(data) = reuse_or_queue(ff, key, data, opts, previous, memo) {
                to_parse.push((path.as_str(), dialect, data));
            }
        }
        for (path, js) in parse_scripts(alloc, &to_parse, opts, prescan_all) {
            store_script(out, memo, path, js);
        }
    }
}

/// A file that is neither a script, a binary, a declaration nor the manifest.
fn is_other(out: &VersionFacts, path: &str) -> bool {
    out.files
        .get(path)
        .is_some_and(|f| f.kind == FileKind::Other && !path.ends_with(".json"))
}

/// `#!` on the first line naming node, bun or deno (`#!/usr/bin/env node`).
fn has_node_shebang(data: &[u8]) -> bool {
    if !data.starts_with(b"#!") {
        return false;
    }
    let line = &data[..data.len().min(256)];
    let line = line.split(|&b| b == b'\n').next().unwrap_or(line);
    let line = String::from_utf8_lossy(line);
    line.split(|c: char| c == '/' || c.is_whitespace())
        .any(|w| matches!(w, "node" | "nodejs" | "bun" | "deno") || w.starts_with("node"))
}

/// Files that scripts' relative requires resolve to (Node's order: the exact path first).
fn required_targets(out: &VersionFacts) -> BTreeSet<String> {
    let mut found = BTreeSet::new();
    for (path, js) in out.scripts() {
        let dir = path.rsplit_once('/').map(|(d, _)| d).unwrap_or("");
        for spec in &js.local_imports {
            let joined = if dir.is_empty() {
                spec.clone()
            } else {
                format!("{dir}/{spec}")
            };
            if let Some(p) = shell::normalize(&joined).and_then(|p| resolve(out, &p)) {
                found.insert(p);
            }
        }
    }
    found
}

/// Below this much script, a second thread costs more than it saves.
const PARALLEL_MIN_BYTES: usize = 1 << 20;

/// Parse and analyse `scripts`, on this thread or split across `opts.file_threads` big-stack
/// threads (largest first onto the least loaded, each with its own arena).
fn parse_scripts<'p>(
    alloc: &mut Allocator,
    scripts: &[(&'p str, crate::facts::Dialect, &[u8])],
    opts: &Options,
    prescan_all: bool,
) -> Vec<(&'p str, JsFacts)> {
    let total: usize = scripts.iter().map(|s| s.2.len()).sum();
    let threads = opts.file_threads.clamp(1, 16).min(scripts.len().max(1));
    // `prescan_all` means we are already on the small fallback stack: stay single-threaded.
    if threads == 1 || total < PARALLEL_MIN_BYTES || prescan_all {
        return scripts
            .iter()
            .map(|(p, d, data)| (*p, analyze_script(alloc, *d, data, opts, prescan_all)))
            .collect();
    }
    let mut order: Vec<usize> = (0..scripts.len()).collect();
    order.sort_by_key(|&i| std::cmp::Reverse(scripts[i].2.len()));
    let mut buckets: Vec<(usize, Vec<usize>)> = vec![(0, Vec::new()); threads];
    for i in order {
        if let Some(b) = buckets.iter_mut().min_by_key(|b| b.0) {
            b.0 += scripts[i].2.len();
            b.1.push(i);
        }
    }
    let run = |alloc: &mut Allocator, idx: &[usize]| -> Vec<(&'p str, JsFacts)> {
        idx.iter()
            .map(|&i| {
                let (p, d, data) = scripts[i];
                (p, analyze_script(alloc, d, data, opts, false))
            })
            .collect()
    };
    let (first, rest) = buckets
        .split_first()
        .map(|(f, r)| (f.1.clone(), r.to_vec()))
        .unwrap_or_default();
    let mut out = std::thread::scope(|scope| {
        let handles: Vec<_> = rest
            .iter()
            .map(|(_, idx)| {
                std::thread::Builder::new()
                    .name("turncoat-analyze".into())
                    .stack_size(STACK_SIZE)
                    .spawn_scoped(scope, move || run(&mut Allocator::default(), idx))
                    .map_err(|_| idx.clone())
            })
            .collect();
        let mut out = run(alloc, &first);
        for h in handles {
            match h {
                // A share whose thread panicked is redone below, with the missing ones.
                Ok(h) => out.extend(h.join().unwrap_or_default()),
                // No thread: do that share here.
                Err(idx) => out.extend(run(alloc, &idx)),
            }
        }
        out
    });
    // Anything a lost thread did not return is analysed here, so no script goes missing.
    let done: BTreeSet<&str> = out.iter().map(|(p, _)| *p).collect();
    let missing: Vec<usize> = (0..scripts.len())
        .filter(|&i| !done.contains(scripts[i].0))
        .collect();
    out.extend(run(alloc, &missing));
    out
}

fn analyze_script(
    alloc: &mut Allocator,
    dialect: crate::facts::Dialect,
    data: &[u8],
    opts: &Options,
    prescan_all: bool,
) -> JsFacts {
    let result = catch_unwind(AssertUnwindSafe(|| {
        js::analyze(alloc, dialect, data, opts, prescan_all)
    }));
    match result {
        Ok(f) => f,
        Err(_) => {
            // A parser bug must not take the whole verdict down; the file becomes a fact.
            alloc.reset();
            let mut f = js::analyze(alloc, dialect, b"", opts, false);
            f.parse_error = Some("the parser failed on this file".into());
            f
        }
    }
}

/// The entry files and, transitively, the local modules they require or import.
fn closure(facts: &VersionFacts, entries: Vec<String>) -> BTreeSet<String> {
    let mut out = BTreeSet::new();
    let mut queue: Vec<String> = entries
        .into_iter()
        .filter_map(|p| resolve(facts, &p))
        .collect();
    while let Some(path) = queue.pop() {
        if !out.insert(path.clone()) {
            continue;
        }
        let Some(js) = facts.js(&path) else {
            continue;
        };
        let dir = path.rsplit_once('/').map(|(d, _)| d).unwrap_or("");
        for spec in &js.local_imports {
            let joined = if dir.is_empty() {
                spec.clone()
            } else {
                format!("{dir}/{spec}")
            };
            if let Some(p) = shell::normalize(&joined).and_then(|p| resolve(facts, &p))
                && !out.contains(&p)
            {
                queue.push(p);
            }
        }
    }
    out
}

/// Node's file resolution for a package-relative path.
fn resolve(facts: &VersionFacts, p: &str) -> Option<String> {
    resolve_in(&facts.files, p)
}

fn resolve_in(files: &BTreeMap<String, FileFacts>, p: &str) -> Option<String> {
    const SUFFIXES: &[&str] = &[
        "",
        ".js",
        ".cjs",
        ".mjs",
        ".json",
        ".node",
        "/index.js",
        "/index.cjs",
        "/index.mjs",
    ];
    SUFFIXES
        .iter()
        .map(|s| format!("{p}{s}"))
        .find(|c| files.contains_key(c))
}

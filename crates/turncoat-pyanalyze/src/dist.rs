//! A distribution's files into [`DistFacts`]: which module runs at which moment, then the
//! facts of each, plus metadata (entry points, requirements), `.pth` lines, native files and
//! the RECORD check.

use std::collections::{BTreeMap, HashMap};

use turncoat_archive::{PackageFile, RecordIssue};

use crate::facts::{DistFacts, DistKind, Moment, PthLine};
use crate::python;

/// Python sources larger than this are not parsed (reported in [`DistFacts::unparsed`]).
pub(crate) const MAX_SOURCE: usize = 4 * 1024 * 1024;
/// Most occurrences kept per distribution.
const MAX_OCCURRENCES: usize = 50_000;
/// Stack of the analysis thread: the parser grows its own, but dropping a very deep AST
/// recurses.
const STACK: usize = 512 * 1024 * 1024;

/// Facts of one distribution, computed on a thread with a large stack.
pub(crate) fn dist_facts(
    kind: DistKind,
    files: &[PackageFile],
    record: &[RecordIssue],
) -> DistFacts {
    // As many analysis threads as the caller's pool has (the gate's `--jobs`).
    let threads = rayon::current_num_threads();
    std::thread::scope(|s| {
        std::thread::Builder::new()
            .name("pyanalyze".into())
            .stack_size(STACK)
            .spawn_scoped(s, || compute(kind, files, record, threads))
            .ok()
            .and_then(|h| h.join().ok())
            .unwrap_or_else(|| {
                let mut f = DistFacts::new(kind);
                f.unparsed
                    .push(("-".into(), "analysis thread failed".into()));
                f
            })
    })
}

/// The path a file is installed at, relative to site-packages: wheels' `*.data/purelib/` and
/// `*.data/platlib/` are unpacked into the root.
fn installed_path(kind: DistKind, path: &str) -> &str {
    if kind == DistKind::Wheel
        && let Some((first, rest)) = path.split_once('/')
        && first.ends_with(".data")
    {
        for p in ["purelib/", "platlib/"] {
            if let Some(r) = rest.strip_prefix(p) {
                return r;
            }
        }
    }
    path
}

/// Below this many files in a round they are analysed on the analysis thread alone.
const PARALLEL_MIN_FILES: usize = 16;

/// Analyse every module of one round: on a pool of large-stack threads when there are many
/// (each module's analysis is a pure function of its source, its moment and the calls into
/// it known at the round's start), else here. Results come back in `todo`'s order.
fn analyze_round(
    todo: &[(String, Moment, HashMap<String, Moment>)],
    by_path: &HashMap<&str, &PackageFile>,
    pool: &mut Option<Option<rayon::ThreadPool>>,
    threads: usize,
) -> Vec<Option<Result<python::ModuleFacts, String>>> {
    let one = |(path, moment, ex): &(String, Moment, HashMap<String, Moment>)| {
        let file = by_path.get(path.as_str())?;
        if file.data.len() > MAX_SOURCE {
            return Some(Err(format!("larger than {MAX_SOURCE} bytes")));
        }
        let source = String::from_utf8_lossy(&file.data);
        Some(python::analyze(&file.path, &source, *moment, ex).map_err(|e| cut(&e, 200)))
    };
    if threads > 1 && todo.len() >= PARALLEL_MIN_FILES {
        // Built once per distribution, only when needed; the threads get the analysis
        // thread's stack (dropping a very deep AST recurses).
        let pool = pool.get_or_insert_with(|| {
            rayon::ThreadPoolBuilder::new()
                .num_threads(threads)
                .stack_size(STACK)
                .thread_name(|i| format!("pyanalyze-{i}"))
                .build()
                .ok()
        });
        if let Some(pool) = pool {
            use rayon::prelude::*;
            return pool.install(|| todo.par_iter().map(one).collect());
        }
    }
    todo.iter().map(one).collect()
}

fn compute(
    kind: DistKind,
    files: &[PackageFile],
    record: &[RecordIssue],
    threads: usize,
) -> DistFacts {
    let mut facts = DistFacts::new(kind);
    let mut pool = None;
    let by_installed: HashMap<&str, &PackageFile> = files
        .iter()
        .map(|f| (installed_path(kind, &f.path), f))
        .collect();
    let by_path: HashMap<&str, &PackageFile> = files.iter().map(|f| (f.path.as_str(), f)).collect();
    let mut moments: BTreeMap<String, Moment> = BTreeMap::new();
    for f in files {
        let inst = installed_path(kind, &f.path);
        if !f.path.ends_with(".py") {
            continue;
        }
        let m = match inst {
            "setup.py" if kind == DistKind::Sdist => Moment::Install,
            "sitecustomize.py" | "usercustomize.py" => Moment::Start,
            _ => Moment::Import,
        };
        moments.insert(f.path.clone(), m);
    }
    if kind == DistKind::Sdist
        && let Some(backend) = local_build_backend(&by_installed)
    {
        moments.insert(backend, Moment::Install);
    }
    let mut raise: Vec<(String, Moment)> = Vec::new();
    pth_lines(kind, files, &mut facts, &mut raise);
    let mut done: HashMap<String, Moment> = HashMap::new();
    // Per file: its functions other modules' top level calls, and when.
    let mut extra: HashMap<String, HashMap<String, Moment>> = HashMap::new();
    let mut extra_done: HashMap<String, HashMap<String, Moment>> = HashMap::new();
    for (target, m) in raise.drain(..) {
        strengthen(&mut moments, &by_installed, &target, m);
    }
    // Analyse, then re-analyse files whose moment a stronger importer raised; each file can
    // only get stronger (4 moments), so this ends.
    loop {
        // Each file with the calls into it known now: a call another file of this round adds
        // makes its target differ from `extra_done`, so the next round analyses it again.
        let todo: Vec<(String, Moment, HashMap<String, Moment>)> = moments
            .iter()
            .filter(|(p, m)| {
                done.get(*p).is_none_or(|d| *m < d) || extra.get(*p) != extra_done.get(*p)
            })
            .map(|(p, m)| (p.clone(), *m, extra.get(p).cloned().unwrap_or_default()))
            .collect();
        if todo.is_empty() {
            break;
        }
        let analysed = analyze_round(&todo, &by_path, &mut pool, threads);
        for ((path, moment, ex), result) in todo.into_iter().zip(analysed) {
            // Only a re-analysis has earlier occurrences of this file to replace.
            if done.insert(path.clone(), moment).is_some() {
                facts.occurrences.retain(|o| o.path != path);
            }
            if !ex.is_empty() {
                extra_done.insert(path.clone(), ex);
            }
            let Some(result) = result else {
                continue;
            };
            let Some(mf) = merge(&path, result, &mut facts) else {
                continue;
            };
            for q in &mf.called {
                let Some((module, func)) = q.rsplit_once('.') else {
                    continue;
                };
                let Some(target) = find_module(&by_installed, &module_file(module)) else {
                    continue;
                };
                let slot = extra
                    .entry(target)
                    .or_default()
                    .entry(func.to_string())
                    .or_insert(moment);
                if moment < *slot {
                    *slot = moment;
                }
            }
            if moment < Moment::Import {
                for m in mf.imports {
                    raise.push((module_file(&m), moment));
                }
            }
            for (name, m) in mf.exec_files {
                if let Some(f) = files
                    .iter()
                    .find(|f| f.path == name || f.path.ends_with(&format!("/{name}")))
                {
                    raise.push((installed_path(kind, &f.path).to_string(), m));
                }
            }
        }
        for (target, m) in raise.drain(..) {
            strengthen(&mut moments, &by_installed, &target, m);
        }
    }
    facts
        .occurrences
        .sort_by(|a, b| (&a.path, a.line).cmp(&(&b.path, b.line)));
    facts.occurrences_dropped += facts.occurrences.len().saturating_sub(MAX_OCCURRENCES);
    facts.occurrences.truncate(MAX_OCCURRENCES);
    crate::meta::read(kind, files, &by_installed, &mut facts);
    native(files, &mut facts);
    facts.record_issues = record
        .iter()
        .map(|r| (r.path.clone(), r.kind.to_string()))
        .collect();
    facts
}

/// `a.b` → `a/b` (a module or a package; both spellings are tried by [`strengthen`]).
fn module_file(module: &str) -> String {
    module.replace('.', "/")
}

/// The archive path of `target` (an installed path, or a module path without extension).
fn find_module(by_installed: &HashMap<&str, &PackageFile>, target: &str) -> Option<String> {
    let candidates = [
        target.to_string(),
        format!("{target}.py"),
        format!("{target}/__init__.py"),
        format!("src/{target}.py"),
        format!("src/{target}/__init__.py"),
    ];
    candidates
        .iter()
        .find_map(|c| by_installed.get(c.as_str()).map(|f| f.path.clone()))
}

/// Give `target` (an installed path, or a module path without extension) at least moment `m`.
fn strengthen(
    moments: &mut BTreeMap<String, Moment>,
    by_installed: &HashMap<&str, &PackageFile>,
    target: &str,
    m: Moment,
) {
    if let Some(path) = find_module(by_installed, target) {
        let slot = moments.entry(path).or_insert(m);
        if m < *slot {
            *slot = m;
        }
    }
}

/// Parse one file into `facts`; `None` (and an `unparsed` entry) when it cannot be.
/// One module's analysis into the distribution's facts (or its parse error into `unparsed`).
fn merge(
    path: &str,
    result: Result<python::ModuleFacts, String>,
    facts: &mut DistFacts,
) -> Option<python::ModuleFacts> {
    match result {
        Ok(mf) => {
            facts.occurrences.extend(mf.occurrences.iter().cloned());
            facts.occurrences_dropped += mf.dropped;
            Some(mf)
        }
        Err(e) => {
            facts.unparsed.retain(|(p, _)| p != path);
            facts.unparsed.push((path.to_string(), e));
            None
        }
    }
}

fn cut(s: &str, n: usize) -> String {
    s.chars().take(n).collect()
}

/// `.pth` files at the install root: the lines `site` executes (they start with `import`
/// followed by a space or a tab), analysed as interpreter-start code; the modules they import
/// become interpreter-start code too.
fn pth_lines(
    kind: DistKind,
    files: &[PackageFile],
    facts: &mut DistFacts,
    raise: &mut Vec<(String, Moment)>,
) {
    for f in files {
        let inst = installed_path(kind, &f.path);
        if !inst.ends_with(".pth") || inst.contains('/') {
            continue;
        }
        let text = String::from_utf8_lossy(&f.data);
        for (i, line) in text.lines().enumerate() {
            if !(line.starts_with("import ") || line.starts_with("import\t")) {
                continue;
            }
            let line_no = u32::try_from(i + 1).unwrap_or(u32::MAX);
            facts.pth_exec.push(PthLine {
                path: f.path.clone(),
                line: line_no,
                text: cut(line, 300),
            });
            if let Ok(mf) = python::analyze(&f.path, line, Moment::Start, &HashMap::new()) {
                facts
                    .occurrences
                    .extend(mf.occurrences.into_iter().map(|mut o| {
                        o.line = line_no;
                        o
                    }));
                for m in mf.imports {
                    raise.push((module_file(&m), Moment::Start));
                }
            }
        }
    }
}

/// An sdist's in-tree build backend (`backend-path` in `[build-system]`): its module runs at
/// install time.
fn local_build_backend(by_installed: &HashMap<&str, &PackageFile>) -> Option<String> {
    let py = by_installed.get("pyproject.toml")?;
    let doc: toml::Table = std::str::from_utf8(&py.data).ok()?.parse().ok()?;
    let bs = doc.get("build-system")?.as_table()?;
    let backend = bs.get("build-backend")?.as_str()?;
    let module = backend.split(':').next()?.replace('.', "/");
    let dirs: Vec<String> = bs
        .get("backend-path")?
        .as_array()?
        .iter()
        .filter_map(|d| d.as_str())
        .map(|d| d.trim_start_matches("./").trim_end_matches('/').to_string())
        .collect();
    for d in dirs {
        let prefix = if d.is_empty() || d == "." {
            String::new()
        } else {
            format!("{d}/")
        };
        for c in [
            format!("{prefix}{module}.py"),
            format!("{prefix}{module}/__init__.py"),
        ] {
            if let Some(f) = by_installed.get(c.as_str()) {
                return Some(f.path.clone());
            }
        }
    }
    None
}

/// Native files (ELF, PE, Mach-O) and what their import tables reach.
fn native(files: &[PackageFile], facts: &mut DistFacts) {
    use turncoat_analyze::{BinaryKind, Capability};
    for f in files {
        let Some(kind) = turncoat_analyze::detect_binary(&f.path, &f.data) else {
            continue;
        };
        if matches!(kind, BinaryKind::Wasm | BinaryKind::NodeAddon) {
            continue;
        }
        let caps = turncoat_analyze::native_capabilities(&f.data)
            .into_iter()
            .map(|(cap, names)| {
                let key = match cap {
                    Capability::Network => "network",
                    Capability::Dns => "dns",
                    _ => "process",
                };
                (key.to_string(), names)
            })
            .collect();
        facts.native.insert(f.path.clone(), caps);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn file(path: &str, text: &str) -> PackageFile {
        PackageFile {
            path: path.to_string(),
            data: text.as_bytes().to_vec(),
            mode: 0o644,
        }
    }

    /// Enough modules for the parallel path: a call from one module's top level raising a
    /// function of another to import time (found in a later round), a `.pth` raising a module
    /// to interpreter start, a deeply nested expression (large stacks on the pool's threads),
    /// a file that does not parse. The facts are the same on one thread and on four.
    #[test]
    fn many_modules_give_the_same_facts_on_one_thread_and_on_several() {
        let mut files = vec![
            file("demo/__init__.py", "from .b import f\nf()\n"),
            file("demo/b.py", "import os\ndef f():\n    os.system('id')\n"),
            file(
                "demo/hook.py",
                "import os\nTOKEN = os.environ.get('NPM_TOKEN')\n",
            ),
            file("demo.pth", "import demo.hook\n"),
            file(
                "demo/deep.py",
                &format!("x = {}1{}\n", "(".repeat(3000), ")".repeat(3000)),
            ),
            file("demo/broken.py", "def (:\n"),
        ];
        for i in 0..24 {
            files.push(file(
                &format!("demo/m{i:02}.py"),
                &format!("import socket\ndef g{i}():\n    socket.create_connection(('h{i}.invalid', 80))\n"),
            ));
        }
        let one = compute(DistKind::Wheel, &files, &[], 1);
        let four = compute(DistKind::Wheel, &files, &[], 4);
        assert_eq!(one, four);
        let at = |path: &str, cap: crate::facts::Capability| {
            one.occurrences
                .iter()
                .find(|o| o.path == path && o.capability == cap)
                .map(|o| o.moment)
        };
        assert_eq!(
            at("demo/b.py", crate::facts::Capability::Subprocess),
            Some(Moment::Import),
            "{one:#?}"
        );
        assert_eq!(
            at("demo/hook.py", crate::facts::Capability::EnvRead),
            Some(Moment::Start),
            "{one:#?}"
        );
        assert!(one.unparsed.iter().any(|(p, _)| p == "demo/broken.py"));
        assert!(
            !one.unparsed.iter().any(|(p, _)| p == "demo/deep.py"),
            "{:?}",
            one.unparsed
        );
    }
}

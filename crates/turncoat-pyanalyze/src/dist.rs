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
    std::thread::scope(|s| {
        std::thread::Builder::new()
            .name("pyanalyze".into())
            .stack_size(STACK)
            .spawn_scoped(s, || compute(kind, files, record))
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

fn compute(kind: DistKind, files: &[PackageFile], record: &[RecordIssue]) -> DistFacts {
    let mut facts = DistFacts::new(kind);
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
        let todo: Vec<(String, Moment)> = moments
            .iter()
            .filter(|(p, m)| {
                done.get(*p).is_none_or(|d| *m < d) || extra.get(*p) != extra_done.get(*p)
            })
            .map(|(p, m)| (p.clone(), *m))
            .collect();
        if todo.is_empty() {
            break;
        }
        for (path, moment) in todo {
            // Only a re-analysis has earlier occurrences of this file to replace.
            if done.insert(path.clone(), moment).is_some() {
                facts.occurrences.retain(|o| o.path != path);
            }
            let ex = extra.get(&path).cloned().unwrap_or_default();
            if !ex.is_empty() {
                extra_done.insert(path.clone(), ex.clone());
            }
            let Some(file) = by_path.get(path.as_str()) else {
                continue;
            };
            let Some(mf) = analyze_file(file, moment, &ex, &mut facts) else {
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
fn analyze_file(
    file: &PackageFile,
    moment: Moment,
    extra: &HashMap<String, Moment>,
    facts: &mut DistFacts,
) -> Option<python::ModuleFacts> {
    if file.data.len() > MAX_SOURCE {
        facts
            .unparsed
            .push((file.path.clone(), format!("larger than {MAX_SOURCE} bytes")));
        return None;
    }
    let source = String::from_utf8_lossy(&file.data);
    match python::analyze(&file.path, &source, moment, extra) {
        Ok(mf) => {
            facts.occurrences.extend(mf.occurrences.iter().cloned());
            facts.occurrences_dropped += mf.dropped;
            Some(mf)
        }
        Err(e) => {
            facts.unparsed.retain(|(p, _)| *p != file.path);
            facts.unparsed.push((file.path.clone(), cut(&e, 200)));
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

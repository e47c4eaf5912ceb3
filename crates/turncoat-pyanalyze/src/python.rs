//! One Python module, parsed with `ruff_python_parser` and walked for capabilities.
//!
//! Names are resolved to qualified names flow-insensitively per module: `import x as y`,
//! `from os import environ as e`, `e = os.environ`, `from subprocess import *`,
//! `getattr(os, 'sys' + 'tem')`, `__import__('os')`, `importlib.import_module('os')`,
//! `sys.modules['os']`, with constant strings folded (`+`, `''.join([...])`, `[::-1]`,
//! `chr(n)`, `bytes.fromhex(…).decode()`, `base64.b64decode(…).decode()`, names bound to
//! constants). The moment of each use is the module's (import time, interpreter start,
//! install time) unless the use sits in a function the top level never references, which
//! runs at call time.

use std::collections::{HashMap, HashSet};

use ruff_python_ast::visitor::{self, Visitor};
use ruff_python_ast::{self as ast, Expr, Stmt};
use ruff_text_size::Ranged;

use crate::facts::{Capability, Moment, Occurrence};
use crate::names::{
    BUILTINS, DECODERS, DYNAMIC_IMPORT, ENV_ALL, ENV_ONE, EXEC, STAR_EXPORTS, call_capability,
    is_blob, string_facts,
};

/// Most occurrences kept per module.
const MAX_PER_MODULE: usize = 4096;
/// Deepest constant folding / name resolution.
const MAX_FOLD_DEPTH: u32 = 32;
/// Longest folded string.
const MAX_FOLDED: usize = 64 * 1024;
/// Longest snippet.
const SNIPPET: usize = 160;

/// What one module contributes.
#[derive(Debug, Default)]
pub(crate) struct ModuleFacts {
    pub occurrences: Vec<Occurrence>,
    pub dropped: usize,
    /// Constant strings handed to `exec(open(…).read())` and the moment of that exec: the
    /// named file's code runs then.
    pub exec_files: Vec<(String, Moment)>,
    /// Modules the module imports at its own moment (`import a.b` → `a.b`).
    pub imports: Vec<String>,
    /// Qualified names the top level loads (`pkg.mod.func` for `from .mod import func;
    /// func()`): functions of other modules that run at this module's moment.
    pub called: Vec<String>,
}

/// Parse and walk one module; `Err` when it does not parse.
pub(crate) fn analyze(
    path: &str,
    source: &str,
    base: Moment,
    extra: &HashMap<String, Moment>,
) -> Result<ModuleFacts, String> {
    let parsed = ruff_python_parser::parse_module(source).map_err(|e| e.to_string())?;
    let suite = parsed.suite();
    let mut binds = Bindings {
        package: package_of(path),
        ..Bindings::default()
    };
    // Twice: `a = os; b = a.environ` resolves on the second round whatever the order.
    for _ in 0..2 {
        let mut c = Collector { b: &mut binds };
        c.visit_body(suite);
    }
    let mut top = TopRefs {
        b: &binds,
        names: HashSet::new(),
        called: Vec::new(),
    };
    top.visit_body(suite);
    let called = std::mem::take(&mut top.called);
    let lines = LineIndex::new(source);
    let mut w = Walker {
        path,
        source,
        lines: &lines,
        b: &binds,
        top: &top.names,
        extra,
        moment: base,
        base,
        scope: "<module>".to_string(),
        depth: 0,
        class: None,
        out: ModuleFacts::default(),
        seen: HashSet::new(),
    };
    w.visit_body(suite);
    if base <= Moment::Import {
        w.out.called = called;
    }
    Ok(w.out)
}

/// The package a module file belongs to (`a/b/c.py` and `a/b/__init__.py` → `a.b`), for
/// relative imports.
fn package_of(path: &str) -> String {
    let path = path.strip_prefix("src/").unwrap_or(path);
    match path.rsplit_once('/') {
        Some((dir, _)) => dir.replace('/', "."),
        None => String::new(),
    }
}

#[derive(Default)]
struct Bindings {
    package: String,
    names: HashMap<String, String>,
    consts: HashMap<String, String>,
    decoded: HashSet<String>,
}

impl Bindings {
    fn resolve(&self, e: &Expr) -> Option<String> {
        self.resolve_d(e, 0)
    }

    fn resolve_d(&self, e: &Expr, d: u32) -> Option<String> {
        if d > MAX_FOLD_DEPTH {
            return None;
        }
        match e {
            Expr::Name(n) => {
                let id = n.id.as_str();
                if let Some(q) = self.names.get(id) {
                    return Some(q.clone());
                }
                if id == "__builtins__" || id == "builtins" {
                    return Some("builtins".into());
                }
                BUILTINS.contains(&id).then(|| format!("builtins.{id}"))
            }
            Expr::Attribute(a) => {
                let base = self.resolve_d(&a.value, d + 1)?;
                Some(format!("{base}.{}", a.attr.as_str()))
            }
            Expr::Subscript(s) => {
                let base = self.resolve_d(&s.value, d + 1)?;
                let key = self.fold_d(&s.slice, d + 1)?;
                match base.as_str() {
                    "sys.modules" => Some(key),
                    "builtins" | "builtins.__dict__" | "builtins.vars()" | "builtins.globals()" => {
                        self.names
                            .get(&key)
                            .cloned()
                            .or(Some(format!("builtins.{key}")))
                    }
                    _ => None,
                }
            }
            Expr::Call(c) => {
                let f = self.resolve_d(&c.func, d + 1)?;
                let arg = |i: usize| c.arguments.args.get(i);
                if DYNAMIC_IMPORT.contains(&f.as_str()) {
                    return arg(0).and_then(|a| self.fold_d(a, d + 1));
                }
                if f == "builtins.getattr" {
                    let obj = self.resolve_d(arg(0)?, d + 1)?;
                    let attr = self.fold_d(arg(1)?, d + 1)?;
                    return Some(format!("{obj}.{attr}"));
                }
                Some(format!("{f}()"))
            }
            _ => None,
        }
    }

    fn fold(&self, e: &Expr) -> Option<String> {
        self.fold_d(e, 0)
    }

    fn fold_d(&self, e: &Expr, d: u32) -> Option<String> {
        if d > MAX_FOLD_DEPTH {
            return None;
        }
        let s = match e {
            Expr::StringLiteral(s) => s.value.to_str().to_string(),
            Expr::Name(n) => self.consts.get(n.id.as_str())?.clone(),
            Expr::BinOp(b) if b.op == ast::Operator::Add => {
                let mut l = self.fold_d(&b.left, d + 1)?;
                l.push_str(&self.fold_d(&b.right, d + 1)?);
                l
            }
            Expr::Subscript(s) => {
                let Expr::Slice(sl) = &*s.slice else {
                    return None;
                };
                let reversed = sl.lower.is_none()
                    && sl.upper.is_none()
                    && sl.step.as_deref().is_some_and(is_minus_one);
                if !reversed {
                    return None;
                }
                self.fold_d(&s.value, d + 1)?.chars().rev().collect()
            }
            Expr::Call(c) => self.fold_call(c, d)?,
            _ => return None,
        };
        (s.len() <= MAX_FOLDED).then_some(s)
    }

    fn fold_call(&self, c: &ast::ExprCall, d: u32) -> Option<String> {
        let args = &c.arguments.args;
        if let Expr::Attribute(a) = &*c.func {
            match a.attr.as_str() {
                "join" => {
                    let sep = self.fold_d(&a.value, d + 1)?;
                    let items = match args.first()? {
                        Expr::List(l) => &l.elts,
                        Expr::Tuple(t) => &t.elts,
                        _ => return None,
                    };
                    let parts: Option<Vec<String>> =
                        items.iter().map(|i| self.fold_d(i, d + 1)).collect();
                    return Some(parts?.join(&sep));
                }
                "decode" => {
                    let bytes = self.fold_bytes(&a.value, d + 1)?;
                    return String::from_utf8(bytes).ok();
                }
                "lower" => return Some(self.fold_d(&a.value, d + 1)?.to_lowercase()),
                "upper" => return Some(self.fold_d(&a.value, d + 1)?.to_uppercase()),
                "strip" => return Some(self.fold_d(&a.value, d + 1)?.trim().to_string()),
                _ => {}
            }
        }
        if self.resolve_d(&c.func, d + 1).as_deref() == Some("builtins.chr") {
            let Expr::NumberLiteral(n) = args.first()? else {
                return None;
            };
            let ast::Number::Int(i) = &n.value else {
                return None;
            };
            return char::from_u32(u32::try_from(i.as_i64()?).ok()?).map(String::from);
        }
        None
    }

    fn fold_bytes(&self, e: &Expr, d: u32) -> Option<Vec<u8>> {
        if d > MAX_FOLD_DEPTH {
            return None;
        }
        match e {
            Expr::BytesLiteral(b) => Some(b.value.bytes().collect()),
            Expr::Call(c) => {
                let f = self.resolve_d(&c.func, d + 1)?;
                let arg = c.arguments.args.first()?;
                let text = self
                    .fold_d(arg, d + 1)
                    .map(String::into_bytes)
                    .or_else(|| self.fold_bytes(arg, d + 1))?;
                match f.as_str() {
                    "bytes.fromhex" | "builtins.bytes.fromhex" | "binascii.unhexlify" => {
                        hex_decode(&text)
                    }
                    "base64.b64decode" | "base64.standard_b64decode" => {
                        use base64::Engine;
                        base64::engine::general_purpose::STANDARD.decode(&text).ok()
                    }
                    _ => None,
                }
            }
            _ => None,
        }
    }

    /// Decoders called anywhere inside `e`, or a name assigned from one.
    fn decoders_in(&self, e: &Expr) -> Vec<String> {
        struct Find<'b> {
            b: &'b Bindings,
            found: Vec<String>,
        }
        impl<'a> Visitor<'a> for Find<'_> {
            fn visit_expr(&mut self, e: &'a Expr) {
                if self.found.len() > 8 {
                    return;
                }
                match e {
                    Expr::Call(c) => {
                        if let Some(q) = self.b.resolve(&c.func)
                            && DECODERS.contains(&q.as_str())
                        {
                            self.found.push(q);
                        }
                    }
                    Expr::Name(n) if self.b.decoded.contains(n.id.as_str()) => {
                        self.found.push(format!("{} (decoded)", n.id));
                    }
                    _ => {}
                }
                stacker::maybe_grow(64 * 1024, 1024 * 1024, || visitor::walk_expr(self, e));
            }
        }
        let mut f = Find {
            b: self,
            found: Vec::new(),
        };
        f.visit_expr(e);
        f.found
    }
}

fn is_minus_one(e: &Expr) -> bool {
    match e {
        Expr::UnaryOp(u) if u.op == ast::UnaryOp::USub => matches!(
            &*u.operand,
            Expr::NumberLiteral(n) if matches!(&n.value, ast::Number::Int(i) if i.as_i64() == Some(1))
        ),
        Expr::NumberLiteral(n) => {
            matches!(&n.value, ast::Number::Int(i) if i.as_i64() == Some(-1))
        }
        _ => false,
    }
}

fn hex_decode(text: &[u8]) -> Option<Vec<u8>> {
    let text: Vec<u8> = text
        .iter()
        .copied()
        .filter(|b| !b.is_ascii_whitespace())
        .collect();
    if !text.len().is_multiple_of(2) {
        return None;
    }
    text.chunks(2)
        .map(|p| {
            let s = std::str::from_utf8(p).ok()?;
            u8::from_str_radix(s, 16).ok()
        })
        .collect()
}

/// Pass 1: imports, aliases, constants and decoded names, in every scope.
struct Collector<'b> {
    b: &'b mut Bindings,
}

impl<'a> Visitor<'a> for Collector<'_> {
    fn visit_stmt(&mut self, s: &'a Stmt) {
        match s {
            Stmt::Import(i) => {
                for a in &i.names {
                    let name = a.name.as_str();
                    match &a.asname {
                        Some(as_) => self.b.names.insert(as_.to_string(), name.to_string()),
                        None => {
                            let first = name.split('.').next().unwrap_or(name);
                            self.b.names.insert(first.to_string(), first.to_string())
                        }
                    };
                }
            }
            Stmt::ImportFrom(i) => {
                let module = i.module.as_ref().map(|m| m.as_str()).unwrap_or_default();
                let module = relative(&self.b.package, i.level, module);
                let module = module.as_str();
                for a in &i.names {
                    if a.name.as_str() == "*" {
                        for (m, exported) in STAR_EXPORTS {
                            if *m == module {
                                for e in *exported {
                                    self.b
                                        .names
                                        .entry((*e).to_string())
                                        .or_insert(format!("{module}.{e}"));
                                }
                            }
                        }
                        continue;
                    }
                    let local = a.asname.as_ref().unwrap_or(&a.name).to_string();
                    self.b
                        .names
                        .insert(local, format!("{module}.{}", a.name.as_str()));
                }
            }
            Stmt::Assign(a) => {
                for t in &a.targets {
                    self.bind(t, &a.value);
                }
            }
            Stmt::AnnAssign(a) => {
                if let Some(v) = &a.value {
                    self.bind(&a.target, v);
                }
            }
            _ => {}
        }
        stacker::maybe_grow(64 * 1024, 1024 * 1024, || visitor::walk_stmt(self, s));
    }
}

impl Collector<'_> {
    fn bind(&mut self, target: &Expr, value: &Expr) {
        let Expr::Name(n) = target else { return };
        let id = n.id.to_string();
        if let Some(c) = self.b.fold(value) {
            self.b.consts.insert(id, c);
        } else if !self.b.decoders_in(value).is_empty() {
            self.b.decoded.insert(id);
        } else if let Some(q) = self.b.resolve(value) {
            // `x = foo()` binds the call's result: keep only aliases of names, not of results,
            // except the ones calls return modules for (`__import__`, `getattr`).
            if !matches!(value, Expr::Call(_)) || !q.ends_with("()") {
                self.b.names.insert(id, q);
            }
        }
    }
}

/// `from ..x import y` in package `a.b.c` (level 2) → `a.b.x`.
fn relative(package: &str, level: u32, module: &str) -> String {
    if level == 0 {
        return module.to_string();
    }
    let mut parts: Vec<&str> = package.split('.').filter(|p| !p.is_empty()).collect();
    for _ in 1..level {
        parts.pop();
    }
    if !module.is_empty() {
        parts.push(module);
    }
    parts.join(".")
}

/// Names the module's top level (class bodies included, function bodies not) loads: the
/// functions and classes it calls, registers or hands to threads run at import time; and
/// their qualified names, so functions of other modules can be found.
struct TopRefs<'b> {
    b: &'b Bindings,
    names: HashSet<String>,
    called: Vec<String>,
}

impl<'a> Visitor<'a> for TopRefs<'_> {
    fn visit_stmt(&mut self, s: &'a Stmt) {
        if let Stmt::FunctionDef(f) = s {
            for d in &f.decorator_list {
                self.visit_decorator(d);
            }
            return;
        }
        stacker::maybe_grow(64 * 1024, 1024 * 1024, || visitor::walk_stmt(self, s));
    }

    fn visit_expr(&mut self, e: &'a Expr) {
        if let Expr::Lambda(_) = e {
            return;
        }
        if let Expr::Name(n) = e {
            self.names.insert(n.id.to_string());
        }
        if matches!(e, Expr::Name(_) | Expr::Attribute(_))
            && self.called.len() < 1000
            && let Some(q) = self.b.resolve(e)
            && !q.starts_with("builtins.")
        {
            self.called.push(q);
        }
        stacker::maybe_grow(64 * 1024, 1024 * 1024, || visitor::walk_expr(self, e));
    }
}

struct LineIndex {
    starts: Vec<usize>,
}

impl LineIndex {
    fn new(src: &str) -> LineIndex {
        let mut starts = vec![0];
        starts.extend(src.match_indices('\n').map(|(i, _)| i + 1));
        LineIndex { starts }
    }

    /// 1-based line of a byte offset.
    fn line(&self, offset: usize) -> u32 {
        let i = self.starts.partition_point(|s| *s <= offset);
        u32::try_from(i).unwrap_or(u32::MAX)
    }
}

/// Pass 2: the uses, with their moment and scope.
struct Walker<'w> {
    path: &'w str,
    source: &'w str,
    lines: &'w LineIndex,
    b: &'w Bindings,
    top: &'w HashSet<String>,
    /// Functions (or classes) of this module that other modules' top level calls, with the
    /// moment they run at.
    extra: &'w HashMap<String, Moment>,
    moment: Moment,
    base: Moment,
    scope: String,
    depth: u32,
    class: Option<String>,
    out: ModuleFacts,
    seen: HashSet<(Capability, Option<String>, u32)>,
}

impl Walker<'_> {
    fn emit(&mut self, cap: Capability, detail: Option<String>, at: usize) {
        let line = self.lines.line(at);
        if !self.seen.insert((cap, detail.clone(), line)) {
            return;
        }
        if self.out.occurrences.len() >= MAX_PER_MODULE {
            self.out.dropped += 1;
            return;
        }
        let start = self.lines.starts[(line as usize).saturating_sub(1)];
        let text = self.source[start..]
            .lines()
            .next()
            .unwrap_or_default()
            .trim();
        let mut cut = text.len().min(SNIPPET);
        while !text.is_char_boundary(cut) {
            cut -= 1;
        }
        self.out.occurrences.push(Occurrence {
            capability: cap,
            moment: self.moment,
            path: self.path.to_string(),
            line,
            detail,
            scope: self.scope.clone(),
            snippet: text[..cut].to_string(),
        });
    }

    /// The moment a function body runs at.
    fn body_moment(&self, name: &str) -> Moment {
        if self.base == Moment::Install || self.moment == Moment::Call {
            return self.moment;
        }
        let ctor = matches!(name, "__init__" | "__new__" | "__init_subclass__");
        let (local, from_outside) = match &self.class {
            None if self.depth == 0 => (self.top.contains(name), self.extra.get(name)),
            Some(class) if self.depth == 1 && ctor => (
                self.top.contains(class.as_str()),
                self.extra.get(class.as_str()),
            ),
            _ => (false, None),
        };
        if local {
            self.moment
        } else if let Some(m) = from_outside {
            *m
        } else {
            Moment::Call
        }
    }

    fn call(&mut self, c: &ast::ExprCall) -> bool {
        let Some(q) = self.b.resolve(&c.func) else {
            return false;
        };
        let at = c.range().start().to_usize();
        let arg0 = c.arguments.args.first();
        if ENV_ONE.contains(&q.as_str()) {
            let key = arg0
                .and_then(|a| self.b.fold(a))
                .unwrap_or_else(|| "?".into());
            self.emit(Capability::EnvRead, Some(key), at);
        } else if ENV_ALL.contains(&q.as_str()) {
            self.emit(Capability::EnvRead, Some("*".into()), at);
        } else if EXEC.contains(&q.as_str()) || q == "marshal.loads" {
            self.exec(&q, arg0, at);
        } else if DYNAMIC_IMPORT.contains(&q.as_str()) {
            if arg0.and_then(|a| self.b.fold(a)).is_none() {
                self.emit(Capability::DynamicImport, Some(q), at);
            }
        } else if let Some(cap) = call_capability(&q) {
            self.emit(cap, Some(q.trim_end_matches("()").to_string()), at);
        } else {
            return false;
        }
        true
    }

    fn exec(&mut self, q: &str, arg: Option<&Expr>, at: usize) {
        if q == "marshal.loads" {
            self.emit(Capability::EncodedExec, Some("marshal.loads".into()), at);
            return;
        }
        let Some(arg) = arg else {
            self.emit(Capability::Exec, Some(q.into()), at);
            return;
        };
        let decoders = self.b.decoders_in(arg);
        if !decoders.is_empty() {
            self.emit(Capability::EncodedExec, Some(decoders.join("+")), at);
            return;
        }
        let files = self.opened_files(arg);
        if files.is_empty() {
            self.emit(Capability::Exec, Some(q.into()), at);
            return;
        }
        for f in files {
            self.out.exec_files.push((f.clone(), self.moment));
            if f.ends_with(".py") {
                self.emit(Capability::Exec, Some(q.into()), at);
            } else {
                self.emit(
                    Capability::EncodedExec,
                    Some(format!("contents of {f}")),
                    at,
                );
            }
        }
    }

    /// Constant file names inside an `open(…)`/`Path(…)` in `e`.
    fn opened_files(&self, e: &Expr) -> Vec<String> {
        struct Find<'b> {
            b: &'b Bindings,
            inside_open: bool,
            found: Vec<String>,
        }
        impl<'a> Visitor<'a> for Find<'_> {
            fn visit_expr(&mut self, e: &'a Expr) {
                let was = self.inside_open;
                if let Expr::Call(c) = e {
                    let q = self.b.resolve(&c.func).unwrap_or_default();
                    if q == "builtins.open"
                        || q.starts_with("pathlib.Path")
                        || q == "io.open"
                        || q == "codecs.open"
                    {
                        self.inside_open = true;
                    }
                }
                if self.inside_open
                    && let Some(s) = self.b.fold(e)
                    && self.found.len() < 8
                {
                    let base = s.rsplit(['/', '\\']).next().unwrap_or(&s).to_string();
                    if !base.is_empty() {
                        self.found.push(base);
                    }
                }
                stacker::maybe_grow(64 * 1024, 1024 * 1024, || visitor::walk_expr(self, e));
                self.inside_open = was;
            }
        }
        let mut f = Find {
            b: self.b,
            inside_open: false,
            found: Vec::new(),
        };
        f.visit_expr(e);
        f.found
    }

    fn strings(&mut self, s: &str, at: usize) {
        for (cap, detail) in string_facts(s) {
            self.emit(cap, Some(detail), at);
        }
    }
}

impl<'a> Visitor<'a> for Walker<'_> {
    fn visit_stmt(&mut self, s: &'a Stmt) {
        match s {
            Stmt::FunctionDef(f) => {
                for d in &f.decorator_list {
                    self.visit_decorator(d);
                }
                self.visit_parameters(&f.parameters);
                let saved = (self.moment, self.scope.clone(), self.depth);
                self.moment = self.body_moment(f.name.as_str());
                // Methods share their class's scope: `__init__` reading the environment and
                // `send` posting it are one flow (ctx 0.2.6).
                if self.depth == 0 {
                    self.scope = f.name.to_string();
                }
                self.depth += 1;
                let class = self.class.take();
                self.visit_body(&f.body);
                self.class = class;
                (self.moment, self.scope, self.depth) = saved;
            }
            Stmt::ClassDef(c) if self.depth == 0 => {
                let saved = self.scope.clone();
                self.scope = c.name.to_string();
                self.class = Some(c.name.to_string());
                self.depth += 1;
                stacker::maybe_grow(64 * 1024, 1024 * 1024, || visitor::walk_stmt(self, s));
                self.depth -= 1;
                self.class = None;
                self.scope = saved;
            }
            Stmt::If(i) if self.base != Moment::Install && is_main_guard(&i.test) => {
                let saved = self.moment;
                self.moment = Moment::Call;
                self.visit_body(&i.body);
                self.moment = saved;
                for clause in &i.elif_else_clauses {
                    self.visit_body(&clause.body);
                }
            }
            Stmt::Import(i) => {
                for a in &i.names {
                    self.import(a.name.as_str(), s.range().start().to_usize());
                }
            }
            // Docstrings and other bare string statements are text, not code: a docstring
            // that mentions `~/.ssh` reads nothing.
            Stmt::Expr(e) if matches!(&*e.value, Expr::StringLiteral(_)) => {}
            Stmt::ImportFrom(i) => {
                let m = i.module.as_ref().map(|m| m.as_str()).unwrap_or_default();
                self.import(m, s.range().start().to_usize());
                for a in &i.names {
                    if a.name.as_str().contains("pyarmor") {
                        self.emit(
                            Capability::Obfuscation,
                            Some("pyarmor".into()),
                            s.range().start().to_usize(),
                        );
                    }
                }
            }
            _ => stacker::maybe_grow(64 * 1024, 1024 * 1024, || visitor::walk_stmt(self, s)),
        }
    }

    fn visit_expr(&mut self, e: &'a Expr) {
        let at = e.range().start().to_usize();
        match e {
            Expr::Call(c) if self.call(c) => {
                self.visit_arguments(&c.arguments);
                return;
            }
            Expr::Subscript(s) => {
                if matches!(
                    self.b.resolve(&s.value).as_deref(),
                    Some("os.environ" | "os.environb")
                ) {
                    let key = self.b.fold(&s.slice).unwrap_or_else(|| "?".into());
                    self.emit(Capability::EnvRead, Some(key), at);
                    self.visit_expr(&s.slice);
                    return;
                }
            }
            Expr::Attribute(_) | Expr::Name(_) => {
                if let Some(q) = self.b.resolve(e) {
                    if q == "os.environ" || q == "os.environb" {
                        self.emit(Capability::EnvRead, Some("*".into()), at);
                        return;
                    }
                    if q.starts_with("os.environ.") {
                        return;
                    }
                }
            }
            Expr::StringLiteral(s) => self.strings(s.value.to_str(), at),
            Expr::BytesLiteral(b) => {
                let bytes: Vec<u8> = b.value.bytes().take(MAX_FOLDED + 1).collect();
                if let Ok(s) = std::str::from_utf8(&bytes)
                    && is_blob(s)
                {
                    self.emit(Capability::EncodedBlob, Some(s.len().to_string()), at);
                }
            }
            _ => {}
        }
        stacker::maybe_grow(64 * 1024, 1024 * 1024, || visitor::walk_expr(self, e));
    }
}

impl Walker<'_> {
    fn import(&mut self, module: &str, at: usize) {
        if module.contains("pyarmor") || module.starts_with("pytransform") {
            self.emit(Capability::Obfuscation, Some("pyarmor".into()), at);
        }
        if self.moment != Moment::Call && !module.is_empty() {
            self.out.imports.push(module.to_string());
        }
    }
}

/// `if __name__ == "__main__":`
fn is_main_guard(test: &Expr) -> bool {
    let Expr::Compare(c) = test else { return false };
    let is_name = |e: &Expr| matches!(e, Expr::Name(n) if n.id.as_str() == "__name__");
    let is_main = |e: &Expr| matches!(e, Expr::StringLiteral(s) if s.value.to_str() == "__main__");
    c.comparators.len() == 1
        && ((is_name(&c.left) && is_main(&c.comparators[0]))
            || (is_main(&c.left) && is_name(&c.comparators[0])))
}

//! One pass over a parsed program: capabilities with their occurrences, identifier statistics,
//! string literals (blobs, credential paths, URL hosts), top-level declarations and local
//! imports.
//!
//! The walk is syntactic. Module bindings are tracked by name in source order
//! (`const cp = require('child_process')`, `import { lookup } from 'dns'`), which covers the
//! way both ordinary and malicious npm code is written. The environment object is followed
//! through aliases, destructuring and parameters by `super::flow` (symbols from oxc's semantic
//! model) when the walk sees it escape into a binding or a call.

use std::collections::{BTreeMap, BTreeSet, HashMap, HashSet};

use oxc_ast::ast::*;
use oxc_ast_visit::{Visit, walk};
use oxc_span::GetSpan;

use super::bindings::{Binding, Bindings, Consts};
use super::fold;
use super::patterns::{self, ModuleKind};
use super::string_table::{self, TableName};
use super::text::{self, LONG_LINE, LineIndex};
use crate::facts::{Blob, Capability, CapabilityUse, Destination, Occurrence};

const MAX_BLOBS: usize = 64;
/// Distinct hosts kept per file; past it the file is marked `hosts_overflow`.
const MAX_HOSTS: usize = 1024;
/// Computed destinations kept per file.
const MAX_COMPUTED_DESTINATIONS: usize = 64;
/// Constant strings remembered by name for folding, and their longest value.
const MAX_CONSTS: usize = 1024;
const MAX_CONST_LEN: usize = 256;
const MAX_LOCAL_IMPORTS: usize = 1024;
/// String-table names, dynamic loads and computed `process` lookups kept for
/// [`Walker::infer_from_string_table`].
const MAX_TABLE_NAMES: usize = 32;
const MAX_LOOKUPS: usize = 8;
/// All-string arrays at least this long are read as possible string tables.
const MIN_TABLE_LEN: usize = 5;
/// What an occurrence inferred from a string table says about where its name came from.
pub(crate) const FROM_STRING_TABLE: &str = "from an obfuscated string table";
/// How deep key material is looked for in a request's arguments.
const KEY_SEARCH_DEPTH: u32 = 6;
/// How deep `contains_decode` looks into a sink's argument.
const DECODE_SEARCH_DEPTH: u32 = 8;

pub(crate) struct Walker<'s> {
    src: &'s str,
    index: &'s LineIndex,
    max_occurrences: usize,
    pub caps: BTreeMap<Capability, CapabilityUse>,
    /// Local name → module it was bound to (`cp` → child_process).
    modules: HashMap<String, ModuleKind>,
    /// Local name → (module, imported name) for destructured/named imports (`exec`).
    functions: HashMap<String, (ModuleKind, String)>,
    /// The environment object (`process` or `process.env`) flows into a binding or a call:
    /// the data flow (`super::flow`) has to follow it.
    pub env_escapes: bool,
    /// Span and enclosing declaration of each top-level statement, for occurrences found
    /// after the walk.
    statement_scopes: Vec<(u32, u32, Option<String>)>,
    /// Names bound to decoded strings, per function scope (innermost last); a parameter or
    /// declaration of the same name in an inner function shadows them (`false`).
    decoded_scopes: Vec<Vec<(String, bool)>>,
    decoded_count: usize,
    write_depth: u32,
    scope: Option<String>,
    pub top_level_functions: BTreeMap<String, u32>,
    pub hosts: BTreeSet<String>,
    pub hosts_overflow: bool,
    pub destinations: Vec<Destination>,
    computed_destinations: usize,
    /// What each name holds, per function scope: a constant string (for [`fold::fold`]), a
    /// string built from something that does not fold, a choice between constants, key
    /// material.
    bindings: Bindings,
    /// How a network module about to be loaded is bound (see [`Deferral`]).
    defer: Deferral,
    /// Network modules bound to a name, with their load site: they count as a use only if the
    /// name is used for more than attributes that make no request (`http.ServerResponse`).
    pending_network: Vec<(String, u32, String, Option<String>)>,
    /// Per pending name: (references, references that make no request or were counted at
    /// their call).
    network_refs: HashMap<String, (u32, u32)>,
    /// Callee offsets of request calls already recorded (`http.request` in `http.request(…)`).
    called_members: HashSet<u32>,
    /// Names bound to request objects (`const req = https.request(…)`, whose `.write`/`.end`
    /// send the body).
    request_vars: HashSet<String>,
    /// Names bound to a module loader (`const r = require`, `createRequire(…)`,
    /// `module.constructor._load`).
    loaders: HashSet<String>,
    pub local_imports: BTreeSet<String>,
    pub blobs: Vec<Blob>,
    /// (label, is persistence target, offset, inside a write call)
    path_hits: Vec<(&'static str, bool, u32, bool)>,
    has_write_call: bool,
    pub identifiers: u32,
    pub short_identifiers: u32,
    pub obfuscator_identifiers: u32,
    ident_chars: [u32; 128],
    pub largest_string_array: u32,
    pub string_array_rotation: bool,
    /// Tracked names found in all-string arrays (possible obfuscator tables).
    table_names: Vec<TableName>,
    /// Offsets of `require(expr)` / `import(expr)` with a computed name.
    dynamic_loads: Vec<u32>,
    /// Offsets of `process[expr]` with a computed key.
    computed_process: Vec<u32>,
}

impl<'s> Walker<'s> {
    pub(crate) fn new(src: &'s str, index: &'s LineIndex, max_occurrences: usize) -> Self {
        Walker {
            src,
            index,
            max_occurrences,
            caps: BTreeMap::new(),
            modules: HashMap::new(),
            functions: HashMap::new(),
            env_escapes: false,
            statement_scopes: Vec::new(),
            decoded_scopes: vec![Vec::new()],
            decoded_count: 0,
            write_depth: 0,
            scope: None,
            top_level_functions: BTreeMap::new(),
            hosts: BTreeSet::new(),
            hosts_overflow: false,
            destinations: Vec::new(),
            computed_destinations: 0,
            bindings: Bindings::default(),
            loaders: HashSet::new(),
            defer: Deferral::None,
            pending_network: Vec::new(),
            network_refs: HashMap::new(),
            called_members: HashSet::new(),
            request_vars: HashSet::new(),
            local_imports: BTreeSet::new(),
            blobs: Vec::new(),
            path_hits: Vec::new(),
            has_write_call: false,
            identifiers: 0,
            short_identifiers: 0,
            obfuscator_identifiers: 0,
            ident_chars: [0; 128],
            largest_string_array: 0,
            string_array_rotation: false,
            table_names: Vec::new(),
            dynamic_loads: Vec::new(),
            computed_process: Vec::new(),
        }
    }

    /// Entropy of identifier characters, bits per character.
    pub(crate) fn identifier_entropy(&self) -> f32 {
        let total: u32 = self.ident_chars.iter().sum();
        if total == 0 {
            return 0.0;
        }
        let n = total as f32;
        self.ident_chars
            .iter()
            .filter(|&&c| c > 0)
            .map(|&c| {
                let p = c as f32 / n;
                -p * p.log2()
            })
            .sum()
    }

    /// Turn the collected path strings into capabilities (done after the walk, because a
    /// file's write calls may come after the path literal).
    pub(crate) fn finish(&mut self) {
        self.settle_network();
        let hits = std::mem::take(&mut self.path_hits);
        // A literal that is both a credential store and a persistence place (`.npmrc`) is
        // read far more often than written: only a write call around it makes it a write.
        let sensitive_at: HashSet<u32> = hits.iter().filter(|h| !h.1).map(|h| h.2).collect();
        for (label, persistence, offset, in_write) in hits {
            if persistence {
                let dual_use = sensitive_at.contains(&offset);
                if in_write || (self.has_write_call && !dual_use) {
                    self.occur(
                        Capability::PersistenceWrite,
                        offset,
                        Some(label.to_string()),
                    );
                }
            } else {
                self.occur(Capability::SensitiveRead, offset, Some(label.to_string()));
            }
        }
    }

    /// Obfuscated code reaches modules and `process.env` through string-table lookups
    /// (`require(_0x1e9b('0x0'))`, `process[_0x1e9b('0x4')]`), which the walk sees only as
    /// computed names. Called for files classified as obfuscated: a table that names a core
    /// module, in a file that loads a module by computed name, makes that load a use of the
    /// module; a table that names `env`, in a file that indexes `process` by a computed key,
    /// makes that lookup an environment read. Occurrences sit at the lookup and say where the
    /// name came from; the table's DNS suffixes join the file's hosts.
    pub(crate) fn infer_from_string_table(&mut self) {
        let names = std::mem::take(&mut self.table_names);
        let mut seen: Vec<Capability> = Vec::new();
        for name in &names {
            match name {
                &TableName::Module(cap, ref spec) => {
                    // One occurrence per capability: which load fetches which module is not
                    // known, only that one of them does.
                    if seen.contains(&cap) {
                        continue;
                    }
                    if let Some(&at) = self.dynamic_loads.first() {
                        seen.push(cap);
                        self.occur(cap, at, Some(format!("'{spec}' {FROM_STRING_TABLE}")));
                    }
                }
                TableName::Env => {
                    // Taken: a second `env` entry adds nothing.
                    for at in std::mem::take(&mut self.computed_process) {
                        self.occur(
                            Capability::EnvRead,
                            at,
                            Some(format!("'env' {FROM_STRING_TABLE}")),
                        );
                    }
                }
                TableName::HostSuffix(host) => {
                    let at = self.dynamic_loads.first().copied().unwrap_or(0);
                    self.add_host(host, at, FROM_STRING_TABLE, false);
                }
            }
        }
    }

    fn occur(&mut self, cap: Capability, offset: u32, detail: Option<String>) {
        let use_ = self.caps.entry(cap).or_default();
        use_.count = use_.count.saturating_add(1);
        if use_.occurrences.len() >= self.max_occurrences {
            return;
        }
        let occ = self.occurrence(offset, detail);
        if let Some(u) = self.caps.get_mut(&cap) {
            u.occurrences.push(occ);
        }
    }

    fn occurrence(&self, offset: u32, detail: Option<String>) -> Occurrence {
        let (line, column) = self.index.position(offset);
        let snippet = text::snippet(self.src, self.index, offset);
        let (ls, le) = self.index.line_range(line);
        // Long (minified) lines change as a whole on every release: fingerprint the
        // neighbourhood of the occurrence instead.
        let line_hash = if le - ls > LONG_LINE {
            text::short_hash(snippet.as_bytes())
        } else {
            text::line_hash(self.src, self.index, line)
        };
        Occurrence {
            line,
            column,
            snippet,
            detail,
            scope: self.scope.clone(),
            line_hash,
        }
    }

    /// A host named at `offset`. Only its first occurrence is kept; past [`MAX_HOSTS`]
    /// distinct hosts the file is marked as overflowing instead of silently dropping one.
    /// `sent`: it is the destination of a network call.
    fn add_host(&mut self, host: &str, offset: u32, how: &str, sent: bool) {
        let host = host.to_ascii_lowercase();
        if self.hosts.contains(&host) {
            if sent
                && let Some(d) = self
                    .destinations
                    .iter_mut()
                    .find(|d| d.host.as_deref() == Some(host.as_str()))
            {
                d.sent = true;
            }
            return;
        }
        if self.hosts.len() >= MAX_HOSTS {
            self.hosts_overflow = true;
            return;
        }
        let at = self.occurrence(offset, Some(format!("{host} ({how})")));
        self.destinations.push(Destination {
            host: Some(host.clone()),
            sent,
            at,
        });
        self.hosts.insert(host);
    }

    /// The destination argument of a network call: the hosts it can name (written, folded
    /// from constants, either branch of a choice, the start of a concatenation) are recorded
    /// as sent to; a host assembled at run time is recorded as a computed destination. A
    /// destination passed in whole (a parameter, an option) names nothing here.
    fn destination_arg(&mut self, e: &Expression<'_>, offset: u32) {
        let mut hosts = Vec::new();
        if self.destination_hosts(e, &mut hosts, 6) {
            self.computed_destinations += 1;
            if self.computed_destinations <= MAX_COMPUTED_DESTINATIONS {
                let at = self.occurrence(offset, Some("computed destination".into()));
                self.destinations.push(Destination {
                    host: None,
                    sent: true,
                    at,
                });
            } else {
                self.hosts_overflow = true;
            }
        }
        for (h, how) in hosts {
            self.add_host(&h, offset, how, true);
        }
    }

    /// Collect the hosts `e` can evaluate to into `out`; returns whether its host is built at
    /// run time from something that does not fold.
    fn destination_hosts(
        &self,
        e: &Expression<'_>,
        out: &mut Vec<(String, &'static str)>,
        depth: u32,
    ) -> bool {
        let Some(depth) = depth.checked_sub(1) else {
            return false;
        };
        let e = e.get_inner_expression();
        let host_of = |s: &str| {
            patterns::url_host(s)
                .or_else(|| patterns::is_hostname(s).then_some(s))
                .map(str::to_string)
        };
        match e {
            Expression::StringLiteral(s) => {
                out.extend(host_of(s.value.as_str()).map(|h| (h, "literal")));
                false
            }
            Expression::ObjectExpression(o) => {
                let mut built = false;
                for p in &o.properties {
                    if let ObjectPropertyKind::ObjectProperty(p) = p
                        && ["hostname", "host", "url", "baseURL", "uri"]
                            .iter()
                            .any(|k| p.key.is_specific_static_name(k))
                    {
                        built |= self.destination_hosts(&p.value, out, depth);
                    }
                }
                built
            }
            Expression::ConditionalExpression(c) => {
                let a = self.destination_hosts(&c.consequent, out, depth);
                self.destination_hosts(&c.alternate, out, depth) || a
            }
            Expression::LogicalExpression(l) => {
                let a = self.destination_hosts(&l.left, out, depth);
                self.destination_hosts(&l.right, out, depth) || a
            }
            _ => {
                if let Some(s) = fold::fold(e, &self.bindings) {
                    let how = if matches!(e, Expression::Identifier(_)) {
                        "literal"
                    } else {
                        "built from constants"
                    };
                    out.extend(host_of(&s).map(|h| (h, how)));
                    return false;
                }
                match e {
                    // `base + '/path'`, `${base}/path`: the host is where the value starts.
                    Expression::BinaryExpression(_) => {
                        let mut left = e;
                        while let Expression::BinaryExpression(b) = left {
                            left = b.left.get_inner_expression();
                        }
                        match left {
                            Expression::StringLiteral(s) => {
                                out.extend(host_of(s.value.as_str()).map(|h| (h, "literal")));
                                unfinished_host(s.value.as_str())
                            }
                            _ => self.destination_hosts(left, out, depth),
                        }
                    }
                    Expression::TemplateLiteral(t) => {
                        let first = t
                            .quasis
                            .first()
                            .map(|q| q.value.cooked.unwrap_or(q.value.raw).as_str())
                            .unwrap_or("");
                        match (first.is_empty(), t.expressions.first()) {
                            (true, Some(x)) => self.destination_hosts(x, out, depth),
                            _ => {
                                out.extend(host_of(first).map(|h| (h, "literal")));
                                unfinished_host(first)
                            }
                        }
                    }
                    Expression::Identifier(id) => {
                        out.extend(
                            self.bindings
                                .alternatives(id.name.as_str())
                                .iter()
                                .filter_map(|s| host_of(s))
                                .map(|h| (h, "literal")),
                        );
                        self.bindings.computed(id.name.as_str())
                    }
                    Expression::CallExpression(_) => fold::is_built(e),
                    _ => false,
                }
            }
        }
    }

    /// Destination arguments of a network call (the first two: `net.connect(port, host)`),
    /// and any key material the call carries.
    fn destination_args(&mut self, args: &[Argument<'_>], offset: u32) {
        for a in args.iter().take(2).filter_map(Argument::as_expression) {
            self.destination_arg(a, offset);
        }
        self.key_material_args(args, offset);
    }

    /// Record a request that carries a value named like key material.
    fn key_material_args(&mut self, args: &[Argument<'_>], offset: u32) {
        if let Some(name) = args
            .iter()
            .filter_map(Argument::as_expression)
            .find_map(|a| self.key_material(a, KEY_SEARCH_DEPTH))
        {
            self.occur(Capability::SendsKeyMaterial, offset, Some(name));
        }
    }

    /// The key-material name `e` carries: a name or field named like one (`privateKey`,
    /// `wallet.seed`, `{ mnemonic }`), or a variable built from one, looked for through
    /// objects, arrays, templates, concatenation and call arguments (`JSON.stringify(…)`).
    fn key_material(&self, e: &Expression<'_>, depth: u32) -> Option<String> {
        let depth = depth.checked_sub(1)?;
        match e.get_inner_expression() {
            Expression::Identifier(id) => {
                let n = id.name.as_str();
                (patterns::is_key_material_name(n) || self.bindings.key(n)).then(|| n.to_string())
            }
            Expression::StaticMemberExpression(m) => {
                if patterns::is_key_material_name(m.property.name.as_str()) {
                    Some(m.property.name.to_string())
                } else {
                    self.key_material(&m.object, depth)
                        .filter(|_| {
                            matches!(m.object.get_inner_expression(), Expression::Identifier(_))
                        })
                        .filter(|n| self.bindings.key(n))
                }
            }
            Expression::ComputedMemberExpression(m) => literal_string(&m.expression)
                .filter(|k| patterns::is_key_material_name(k))
                .map(str::to_string),
            Expression::ObjectExpression(o) => o.properties.iter().find_map(|p| match p {
                ObjectPropertyKind::ObjectProperty(p) => p
                    .key
                    .static_name()
                    .filter(|k| {
                        patterns::is_key_material_name(k)
                            && !matches!(
                                p.value.get_inner_expression(),
                                Expression::StringLiteral(_)
                                    | Expression::BooleanLiteral(_)
                                    | Expression::NumericLiteral(_)
                            )
                    })
                    .map(|k| k.to_string())
                    .or_else(|| self.key_material(&p.value, depth)),
                ObjectPropertyKind::SpreadProperty(sp) => self.key_material(&sp.argument, depth),
            }),
            Expression::ArrayExpression(a) => a
                .elements
                .iter()
                .filter_map(ArrayExpressionElement::as_expression)
                .find_map(|x| self.key_material(x, depth)),
            Expression::TemplateLiteral(t) => t
                .expressions
                .iter()
                .find_map(|x| self.key_material(x, depth)),
            Expression::BinaryExpression(b) => self
                .key_material(&b.left, depth)
                .or_else(|| self.key_material(&b.right, depth)),
            Expression::CallExpression(c) => c
                .arguments
                .iter()
                .filter_map(Argument::as_expression)
                .find_map(|x| self.key_material(x, depth))
                .or_else(|| {
                    c.callee
                        .as_member_expression()
                        .and_then(|m| self.key_material(m.object(), depth))
                }),
            _ => None,
        }
    }

    /// The request function an assignment target replaces, if it is one.
    fn hooked_request(&self, target: &AssignmentTarget<'_>) -> Option<String> {
        if let AssignmentTarget::AssignmentTargetIdentifier(id) = target {
            return (id.name == "fetch").then(|| "fetch".to_string());
        }
        let m = target.as_member_expression()?;
        let prop = match m {
            MemberExpression::ComputedMemberExpression(c) => {
                fold::fold(&c.expression, &self.bindings)
            }
            _ => m.static_property_name().map(str::to_string),
        }?;
        self.hooked(m.object(), &prop)
    }

    /// The request function that setting `obj[prop]` replaces, if it is one (`https.request`,
    /// `globalThis.fetch`, `XMLHttpRequest.prototype.send`, `http.ClientRequest.prototype.end`).
    fn hooked(&self, obj: &Expression<'_>, prop: &str) -> Option<String> {
        let obj = obj.get_inner_expression();
        if prop == "fetch" && is_global_object(obj) {
            return Some(format!("{}.fetch", obj_name(obj)));
        }
        if matches!(prop, "open" | "send" | "setRequestHeader")
            && obj.is_specific_member_access("XMLHttpRequest", "prototype")
        {
            return Some(format!("XMLHttpRequest.prototype.{prop}"));
        }
        if matches!(
            prop,
            "request" | "get" | "connect" | "createConnection" | "write" | "end"
        ) && self.module_of(obj) == Some(ModuleKind::Network)
        {
            return Some(format!("{}.{prop}", obj_name(obj)));
        }
        // `ClientRequest.prototype.end = …`, `http.ClientRequest.prototype.setHeader = …`
        if let Some(inner) = obj.as_member_expression()
            && inner.static_property_name() == Some("prototype")
            && let Some(class) = inner.object().get_inner_expression().as_member_expression()
            && class.static_property_name() == Some("ClientRequest")
            && self.module_of(class.object()) == Some(ModuleKind::Network)
        {
            return Some(format!("ClientRequest.prototype.{prop}"));
        }
        None
    }

    /// A request function replaced without an assignment: `Object.defineProperty(o, 'p', …)`,
    /// `Reflect.set(o, 'p', …)`, `Reflect.defineProperty(o, 'p', …)`, `Object.assign(o, { p })`.
    fn hooked_by_call(&self, call: &CallExpression<'_>) -> Option<String> {
        let callee = call.callee.get_inner_expression().as_member_expression()?;
        let Expression::Identifier(owner) = callee.object().get_inner_expression() else {
            return None;
        };
        let method = callee.static_property_name()?;
        let args: Vec<&Expression<'_>> = call
            .arguments
            .iter()
            .filter_map(Argument::as_expression)
            .collect();
        let obj = args.first()?;
        match (owner.name.as_str(), method) {
            ("Object", "defineProperty") | ("Reflect", "set" | "defineProperty") => {
                self.hooked(obj, &fold::fold(args.get(1)?, &self.bindings)?)
            }
            ("Object", "assign") => args[1..].iter().find_map(|source| {
                let Expression::ObjectExpression(o) = source.get_inner_expression() else {
                    return None;
                };
                o.properties.iter().find_map(|p| match p {
                    ObjectPropertyKind::ObjectProperty(p) => {
                        self.hooked(obj, &p.key.static_name()?)
                    }
                    ObjectPropertyKind::SpreadProperty(_) => None,
                })
            }),
            _ => None,
        }
    }

    /// Record a replaced request function; `code` is the replacement's source.
    fn request_hook(&mut self, what: String, code: Span, offset: u32) {
        // Does the replacement touch the headers (where the application's tokens are)?
        let body = self
            .src
            .get(code.start as usize..code.end as usize)
            .unwrap_or("");
        let reads = what.ends_with("setRequestHeader")
            || ["eaders", "uthorization", "ookie", "etRequestHeader"]
                .iter()
                .any(|n| body.contains(n));
        let detail = if reads {
            format!("{what}, reading headers")
        } else {
            what
        };
        self.occur(Capability::RequestHook, offset, Some(detail));
    }

    /// Whether `e` is a call that makes a network request (`https.request(…)`, `fetch(…)`).
    fn is_request_call(&self, e: &Expression<'_>) -> bool {
        let Expression::CallExpression(c) = e.get_inner_expression() else {
            return false;
        };
        match c.callee.get_inner_expression() {
            Expression::Identifier(id) => {
                id.name == "fetch"
                    || self.functions.get(id.name.as_str()).is_some_and(|(k, f)| {
                        *k == ModuleKind::Network && patterns::is_request_call(f)
                    })
            }
            callee => callee.as_member_expression().is_some_and(|m| {
                m.static_property_name()
                    .is_some_and(patterns::is_request_call)
                    && self.module_of(m.object()) == Some(ModuleKind::Network)
            }),
        }
    }

    /// Whether `name`, where it is used, holds a decoded string: the innermost function scope
    /// that declares it decides.
    fn is_decoded_var(&self, name: &str) -> bool {
        if self.decoded_count == 0 {
            return false;
        }
        for scope in self.decoded_scopes.iter().rev() {
            if let Some((_, d)) = scope.iter().rev().find(|(n, _)| n == name) {
                return *d;
            }
        }
        false
    }

    fn declare_decoded(&mut self, name: &str, decoded: bool) {
        // Shadowing entries are capped lower than decoded ones, so padding with declarations
        // cannot push a later decoded name out.
        if self.decoded_count >= if decoded { 4 * MAX_CONSTS } else { MAX_CONSTS } {
            return;
        }
        self.decoded_count += 1;
        if let Some(scope) = self.decoded_scopes.last_mut() {
            scope.push((name.to_string(), decoded));
        }
    }

    /// Enter a function: its parameters shadow outer decoded names.
    fn enter_function(&mut self, params: &FormalParameters<'_>) {
        self.bindings.enter();
        for p in &params.items {
            if let BindingPattern::BindingIdentifier(b) = &p.pattern {
                self.bindings.declare(b.name.as_str(), Binding::default());
            }
        }
        self.decoded_scopes.push(Vec::new());
        if self.decoded_count > 0 {
            for p in &params.items {
                if let BindingPattern::BindingIdentifier(b) = &p.pattern {
                    self.declare_decoded(b.name.as_str(), false);
                }
            }
        }
    }

    fn leave_function(&mut self) {
        self.bindings.leave();
        if self.decoded_scopes.len() > 1 {
            self.decoded_scopes.pop();
        }
    }

    /// What a declaration binds its name to, for folding later names and destinations.
    fn binding_for(&self, init: &Expression<'_>) -> Binding {
        let mut binding = Binding::default();
        if let Expression::ConditionalExpression(_) | Expression::LogicalExpression(_) = init {
            collect_alternatives(init, &self.bindings, &mut binding.alternatives, 4);
            return binding;
        }
        let literal = matches!(init, Expression::StringLiteral(_));
        if !literal && !fold::is_built(init) {
            return binding;
        }
        match fold::fold(init, &self.bindings) {
            Some(v) if v.len() <= MAX_CONST_LEN => binding.value = Some(v),
            Some(_) => {}
            None => binding.computed = true,
        }
        binding
    }

    /// The module a loader call loads, when its name is written or folds.
    fn loaded_module(&self, call: &CallExpression<'_>) -> Option<ModuleKind> {
        let via = match call.callee.get_inner_expression() {
            Expression::Identifier(id) if id.name == "require" => Some("require"),
            Expression::Identifier(id) if self.loaders.contains(id.name.as_str()) => Some("alias"),
            callee => self.loader_via(callee),
        };
        via?;
        let arg = call.arguments.first().and_then(Argument::as_expression)?;
        match literal_string(arg) {
            Some(spec) => patterns::classify_module(spec),
            None => patterns::classify_module(&fold::fold(arg, &self.bindings)?),
        }
    }

    /// Whether `e` is a module loader other than plain `require`: Node's internal loader
    /// (`module.constructor._load`, `Module._load`), the main module's `require`
    /// (`process.mainModule.require`, `require.main.require`), `module.require`, a
    /// `createRequire(…)` result, or a name bound to one of those. Returns how it is named.
    fn loader_via(&self, e: &Expression<'_>) -> Option<&'static str> {
        let e = e.get_inner_expression();
        match e {
            Expression::Identifier(id) if id.name == "require" => Some("require"),
            Expression::Identifier(id) if self.loaders.contains(id.name.as_str()) => {
                Some("a require alias")
            }
            Expression::CallExpression(c) => {
                let callee = c.callee.get_inner_expression();
                (callee.is_specific_id("createRequire")
                    || callee.is_specific_member_access("module", "createRequire"))
                .then_some("createRequire")
            }
            _ => {
                let m = e.as_member_expression()?;
                let prop = m.static_property_name()?;
                let obj = m.object().get_inner_expression();
                match prop {
                    "_load" => Some("Module._load"),
                    "require"
                        if obj.is_specific_member_access("process", "mainModule")
                            || obj.is_specific_member_access("require", "main") =>
                    {
                        Some("the main module's require")
                    }
                    "require" if obj.is_specific_id("module") => Some("module.require"),
                    _ => None,
                }
            }
        }
    }

    /// A call of a module loader: the module when its name is written or folds; otherwise a
    /// load by computed name, marked hidden when the name is decoded or assembled from parts,
    /// or the loader is one published libraries have no use for.
    fn load(&mut self, call: &CallExpression<'_>, via: &str) {
        let offset = call.span.start;
        let Some(arg) = call.arguments.first().and_then(Argument::as_expression) else {
            return;
        };
        let internal = matches!(via, "Module._load" | "the main module's require");
        if let Some(spec) = literal_string(arg) {
            self.on_module(spec, offset);
            if internal {
                self.occur(
                    Capability::DynamicRequire,
                    offset,
                    Some(format!("hidden load: {via}('{spec}')")),
                );
            }
            return;
        }
        if let Some(spec) = fold::fold(arg, &self.bindings) {
            self.on_module(&spec, offset);
            let tracked = patterns::classify_module(&spec)
                .is_some_and(|k| k.capability().is_some() || k == ModuleKind::Vm);
            if internal || tracked {
                self.occur(
                    Capability::DynamicRequire,
                    offset,
                    Some(format!("hidden load: {via} of '{spec}' built from parts")),
                );
            }
            return;
        }
        self.dynamic_load(offset);
        let hidden = internal
            || self.contains_decode(arg, DECODE_SEARCH_DEPTH)
            || matches!(arg.get_inner_expression(), Expression::CallExpression(c) if fold::is_built(arg) && c.arguments.len() < 2)
            || matches!(arg.get_inner_expression(), Expression::Identifier(id) if self.bindings.computed(id.name.as_str()));
        let detail = if hidden {
            format!("hidden load: {via} of a decoded or assembled name")
        } else {
            via.to_string()
        };
        self.occur(Capability::DynamicRequire, offset, Some(detail));
    }

    fn on_module(&mut self, spec: &str, offset: u32) {
        if spec.starts_with("./") || spec.starts_with("../") || spec == "." || spec == ".." {
            if self.local_imports.len() < MAX_LOCAL_IMPORTS {
                self.local_imports.insert(spec.to_string());
            }
            return;
        }
        let kind = patterns::classify_module(spec);
        if kind == Some(ModuleKind::Network) {
            match std::mem::replace(&mut self.defer, Deferral::None) {
                Deferral::None => {}
                Deferral::Drop => return,
                Deferral::Bind(name) => {
                    if self.pending_network.len() < MAX_CONSTS {
                        self.network_refs.entry(name.clone()).or_default();
                        self.pending_network.push((
                            name,
                            offset,
                            spec.to_string(),
                            self.scope.clone(),
                        ));
                        return;
                    }
                }
            }
        }
        if let Some(cap) = kind.and_then(ModuleKind::capability) {
            self.occur(cap, offset, Some(spec.to_string()));
        }
    }

    /// How a module load's result is bound: a single name is tracked, a destructuring that
    /// takes only attributes that make no request is not a network use at all.
    fn deferral_for(pattern: &BindingPattern<'_>) -> Deferral {
        match pattern {
            BindingPattern::BindingIdentifier(b) => Deferral::Bind(b.name.to_string()),
            BindingPattern::ObjectPattern(p)
                if p.rest.is_none()
                    && p.properties.iter().all(|prop| {
                        prop.key
                            .static_name()
                            .is_some_and(|k| patterns::is_inert_network_attr(&k))
                    }) =>
            {
                Deferral::Drop
            }
            _ => Deferral::None,
        }
    }

    /// Network modules whose bound name was used for a request, passed on or otherwise used
    /// in a way not known to be inert: their load is a network use.
    fn settle_network(&mut self) {
        for (name, offset, spec, scope) in std::mem::take(&mut self.pending_network) {
            let (refs, inert) = self.network_refs.get(&name).copied().unwrap_or_default();
            if refs > inert {
                self.scope = scope;
                self.occur(Capability::Network, offset, Some(spec));
            }
        }
        self.scope = None;
    }

    fn on_string(&mut self, s: &str, span: Span, blob: bool) {
        if blob
            && s.len() >= 64
            && self.blobs.len() < MAX_BLOBS
            && let Some((kind, entropy)) = text::blob_kind(s)
        {
            let (line, _) = self.index.position(span.start);
            self.blobs.push(Blob {
                kind,
                len: s.len().min(u32::MAX as usize) as u32,
                entropy,
                line,
                hash: text::short_hash(s.as_bytes()),
            });
        }
        if patterns::path_candidate(s) {
            let bytes = patterns::ByteSet::of(s);
            let mut labels = Vec::new();
            patterns::match_targets(s, bytes, patterns::SENSITIVE, &mut labels);
            let sensitive = labels.len();
            patterns::match_targets(s, bytes, patterns::PERSISTENCE, &mut labels);
            for (i, label) in labels.into_iter().enumerate() {
                self.path_hits
                    .push((label, i >= sensitive, span.start, self.write_depth > 0));
            }
        }
        if s.len() < 2048
            && s.contains("://")
            && let Some(host) = patterns::url_host(s)
        {
            self.add_host(host, span.start, "literal", false);
        }
    }

    fn dynamic_load(&mut self, offset: u32) {
        if self.dynamic_loads.len() < MAX_LOOKUPS {
            self.dynamic_loads.push(offset);
        }
    }

    fn on_identifier(&mut self, name: &str, binding: bool) {
        self.identifiers = self.identifiers.saturating_add(1);
        if name.len() <= 2 {
            self.short_identifiers += 1;
        }
        if name.starts_with("_0x") && is_obfuscator_name(name) {
            self.obfuscator_identifiers += 1;
        }
        // The character distribution of declared names is enough (and much cheaper than
        // counting every reference).
        if binding {
            for b in name.bytes() {
                if b < 128 {
                    self.ident_chars[b as usize] += 1;
                }
            }
        }
    }

    /// The module a (possibly member) expression refers to: `cp`, `require('dns')`,
    /// `require('dns').promises`, `dns.promises`.
    fn module_of(&self, e: &Expression<'_>) -> Option<ModuleKind> {
        let e = e.get_inner_expression();
        match e {
            Expression::Identifier(id) => self.modules.get(id.name.as_str()).copied(),
            Expression::CallExpression(call) => self.loaded_module(call),
            Expression::StaticMemberExpression(m) if m.property.name == "promises" => {
                self.module_of(&m.object)
            }
            _ => None,
        }
    }

    /// `process.env` written as such; aliases are the data flow's (`super::flow`).
    fn is_env(&self, e: &Expression<'_>) -> bool {
        is_process_env(e.get_inner_expression())
    }

    /// An occurrence found after the walk (by the data flow), in the declaration around it.
    pub(crate) fn occur_at(&mut self, cap: Capability, offset: u32, detail: String) {
        let i = self
            .statement_scopes
            .partition_point(|&(start, _, _)| start <= offset);
        self.scope = i
            .checked_sub(1)
            .and_then(|i| self.statement_scopes.get(i))
            .filter(|&&(_, end, _)| offset < end)
            .and_then(|s| s.2.clone());
        self.occur(cap, offset, Some(detail));
        self.scope = None;
    }

    /// Whether `e` is or contains (shallowly) a decoded string.
    fn contains_decode(&self, e: &Expression<'_>, budget: u32) -> bool {
        if budget == 0 {
            return false;
        }
        let e = e.get_inner_expression();
        match e {
            Expression::Identifier(id) => self.is_decoded_var(id.name.as_str()),
            Expression::CallExpression(call) => {
                is_decode_call(call)
                    || call
                        .callee
                        .as_member_expression()
                        .is_some_and(|m| self.contains_decode(m.object(), budget - 1))
                    || call
                        .arguments
                        .iter()
                        .filter_map(Argument::as_expression)
                        .any(|a| self.contains_decode(a, budget - 1))
            }
            Expression::BinaryExpression(b) => {
                self.contains_decode(&b.left, budget - 1)
                    || self.contains_decode(&b.right, budget - 1)
            }
            Expression::TemplateLiteral(t) => t
                .expressions
                .iter()
                .any(|x| self.contains_decode(x, budget - 1)),
            _ => false,
        }
    }

    fn sink(&mut self, args: &[Argument<'_>], offset: u32, what: &str) {
        if args
            .iter()
            .filter_map(Argument::as_expression)
            .any(|a| self.contains_decode(a, DECODE_SEARCH_DEPTH))
        {
            self.occur(Capability::DecodeExec, offset, Some(what.to_string()));
        }
    }

    fn dns_call(&mut self, call: &CallExpression<'_>, what: &str) {
        let offset = call.span.start;
        self.occur(Capability::Dns, offset, Some(what.to_string()));
        let shape = match call.arguments.first().and_then(Argument::as_expression) {
            None => None,
            Some(a) => match a.get_inner_expression() {
                Expression::StringLiteral(_) => None,
                Expression::TemplateLiteral(t) if t.expressions.is_empty() => None,
                Expression::TemplateLiteral(_) => Some("template literal"),
                Expression::BinaryExpression(_) => Some("concatenation"),
                Expression::CallExpression(_) => Some("call result"),
                _ => Some("variable"),
            },
        };
        if let Some(shape) = shape {
            self.occur(
                Capability::DnsFromData,
                offset,
                Some(format!("{what} name from {shape}")),
            );
        }
    }

    fn bind(&mut self, id: &BindingPattern<'_>, kind: ModuleKind) {
        match id {
            BindingPattern::BindingIdentifier(b) => {
                self.modules.insert(b.name.to_string(), kind);
            }
            BindingPattern::ObjectPattern(p) => {
                for prop in &p.properties {
                    let imported = prop.key.static_name();
                    if let (Some(imported), BindingPattern::BindingIdentifier(local)) =
                        (imported, &prop.value)
                    {
                        if imported == "promises" {
                            self.modules.insert(local.name.to_string(), kind);
                        } else {
                            self.functions
                                .insert(local.name.to_string(), (kind, imported.to_string()));
                        }
                    }
                }
            }
            _ => {}
        }
    }

    fn visit_call(&mut self, it: &CallExpression<'_>) -> bool {
        let callee = it.callee.get_inner_expression();
        let offset = it.span.start;
        let mut write = false;
        // The environment handed to a function: the data flow follows it into the parameter.
        // `JSON.stringify(process.env)` and friends are judged here, directly.
        if !self.env_escapes
            && !callee.as_member_expression().is_some_and(|m| {
                matches!(m.object().get_inner_expression(),
                    Expression::Identifier(o) if matches!(o.name.as_str(), "JSON" | "Object" | "util"))
            })
            && it
                .arguments
                .iter()
                .filter_map(Argument::as_expression)
                .any(|a| holds_env_object(a, 4))
        {
            self.env_escapes = true;
        }
        match callee {
            Expression::Identifier(id) => match id.name.as_str() {
                "require" => self.load(it, "require"),
                name if self.loaders.contains(name) => self.load(it, "a require alias"),
                "eval" => {
                    self.occur(Capability::Eval, offset, Some("eval".into()));
                    self.sink(&it.arguments, offset, "eval");
                }
                "Function" => {
                    self.occur(Capability::Eval, offset, Some("Function".into()));
                    self.sink(&it.arguments, offset, "Function");
                }
                "fetch" => {
                    self.occur(Capability::Network, offset, Some("fetch".into()));
                    self.destination_args(&it.arguments, offset);
                }
                name => {
                    if let Some((kind, imported)) = self.functions.get(name).cloned() {
                        write = self.module_function_call(it, kind, &imported, name);
                    }
                }
            },
            Expression::SequenceExpression(seq)
                if seq
                    .expressions
                    .last()
                    .is_some_and(|e| e.is_specific_id("eval")) =>
            {
                self.occur(Capability::Eval, offset, Some("(0, eval)".into()));
                self.sink(&it.arguments, offset, "eval");
            }
            _ => {
                if let Some(member) = callee.as_member_expression() {
                    write = self.member_call(it, member);
                }
            }
        }
        write
    }

    /// A call of a function bound from a module (`exec(...)` after `{exec} = require(…)`).
    fn module_function_call(
        &mut self,
        it: &CallExpression<'_>,
        kind: ModuleKind,
        imported: &str,
        local: &str,
    ) -> bool {
        let offset = it.span.start;
        match kind {
            ModuleKind::ChildProcess if patterns::is_exec_call(imported) => {
                self.occur(Capability::ChildProcess, offset, Some(local.to_string()));
                self.sink(&it.arguments, offset, imported);
            }
            ModuleKind::Dns if patterns::is_dns_call(imported) => self.dns_call(it, imported),
            ModuleKind::Vm if patterns::is_vm_call(imported) => {
                self.occur(Capability::Eval, offset, Some(format!("vm.{imported}")));
                self.sink(&it.arguments, offset, imported);
            }
            ModuleKind::Network if matches!(imported, "request" | "get" | "connect") => {
                self.occur(Capability::Network, offset, Some(local.to_string()));
                self.destination_args(&it.arguments, offset);
            }
            ModuleKind::Network if patterns::is_request_call(imported) => {
                self.destination_args(&it.arguments, offset);
            }
            ModuleKind::Fs if patterns::is_write_call(imported) => return true,
            _ => {}
        }
        false
    }

    fn member_call(&mut self, it: &CallExpression<'_>, member: &MemberExpression<'_>) -> bool {
        let offset = it.span.start;
        let object = member.object().get_inner_expression();
        if let Some(via) = self.loader_via(&it.callee) {
            self.load(it, via);
            return false;
        }
        // `cp['ex' + 'ec']`, `globalThis[atob('ZXZhbA==')]`: fold the name first.
        let folded;
        let prop: &str = match member {
            MemberExpression::ComputedMemberExpression(c)
                if literal_string(&c.expression).is_none() =>
            {
                folded = fold::fold(&c.expression, &self.bindings);
                match folded.as_deref() {
                    Some(p) => p,
                    None => {
                        if is_global_object(object) {
                            self.occur(
                                Capability::DynamicRequire,
                                offset,
                                Some("hidden load: a global called by computed name".into()),
                            );
                        }
                        return false;
                    }
                }
            }
            _ => match member.static_property_name() {
                Some(p) => p,
                None => return false,
            },
        };
        let object_name = match object {
            Expression::Identifier(id) => Some(id.name.as_str()),
            _ => None,
        };
        let first = it.arguments.first().and_then(Argument::as_expression);
        // `req.write(body)`, `https.request(…).end(body)`: the body of a request.
        if matches!(prop, "write" | "end" | "send")
            && (self.is_request_call(object)
                || matches!(object, Expression::Identifier(id) if self.request_vars.contains(id.name.as_str())))
        {
            self.key_material_args(&it.arguments, offset);
        }
        // `module._compile(code, file)`, `Module.prototype._compile.call(…)`: Node's own
        // compile step, reached without the word eval.
        let compile_via_call = matches!(prop, "call" | "apply")
            && object
                .as_member_expression()
                .and_then(MemberExpression::static_property_name)
                == Some("_compile");
        if prop == "_compile" || compile_via_call {
            self.occur(Capability::Eval, offset, Some("Module._compile".into()));
            self.sink(&it.arguments, offset, "Module._compile");
            return false;
        }
        match (object_name, prop) {
            (Some("JSON"), "stringify") | (Some("util"), "inspect")
                if first.is_some_and(|a| self.is_env(a)) =>
            {
                self.occur(Capability::EnvDump, offset, Some("serialize".into()));
                return false;
            }
            (Some("Object"), "keys" | "entries" | "values" | "getOwnPropertyNames")
                if first.is_some_and(|a| self.is_env(a)) =>
            {
                self.occur(Capability::EnvDump, offset, Some("enumerate".into()));
                return false;
            }
            (Some("Object"), "assign") => {
                if it
                    .arguments
                    .iter()
                    .filter_map(Argument::as_expression)
                    .any(|a| self.is_env(a))
                {
                    self.occur(Capability::EnvDump, offset, Some("copy".into()));
                }
                return false;
            }
            (Some("window" | "global" | "globalThis" | "self"), "eval") => {
                self.occur(Capability::Eval, offset, Some("eval".into()));
                self.sink(&it.arguments, offset, "eval");
                return false;
            }
            (Some("navigator"), "sendBeacon") => {
                self.occur(Capability::Network, offset, Some("sendBeacon".into()));
                self.destination_args(&it.arguments, offset);
                return false;
            }
            (Some("process"), "binding" | "_linkedBinding")
                if first
                    .and_then(|a| fold::fold(a, &self.bindings))
                    .is_some_and(|s| s.contains("spawn") || s == "process_wrap") =>
            {
                self.occur(
                    Capability::ChildProcess,
                    offset,
                    Some("process.binding".into()),
                );
                return false;
            }
            _ => {}
        }
        if prop == "push"
            && let Some(Expression::CallExpression(inner)) = first.map(|a| a.get_inner_expression())
            && inner
                .callee
                .as_member_expression()
                .and_then(MemberExpression::static_property_name)
                == Some("shift")
        {
            self.string_array_rotation = true;
        }
        let module = self.module_of(object);
        match module {
            Some(ModuleKind::Dns) if patterns::is_dns_call(prop) => {
                self.dns_call(it, &format!("dns.{prop}"));
            }
            Some(ModuleKind::ChildProcess) if patterns::is_exec_call(prop) => {
                self.occur(
                    Capability::ChildProcess,
                    offset,
                    Some(format!("child_process.{prop}")),
                );
                self.sink(&it.arguments, offset, prop);
            }
            Some(ModuleKind::Vm) if patterns::is_vm_call(prop) => {
                self.occur(Capability::Eval, offset, Some(format!("vm.{prop}")));
                self.sink(&it.arguments, offset, prop);
            }
            Some(ModuleKind::Network) if matches!(prop, "request" | "get" | "connect") => {
                // `require('net').connect(...)` names its module; a bound name names itself.
                let spec = match object {
                    Expression::CallExpression(call) => require_spec(call),
                    _ => None,
                };
                let name = object_name.or(spec).unwrap_or("http");
                self.occur(Capability::Network, offset, Some(format!("{name}.{prop}")));
                self.destination_args(&it.arguments, offset);
                self.called_members.insert(member.span().start);
            }
            Some(ModuleKind::Network) if patterns::is_request_call(prop) => {
                let name = object_name.unwrap_or("client");
                self.occur(Capability::Network, offset, Some(format!("{name}.{prop}")));
                self.destination_args(&it.arguments, offset);
                self.called_members.insert(member.span().start);
            }
            _ => {}
        }
        if patterns::is_write_call(prop) {
            self.has_write_call = true;
            return true;
        }
        // `someFn(process.env)`: the whole environment handed to other code.
        if it
            .arguments
            .iter()
            .filter_map(Argument::as_expression)
            .any(|a| self.is_env(a))
        {
            self.occur(Capability::EnvDump, offset, Some("argument".into()));
        }
        false
    }

    fn scope_name(&self, stmt: &Statement<'_>) -> Option<(String, u32)> {
        let line = |span: Span| self.index.position(span.start).0;
        match stmt {
            Statement::FunctionDeclaration(f) => {
                f.id.as_ref().map(|id| (id.name.to_string(), line(f.span)))
            }
            Statement::ClassDeclaration(c) => {
                c.id.as_ref().map(|id| (id.name.to_string(), line(c.span)))
            }
            Statement::VariableDeclaration(v) => v.declarations.iter().find_map(|d| {
                let init = d.init.as_ref()?.get_inner_expression();
                let function_like = matches!(
                    init,
                    Expression::FunctionExpression(_)
                        | Expression::ArrowFunctionExpression(_)
                        | Expression::ClassExpression(_)
                );
                match (&d.id, function_like) {
                    (BindingPattern::BindingIdentifier(id), true) => {
                        Some((id.name.to_string(), line(d.span)))
                    }
                    _ => None,
                }
            }),
            Statement::ExpressionStatement(e) => {
                let Expression::AssignmentExpression(a) = e.expression.get_inner_expression()
                else {
                    return None;
                };
                let target = a.left.as_member_expression()?;
                let prop = target.static_property_name()?;
                let obj = target.object().get_inner_expression();
                let name = if obj.is_specific_id("exports")
                    || obj.is_specific_member_access("module", "exports")
                {
                    format!("exports.{prop}")
                } else if obj.is_specific_id("module") && prop == "exports" {
                    "module.exports".to_string()
                } else {
                    return None;
                };
                Some((name, line(e.span)))
            }
            Statement::ExportNamedDeclaration(_) => None,
            Statement::ExportDeclaration(d) => match &d.declaration {
                Declaration::FunctionDeclaration(f) => {
                    f.id.as_ref().map(|id| (id.name.to_string(), line(f.span)))
                }
                Declaration::ClassDeclaration(c) => {
                    c.id.as_ref().map(|id| (id.name.to_string(), line(c.span)))
                }
                _ => None,
            },
            Statement::ExportDefaultDeclaration(d) => Some(("default".to_string(), line(d.span))),
            _ => None,
        }
    }
}

fn is_obfuscator_name(name: &str) -> bool {
    let b = name.as_bytes();
    b.len() >= 7 && b.starts_with(b"_0x") && b[3..].iter().all(u8::is_ascii_hexdigit)
}

/// The string of a literal or a substitution-free template.
fn literal_string<'a>(e: &'a Expression<'_>) -> Option<&'a str> {
    match e.get_inner_expression() {
        Expression::StringLiteral(s) => Some(s.value.as_str()),
        Expression::TemplateLiteral(t) if t.expressions.is_empty() => t
            .quasis
            .first()
            .map(|q| q.value.cooked.unwrap_or(q.value.raw).as_str()),
        _ => None,
    }
}

fn require_spec<'a>(call: &'a CallExpression<'_>) -> Option<&'a str> {
    if !call.callee.is_specific_id("require") {
        return None;
    }
    call.arguments
        .first()
        .and_then(Argument::as_expression)
        .and_then(literal_string)
}

/// `process.env`, `process["env"]`, `global.process.env`.
fn is_process_env(e: &Expression<'_>) -> bool {
    let Some(m) = e.get_inner_expression().as_member_expression() else {
        return false;
    };
    let is_env_prop = match m {
        MemberExpression::StaticMemberExpression(s) => s.property.name == "env",
        MemberExpression::ComputedMemberExpression(c) => {
            literal_string(&c.expression) == Some("env")
        }
        MemberExpression::PrivateFieldExpression(_) => false,
    };
    if !is_env_prop {
        return false;
    }
    let obj = m.object().get_inner_expression();
    obj.is_specific_id("process")
        || obj.is_specific_member_access("global", "process")
        || obj.is_specific_member_access("globalThis", "process")
        || obj.is_specific_member_access("window", "process")
}

/// `atob(x)`, `Buffer.from(x, 'base64')`, `String.fromCharCode(…)`, `unescape(x)`.
fn is_decode_call(call: &CallExpression<'_>) -> bool {
    let callee = call.callee.get_inner_expression();
    if callee.is_specific_id("atob") || callee.is_specific_id("unescape") {
        return true;
    }
    if callee.is_specific_member_access("String", "fromCharCode") {
        return true;
    }
    if callee.is_specific_member_access("Buffer", "from") {
        return call
            .arguments
            .get(1)
            .and_then(Argument::as_expression)
            .and_then(literal_string)
            .is_some_and(|enc| matches!(enc, "base64" | "hex" | "base64url"));
    }
    let name = match callee {
        Expression::Identifier(id) => Some(id.name.as_str()),
        _ => callee
            .as_member_expression()
            .and_then(MemberExpression::static_property_name),
    };
    match name {
        // Decryption and decompression turn data into text as surely as base64 does.
        Some(
            "createDecipheriv"
            | "createDecipher"
            | "inflateSync"
            | "inflateRawSync"
            | "gunzipSync"
            | "unzipSync"
            | "brotliDecompressSync",
        ) => true,
        // A data file of the package read as text (`fs.readFileSync(__dirname + '/x.map')`):
        // code kept in `.json`, source maps, images or fonts is code hidden in data.
        Some("readFileSync" | "readFile") => call
            .arguments
            .first()
            .and_then(Argument::as_expression)
            .is_some_and(|a| names_data_file(a, 4)),
        _ => false,
    }
}

/// Whether a path expression ends in a data-file name (a literal part of it does).
fn names_data_file(e: &Expression<'_>, depth: u32) -> bool {
    const DATA: &[&str] = &[
        ".json", ".map", ".png", ".jpg", ".jpeg", ".gif", ".ico", ".svg", ".webp", ".bmp", ".woff",
        ".woff2", ".ttf", ".txt", ".dat", ".bin", ".wasm", ".md", ".css",
    ];
    if depth == 0 {
        return false;
    }
    match e.get_inner_expression() {
        Expression::StringLiteral(s) => {
            let v = s.value.to_ascii_lowercase();
            DATA.iter().any(|ext| v.ends_with(ext))
        }
        Expression::TemplateLiteral(t) => t.quasis.last().is_some_and(|q| {
            let v = q.value.raw.to_ascii_lowercase();
            DATA.iter().any(|ext| v.ends_with(ext))
        }),
        Expression::BinaryExpression(b) => names_data_file(&b.right, depth - 1),
        Expression::CallExpression(c) => c
            .arguments
            .last()
            .and_then(Argument::as_expression)
            .is_some_and(|a| names_data_file(a, depth - 1)),
        _ => false,
    }
}

impl<'a> Visit<'a> for Walker<'_> {
    fn visit_program(&mut self, it: &Program<'a>) {
        for stmt in &it.body {
            let scope = self.scope_name(stmt);
            if let Some((name, line)) = &scope {
                self.top_level_functions
                    .entry(name.clone())
                    .or_insert(*line);
            }
            self.scope = scope.map(|s| s.0);
            if self.scope.is_some() {
                self.statement_scopes.push((
                    stmt.span().start,
                    stmt.span().end,
                    self.scope.clone(),
                ));
            }
            self.visit_statement(stmt);
        }
        self.scope = None;
    }

    fn visit_call_expression(&mut self, it: &CallExpression<'a>) {
        if let Some(what) = self.hooked_by_call(it) {
            self.request_hook(what, it.span, it.span.start);
        }
        let write = self.visit_call(it);
        if write {
            self.write_depth += 1;
        }
        walk::walk_call_expression(self, it);
        if write {
            self.write_depth -= 1;
        }
    }

    fn visit_new_expression(&mut self, it: &NewExpression<'a>) {
        let offset = it.span.start;
        let callee = it.callee.get_inner_expression();
        match callee {
            Expression::Identifier(id) => match id.name.as_str() {
                "Function" => {
                    self.occur(Capability::Eval, offset, Some("new Function".into()));
                    self.sink(&it.arguments, offset, "new Function");
                }
                "Worker" if worker_evaluates(&it.arguments) => {
                    self.occur(Capability::Eval, offset, Some("Worker eval".into()));
                    self.sink(&it.arguments, offset, "Worker eval");
                }
                "WebSocket" | "XMLHttpRequest" | "EventSource" => {
                    self.destination_args(&it.arguments, offset);
                    self.occur(Capability::Network, offset, Some(id.name.to_string()));
                }
                name => {
                    if let Some((ModuleKind::Vm, imported)) = self.functions.get(name).cloned()
                        && imported == "Script"
                    {
                        self.occur(Capability::Eval, offset, Some("vm.Script".into()));
                        self.sink(&it.arguments, offset, "vm.Script");
                    }
                }
            },
            _ => {
                if let Some(m) = callee.as_member_expression()
                    && let Some(prop) = m.static_property_name()
                {
                    match (self.module_of(m.object()), prop) {
                        (Some(ModuleKind::Vm), "Script" | "SourceTextModule") => {
                            self.occur(Capability::Eval, offset, Some(format!("vm.{prop}")));
                            self.sink(&it.arguments, offset, prop);
                        }
                        (_, "Worker") if worker_evaluates(&it.arguments) => {
                            self.occur(Capability::Eval, offset, Some("Worker eval".into()));
                            self.sink(&it.arguments, offset, "Worker eval");
                        }
                        (Some(ModuleKind::Dns), "Resolver") => {
                            self.occur(Capability::Dns, offset, Some("dns.Resolver".into()));
                        }
                        _ => {}
                    }
                }
            }
        }
        walk::walk_new_expression(self, it);
    }

    fn visit_import_expression(&mut self, it: &ImportExpression<'a>) {
        let spec = literal_string(&it.source)
            .map(str::to_string)
            .or_else(|| fold::fold(&it.source, &self.bindings));
        match spec {
            // `import('data:text/javascript;base64,…')`: code carried in a string, executed.
            Some(spec) if spec.starts_with("data:") => {
                self.occur(
                    Capability::Eval,
                    it.span.start,
                    Some("import(data: URL)".into()),
                );
                if spec.contains(";base64,") {
                    self.occur(
                        Capability::DecodeExec,
                        it.span.start,
                        Some("import(data: URL, base64)".into()),
                    );
                }
            }
            Some(spec) => self.on_module(&spec, it.span.start),
            None => {
                self.dynamic_load(it.span.start);
                self.occur(
                    Capability::DynamicRequire,
                    it.span.start,
                    Some("import()".into()),
                )
            }
        }
        walk::walk_import_expression(self, it);
    }

    fn visit_import_declaration(&mut self, it: &ImportDeclaration<'a>) {
        let spec = it.source.value.as_str();
        if let Some(specifiers) = it.specifiers.as_ref().filter(|s| !s.is_empty()) {
            self.defer = match specifiers.as_slice() {
                [ImportDeclarationSpecifier::ImportDefaultSpecifier(d)] => {
                    Deferral::Bind(d.local.name.to_string())
                }
                [ImportDeclarationSpecifier::ImportNamespaceSpecifier(n)] => {
                    Deferral::Bind(n.local.name.to_string())
                }
                all if all.iter().all(|s| {
                    matches!(s, ImportDeclarationSpecifier::ImportSpecifier(n)
                        if patterns::is_inert_network_attr(&n.imported.name()))
                }) =>
                {
                    Deferral::Drop
                }
                _ => Deferral::None,
            };
        }
        self.on_module(spec, it.span.start);
        self.defer = Deferral::None;
        if let (Some(kind), Some(specifiers)) =
            (patterns::classify_module(spec), it.specifiers.as_ref())
        {
            for s in specifiers {
                match s {
                    ImportDeclarationSpecifier::ImportSpecifier(named) => {
                        let imported = named.imported.name();
                        if imported == "promises" {
                            self.modules.insert(named.local.name.to_string(), kind);
                        } else {
                            self.functions
                                .insert(named.local.name.to_string(), (kind, imported.to_string()));
                        }
                    }
                    ImportDeclarationSpecifier::ImportDefaultSpecifier(d) => {
                        self.modules.insert(d.local.name.to_string(), kind);
                    }
                    ImportDeclarationSpecifier::ImportNamespaceSpecifier(n) => {
                        self.modules.insert(n.local.name.to_string(), kind);
                    }
                }
            }
        }
        walk::walk_import_declaration(self, it);
    }

    fn visit_export_all_declaration(&mut self, it: &ExportAllDeclaration<'a>) {
        self.on_module(it.source.value.as_str(), it.span.start);
        walk::walk_export_all_declaration(self, it);
    }

    fn visit_export_from_declaration(&mut self, it: &ExportFromDeclaration<'a>) {
        self.on_module(it.source.value.as_str(), it.span.start);
        walk::walk_export_from_declaration(self, it);
    }

    fn visit_variable_declarator(&mut self, it: &VariableDeclarator<'a>) {
        if let Some(init) = &it.init {
            let inner = init.get_inner_expression();
            let module = match inner {
                Expression::CallExpression(call) => self.loaded_module(call),
                // `const h = https`: an alias of a module is that module.
                Expression::Identifier(id) => self.modules.get(id.name.as_str()).copied(),
                Expression::StaticMemberExpression(m) if m.property.name == "promises" => {
                    self.module_of(&m.object)
                }
                _ => None,
            };
            if let Some(kind) = module {
                self.bind(&it.id, kind);
                if kind == ModuleKind::Network && matches!(inner, Expression::CallExpression(_)) {
                    self.defer = Self::deferral_for(&it.id);
                }
            }
            self.env_escapes |= holds_env_object(inner, 4);
            if inner.is_specific_id("process")
                && let BindingPattern::ObjectPattern(p) = &it.id
            {
                for prop in &p.properties {
                    if prop.key.is_specific_static_name("env") {
                        self.occur(
                            Capability::EnvRead,
                            it.span.start,
                            Some("destructured".into()),
                        );
                    }
                }
            }
            if let BindingPattern::BindingIdentifier(b) = &it.id {
                let mut binding = self.binding_for(inner);
                binding.key = !patterns::is_key_material_name(b.name.as_str())
                    && self.key_material(inner, KEY_SEARCH_DEPTH).is_some();
                if self.request_vars.len() < MAX_CONSTS && self.is_request_call(inner) {
                    self.request_vars.insert(b.name.to_string());
                }
                if self.loader_via(inner).is_some() && self.loaders.len() < MAX_CONSTS {
                    self.loaders.insert(b.name.to_string());
                }
                let decoded = self.contains_decode(inner, DECODE_SEARCH_DEPTH);
                if decoded || self.decoded_count > 0 {
                    self.declare_decoded(b.name.as_str(), decoded);
                }
                self.bindings.declare(b.name.as_str(), binding);
            }
        }
        walk::walk_variable_declarator(self, it);
        self.defer = Deferral::None;
    }

    fn visit_function(&mut self, it: &Function<'a>, flags: oxc_syntax::scope::ScopeFlags) {
        self.enter_function(&it.params);
        walk::walk_function(self, it, flags);
        self.leave_function();
    }

    fn visit_arrow_function_expression(&mut self, it: &ArrowFunctionExpression<'a>) {
        self.enter_function(&it.params);
        walk::walk_arrow_function_expression(self, it);
        self.leave_function();
    }

    fn visit_assignment_expression(&mut self, it: &AssignmentExpression<'a>) {
        self.env_escapes |= holds_env_object(&it.right, 4);
        if let Some(what) = self.hooked_request(&it.left) {
            self.request_hook(what, it.right.span(), it.span.start);
        }
        walk::walk_assignment_expression(self, it);
    }

    fn visit_static_member_expression(&mut self, it: &StaticMemberExpression<'a>) {
        if !self.network_refs.is_empty()
            && let Expression::Identifier(obj) = it.object.get_inner_expression()
            && (patterns::is_inert_network_attr(it.property.name.as_str())
                || self.called_members.contains(&it.span.start))
            && let Some(r) = self.network_refs.get_mut(obj.name.as_str())
        {
            r.1 += 1;
        }
        if is_process_env(&it.object) {
            self.occur(
                Capability::EnvRead,
                it.span.start,
                Some(it.property.name.to_string()),
            );
            return;
        }
        if it.property.name == "env" && is_process_env_expr_parts(&it.object) {
            self.occur(Capability::EnvRead, it.span.start, None);
            return;
        }
        walk::walk_static_member_expression(self, it);
    }

    fn visit_computed_member_expression(&mut self, it: &ComputedMemberExpression<'a>) {
        if is_process_env(&it.object) {
            let detail = literal_string(&it.expression)
                .map(str::to_string)
                .unwrap_or_else(|| "[computed]".to_string());
            self.occur(Capability::EnvRead, it.span.start, Some(detail));
            self.visit_expression(&it.expression);
            return;
        }
        if literal_string(&it.expression) == Some("env") && is_process_env_expr_parts(&it.object) {
            self.occur(Capability::EnvRead, it.span.start, None);
            return;
        }
        if self.computed_process.len() < MAX_LOOKUPS
            && it.object.get_inner_expression().is_specific_id("process")
            && literal_string(&it.expression).is_none()
        {
            self.computed_process.push(it.span.start);
        }
        walk::walk_computed_member_expression(self, it);
    }

    fn visit_object_property(&mut self, it: &ObjectProperty<'a>) {
        // `{ hostname: 'collect.example' }`: request options name hosts without a URL.
        if (it.key.is_specific_static_name("hostname") || it.key.is_specific_static_name("host"))
            && let Some(host) = literal_string(&it.value).filter(|h| patterns::is_hostname(h))
        {
            self.add_host(host, it.span.start, "literal", false);
        }
        walk::walk_object_property(self, it);
    }

    fn visit_spread_element(&mut self, it: &SpreadElement<'a>) {
        if self.is_env(&it.argument) {
            self.occur(Capability::EnvDump, it.span.start, Some("spread".into()));
        }
        walk::walk_spread_element(self, it);
    }

    fn visit_for_in_statement(&mut self, it: &ForInStatement<'a>) {
        if self.is_env(&it.right) {
            self.occur(Capability::EnvDump, it.span.start, Some("enumerate".into()));
        }
        walk::walk_for_in_statement(self, it);
    }

    fn visit_string_literal(&mut self, it: &StringLiteral<'a>) {
        self.on_string(it.value.as_str(), it.span, true);
    }

    fn visit_template_literal(&mut self, it: &TemplateLiteral<'a>) {
        let single = it.expressions.is_empty();
        for q in &it.quasis {
            let s = q.value.cooked.unwrap_or(q.value.raw);
            self.on_string(s.as_str(), q.span, single);
        }
        for e in &it.expressions {
            self.visit_expression(e);
        }
    }

    fn visit_identifier_reference(&mut self, it: &IdentifierReference<'a>) {
        self.on_identifier(it.name.as_str(), false);
        if !self.network_refs.is_empty()
            && let Some(r) = self.network_refs.get_mut(it.name.as_str())
        {
            r.0 += 1;
        }
    }

    fn visit_binding_identifier(&mut self, it: &BindingIdentifier<'a>) {
        self.on_identifier(it.name.as_str(), true);
    }

    fn visit_array_expression(&mut self, it: &ArrayExpression<'a>) {
        let len = it.elements.len();
        if len >= MIN_TABLE_LEN
            && it
                .elements
                .iter()
                .all(|e| matches!(e, ArrayExpressionElement::StringLiteral(_)))
        {
            if len >= 10 {
                self.largest_string_array = self.largest_string_array.max(len as u32);
            }
            for e in &it.elements {
                if self.table_names.len() >= MAX_TABLE_NAMES {
                    break;
                }
                if let ArrayExpressionElement::StringLiteral(s) = e
                    && let Some(name) = string_table::table_name(s.value.as_str())
                {
                    self.table_names.push(name);
                }
            }
        }
        walk::walk_array_expression(self, it);
    }

    // Left-deep operator chains (`a + b + … + z`, thousands long in generated code) are
    // walked with an explicit stack instead of recursion.
    fn visit_binary_expression(&mut self, it: &BinaryExpression<'a>) {
        let mut spine = vec![it];
        while let Some(Expression::BinaryExpression(left)) = spine.last().map(|b| &b.left) {
            spine.push(left);
        }
        if let Some(leftmost) = spine.last() {
            self.visit_expression(&leftmost.left);
        }
        for b in spine.iter().rev() {
            self.visit_expression(&b.right);
        }
    }

    fn visit_logical_expression(&mut self, it: &LogicalExpression<'a>) {
        let mut spine = vec![it];
        while let Some(Expression::LogicalExpression(left)) = spine.last().map(|b| &b.left) {
            spine.push(left);
        }
        if let Some(leftmost) = spine.last() {
            self.visit_expression(&leftmost.left);
        }
        for b in spine.iter().rev() {
            self.visit_expression(&b.right);
        }
    }
}

/// Whether `e` evaluates to the environment object itself (`process.env`, or `process`),
/// possibly behind `a || b`, `c ? a : b` or `(x, a)`. `depth` bounds the look.
fn holds_env_object(e: &Expression<'_>, depth: u32) -> bool {
    if depth == 0 {
        return false;
    }
    let e = e.get_inner_expression();
    match e {
        Expression::LogicalExpression(l) => {
            holds_env_object(&l.left, depth - 1) || holds_env_object(&l.right, depth - 1)
        }
        Expression::ConditionalExpression(c) => {
            holds_env_object(&c.consequent, depth - 1) || holds_env_object(&c.alternate, depth - 1)
        }
        Expression::SequenceExpression(s) => s
            .expressions
            .last()
            .is_some_and(|l| holds_env_object(l, depth - 1)),
        _ => is_process_env(e) || is_process_env_expr_parts(e),
    }
}

/// How the result of a network module load is bound (set just before the load is visited).
#[derive(Debug, Clone, PartialEq, Eq)]
enum Deferral {
    /// Not bound, or bound in a way not followed: the load is a use.
    None,
    /// Bound to one name: a use only if the name is.
    Bind(String),
    /// Only inert attributes are taken (`const { STATUS_CODES } = require('http')`).
    Drop,
}

/// `new Worker(code, { eval: true })`: the first argument is code, not a file.
fn worker_evaluates(args: &[Argument<'_>]) -> bool {
    let Some(Expression::ObjectExpression(o)) = args
        .get(1)
        .and_then(Argument::as_expression)
        .map(|e| e.get_inner_expression())
    else {
        return false;
    };
    o.properties.iter().any(|p| {
        matches!(p, ObjectPropertyKind::ObjectProperty(p)
            if p.key.is_specific_static_name("eval")
                && matches!(p.value.get_inner_expression(), Expression::BooleanLiteral(b) if b.value))
    })
}

/// The name an expression is written with, for details (`https`, `globalThis`).
fn obj_name(e: &Expression<'_>) -> String {
    match e {
        Expression::Identifier(id) => id.name.to_string(),
        Expression::CallExpression(c) => require_spec(c).unwrap_or("module").to_string(),
        _ => "module".to_string(),
    }
}

/// `globalThis`, `global`, `window`, `self`.
fn is_global_object(e: &Expression<'_>) -> bool {
    matches!(e, Expression::Identifier(id) if matches!(id.name.as_str(), "globalThis" | "global" | "window" | "self"))
}

/// The constant strings a choice can evaluate to (`a ? 'x' : b || 'y'`).
fn collect_alternatives(
    e: &Expression<'_>,
    consts: &dyn Consts,
    out: &mut Vec<String>,
    depth: u32,
) {
    if depth == 0 || out.len() >= 8 {
        return;
    }
    match e.get_inner_expression() {
        Expression::ConditionalExpression(c) => {
            collect_alternatives(&c.consequent, consts, out, depth - 1);
            collect_alternatives(&c.alternate, consts, out, depth - 1);
        }
        Expression::LogicalExpression(l) => {
            collect_alternatives(&l.left, consts, out, depth - 1);
            collect_alternatives(&l.right, consts, out, depth - 1);
        }
        other => {
            if let Some(s) = fold::fold(other, consts).filter(|s| s.len() <= MAX_CONST_LEN) {
                out.push(s);
            }
        }
    }
}

/// A constant URL prefix that starts a host and does not end it (`https://`, `https://a.`).
fn unfinished_host(prefix: &str) -> bool {
    prefix
        .find("://")
        .is_some_and(|i| !prefix[i + 3..].contains(['/', '?', '#', ':']))
}

/// `process` reached as `process`, `global.process`, `globalThis.process`.
fn is_process_env_expr_parts(obj: &Expression<'_>) -> bool {
    let obj = obj.get_inner_expression();
    obj.is_specific_id("process")
        || obj.is_specific_member_access("global", "process")
        || obj.is_specific_member_access("globalThis", "process")
}

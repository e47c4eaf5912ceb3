//! Where the environment object goes: a small intra-file data flow over oxc's semantic model.
//!
//! The walker sees `process.env.NPM_TOKEN` and `JSON.stringify(process.env)` where they are
//! written. Payloads rarely write them that way: `var e = process.env`, `const {env} = process`,
//! `const {GITHUB_TOKEN} = process.env`, or `send(process.env)` into a function whose parameter
//! is then read. This module follows the `process` object and its `env` through bindings
//! (symbols resolved by [`oxc_semantic`], so shadowing and scopes are right), destructuring,
//! assignments and the parameters of functions it is passed to, and reports each read or whole-
//! environment use it reaches *through* such a hop. Uses written directly on `process.env` are
//! the walker's and are not repeated here.
//!
//! It runs only for files whose walk saw the environment object escape into a binding or a call
//! (see `Walker::env_escapes`), so files that only read `process.env.X` pay nothing. It needs
//! identifier hashes, which the main parse skips for speed, so such files are parsed a second
//! time. The work is bounded by [`MAX_STEPS`].

use std::collections::HashSet;

use oxc_allocator::Allocator;
use oxc_ast::AstKind;
use oxc_ast::ast::*;
use oxc_parser::{ParseOptions, Parser};
use oxc_semantic::{AstNodes, Scoping, SemanticBuilder};
use oxc_span::{GetSpan, SourceType};
use oxc_syntax::node::NodeId;
use oxc_syntax::symbol::SymbolId;

use crate::facts::Capability;

/// Most uses followed per file: a hostile file cannot make the flow quadratic.
const MAX_STEPS: usize = 20_000;
/// Most transparent parents (parentheses, `a || b` …) looked through for one use.
const MAX_WRAPPERS: usize = 16;

/// A use of the environment found through a hop.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct FlowHit {
    pub offset: u32,
    pub cap: Capability,
    pub detail: String,
}

/// What a value holds.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
enum Obj {
    /// The `process` object.
    Process,
    /// `process.env`.
    Env,
}

/// Parse `src` again (with identifier hashes, which semantic analysis needs), build the
/// semantic model and follow the environment object. `alloc` is reset before and after.
pub(crate) fn env_uses(alloc: &mut Allocator, src: &str, source_type: SourceType) -> Vec<FlowHit> {
    alloc.reset();
    let hits = {
        let options = ParseOptions {
            preserve_parens: false,
            ..ParseOptions::default()
        };
        let ret = Parser::new(alloc, src, source_type)
            .with_options(options)
            .parse();
        if ret.panicked {
            Vec::new()
        } else {
            let sem = SemanticBuilder::new()
                .with_build_nodes(true)
                .build(&ret.program)
                .semantic;
            let mut flow = Flow {
                nodes: sem.nodes(),
                scoping: sem.scoping(),
                tainted: HashSet::new(),
                queue: Vec::new(),
                hits: Vec::new(),
                steps: 0,
            };
            flow.run();
            flow.hits
        }
    };
    alloc.reset();
    hits
}

struct Flow<'s, 'a> {
    nodes: &'s AstNodes<'a>,
    scoping: &'s Scoping,
    tainted: HashSet<(SymbolId, Obj)>,
    queue: Vec<(SymbolId, Obj)>,
    hits: Vec<FlowHit>,
    steps: usize,
}

impl<'a> Flow<'_, 'a> {
    fn run(&mut self) {
        // The global `process` (a reference that resolves to no binding of this file), and
        // `global.process` / `globalThis.process`.
        for (name, obj) in [
            ("process", None),
            ("global", Some("process")),
            ("globalThis", Some("process")),
        ] {
            let Some(ids) = self.scoping.root_unresolved_references().get(name) else {
                continue;
            };
            let ids: Vec<_> = ids.iter().copied().collect();
            for rid in ids {
                let node = self.scoping.get_reference(rid).node_id();
                match obj {
                    None => self.value_use(node, Obj::Process, false),
                    Some(prop) => {
                        let parent = self.nodes.parent_id(node);
                        if let AstKind::StaticMemberExpression(m) = self.nodes.kind(parent)
                            && m.property.name == prop
                        {
                            self.value_use(parent, Obj::Process, false);
                        }
                    }
                }
            }
        }
        while let Some((sym, obj)) = self.queue.pop() {
            for &rid in self.scoping.get_resolved_reference_ids(sym) {
                let r = self.scoping.get_reference(rid);
                if r.is_read() {
                    self.value_use(r.node_id(), obj, true);
                }
            }
        }
    }

    fn hit(&mut self, offset: u32, cap: Capability, detail: &str) {
        if !self.hits.iter().any(|h| h.offset == offset && h.cap == cap) {
            self.hits.push(FlowHit {
                offset,
                cap,
                detail: detail.to_string(),
            });
        }
    }

    fn taint(&mut self, sym: SymbolId, obj: Obj) {
        if self.tainted.insert((sym, obj)) {
            self.queue.push((sym, obj));
        }
    }

    /// The node `id` (an expression) evaluates to `obj`; `via` says it got there through a
    /// binding or a destructuring (otherwise the walker has seen the use already).
    fn value_use(&mut self, id: NodeId, obj: Obj, via: bool) {
        self.steps += 1;
        if self.steps > MAX_STEPS {
            return;
        }
        let (mut id, mut span) = (id, self.nodes.kind(id).span());
        let mut parent_id = self.nodes.parent_id(id);
        // Look through wrappers that pass the value on unchanged.
        for _ in 0..MAX_WRAPPERS {
            if parent_id == id {
                return;
            }
            let transparent = match self.nodes.kind(parent_id) {
                AstKind::ParenthesizedExpression(_)
                | AstKind::TSAsExpression(_)
                | AstKind::TSSatisfiesExpression(_)
                | AstKind::TSNonNullExpression(_)
                | AstKind::LogicalExpression(_)
                | AstKind::AwaitExpression(_) => true,
                AstKind::ConditionalExpression(c) => c.test.span() != span,
                AstKind::SequenceExpression(s) => {
                    s.expressions.last().is_some_and(|e| e.span() == span)
                }
                _ => false,
            };
            if !transparent {
                break;
            }
            id = parent_id;
            span = self.nodes.kind(id).span();
            parent_id = self.nodes.parent_id(id);
        }
        let parent = self.nodes.kind(parent_id);
        match parent {
            AstKind::StaticMemberExpression(m) if m.object.span() == span => match obj {
                Obj::Process if m.property.name == "env" => {
                    self.value_use(parent_id, Obj::Env, via);
                }
                Obj::Env if via => {
                    self.hit(m.span.start, Capability::EnvRead, m.property.name.as_str());
                }
                _ => {}
            },
            AstKind::ComputedMemberExpression(m) if m.object.span() == span => {
                let key = literal(&m.expression);
                match obj {
                    Obj::Process if key == Some("env") => {
                        self.value_use(parent_id, Obj::Env, via);
                    }
                    Obj::Env if via => {
                        self.hit(
                            m.span.start,
                            Capability::EnvRead,
                            key.unwrap_or("[computed]"),
                        );
                    }
                    _ => {}
                }
            }
            AstKind::VariableDeclarator(d) if d.init.as_ref().is_some_and(|i| i.span() == span) => {
                self.bind(&d.id, obj);
            }
            AstKind::AssignmentExpression(a) if a.right.span() == span => {
                if let AssignmentTarget::AssignmentTargetIdentifier(target) = &a.left
                    && let Some(sym) = target
                        .reference_id
                        .get()
                        .and_then(|r| self.scoping.get_reference(r).symbol_id())
                {
                    self.taint(sym, obj);
                }
                // `a = b = process.env`
                self.value_use(parent_id, obj, via);
            }
            AstKind::CallExpression(c) if c.callee.span() != span => {
                if let Some(i) = c.arguments.iter().position(|a| a.span() == span) {
                    self.argument(c, i, obj, via);
                }
            }
            AstKind::SpreadElement(_) if obj == Obj::Env && via => {
                self.hit(span.start, Capability::EnvDump, "spread");
            }
            AstKind::ForInStatement(f) if obj == Obj::Env && via && f.right.span() == span => {
                self.hit(f.span.start, Capability::EnvDump, "enumerate");
            }
            _ => {}
        }
    }

    /// `obj` is argument `i` of `call`.
    fn argument(&mut self, call: &CallExpression<'a>, i: usize, obj: Obj, via: bool) {
        let callee = call.callee.get_inner_expression();
        let at = call.span.start;
        if let Some(m) = callee.as_member_expression()
            && let Some(prop) = m.static_property_name()
        {
            let object = match m.object().get_inner_expression() {
                Expression::Identifier(id) => Some(id.name.as_str()),
                _ => None,
            };
            if obj == Obj::Env && via {
                let dump = match (object, prop) {
                    (Some("JSON"), "stringify") | (Some("util"), "inspect") => "serialize",
                    (Some("Object"), "keys" | "entries" | "values" | "getOwnPropertyNames") => {
                        "enumerate"
                    }
                    (Some("Object"), "assign") => "copy",
                    _ => "argument",
                };
                self.hit(at, Capability::EnvDump, dump);
            }
            return;
        }
        let params = match callee {
            Expression::Identifier(id) => id
                .reference_id
                .get()
                .and_then(|r| self.scoping.get_reference(r).symbol_id())
                .and_then(|sym| self.function_params(sym)),
            Expression::FunctionExpression(f) => Some(&*f.params),
            Expression::ArrowFunctionExpression(f) => Some(&*f.params),
            _ => None,
        };
        if let Some(p) = params.and_then(|p| p.items.get(i)) {
            self.bind(&p.pattern, obj);
        }
    }

    /// The parameters of the function a symbol is declared as (`function f(…)`,
    /// `const f = (…) => …`).
    fn function_params(&self, sym: SymbolId) -> Option<&'a FormalParameters<'a>> {
        match self.nodes.kind(self.scoping.symbol_declaration(sym)) {
            AstKind::Function(f) => Some(&f.params),
            AstKind::VariableDeclarator(d) => match d.init.as_ref()?.get_inner_expression() {
                Expression::FunctionExpression(f) => Some(&f.params),
                Expression::ArrowFunctionExpression(f) => Some(&f.params),
                _ => None,
            },
            _ => None,
        }
    }

    /// A binding pattern receives `obj`.
    fn bind(&mut self, pattern: &BindingPattern<'a>, obj: Obj) {
        match pattern {
            BindingPattern::BindingIdentifier(b) => {
                if let Some(sym) = b.symbol_id.get() {
                    self.taint(sym, obj);
                }
            }
            BindingPattern::AssignmentPattern(a) => self.bind(&a.left, obj),
            BindingPattern::ObjectPattern(p) => {
                for prop in &p.properties {
                    let key = if prop.computed {
                        None
                    } else {
                        prop.key.static_name()
                    };
                    match obj {
                        Obj::Process => {
                            if key.as_deref() == Some("env") {
                                self.bind(&prop.value, Obj::Env);
                            }
                        }
                        Obj::Env => {
                            let name = key.as_deref().unwrap_or("[computed]").to_string();
                            self.hit(prop.span.start, Capability::EnvRead, &name);
                        }
                    }
                }
                // `const {A, ...rest} = process.env`: `rest` is (most of) the environment.
                if let Some(rest) = &p.rest {
                    self.bind(&rest.argument, obj);
                }
            }
            BindingPattern::ArrayPattern(_) => {}
        }
    }
}

fn literal<'e>(e: &'e Expression<'_>) -> Option<&'e str> {
    match e.get_inner_expression() {
        Expression::StringLiteral(s) => Some(s.value.as_str()),
        Expression::TemplateLiteral(t) if t.expressions.is_empty() => t
            .quasis
            .first()
            .map(|q| q.value.cooked.unwrap_or(q.value.raw).as_str()),
        _ => None,
    }
}

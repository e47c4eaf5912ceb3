//! GitLab CI (`.gitlab-ci.yml`) as a second format of the publish-path audit.
//!
//! A pipeline file is read into the same line-numbered tree as a workflow ([`crate::yaml`],
//! same bounds), then the indirections an attacker — or an ordinary maintainer — uses to put a
//! job together are resolved before any rule looks at it:
//! - `include: local:` files (one level; `remote:`, `project:`, `component:` and `template:`
//!   includes and includes inside included files are listed as not read);
//! - YAML anchors (expanded by the parser) and `<<:` merge keys;
//! - `extends:` (deep merge, GitLab's rules: maps merge, everything else is replaced; at most
//!   11 levels, a cycle is an error);
//! - `!reference [.job, key]` in `script:`/`before_script:`/`after_script:` and `rules:` (the
//!   parser drops the tag; a nested list of names that resolves to a key of the file is read as
//!   one, anything else is flattened as GitLab flattens nested script lists);
//! - `default:` and the old top-level `before_script`/`cache`/`variables`, and `inherit:`;
//! - `trigger: include:` child pipelines with a local file (one level), whose jobs run only
//!   when the trigger job runs.
//!
//! Hand-written because no maintained crate models GitLab CI's merge semantics; the parsing
//! itself is `saphyr-parser` as for workflows. The rules ([`rules`]) emit the same codes as
//! the workflow rules where they apply, with a chain `pipeline → job → script line`.

pub mod reach;
pub mod rules;

use std::path::Path;

use crate::LoadError;
use crate::load::Skipped;
use crate::model::{Job, Pair, Step, Workflow};
use crate::yaml::{self, Entry, Limits, Node, Value};

/// The pipeline file GitLab reads by default.
pub const MAIN_FILE: &str = ".gitlab-ci.yml";

/// Deepest `extends:` chain GitLab accepts.
const MAX_EXTENDS: usize = 11;

/// Top-level keys that are not jobs.
const RESERVED: &[&str] = &[
    "default",
    "include",
    "stages",
    "variables",
    "workflow",
    "image",
    "services",
    "cache",
    "before_script",
    "after_script",
    "types",
    "spec",
];

/// One `rules:` entry: its `if:` (absent: always matches) and `when:`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RuleItem {
    pub cond: Option<String>,
    pub when: Option<String>,
    pub file: String,
    pub line: u32,
}

/// How a job says when it runs.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Filter {
    Rules(Vec<RuleItem>),
    /// `only:` / `except:` (refs and variables), with the line of the first.
    OnlyExcept {
        only: Option<OnlySpec>,
        except: Option<OnlySpec>,
        line: u32,
    },
    /// Neither: GitLab's default `only: [branches, tags]`.
    Default,
}

#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct OnlySpec {
    pub refs: Vec<String>,
    pub variables: Vec<String>,
}

/// An OIDC token the job asks for (`id_tokens: NAME: aud: ...`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IdToken {
    pub name: String,
    pub aud: String,
    pub file: String,
    pub line: u32,
}

/// A `cache:` the job restores, by key (`default` when no key is given).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CacheUse {
    pub key: String,
    pub file: String,
    pub line: u32,
}

/// A line of a job's script (`before_script`, `script`, `after_script`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ScriptLine {
    pub section: &'static str,
    pub text: String,
    /// The file the line is written in (a template may sit in an included file).
    pub file: String,
    pub line: u32,
}

/// A job after `extends:`, merge keys, `!reference` and `default:` are applied.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GlJob {
    pub id: String,
    pub line: u32,
    /// The file the job's own definition is in (an included file, or the main file).
    pub file: String,
    pub filter: Filter,
    pub script: Vec<ScriptLine>,
    /// Global and job variables, the job's last (it wins).
    pub variables: Vec<Pair>,
    pub id_tokens: Vec<IdToken>,
    pub caches: Vec<CacheUse>,
    pub environment: Option<String>,
    pub needs: Vec<String>,
    /// The local files of the child pipeline it starts (`trigger: include:`), with lines.
    pub trigger_local: Vec<(String, u32)>,
}

/// Where a child pipeline comes from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ParentLink {
    pub file: String,
    pub job: String,
    pub line: u32,
}

/// Included configuration from outside the repository (`project:`, `remote:`, `component:`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ExternalInclude {
    pub file: String,
    pub kind: String,
    pub target: String,
    /// The ref (`ref:` or `@version`), when one is given.
    pub reference: Option<String>,
    pub line: u32,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Pipeline {
    pub path: String,
    pub parent: Option<ParentLink>,
    pub workflow_rules: Option<Vec<RuleItem>>,
    pub jobs: Vec<GlJob>,
    pub includes: Vec<ExternalInclude>,
}

impl Pipeline {
    pub fn job(&self, id: &str) -> Option<&GlJob> {
        self.jobs.iter().find(|j| j.id == id)
    }

    /// The pipeline as a workflow (one step per script line), for publish detection and the
    /// report. Its trigger is `gitlab-ci` (or `parent_pipeline` for a child).
    pub fn as_workflow(&self) -> Workflow {
        Workflow {
            path: self.path.clone(),
            name: None,
            triggers: vec![crate::model::Trigger {
                event: if self.parent.is_some() {
                    "parent_pipeline".into()
                } else {
                    "gitlab-ci".into()
                },
                line: 1,
            }],
            permissions: None,
            env: Vec::new(),
            jobs: self.jobs.iter().map(GlJob::as_job).collect(),
        }
    }
}

impl GlJob {
    pub fn as_job(&self) -> Job {
        Job {
            id: self.id.clone(),
            line: self.line,
            name: None,
            if_cond: None,
            needs: self.needs.clone(),
            permissions: None,
            environment: self.environment.clone(),
            env: self.variables.clone(),
            uses: None,
            secrets_inherit: false,
            secrets: Vec::new(),
            steps: self.steps(),
        }
    }

    /// Each script line as a step (so `publish::in_step` reads it).
    pub fn steps(&self) -> Vec<Step> {
        self.script
            .iter()
            .enumerate()
            .map(|(index, l)| Step {
                index,
                line: l.line,
                name: None,
                uses: None,
                run: Some(l.text.clone()),
                run_line: l.line,
                with: Vec::new(),
                env: Vec::new(),
            })
            .collect()
    }
}

fn shape(path: &str, line: u32, message: impl Into<String>) -> LoadError {
    LoadError::Shape {
        path: path.to_string(),
        source: crate::model::ShapeError {
            line,
            message: message.into(),
        },
    }
}

/// Reads a repository file (relative path) for the resolver: `Ok(None)` when absent.
pub type ReadFile<'a> = dyn FnMut(&str) -> Result<Option<Vec<u8>>, LoadError> + 'a;

/// Lines of the `n`th file read are stored as `n << FILE_SHIFT | line`, so a node merged
/// from a template in another file (`extends:`, `!reference`, `<<:`) still names its file.
/// A file is at most 1 MiB, so its lines fit in 21 bits; at most 500 files are read.
const FILE_SHIFT: u32 = 21;

/// The line within its file of an encoded line.
fn plain(raw: u32) -> u32 {
    raw & ((1 << FILE_SHIFT) - 1)
}

/// The file and line of an encoded line.
fn decode(files: &[String], raw: u32) -> (String, u32) {
    let idx = (raw >> FILE_SHIFT) as usize;
    (
        files.get(idx).cloned().unwrap_or_default(),
        raw & ((1 << FILE_SHIFT) - 1),
    )
}

/// A file with a `spec:` header (GitLab's inputs, a first YAML document ended by `---`) is the
/// pipeline after it; the header's lines are kept as blank lines so line numbers stay true.
/// `$[[ inputs.x ]]` interpolations are left as text.
fn without_spec_header(text: &str) -> std::borrow::Cow<'_, str> {
    let first = text
        .lines()
        .find(|l| !l.trim().is_empty() && !l.trim_start().starts_with('#'));
    if !first.is_some_and(|l| l.starts_with("spec:")) {
        return text.into();
    }
    let mut out = String::with_capacity(text.len());
    let mut in_header = true;
    for line in text.split_inclusive('\n') {
        if in_header {
            if line.trim_end() == "---" {
                in_header = false;
            }
            out.push('\n');
        } else {
            out.push_str(line);
        }
    }
    if in_header {
        // A header without a pipeline after it.
        return text.into();
    }
    out.into()
}

/// A file of the repository as a tree, `<<` merges applied, lines encoded with `index`.
fn parse_file(
    path: &str,
    index: usize,
    bytes: &[u8],
    limits: &Limits,
) -> Result<Option<Node>, LoadError> {
    if bytes.len() > limits.max_bytes {
        return Err(LoadError::Yaml {
            path: path.into(),
            source: yaml::YamlError {
                line: 0,
                message: format!("larger than the limit of {} bytes", limits.max_bytes),
            },
        });
    }
    let text = std::str::from_utf8(bytes).map_err(|e| LoadError::NotUtf8 {
        path: path.into(),
        offset: e.valid_up_to(),
    })?;
    let body = without_spec_header(text);
    let root = yaml::parse(&body, limits).map_err(|source| LoadError::Yaml {
        path: path.into(),
        source,
    })?;
    let Some(root) = root else { return Ok(None) };
    if !root.is_map() {
        return Err(shape(path, root.line, "the pipeline is not a mapping"));
    }
    let base = u32::try_from(index).unwrap_or(u32::MAX >> FILE_SHIFT) << FILE_SHIFT;
    Ok(Some(merge_keys(root, base)))
}

/// Apply YAML merge keys (`<<: *anchor`, `<<: [*a, *b]`): the merged maps' entries come
/// first, the mapping's own entries override them.
fn merge_keys(node: Node, bits: u32) -> Node {
    let line = node.line | bits;
    match node.value {
        Value::Map(entries) => {
            let mut base: Vec<Entry> = Vec::new();
            let mut own: Vec<Entry> = Vec::new();
            for e in entries {
                let child = merge_keys(e.node, bits);
                if e.key == "<<" {
                    let sources = match child.value {
                        Value::Map(m) => vec![m],
                        Value::Seq(items) => items
                            .into_iter()
                            .filter_map(|n| match n.value {
                                Value::Map(m) => Some(m),
                                _ => None,
                            })
                            .collect(),
                        _ => Vec::new(),
                    };
                    for m in sources {
                        for me in m {
                            if !base.iter().any(|b| b.key == me.key) {
                                base.push(me);
                            }
                        }
                    }
                } else {
                    own.push(Entry {
                        key: e.key,
                        line: e.line | bits,
                        node: child,
                    });
                }
            }
            base.retain(|b| !own.iter().any(|o| o.key == b.key));
            base.extend(own);
            Node::build(line, Value::Map(base))
        }
        Value::Seq(items) => Node::build(
            line,
            Value::Seq(items.into_iter().map(|n| merge_keys(n, bits)).collect()),
        ),
        other => Node::build(line, other),
    }
}

/// GitLab's deep merge for `extends:`: maps merge key by key, anything else is replaced.
fn deep_merge(base: &Node, over: &Node) -> Node {
    match (&base.value, &over.value) {
        (Value::Map(b), Value::Map(o)) => {
            let mut out: Vec<Entry> = b.clone();
            for oe in o {
                if let Some(be) = out.iter_mut().find(|e| e.key == oe.key) {
                    be.node = deep_merge(&be.node, &oe.node);
                    be.line = oe.line;
                } else {
                    out.push(oe.clone());
                }
            }
            Node::build(over.line, Value::Map(out))
        }
        _ => over.clone(),
    }
}

/// A top-level key's definition, with the file it came from.
#[derive(Clone)]
struct Def {
    file: String,
    entry: Entry,
}

/// Local includes of one file: `(path, line)`; the rest are external or not read.
fn includes(
    file: &str,
    root: &Node,
    locals: &mut Vec<(String, u32)>,
    external: &mut Vec<ExternalInclude>,
    skipped: &mut Vec<Skipped>,
) {
    let Some(inc) = root.get("include") else {
        return;
    };
    let items: Vec<&Node> = match &inc.value {
        Value::Seq(items) => items.iter().collect(),
        _ => vec![inc],
    };
    for item in items {
        if let Some(s) = item.as_str() {
            if s.starts_with("http://") || s.starts_with("https://") {
                external.push(ExternalInclude {
                    file: file.into(),
                    kind: "remote".into(),
                    target: s.into(),
                    reference: None,
                    line: plain(item.line),
                });
            } else {
                locals.push((s.to_string(), plain(item.line)));
            }
            continue;
        }
        if let Some(l) = item.get("local").and_then(Node::scalar) {
            locals.push((l, plain(item.line)));
        } else if let Some(p) = item.get("project").and_then(Node::scalar) {
            external.push(ExternalInclude {
                file: file.into(),
                kind: "project".into(),
                target: p,
                reference: item.get("ref").and_then(Node::scalar),
                line: plain(item.line),
            });
        } else if let Some(r) = item.get("remote").and_then(Node::scalar) {
            external.push(ExternalInclude {
                file: file.into(),
                kind: "remote".into(),
                target: r,
                reference: None,
                line: plain(item.line),
            });
        } else if let Some(c) = item.get("component").and_then(Node::scalar) {
            let (target, reference) = match c.rsplit_once('@') {
                Some((t, r)) => (t.to_string(), Some(r.to_string())),
                None => (c.clone(), None),
            };
            external.push(ExternalInclude {
                file: file.into(),
                kind: "component".into(),
                target,
                reference,
                line: plain(item.line),
            });
        } else if let Some(t) = item.get("template").and_then(Node::scalar) {
            skipped.push(Skipped {
                file: file.into(),
                reason: format!(
                    "line {}: include template `{t}` is GitLab's own file and is not read",
                    plain(item.line)
                ),
            });
        } else {
            skipped.push(Skipped {
                file: file.into(),
                reason: format!("line {}: an include of a shape not read", plain(item.line)),
            });
        }
    }
}

/// A repository-relative path that stays inside the repository (no `..`, not absolute once
/// GitLab's leading `/` is dropped), or why not.
fn safe_rel(path: &str) -> Result<String, String> {
    let p = path.trim().trim_start_matches('/');
    if p.is_empty() {
        return Err("empty path".into());
    }
    if p.contains('*') {
        return Err("a wildcard include is not read".into());
    }
    if p.split('/').any(|c| c == "..") || p.contains('\\') {
        return Err("a path leaving the repository is not read".into());
    }
    if p.contains("$") {
        return Err("a computed path is not read".into());
    }
    Ok(p.to_string())
}

/// Everything read for one pipeline: the top-level definitions of the main file and its
/// local includes, the main file's winning.
struct Merged {
    defs: Vec<Def>,
    includes: Vec<ExternalInclude>,
    /// Files read, by index (see [`FILE_SHIFT`]): the main file first.
    files: Vec<String>,
}

impl Merged {
    fn get(&self, key: &str) -> Option<&Def> {
        self.defs.iter().find(|d| d.entry.key == key)
    }
}

fn merge_files(
    main: &str,
    root: &Node,
    read: &mut ReadFile<'_>,
    limits: &Limits,
    skipped: &mut Vec<Skipped>,
) -> Result<Merged, LoadError> {
    let mut locals = Vec::new();
    let mut external = Vec::new();
    let mut files = vec![main.to_string()];
    includes(main, root, &mut locals, &mut external, skipped);
    let mut defs: Vec<Def> = Vec::new();
    let add = |file: &str, node: &Node, defs: &mut Vec<Def>| {
        for e in node.entries() {
            if e.key == "include" {
                continue;
            }
            let def = Def {
                file: file.to_string(),
                entry: e.clone(),
            };
            // GitLab deep-merges every key of the included files with the main file's (the
            // main file wins key by key): a main file that only adds `rules:` to an included
            // job keeps the included `script:`.
            match defs.iter_mut().find(|d| d.entry.key == e.key) {
                Some(d) => {
                    d.entry.node = deep_merge(&d.entry.node, &e.node);
                    d.entry.line = e.line;
                    d.file = def.file;
                }
                None => defs.push(def),
            }
        }
    };
    for (path, line) in locals {
        let rel = match safe_rel(&path) {
            Ok(r) => r,
            Err(why) => {
                skipped.push(Skipped {
                    file: main.into(),
                    reason: format!("line {line}: include `{path}`: {why}"),
                });
                continue;
            }
        };
        let Some(bytes) = read(&rel)? else {
            skipped.push(Skipped {
                file: main.into(),
                reason: format!(
                    "line {line}: include `{rel}` is not a regular file in the repository"
                ),
            });
            continue;
        };
        files.push(rel.clone());
        let Some(inc) = parse_file(&rel, files.len() - 1, &bytes, limits)? else {
            continue;
        };
        let mut nested = Vec::new();
        includes(&rel, &inc, &mut nested, &mut external, skipped);
        for (p, l) in nested {
            skipped.push(Skipped {
                file: rel.clone(),
                reason: format!(
                    "line {l}: nested include `{p}` is not followed (one level is read)"
                ),
            });
        }
        add(&rel, &inc, &mut defs);
    }
    add(main, root, &mut defs);
    Ok(Merged {
        defs,
        includes: external,
        files,
    })
}

/// Resolve `extends:` of a job definition.
fn extend(
    merged: &Merged,
    path: &str,
    name: &str,
    node: &Node,
    depth: usize,
    budget: &mut usize,
    skipped: &mut Vec<Skipped>,
) -> Result<Node, LoadError> {
    let Some(ext) = node.get("extends") else {
        return Ok(node.clone());
    };
    if depth >= MAX_EXTENDS {
        return Err(shape(
            path,
            plain(ext.line),
            format!("`{name}`: extends nests deeper than {MAX_EXTENDS} levels (or a cycle)"),
        ));
    }
    let bases: Vec<String> = match &ext.value {
        Value::Seq(items) => items.iter().filter_map(Node::scalar).collect(),
        _ => ext.scalar().into_iter().collect(),
    };
    let mut acc: Option<Node> = None;
    for b in bases {
        let Some(def) = merged.get(&b) else {
            skipped.push(Skipped {
                file: path.into(),
                reason: format!(
                    "line {}: `{name}` extends `{b}`, which is not in the files read (its keys are not judged)",
                    plain(ext.line)
                ),
            });
            continue;
        };
        let resolved = extend(
            merged,
            path,
            &b,
            &def.entry.node,
            depth + 1,
            budget,
            skipped,
        )?;
        acc = Some(match acc {
            Some(a) => deep_merge(&a, &resolved),
            None => resolved,
        });
    }
    let own = Node::build(
        node.line,
        Value::Map(
            node.entries()
                .iter()
                .filter(|e| e.key != "extends")
                .cloned()
                .collect(),
        ),
    );
    let out = match acc {
        Some(a) => deep_merge(&a, &own),
        None => own,
    };
    *budget = budget.saturating_sub(out.size());
    if *budget == 0 {
        return Err(shape(
            path,
            plain(node.line),
            "too many nodes once `extends:` is resolved",
        ));
    }
    Ok(out)
}

/// `!reference [.job, key, ...]`: the node it names, when it names one.
fn reference<'a>(merged: &'a Merged, items: &[Node]) -> Option<&'a Node> {
    if items.len() < 2 {
        return None;
    }
    let names: Vec<&str> = items.iter().map(Node::as_str).collect::<Option<_>>()?;
    let mut node = &merged.get(names[0])?.entry.node;
    for n in &names[1..] {
        node = node.get(n)?;
    }
    Some(node)
}

/// Script lines of a `script`-like node, references resolved, nested lists flattened.
fn script_lines(
    merged: &Merged,
    node: &Node,
    section: &'static str,
    depth: usize,
    out: &mut Vec<ScriptLine>,
) {
    if depth > 10 {
        return;
    }
    match &node.value {
        Value::Str(s) => {
            let (file, line) = decode(&merged.files, node.line);
            out.push(ScriptLine {
                section,
                text: s.clone(),
                file,
                line,
            });
        }
        Value::Seq(items) => {
            if depth > 0
                && let Some(r) = reference(merged, items)
            {
                script_lines(merged, r, section, depth + 1, out);
                return;
            }
            for i in items {
                script_lines(merged, i, section, depth + 1, out);
            }
        }
        _ => {}
    }
}

fn rule_items(merged: &Merged, node: &Node, depth: usize, out: &mut Vec<RuleItem>) {
    if depth > 10 {
        return;
    }
    for item in node.items() {
        if let Value::Seq(inner) = &item.value {
            if let Some(r) = reference(merged, inner) {
                rule_items(merged, r, depth + 1, out);
            }
            continue;
        }
        let (file, line) = decode(&merged.files, item.line);
        out.push(RuleItem {
            cond: item.get("if").and_then(Node::scalar),
            when: item.get("when").and_then(Node::scalar),
            file,
            line,
        });
    }
}

fn only_spec(node: &Node) -> OnlySpec {
    match &node.value {
        Value::Map(_) => OnlySpec {
            refs: node
                .get("refs")
                .map(|r| match &r.value {
                    Value::Seq(i) => i.iter().filter_map(Node::scalar).collect(),
                    _ => r.scalar().into_iter().collect(),
                })
                .unwrap_or_default(),
            variables: node
                .get("variables")
                .map(|v| v.items().iter().filter_map(Node::scalar).collect())
                .unwrap_or_default(),
        },
        Value::Seq(items) => OnlySpec {
            refs: items.iter().filter_map(Node::scalar).collect(),
            variables: Vec::new(),
        },
        _ => OnlySpec {
            refs: node.scalar().into_iter().collect(),
            variables: Vec::new(),
        },
    }
}

fn filter(merged: &Merged, job: &Node) -> Filter {
    if let Some(r) = job.get("rules") {
        let mut items = Vec::new();
        rule_items(merged, r, 0, &mut items);
        return Filter::Rules(items);
    }
    let only = job.get("only");
    let except = job.get("except");
    match (only, except) {
        (None, None) => Filter::Default,
        _ => Filter::OnlyExcept {
            line: plain(only.or(except).map_or(job.line, |n| n.line)),
            only: only.map(only_spec),
            except: except.map(only_spec),
        },
    }
}

fn pairs_of(node: Option<&Node>) -> Vec<Pair> {
    node.map(|n| {
        n.entries()
            .iter()
            .map(|e| Pair {
                key: e.key.clone(),
                // `VAR: {value: x, description: ...}`
                value: e
                    .node
                    .scalar()
                    .or_else(|| e.node.get("value").and_then(Node::scalar))
                    .unwrap_or_default(),
                line: plain(e.line),
            })
            .collect()
    })
    .unwrap_or_default()
}

/// Does the job inherit `key` of `default:` / global variables (`inherit:`)?
fn inherits(job: &Node, what: &str, key: &str) -> bool {
    match job.get("inherit").and_then(|i| i.get(what)) {
        None => true,
        Some(n) => match &n.value {
            Value::Bool(b) => *b,
            Value::Seq(items) => items.iter().any(|i| i.as_str() == Some(key)),
            _ => true,
        },
    }
}

fn caches(files: &[String], node: Option<&Node>) -> Vec<CacheUse> {
    let Some(node) = node else { return Vec::new() };
    let items: Vec<&Node> = match &node.value {
        Value::Seq(items) => items.iter().collect(),
        Value::Map(_) => vec![node],
        _ => return Vec::new(),
    };
    items
        .into_iter()
        .filter(|c| c.get("policy").and_then(Node::as_str) != Some("push"))
        .map(|c| {
            let key = match c.get("key") {
                None => "default".to_string(),
                Some(k) => match &k.value {
                    Value::Map(_) => {
                        let files: Vec<String> = k
                            .get("files")
                            .map(|f| f.items().iter().filter_map(Node::scalar).collect())
                            .unwrap_or_default();
                        format!(
                            "files:{}{}",
                            files.join(","),
                            k.get("prefix")
                                .and_then(Node::scalar)
                                .map(|p| format!(" prefix:{p}"))
                                .unwrap_or_default()
                        )
                    }
                    _ => k.scalar().unwrap_or_default(),
                },
            };
            let (file, line) = decode(files, c.line);
            CacheUse { key, file, line }
        })
        .collect()
}

/// Every local file of `trigger: include:` (GitLab merges them all into the child
/// pipeline, so a publish in the second file is as real as one in the first). Each is read
/// as a child pipeline of its own: a job in one that `extends:` a template of another is not
/// resolved.
fn trigger_local(job: &Node) -> Vec<(String, u32)> {
    let Some(inc) = job.get("trigger").and_then(|t| t.get("include")) else {
        return Vec::new();
    };
    let items = match &inc.value {
        Value::Seq(items) => items.iter().collect(),
        _ => vec![inc],
    };
    items
        .into_iter()
        .filter_map(|i| {
            let path = i
                .as_str()
                .map(str::to_string)
                .or_else(|| i.get("local").and_then(Node::scalar))?;
            Some((path, plain(i.line)))
        })
        .collect()
}

/// The key of the job's `default:` or, failing that, the old top-level key.
fn default_key<'a>(merged: &'a Merged, key: &str) -> Option<&'a Node> {
    merged
        .get("default")
        .and_then(|d| d.entry.node.get(key))
        .or_else(|| merged.get(key).map(|d| &d.entry.node))
}

fn gl_job(merged: &Merged, def: &Def, node: &Node) -> GlJob {
    let get = |key: &str| -> Option<&Node> {
        node.get(key).or_else(|| {
            inherits(node, "default", key)
                .then(|| default_key(merged, key))
                .flatten()
        })
    };
    let mut script = Vec::new();
    for section in ["before_script", "script", "after_script"] {
        if let Some(s) = get(section) {
            script_lines(merged, s, section, 0, &mut script);
        }
    }
    let mut variables: Vec<Pair> = pairs_of(merged.get("variables").map(|d| &d.entry.node))
        .into_iter()
        .filter(|p| inherits(node, "variables", &p.key))
        .collect();
    variables.extend(pairs_of(node.get("variables")));
    let id_tokens = get("id_tokens")
        .map(|t| {
            t.entries()
                .iter()
                .map(|e| {
                    let aud = e
                        .node
                        .get("aud")
                        .map_or_else(String::new, |a| match &a.value {
                            Value::Seq(items) => items
                                .iter()
                                .filter_map(Node::scalar)
                                .collect::<Vec<_>>()
                                .join(","),
                            _ => a.scalar().unwrap_or_default(),
                        });
                    let (file, line) = decode(&merged.files, e.line);
                    IdToken {
                        name: e.key.clone(),
                        aud: resolve_var(&aud, &variables),
                        file,
                        line,
                    }
                })
                .collect()
        })
        .unwrap_or_default();
    let environment = node.get("environment").and_then(|e| match &e.value {
        Value::Map(_) => e.get("name").and_then(Node::scalar),
        _ => e.scalar().filter(|s| !s.is_empty()),
    });
    let needs = node
        .get("needs")
        .map(|n| {
            n.items()
                .iter()
                .filter_map(|i| i.scalar().or_else(|| i.get("job").and_then(Node::scalar)))
                .collect()
        })
        .unwrap_or_default();
    GlJob {
        id: def.entry.key.clone(),
        line: plain(def.entry.line),
        file: def.file.clone(),
        filter: filter(merged, node),
        script,
        id_tokens,
        caches: caches(&merged.files, get("cache")),
        environment,
        needs,
        trigger_local: trigger_local(node),
        variables,
    }
}

/// `$VAR` / `${VAR}` replaced by a variable's literal value (one level), e.g. an `aud:`.
fn resolve_var(text: &str, vars: &[Pair]) -> String {
    let name = text
        .trim()
        .trim_start_matches('$')
        .trim_start_matches('{')
        .trim_end_matches('}');
    if text.trim().starts_with('$')
        && let Some(p) = vars.iter().rev().find(|p| p.key == name)
    {
        return p.value.clone();
    }
    text.to_string()
}

/// Read one pipeline (a main file or a child), resolving what the module doc lists.
pub fn read_pipeline(
    path: &str,
    parent: Option<ParentLink>,
    read: &mut ReadFile<'_>,
    limits: &Limits,
    skipped: &mut Vec<Skipped>,
) -> Result<Option<Pipeline>, LoadError> {
    let Some(bytes) = read(path)? else {
        return Ok(None);
    };
    let Some(root) = parse_file(path, 0, &bytes, limits)? else {
        return Ok(None);
    };
    let merged = merge_files(path, &root, read, limits, skipped)?;
    let mut budget = limits.max_nodes.saturating_mul(4);
    let mut jobs = Vec::new();
    for def in &merged.defs {
        let key = def.entry.key.as_str();
        if RESERVED.contains(&key) || key.starts_with('.') || !def.entry.node.is_map() {
            continue;
        }
        let node = extend(
            &merged,
            &def.file,
            key,
            &def.entry.node,
            0,
            &mut budget,
            skipped,
        )?;
        let job = gl_job(&merged, def, &node);
        if let Some(t) = node.get("trigger")
            && job.trigger_local.is_empty()
        {
            let what = t
                .scalar()
                .or_else(|| t.get("project").and_then(Node::scalar))
                .map_or_else(
                    || "a child pipeline from outside the repository (project, artifact or template include)".to_string(),
                    |p| format!("the pipeline of project `{p}`"),
                );
            skipped.push(Skipped {
                file: def.file.clone(),
                reason: format!(
                    "line {}: job `{}` triggers {what}, which is not read",
                    job.line, job.id
                ),
            });
        }
        // `default:` and global variables are copied into every job: bound the copies too.
        let copied =
            job.script.len() + job.variables.len() + job.caches.len() + job.id_tokens.len();
        budget = budget.saturating_sub(copied);
        if budget == 0 {
            return Err(shape(
                &def.file,
                job.line,
                "too many nodes once `default:` and global variables are copied into the jobs",
            ));
        }
        jobs.push(job);
    }
    let workflow_rules = merged
        .get("workflow")
        .and_then(|w| w.entry.node.get("rules"))
        .map(|r| {
            let mut items = Vec::new();
            rule_items(&merged, r, 0, &mut items);
            items
        });
    Ok(Some(Pipeline {
        path: path.to_string(),
        parent,
        workflow_rules,
        jobs,
        includes: merged.includes,
    }))
}

/// The main pipeline and the local child pipelines its trigger jobs start (one level).
pub fn read_all(
    read: &mut ReadFile<'_>,
    limits: &Limits,
    skipped: &mut Vec<Skipped>,
) -> Result<Vec<Pipeline>, LoadError> {
    let Some(main) = read_pipeline(MAIN_FILE, None, read, limits, skipped)? else {
        return Ok(Vec::new());
    };
    let mut out = Vec::new();
    for (job, (child, line)) in main
        .jobs
        .iter()
        .flat_map(|j| j.trigger_local.iter().map(move |t| (j, t)))
    {
        let rel = match safe_rel(child) {
            Ok(r) => r,
            Err(why) => {
                skipped.push(Skipped {
                    file: job.file.clone(),
                    reason: format!("line {line}: child pipeline `{child}`: {why}"),
                });
                continue;
            }
        };
        let parent = ParentLink {
            file: job.file.clone(),
            job: job.id.clone(),
            line: job.line,
        };
        let mut inner = Vec::new();
        match read_pipeline(&rel, Some(parent), read, limits, &mut inner)? {
            Some(p) => {
                // Children of a child are not followed.
                for j in p.jobs.iter().filter(|j| !j.trigger_local.is_empty()) {
                    inner.push(Skipped {
                        file: rel.clone(),
                        reason: format!(
                            "line {}: job `{}` starts a grandchild pipeline, not followed",
                            j.line, j.id
                        ),
                    });
                }
                out.push(p);
            }
            None => inner.push(Skipped {
                file: job.file.clone(),
                reason: format!("line {line}: child pipeline `{rel}` is not in the repository"),
            }),
        }
        skipped.extend(inner);
    }
    out.insert(0, main);
    Ok(out)
}

/// Read a file of the repository at `root`: regular files only (a symlink could point
/// anywhere on the machine), bounded.
pub fn repo_reader(
    root: &Path,
    limits: Limits,
) -> impl FnMut(&str) -> Result<Option<Vec<u8>>, LoadError> {
    let root = root.to_path_buf();
    let mut count = 0usize;
    move |rel: &str| {
        count += 1;
        if count > crate::load::MAX_WORKFLOWS {
            return Err(LoadError::TooMany { path: rel.into() });
        }
        let path = root.join(rel);
        // Every component must be a real directory or file: no symlink on the way.
        let mut cur = root.clone();
        for c in rel.split('/') {
            cur.push(c);
            match std::fs::symlink_metadata(&cur) {
                Ok(m) if m.file_type().is_symlink() => return Ok(None),
                Ok(_) => {}
                Err(_) => return Ok(None),
            }
        }
        let meta = std::fs::symlink_metadata(&path).map_err(|source| LoadError::Io {
            path: rel.into(),
            source,
        })?;
        if !meta.is_file() {
            return Ok(None);
        }
        if meta.len() > limits.max_bytes as u64 {
            return Err(LoadError::Yaml {
                path: rel.into(),
                source: yaml::YamlError {
                    line: 0,
                    message: format!(
                        "file is {} bytes, larger than the limit of {} bytes",
                        meta.len(),
                        limits.max_bytes
                    ),
                },
            });
        }
        use std::io::Read as _;
        let mut buf = Vec::new();
        std::fs::File::open(&path)
            .and_then(|f| f.take(limits.max_bytes as u64 + 1).read_to_end(&mut buf))
            .map_err(|source| LoadError::Io {
                path: rel.into(),
                source,
            })?;
        Ok(Some(buf))
    }
}

/// The GitLab pipelines of the repository at `root` (none without a `.gitlab-ci.yml`). A
/// symlinked `.gitlab-ci.yml` is listed as skipped.
pub fn load(root: &Path, limits: &Limits) -> Result<(Vec<Pipeline>, Vec<Skipped>), LoadError> {
    let mut skipped = Vec::new();
    if let Ok(m) = std::fs::symlink_metadata(root.join(MAIN_FILE))
        && !m.is_file()
    {
        skipped.push(Skipped {
            file: MAIN_FILE.into(),
            reason: "not a regular file (symlinks are not followed)".into(),
        });
        return Ok((Vec::new(), skipped));
    }
    let mut read = repo_reader(root, *limits);
    let pipelines = read_all(&mut read, limits, &mut skipped)?;
    Ok((pipelines, skipped))
}

#[cfg(test)]
pub(crate) mod testutil {
    use super::*;

    /// Pipelines from in-memory files (`.gitlab-ci.yml` and the files it includes).
    pub fn pipelines(files: &[(&str, &str)]) -> (Vec<Pipeline>, Vec<Skipped>) {
        let mut skipped = Vec::new();
        let mut read = |p: &str| -> Result<Option<Vec<u8>>, LoadError> {
            Ok(files
                .iter()
                .find(|(n, _)| *n == p)
                .map(|(_, s)| s.as_bytes().to_vec()))
        };
        let p = read_all(&mut read, &Limits::default(), &mut skipped).unwrap();
        (p, skipped)
    }

    pub fn repo(files: &[(&str, &str)]) -> crate::Repo {
        crate::Repo {
            gitlab: pipelines(files).0,
            ..crate::Repo::default()
        }
    }
}

#[cfg(test)]
mod tests {
    use super::testutil::pipelines;

    #[test]
    fn extends_anchors_merge_keys_and_references_are_resolved() {
        let (p, skipped) = pipelines(&[
            (
                ".gitlab-ci.yml",
                "include:\n  - local: ci/release.yml\n  - project: group/templates\n    file: npm.yml\n.defaults: &defaults\n  cache:\n    key: shared\n    paths: [node_modules]\n.setup:\n  script:\n    - echo '//registry.npmjs.org/:_authToken=${NPM_TOKEN}' > .npmrc\nbuild:\n  <<: *defaults\n  script:\n    - npm ci\n",
            ),
            (
                "ci/release.yml",
                ".publish:\n  script:\n    - !reference [.setup, script]\n    - npm publish\nrelease:\n  extends: .publish\n  only: [tags]\n",
            ),
        ]);
        assert_eq!(p.len(), 1);
        let release = p[0].job("release").unwrap();
        let lines: Vec<&str> = release.script.iter().map(|l| l.text.as_str()).collect();
        assert_eq!(lines.len(), 2, "{lines:?}");
        assert!(lines[0].contains("NPM_TOKEN"));
        assert_eq!(lines[1], "npm publish");
        assert_eq!(release.file, "ci/release.yml");
        let build = p[0].job("build").unwrap();
        assert_eq!(build.caches[0].key, "shared");
        assert_eq!(p[0].includes.len(), 1);
        assert!(skipped.is_empty(), "{skipped:?}");
    }

    /// GitLab deep-merges an included job with the main file's definition of the same job:
    /// a main file that only adds `rules:` to an included publish job keeps its `script:`.
    #[test]
    fn a_main_file_that_overrides_part_of_an_included_job_keeps_the_rest() {
        let (p, _) = pipelines(&[
            (
                ".gitlab-ci.yml",
                "include:\n  - local: ci/release.yml\nrelease:\n  rules:\n    - if: $CI_COMMIT_TAG\n",
            ),
            (
                "ci/release.yml",
                "release:\n  variables:\n    NPM_TOKEN: $NPM_TOKEN\n  script:\n    - npm publish\n",
            ),
        ]);
        let release = p[0].job("release").unwrap();
        let lines: Vec<&str> = release.script.iter().map(|l| l.text.as_str()).collect();
        assert_eq!(lines, ["npm publish"]);
        assert_eq!(release.file, ".gitlab-ci.yml");
    }

    #[test]
    fn hostile_includes_and_cycles() {
        let (_, skipped) = pipelines(&[(
            ".gitlab-ci.yml",
            "include:\n  - local: ../../etc/passwd\n  - local: 'ci/*.yml'\n  - local: missing.yml\njob:\n  script: [echo]\n",
        )]);
        assert_eq!(skipped.len(), 3, "{skipped:?}");
        let (_, skipped) = pipelines(&[(
            ".gitlab-ci.yml",
            "include:\n  - local: ci/$TARGET.yml\nup:\n  trigger: group/other\nart:\n  trigger:\n    include:\n      - artifact: gen.yml\n        job: make\n",
        )]);
        let reasons: Vec<&str> = skipped.iter().map(|s| s.reason.as_str()).collect();
        assert_eq!(reasons.len(), 3, "{reasons:?}");
        assert!(reasons[0].contains("computed path"));
        assert!(reasons[1].contains("project `group/other`"));
        assert!(reasons[2].contains("artifact"));
        let mut read = |p: &str| -> Result<Option<Vec<u8>>, crate::LoadError> {
            Ok((p == super::MAIN_FILE)
                .then(|| b".a:\n  extends: .b\n.b:\n  extends: .a\njob:\n  extends: .a\n".to_vec()))
        };
        let err = super::read_all(&mut read, &crate::yaml::Limits::default(), &mut Vec::new())
            .unwrap_err();
        assert!(err.to_string().contains("extends"), "{err}");
    }

    #[test]
    fn extends_cannot_multiply_a_template_without_bound() {
        // 5 000 nodes in one template, copied into 200 jobs: a million nodes from a 30 KB
        // file. The parser's node budget sees the template once; extends has its own.
        let mut src = String::from(".big:\n  variables:\n");
        for i in 0..5000 {
            src.push_str(&format!("    V{i}: x\n"));
        }
        for j in 0..200 {
            src.push_str(&format!("job{j}:\n  extends: .big\n"));
        }
        let mut read = |p: &str| -> Result<Option<Vec<u8>>, crate::LoadError> {
            Ok((p == super::MAIN_FILE).then(|| src.as_bytes().to_vec()))
        };
        let err = super::read_all(&mut read, &crate::yaml::Limits::default(), &mut Vec::new())
            .unwrap_err();
        assert!(err.to_string().contains("too many nodes"), "{err}");
    }

    #[test]
    fn global_variables_cannot_multiply_without_bound() {
        let mut src = String::from("variables:\n");
        for i in 0..60_000 {
            src.push_str(&format!("  V{i}: x\n"));
        }
        for j in 0..60 {
            src.push_str(&format!("job{j}:\n  script: [a]\n"));
        }
        let mut read = |p: &str| -> Result<Option<Vec<u8>>, crate::LoadError> {
            Ok((p == super::MAIN_FILE).then(|| src.as_bytes().to_vec()))
        };
        let err = super::read_all(&mut read, &crate::yaml::Limits::default(), &mut Vec::new())
            .unwrap_err();
        assert!(err.to_string().contains("global variables"), "{err}");
    }

    #[test]
    fn a_spec_header_is_skipped_and_lines_stay_true() {
        let (p, _) = pipelines(&[(
            ".gitlab-ci.yml",
            "spec:\n  inputs:\n    stage:\n      default: deploy\n---\npublish:\n  stage: $[[ inputs.stage ]]\n  script: [npm publish]\n",
        )]);
        let j = p[0].job("publish").unwrap();
        assert_eq!((j.line, j.script[0].line), (6, 8));
    }

    #[test]
    fn a_trigger_child_pipeline_is_followed_one_level() {
        let (p, skipped) = pipelines(&[
            (
                ".gitlab-ci.yml",
                "deploy:\n  trigger:\n    include: ci/child.yml\n",
            ),
            (
                "ci/child.yml",
                "publish:\n  script: [npm publish]\nmore:\n  trigger:\n    include: ci/grandchild.yml\n",
            ),
        ]);
        assert_eq!(p.len(), 2);
        assert_eq!(p[1].parent.as_ref().unwrap().job, "deploy");
        assert_eq!(skipped.len(), 1, "{skipped:?}");
    }

    /// Every local file of `trigger: include:` is read, not only the first: a harmless first
    /// file must not hide a publishing second one.
    #[test]
    fn every_file_of_a_trigger_include_is_read() {
        let (p, _) = pipelines(&[
            (
                ".gitlab-ci.yml",
                "deploy:\n  trigger:\n    include:\n      - local: ci/lint.yml\n      - local: ci/release.yml\n",
            ),
            ("ci/lint.yml", "lint:\n  script: [npm test]\n"),
            ("ci/release.yml", "publish:\n  script: [npm publish]\n"),
        ]);
        assert_eq!(p.len(), 3);
        assert!(p[2].job("publish").is_some());
    }
}

//! The vocabulary: a workflow, its triggers, jobs and steps, read from the YAML tree.
//!
//! Only what the rules judge is kept, each with its line. Shapes GitHub would reject (a job
//! that is not a mapping, steps that are not a list) are errors, so a workflow is never
//! silently judged as empty.

use crate::yaml::{Node, Value};

/// A `KEY: value` pair (env, with) with the line of the key.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Pair {
    pub key: String,
    pub value: String,
    pub line: u32,
}

/// What `permissions:` grants, where written.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Permissions {
    ReadAll,
    WriteAll,
    /// `scope: level` pairs; `{}` is an empty list (no permissions at all).
    Scopes(Vec<Pair>),
    /// An expression or another shape: judged as unknown (not read-only).
    Other(String),
}

impl Permissions {
    /// Does it grant `write` on `scope` (`write-all` grants every scope)?
    pub fn writes(&self, scope: &str) -> bool {
        match self {
            Permissions::WriteAll => true,
            Permissions::Scopes(s) => s.iter().any(|p| p.key == scope && p.value == "write"),
            _ => false,
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Trigger {
    pub event: String,
    pub line: u32,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Step {
    /// 0-based position in the job.
    pub index: usize,
    pub line: u32,
    pub name: Option<String>,
    pub uses: Option<String>,
    pub run: Option<String>,
    /// Line where the `run:` script's text starts.
    pub run_line: u32,
    pub with: Vec<Pair>,
    pub env: Vec<Pair>,
}

impl Step {
    /// How the step is named in a chain: its `name:`, else its `uses:`, else its first run line.
    pub fn label(&self) -> String {
        if let Some(n) = &self.name {
            return n.clone();
        }
        if let Some(u) = &self.uses {
            return u.clone();
        }
        let first = self
            .run
            .as_deref()
            .and_then(|r| r.lines().find(|l| !l.trim().is_empty()))
            .unwrap_or("");
        format!("run: {}", first.trim())
    }

    pub fn with_value(&self, key: &str) -> Option<&str> {
        self.with
            .iter()
            .find(|p| p.key == key)
            .map(|p| p.value.as_str())
    }

    /// The action's `owner/repo[/path]` without `@ref`, lower-cased.
    pub fn action(&self) -> Option<String> {
        let u = self.uses.as_deref()?;
        Some(u.split('@').next().unwrap_or(u).to_ascii_lowercase())
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Job {
    pub id: String,
    pub line: u32,
    pub name: Option<String>,
    /// The job's `if:` condition, as written.
    pub if_cond: Option<String>,
    /// Jobs this one waits for (`needs:`); their outputs and artifacts feed it.
    pub needs: Vec<String>,
    pub permissions: Option<(Permissions, u32)>,
    /// `environment:` name (or its expression), when set.
    pub environment: Option<String>,
    pub env: Vec<Pair>,
    /// A reusable workflow call (`jobs.<id>.uses`).
    pub uses: Option<(String, u32)>,
    /// `secrets: inherit`, or the secrets passed to a reusable workflow.
    pub secrets_inherit: bool,
    pub secrets: Vec<Pair>,
    pub steps: Vec<Step>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Workflow {
    /// Path relative to the repository root, e.g. `.github/workflows/release.yml`.
    pub path: String,
    pub name: Option<String>,
    pub triggers: Vec<Trigger>,
    pub permissions: Option<(Permissions, u32)>,
    pub env: Vec<Pair>,
    pub jobs: Vec<Job>,
}

/// A workflow file whose shape GitHub would not run.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("line {line}: {message}")]
pub struct ShapeError {
    pub line: u32,
    pub message: String,
}

fn shape(line: u32, message: impl Into<String>) -> ShapeError {
    ShapeError {
        line,
        message: message.into(),
    }
}

fn pairs(node: Option<&Node>, what: &str) -> Result<Vec<Pair>, ShapeError> {
    let Some(node) = node else {
        return Ok(Vec::new());
    };
    match &node.value {
        Value::Map(entries) => Ok(entries
            .iter()
            .map(|e| Pair {
                key: e.key.clone(),
                value: e.node.scalar().unwrap_or_default(),
                line: e.line,
            })
            .collect()),
        Value::Null => Ok(Vec::new()),
        // `env: ${{ fromJSON(...) }}` is legal: keep it as one pair so its text is scanned.
        Value::Str(s) => Ok(vec![Pair {
            key: String::new(),
            value: s.clone(),
            line: node.line,
        }]),
        _ => Err(shape(node.line, format!("`{what}` is not a mapping"))),
    }
}

fn permissions(node: Option<&Node>) -> Option<(Permissions, u32)> {
    let node = node?;
    let p = match &node.value {
        Value::Str(s) if s == "read-all" => Permissions::ReadAll,
        Value::Str(s) if s == "write-all" => Permissions::WriteAll,
        Value::Map(_) => Permissions::Scopes(pairs(Some(node), "permissions").ok()?),
        other => Permissions::Other(format!("{other:?}")),
    };
    Some((p, node.line))
}

fn text(node: Option<&Node>) -> Option<String> {
    node.and_then(Node::scalar)
}

fn triggers(node: Option<&Node>) -> Vec<Trigger> {
    let Some(node) = node else {
        return Vec::new();
    };
    match &node.value {
        Value::Str(s) => vec![Trigger {
            event: s.clone(),
            line: node.line,
        }],
        Value::Seq(items) => items
            .iter()
            .filter_map(|n| {
                Some(Trigger {
                    event: n.as_str()?.to_string(),
                    line: n.line,
                })
            })
            .collect(),
        Value::Map(entries) => entries
            .iter()
            .map(|e| Trigger {
                event: e.key.clone(),
                line: e.line,
            })
            .collect(),
        _ => Vec::new(),
    }
}

fn step(index: usize, node: &Node) -> Result<Step, ShapeError> {
    if !node.is_map() {
        return Err(shape(node.line, "a step is not a mapping"));
    }
    let run = node.get("run");
    Ok(Step {
        index,
        line: node.line,
        name: text(node.get("name")),
        uses: text(node.get("uses")),
        run: run.and_then(Node::scalar),
        run_line: run.map(|r| r.line).unwrap_or(node.line),
        with: pairs(node.get("with"), "with")?,
        env: pairs(node.get("env"), "env")?,
    })
}

fn job(id: &str, line: u32, node: &Node) -> Result<Job, ShapeError> {
    if !node.is_map() {
        return Err(shape(line, format!("job `{id}` is not a mapping")));
    }
    let steps = match node.get("steps") {
        None => Vec::new(),
        Some(s) if matches!(s.value, Value::Seq(_)) => s
            .items()
            .iter()
            .enumerate()
            .map(|(i, n)| step(i, n))
            .collect::<Result<_, _>>()?,
        Some(s) => {
            return Err(shape(
                s.line,
                format!("`steps` of job `{id}` is not a list"),
            ));
        }
    };
    let environment = node.get("environment").and_then(|e| match &e.value {
        Value::Map(_) => text(e.get("name")),
        _ => e.scalar().filter(|s| !s.is_empty()),
    });
    let secrets = node.get("secrets");
    Ok(Job {
        id: id.to_string(),
        line,
        name: text(node.get("name")),
        if_cond: text(node.get("if")),
        needs: match node.get("needs") {
            Some(n) if matches!(n.value, Value::Seq(_)) => {
                n.items().iter().filter_map(Node::scalar).collect()
            }
            Some(n) => n.scalar().into_iter().collect(),
            None => Vec::new(),
        },
        permissions: permissions(node.get("permissions")),
        environment,
        env: pairs(node.get("env"), "env")?,
        uses: node.get("uses").and_then(|u| Some((u.scalar()?, u.line))),
        secrets_inherit: secrets.and_then(Node::as_str) == Some("inherit"),
        secrets: match secrets {
            Some(s) if s.is_map() => pairs(Some(s), "secrets")?,
            _ => Vec::new(),
        },
        steps,
    })
}

impl Job {
    /// Can this job run for `event`? `false` only when its `if:` is a plain conjunction (no
    /// `||`, no `!` before a parenthesis) that pins `github.event_name` to another event or
    /// excludes this one. `github.event_name` is set by GitHub, not by the event's author, so
    /// this guard cannot be talked around; every other condition is not evaluated.
    pub fn may_run_on(&self, event: &str) -> bool {
        let Some(cond) = &self.if_cond else {
            return true;
        };
        let c: String = cond
            .replace("${{", "")
            .replace("}}", "")
            .chars()
            .filter(|c| !c.is_whitespace())
            .collect::<String>()
            .replace('"', "'");
        if c.contains("||") || c.contains("!(") {
            return true;
        }
        let mut rest = c.as_str();
        while let Some(i) = rest.find("github.event_name") {
            rest = &rest[i + "github.event_name".len()..];
            let (neg, after) = if let Some(a) = rest.strip_prefix("==") {
                (false, a)
            } else if let Some(a) = rest.strip_prefix("!=") {
                (true, a)
            } else {
                continue;
            };
            let Some(value) = after.strip_prefix('\'').and_then(|a| a.split('\'').next()) else {
                continue;
            };
            if (!neg && value != event) || (neg && value == event) {
                return false;
            }
        }
        true
    }
}

impl Workflow {
    /// Read a workflow from its parsed document.
    pub fn from_tree(path: &str, root: &Node) -> Result<Workflow, ShapeError> {
        if !root.is_map() {
            return Err(shape(root.line, "the workflow is not a mapping"));
        }
        let jobs = match root.get("jobs") {
            Some(j) if j.is_map() => j
                .entries()
                .iter()
                .map(|e| job(&e.key, e.line, &e.node))
                .collect::<Result<_, _>>()?,
            Some(j) => return Err(shape(j.line, "`jobs` is not a mapping")),
            None => Vec::new(),
        };
        Ok(Workflow {
            path: path.to_string(),
            name: text(root.get("name")),
            triggers: triggers(root.get("on")),
            permissions: permissions(root.get("permissions")),
            env: pairs(root.get("env"), "env")?,
            jobs,
        })
    }

    pub fn trigger(&self, event: &str) -> Option<&Trigger> {
        self.triggers.iter().find(|t| t.event == event)
    }

    /// A trigger an attacker can fire with the base repository's secrets, the most dangerous
    /// first (in [`UNTRUSTED_TRIGGERS`] order).
    pub fn untrusted_trigger(&self) -> Option<&Trigger> {
        UNTRUSTED_TRIGGERS
            .iter()
            .find_map(|u| self.triggers.iter().find(|t| t.event == *u))
    }

    /// An untrusted trigger that can start `job` (its `if:` may rule some events out).
    pub fn untrusted_trigger_of(&self, job: &Job) -> Option<&Trigger> {
        UNTRUSTED_TRIGGERS.iter().find_map(|u| {
            self.triggers
                .iter()
                .find(|t| t.event == *u && job.may_run_on(u))
        })
    }

    /// The permissions a job runs with: its own, else the workflow's.
    pub fn job_permissions<'a>(&'a self, job: &'a Job) -> Option<&'a Permissions> {
        job.permissions
            .as_ref()
            .or(self.permissions.as_ref())
            .map(|(p, _)| p)
    }

    /// The env a step sees, outermost first: workflow, job, step.
    pub fn env_of<'a>(&'a self, job: &'a Job, step: &'a Step) -> impl Iterator<Item = &'a Pair> {
        self.env.iter().chain(&job.env).chain(&step.env)
    }

    /// Line of the trigger list (`on:`), for findings about the workflow as a whole.
    pub fn head_line(&self) -> u32 {
        self.triggers.first().map(|t| t.line).unwrap_or(1)
    }
}

/// Events anyone can cause (a fork's PR, a comment, a finished fork run) that nevertheless
/// run in the base repository's context, with its secrets and a writable token.
pub const UNTRUSTED_TRIGGERS: &[&str] = &[
    "pull_request_target",
    "workflow_run",
    "issue_comment",
    "issues",
    "discussion",
    "discussion_comment",
];

/// A composite action kept in the repository (`.github/actions/NAME/action.yml`), used as
/// `uses: ./.github/actions/NAME`: its steps run inside the calling job.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LocalAction {
    /// File path relative to the repository root.
    pub path: String,
    /// How a workflow refers to it: `./.github/actions/NAME`.
    pub uses: String,
    pub steps: Vec<Step>,
}

impl LocalAction {
    /// Read a composite action; other kinds (JavaScript, Docker) have no steps to judge.
    pub fn from_tree(path: &str, uses: &str, root: &Node) -> Result<LocalAction, ShapeError> {
        let steps = match root.get("runs").and_then(|r| r.get("steps")) {
            Some(s) if matches!(s.value, Value::Seq(_)) => s
                .items()
                .iter()
                .enumerate()
                .map(|(i, n)| step(i, n))
                .collect::<Result<_, _>>()?,
            Some(s) => return Err(shape(s.line, "`runs.steps` is not a list")),
            None => Vec::new(),
        };
        Ok(LocalAction {
            path: path.to_string(),
            uses: uses.to_string(),
            steps,
        })
    }
}

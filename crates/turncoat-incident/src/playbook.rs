//! The Markdown incident document, rendered from a template teams keep in version control
//! (`turncoat incident init-template` writes [`DEFAULT_TEMPLATE`]). minijinja (Jinja2
//! syntax) renders it; the context is the incident, its scope and its checklist.
//! Rendering is bounded: minijinja's fuel limit stops a template that loops forever.

use serde::Serialize;
use turncoat_store::Incident;

use crate::Error;
use crate::scope::{RotationItem, Scope};

pub const DEFAULT_TEMPLATE: &str = include_str!("../templates/playbook.md.j2");

/// The incident as the template sees it (times as RFC 3339).
#[derive(Debug, Clone, Serialize)]
pub struct IncidentView {
    pub id: String,
    pub packages: Vec<String>,
    pub first_name: String,
    pub advisories: Vec<String>,
    pub opened_at: String,
    pub closed_at: Option<String>,
    pub reason: Option<String>,
    pub since: Option<String>,
}

#[derive(Serialize)]
struct ChecklistView {
    item: String,
    checked_at: Option<String>,
}

#[derive(Serialize)]
struct RotationView<'a> {
    #[serde(flatten)]
    item: &'a RotationItem,
    checked: bool,
}

#[derive(Serialize)]
struct ScopeView<'a> {
    repos: &'a [crate::scope::RepoScope],
    executions: &'a [crate::scope::Execution],
    rotation: Vec<RotationView<'a>>,
}

pub fn rfc3339(t: i64) -> String {
    time::OffsetDateTime::from_unix_timestamp(t)
        .ok()
        .and_then(|t| {
            t.format(&time::format_description::well_known::Rfc3339)
                .ok()
        })
        .unwrap_or_else(|| t.to_string())
}

impl IncidentView {
    pub fn new(inc: &Incident, advisories: Vec<String>, since: Option<i64>) -> IncidentView {
        IncidentView {
            id: inc.id.clone(),
            first_name: inc
                .spec
                .first()
                .map(|s| match crate::spec::PackageSpec::parse(s) {
                    Ok(crate::spec::PackageSpec::Range { name, .. }) => name,
                    _ => s.clone(),
                })
                .unwrap_or_default(),
            packages: inc.spec.clone(),
            advisories,
            opened_at: rfc3339(inc.opened_at),
            closed_at: inc.closed_at.map(rfc3339),
            reason: inc.reason.clone(),
            since: since.map(rfc3339),
        }
    }
}

/// Render `template` (None: the default) for an incident.
pub fn render(
    template: Option<&str>,
    incident: &Incident,
    view: &IncidentView,
    scope: &Scope,
    store: &str,
    now: i64,
) -> Result<String, Error> {
    let mut env = minijinja::Environment::new();
    env.set_fuel(Some(5_000_000));
    env.set_keep_trailing_newline(true);
    env.add_template("playbook", template.unwrap_or(DEFAULT_TEMPLATE))
        .map_err(|e| Error::Template(e.to_string()))?;
    let checked = |key: &str| {
        incident
            .items
            .iter()
            .any(|i| i.item == key && i.checked_at.is_some())
    };
    let rotation = scope
        .rotation
        .iter()
        .map(|r| RotationView {
            checked: checked(&r.checklist_key()),
            item: r,
        })
        .collect();
    // Checklist items from an earlier render whose exposure is no longer in scope (the repo
    // was fixed): the credential was still exposed and stays on the list.
    let current: Vec<String> = scope.rotation.iter().map(|r| r.checklist_key()).collect();
    let refs: std::collections::BTreeSet<(&str, &str)> = scope
        .repos
        .iter()
        .map(|r| (r.repo.as_str(), r.ref_name.as_str()))
        .collect();
    let repos: std::collections::BTreeSet<&str> =
        scope.repos.iter().map(|r| r.repo.as_str()).collect();
    let ctx = minijinja::context! {
        incident => view,
        scope => ScopeView { repos: &scope.repos, executions: &scope.executions, rotation },
        summary => minijinja::context! {
            hits => scope.hit_count(),
            repos => repos.len(),
            refs => refs.len(),
        },
        earlier => incident
            .items
            .iter()
            .filter(|i| !current.contains(&i.item))
            .map(|i| ChecklistView {
                item: i.item.clone(),
                checked_at: i.checked_at.map(rfc3339),
            })
            .collect::<Vec<_>>(),
        checklist => incident.items.iter().map(|i| ChecklistView {
            item: i.item.clone(),
            checked_at: i.checked_at.map(rfc3339),
        }).collect::<Vec<_>>(),
        store => store,
        rendered_at => rfc3339(now),
    };
    env.get_template("playbook")
        .and_then(|t| t.render(ctx))
        .map_err(|e| Error::Template(e.to_string()))
}

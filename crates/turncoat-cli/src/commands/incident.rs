//! `turncoat incident open|status|check|close|init-template`: scope, executions, rotation
//! checklist and playbook of a malicious-version incident, from the index.

use std::path::{Path, PathBuf};

use anyhow::Context as _;
use clap::{Args, Subcommand};
use turncoat_incident::PackageSpec;
use turncoat_incident::playbook::{self, IncidentView};
use turncoat_incident::scope::{self, Scope};
use turncoat_metrics::Sample;
use turncoat_store::{Incident, Store};

use super::index::{DatabaseArgs, Format};
use crate::Outcome;
use crate::settings::Context;

/// Where a team keeps its edited template.
const TEMPLATE_PATH: &str = ".turncoat/incident-template.md.j2";

#[derive(Debug, Subcommand)]
pub enum IncidentCommand {
    /// Open an incident for malicious versions: scope, executions, rotation list, playbook.
    Open(Box<OpenArgs>),
    /// Re-render an incident's playbook from the current index (no ID: list incidents).
    Status(StatusArgs),
    /// Check off a checklist item (by number or text).
    Check(CheckArgs),
    /// Close an incident; refused while an indexed repository still locks an affected version.
    Close(CloseArgs),
    /// Write the default playbook template for the team to edit.
    InitTemplate(InitTemplateArgs),
}

#[derive(Debug, Args)]
pub struct OpenArgs {
    /// Affected packages: `name@version`, `name@range` or an integrity.
    pub packages: Vec<String>,
    /// An OSV advisory file (MAL-… entries) naming the affected npm packages.
    #[arg(long, value_name = "FILE")]
    pub osv: Option<PathBuf>,
    /// When the versions became available or were first installed (RFC 3339), for the timeline.
    #[arg(long, value_name = "TIME")]
    pub since: Option<String>,
    /// Where to write the playbook (default: .turncoat/incidents/ID.md).
    #[arg(long, short, value_name = "FILE")]
    pub output: Option<PathBuf>,
    /// Playbook template (default: .turncoat/incident-template.md.j2 if present, else built-in).
    #[arg(long, value_name = "FILE")]
    pub template: Option<PathBuf>,
    /// Incident id (default: INC-YYYYMMDD-HHMMSS).
    #[arg(long)]
    pub id: Option<String>,
    #[command(flatten)]
    pub db: DatabaseArgs,
    #[arg(long, value_enum, default_value_t = Format::Human)]
    pub format: Format,
}

#[derive(Debug, Args)]
pub struct StatusArgs {
    pub id: Option<String>,
    #[arg(long, value_name = "FILE")]
    pub template: Option<PathBuf>,
    #[command(flatten)]
    pub db: DatabaseArgs,
    #[arg(long, value_enum, default_value_t = Format::Human)]
    pub format: Format,
}

#[derive(Debug, Args)]
pub struct CheckArgs {
    pub id: String,
    /// The item's number (as `incident status` lists them) or its text.
    pub item: String,
    #[command(flatten)]
    pub db: DatabaseArgs,
}

#[derive(Debug, Args)]
pub struct CloseArgs {
    pub id: String,
    /// Close even though indexed repositories still lock an affected version.
    #[arg(long, requires = "reason")]
    pub force: bool,
    /// Why (required with --force).
    #[arg(long)]
    pub reason: Option<String>,
    #[command(flatten)]
    pub db: DatabaseArgs,
}

#[derive(Debug, Args)]
pub struct InitTemplateArgs {
    /// Where to write it.
    #[arg(default_value = TEMPLATE_PATH)]
    pub path: PathBuf,
    /// Overwrite an existing file.
    #[arg(long)]
    pub force: bool,
}

pub fn run(cmd: IncidentCommand, ctx: &Context) -> anyhow::Result<Outcome> {
    match cmd {
        IncidentCommand::Open(a) => open(*a, ctx),
        IncidentCommand::Status(a) => status(a, ctx),
        IncidentCommand::Check(a) => check(a, ctx),
        IncidentCommand::Close(a) => close(a, ctx),
        IncidentCommand::InitTemplate(a) => init_template(a),
    }
}

fn parse_time(s: &str) -> anyhow::Result<i64> {
    time::OffsetDateTime::parse(s, &time::format_description::well_known::Rfc3339)
        .map(|t| t.unix_timestamp())
        .with_context(|| format!("--since {s}: not an RFC 3339 time (2025-09-15T10:00:00Z)"))
}

fn default_id(now: i64) -> String {
    let t =
        time::OffsetDateTime::from_unix_timestamp(now).unwrap_or(time::OffsetDateTime::UNIX_EPOCH);
    format!(
        "INC-{:04}{:02}{:02}-{:02}{:02}{:02}",
        t.year(),
        u8::from(t.month()),
        t.day(),
        t.hour(),
        t.minute(),
        t.second()
    )
}

fn open(args: OpenArgs, ctx: &Context) -> anyhow::Result<Outcome> {
    let now = ctx.now_unix();
    let mut specs_text = args.packages.clone();
    let mut advisories = Vec::new();
    if let Some(osv) = &args.osv {
        let text = std::fs::read_to_string(osv)
            .with_context(|| format!("cannot read {}", osv.display()))?;
        let (ids, specs) =
            turncoat_incident::osv::specs(&text).with_context(|| format!("{}", osv.display()))?;
        advisories = ids;
        specs_text.extend(specs);
    }
    if specs_text.is_empty() {
        anyhow::bail!("name the affected packages (name@version ...) or give --osv FILE");
    }
    let specs = specs_text
        .iter()
        .map(|s| PackageSpec::parse(s))
        .collect::<Result<Vec<_>, _>>()?;
    let labels: Vec<String> = specs.iter().map(PackageSpec::label).collect();
    let since = args.since.as_deref().map(parse_time).transpose()?;
    let id = args.id.clone().unwrap_or_else(|| default_id(now));
    if id.is_empty()
        || !id
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_')
    {
        anyhow::bail!("incident id `{id}`: use letters, digits, `-` and `_`");
    }
    let output = args
        .output
        .clone()
        .unwrap_or_else(|| PathBuf::from(format!(".turncoat/incidents/{id}.md")));
    let mut meta = serde_json::Map::new();
    meta.insert("advisories".into(), advisories.clone().into());
    if let Some(s) = since {
        meta.insert("since".into(), s.into());
    }
    meta.insert("output".into(), output.display().to_string().into());
    if let Some(t) = &args.template {
        meta.insert("template".into(), t.display().to_string().into());
    }
    let mut store = args.db.open(ctx)?;
    store.open_incident(&id, &labels, &meta, now)?;
    let sample = Sample::new("time-to-remediate", 0.0, at(now), id.clone())?
        .with("event", "open")
        .with("packages", labels.clone());
    store.record(&[sample])?;
    let inc = store
        .incident(&id)?
        .context("the incident just opened is not in the store")?;
    render_and_write(&mut store, inc, args.template.as_deref(), args.format, ctx)
}

fn at(t: i64) -> time::OffsetDateTime {
    time::OffsetDateTime::from_unix_timestamp(t).unwrap_or(time::OffsetDateTime::UNIX_EPOCH)
}

/// Scope from the index, checklist items added, playbook written, summary printed.
fn render_and_write(
    store: &mut Store,
    inc: Incident,
    template: Option<&Path>,
    format: Format,
    ctx: &Context,
) -> anyhow::Result<Outcome> {
    let specs = inc
        .spec
        .iter()
        .map(|s| PackageSpec::parse(s))
        .collect::<Result<Vec<_>, _>>()?;
    let hits = scope::hits(store, &specs)?;
    let scope = scope::build(inc.spec.clone(), hits, &mut scope::load_files);
    let items: Vec<String> = scope.rotation.iter().map(|r| r.checklist_key()).collect();
    store.add_items(&inc.id, &items)?;
    let inc = store.incident(&inc.id)?.context("incident vanished")?;
    let meta_str = |k: &str| inc.meta.get(k).and_then(|v| v.as_str()).map(str::to_string);
    let template_path = template
        .map(Path::to_path_buf)
        .or_else(|| meta_str("template").map(PathBuf::from))
        .or_else(|| Some(PathBuf::from(TEMPLATE_PATH)).filter(|p| p.is_file()));
    let template_text = match &template_path {
        Some(p) => Some(
            std::fs::read_to_string(p)
                .with_context(|| format!("cannot read the template {}", p.display()))?,
        ),
        None => None,
    };
    let advisories = inc
        .meta
        .get("advisories")
        .and_then(|v| v.as_array())
        .map(|a| {
            a.iter()
                .filter_map(|v| v.as_str().map(str::to_string))
                .collect()
        })
        .unwrap_or_default();
    let since = inc.meta.get("since").and_then(|v| v.as_i64());
    let view = IncidentView::new(&inc, advisories, since);
    let doc = playbook::render(
        template_text.as_deref(),
        &inc,
        &view,
        &scope,
        &store.location().display(),
        ctx.now_unix(),
    )?;
    let output = PathBuf::from(
        meta_str("output").unwrap_or_else(|| format!(".turncoat/incidents/{}.md", inc.id)),
    );
    if let Some(dir) = output.parent().filter(|d| !d.as_os_str().is_empty()) {
        std::fs::create_dir_all(dir).with_context(|| format!("cannot create {}", dir.display()))?;
    }
    std::fs::write(&output, &doc).with_context(|| format!("cannot write {}", output.display()))?;
    let text = match format {
        Format::Json => {
            serde_json::to_string_pretty(&serde_json::json!({
                "incident": inc,
                "playbook": output.display().to_string(),
                "scope": scope,
            }))? + "\n"
        }
        Format::Human => summary(&inc, &scope, &output),
    };
    crate::output::emit(&text, None)?;
    Ok(Outcome::Pass)
}

fn summary(inc: &Incident, scope: &Scope, output: &Path) -> String {
    let mut s = format!(
        "incident {} ({}): {}\n",
        inc.id,
        if inc.closed_at.is_some() {
            "closed"
        } else {
            "open"
        },
        inc.spec.join(", ")
    );
    s.push_str(&format!(
        "scope: {} lockfile entr{} in {} repository ref(s)\n",
        scope.hit_count(),
        if scope.hit_count() == 1 { "y" } else { "ies" },
        scope.repos.len()
    ));
    for r in &scope.repos {
        for h in &r.hits {
            s.push_str(&format!(
                "  {} {} {}:{} {}@{}  {}\n",
                r.repo, r.ref_name, h.lockfile, h.line, h.name, h.version, h.dep_path
            ));
        }
    }
    let ran = scope.executions.iter().filter(|e| e.executed()).count();
    s.push_str(&format!(
        "executions: {ran} job×package where the install script ran or may have, {} with scripts off or none\n",
        scope.executions.len() - ran
    ));
    for e in &scope.executions {
        s.push_str(&format!(
            "  {} {} {}:{} {} {} ({})\n",
            e.repo, e.ref_name, e.workflow, e.job, e.package, e.status, e.why
        ));
    }
    s.push_str("checklist:\n");
    for (n, i) in inc.items.iter().enumerate() {
        s.push_str(&format!(
            "  {:>2}. [{}] {}\n",
            n + 1,
            if i.checked_at.is_some() { "x" } else { " " },
            i.item
        ));
    }
    s.push_str(&format!("playbook: {}\n", output.display()));
    s
}

fn status(args: StatusArgs, ctx: &Context) -> anyhow::Result<Outcome> {
    let mut store = args.db.open(ctx)?;
    let Some(id) = args.id else {
        let all = store.incidents()?;
        let text = match args.format {
            Format::Json => serde_json::to_string_pretty(&all)? + "\n",
            Format::Human if all.is_empty() => "no incidents\n".to_string(),
            Format::Human => all
                .iter()
                .map(|i| {
                    format!(
                        "{} {} opened {} {}\n",
                        i.id,
                        if i.closed_at.is_some() {
                            "closed"
                        } else {
                            "open  "
                        },
                        playbook::rfc3339(i.opened_at),
                        i.spec.join(", ")
                    )
                })
                .collect(),
        };
        crate::output::emit(&text, None)?;
        return Ok(Outcome::Pass);
    };
    let inc = store
        .incident(&id)?
        .with_context(|| format!("no incident {id} in {}", store.location().display()))?;
    render_and_write(&mut store, inc, args.template.as_deref(), args.format, ctx)
}

fn check(args: CheckArgs, ctx: &Context) -> anyhow::Result<Outcome> {
    let now = ctx.now_unix();
    let mut store = args.db.open(ctx)?;
    let inc = store
        .incident(&args.id)?
        .with_context(|| format!("no incident {}", args.id))?;
    let item = match args.item.parse::<usize>() {
        Ok(n) if n >= 1 && n <= inc.items.len() => inc.items[n - 1].item.clone(),
        Ok(n) => anyhow::bail!(
            "{}: no checklist item {n} (1..={})",
            inc.id,
            inc.items.len()
        ),
        Err(_) => args.item.clone(),
    };
    if !store.check_item(&inc.id, &item, now)? {
        anyhow::bail!("{}: no checklist item `{item}`", inc.id);
    }
    let sample = Sample::new(
        "time-to-remediate",
        (now - inc.opened_at).max(0) as f64,
        at(now),
        inc.id.clone(),
    )?
    .with("event", "check")
    .with("item", item.clone());
    store.record(&[sample])?;
    crate::output::emit(&format!("{}: checked `{item}`\n", inc.id), None)?;
    Ok(Outcome::Pass)
}

fn close(args: CloseArgs, ctx: &Context) -> anyhow::Result<Outcome> {
    let now = ctx.now_unix();
    let mut store = args.db.open(ctx)?;
    let inc = store
        .incident(&args.id)?
        .with_context(|| format!("no incident {}", args.id))?;
    if inc.closed_at.is_some() {
        anyhow::bail!("incident {} is already closed", inc.id);
    }
    let specs = inc
        .spec
        .iter()
        .map(|s| PackageSpec::parse(s))
        .collect::<Result<Vec<_>, _>>()?;
    let hits = scope::hits(&mut store, &specs)?;
    if !hits.is_empty() && !args.force {
        let mut msg = format!(
            "refusing to close {}: {} indexed lockfile entr{} still lock an affected version \
             (fix and re-run `turncoat index add`, or --force --reason):\n",
            inc.id,
            hits.len(),
            if hits.len() == 1 { "y" } else { "ies" }
        );
        for h in &hits {
            msg.push_str(&format!(
                "  {} {} {}:{} {}@{}\n",
                h.repo, h.ref_name, h.lockfile, h.line, h.name, h.version
            ));
        }
        crate::output::emit(&msg, None)?;
        return Ok(Outcome::Violation);
    }
    let forced = !hits.is_empty();
    let reason = args.reason.as_deref();
    if !store.close_incident(&inc.id, now, reason, forced)? {
        anyhow::bail!("incident {} is already closed", inc.id);
    }
    let ttr = (now - inc.opened_at).max(0);
    let sample = Sample::new("time-to-remediate", ttr as f64, at(now), inc.id.clone())?
        .with("event", "close")
        .with("forced", forced)
        .with("packages", inc.spec.clone());
    store.record(&[sample])?;
    crate::output::emit(
        &format!(
            "closed {} after {}h{:02}m{}\n",
            inc.id,
            ttr / 3600,
            (ttr % 3600) / 60,
            if forced { " (forced)" } else { "" }
        ),
        None,
    )?;
    Ok(Outcome::Pass)
}

fn init_template(args: InitTemplateArgs) -> anyhow::Result<Outcome> {
    if args.path.exists() && !args.force {
        anyhow::bail!("{} exists (use --force to overwrite)", args.path.display());
    }
    if let Some(dir) = args.path.parent().filter(|d| !d.as_os_str().is_empty()) {
        std::fs::create_dir_all(dir).with_context(|| format!("cannot create {}", dir.display()))?;
    }
    std::fs::write(&args.path, playbook::DEFAULT_TEMPLATE)
        .with_context(|| format!("cannot write {}", args.path.display()))?;
    crate::output::emit(&format!("wrote {}\n", args.path.display()), None)?;
    Ok(Outcome::Pass)
}

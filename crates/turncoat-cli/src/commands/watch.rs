//! `turncoat watch -- <cmd>`: run an install (or any build step) in the recording, blocking
//! sandbox; print what it did; compare with a baseline.

use std::path::PathBuf;

use anyhow::Context as _;
use clap::Args;
use turncoat_sandbox::baseline::Baseline;
use turncoat_sandbox::event::{Event, EventKind, Verdict};
use turncoat_sandbox::output::{Guarded, OutputFile};
use turncoat_sandbox::{Mode, WatchOptions};

use crate::Outcome;
use crate::settings::Context;

#[derive(Debug, Args)]
pub struct WatchArgs {
    /// Also fail, at the syscall, sensitive reads, persistence writes and connections out, and
    /// exit 1 when anything was stopped.
    #[arg(long, conflicts_with = "audit")]
    pub block: bool,
    /// Record only (the default): the namespaces still keep unlisted hosts unreachable.
    #[arg(long)]
    pub audit: bool,
    /// A host the sandbox may resolve and reach through its proxy (`host`, `host:port`,
    /// `*.example.com`, `127.0.0.1:4873`, or a URL). The configured npm registries are always
    /// allowed; for pip, uv, poetry, … also the Python indexes configured outside the project.
    #[arg(long = "allow-host", value_name = "HOST")]
    pub allow_host: Vec<String>,
    /// A directory the command may also write (default: the project, temp and package caches).
    #[arg(long = "allow-write", value_name = "PATH")]
    pub allow_write: Vec<PathBuf>,
    /// A secret path to show unmasked, e.g. ~/.npmrc when a private registry needs its token.
    #[arg(long = "allow-read", value_name = "PATH")]
    pub allow_read: Vec<PathBuf>,
    /// An environment variable to pass through (everything else outside a small allowlist is dropped).
    #[arg(long = "pass-env", value_name = "NAME")]
    pub pass_env: Vec<String>,
    /// Environment set for the command (not a flag: `turncoat install` sets its managers'
    /// scripts-off settings here).
    #[arg(skip)]
    pub set_env: Vec<(String, String)>,
    /// Directories inside the writable ones shown read-only (not a flag: `turncoat install`
    /// shows an approved package the packages nested in its directory this way).
    #[arg(skip)]
    pub read_only: Vec<PathBuf>,
    /// Baseline file: written from this run when missing; otherwise anything new fails the run.
    #[arg(long, value_name = "FILE")]
    pub baseline: Option<PathBuf>,
    /// Write every event as JSON Lines to this file.
    #[arg(long, value_name = "FILE")]
    pub events: Option<PathBuf>,
    /// Project directory the command runs in (default: the current directory).
    #[arg(long, value_name = "DIR")]
    pub cwd: Option<PathBuf>,
    /// `full` needs user namespaces and refuses to run without them; `degraded` runs without
    /// namespaces where they are unavailable: recorded, writes and TCP fenced by Landlock, but
    /// DNS, UDP and secret reads NOT enforced (the summary says so).
    #[arg(long, value_enum, default_value_t = Tier::Full)]
    pub tier: Tier,
    /// Kill the sandbox after this many seconds.
    #[arg(long, value_name = "SECONDS")]
    pub timeout: Option<u64>,
    /// Memory of the whole sandboxed tree (`512M`, `4G`; `0` or `none`: no limit). Default:
    /// half the machine's memory, between 1 and 8 GiB. Enforced by a cgroup where one can be made.
    #[arg(long = "memory-max", value_name = "SIZE", value_parser = parse_size)]
    pub memory_max: Option<Limit>,
    /// Processes and threads of the whole sandboxed tree (`0` or `none`: no limit). Default 4096.
    #[arg(long = "pids-max", value_name = "N", value_parser = parse_count)]
    pub pids_max: Option<Limit>,
    /// `--record`: this run's `egress-blocked-builds` and (with a baseline) its
    /// `new-unapproved-domains` go to the metrics store.
    #[command(flatten)]
    pub record: super::metrics::RecordArgs,
    /// Set by `turncoat install`, whose sandboxes run in package directories: no metrics,
    /// and no `turncoat.toml` read from there.
    #[arg(skip)]
    pub never_record: bool,
    /// The command and its arguments.
    #[arg(last = true, required = true, value_name = "CMD")]
    pub command: Vec<String>,
}

/// A limit given on the command line; `None` inside: explicitly unlimited.
#[derive(Debug, Clone, Copy)]
pub struct Limit(Option<u64>);

fn parse_size(s: &str) -> Result<Limit, String> {
    turncoat_sandbox::cgroup::parse_size(s).map(Limit)
}

fn parse_count(s: &str) -> Result<Limit, String> {
    turncoat_sandbox::cgroup::parse_count(s).map(Limit)
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Tier {
    Full,
    Degraded,
}

pub fn run(args: WatchArgs, ctx: &Context) -> anyhow::Result<Outcome> {
    let cwd = match &args.cwd {
        Some(d) => d.clone(),
        None => std::env::current_dir().context("cannot read the current directory")?,
    };
    // `[metrics] record` is read before the run: the watched command may write the project.
    let record_policy = if args.record.record || args.never_record {
        false
    } else {
        super::load_policy(None, &cwd)?.record_metrics
    };
    let scope = turncoat_incident::index::repo_key(&cwd);
    let (mut hosts, mut refused_registries) = configured_registries();
    if turncoat_pypi::egress::is_python_command(&args.command) {
        let (py, notes) = python_indexes(&cwd, &args.command)?;
        hosts.extend(py);
        refused_registries.extend(notes);
    }
    hosts.extend(args.allow_host.iter().cloned());
    let home = std::env::var_os("HOME")
        .map(PathBuf::from)
        .unwrap_or_default();
    let expand = |p: &PathBuf| -> PathBuf {
        match p.strip_prefix("~") {
            Ok(rest) => home.join(rest),
            Err(_) => p.clone(),
        }
    };
    // Files the command could reach: pinned (and the baseline's bytes kept) before the run,
    // written or put back after it, never through a link it planted.
    let events_out = match &args.events {
        Some(path) => Some(OutputFile::prepare(path)?),
        None => None,
    };
    let guarded = match &args.baseline {
        Some(path) => Some(Guarded::read(path)?),
        None => None,
    };
    let baseline = match guarded.as_ref().and_then(Guarded::contents) {
        Some(bytes) => {
            let path = guarded
                .as_ref()
                .map(|g| g.output().path().display().to_string());
            let text = std::str::from_utf8(bytes)
                .with_context(|| format!("{} is not UTF-8", path.clone().unwrap_or_default()))?;
            Some(
                Baseline::parse(text)
                    .with_context(|| format!("in {}", path.unwrap_or_default()))?,
            )
        }
        None => None,
    };
    let mut opts = WatchOptions::new(args.command.clone(), cwd);
    opts.mode = if args.block { Mode::Block } else { Mode::Audit };
    opts.allow_hosts = hosts;
    opts.allow_write = args.allow_write.iter().map(expand).collect();
    opts.unmask = args.allow_read.iter().map(expand).collect();
    opts.pass_env = args.pass_env.clone();
    opts.set_env = args.set_env.clone();
    opts.read_only = args.read_only.clone();
    opts.timeout = args.timeout.map(std::time::Duration::from_secs);
    opts.degraded = args.tier == Tier::Degraded;
    if let Some(Limit(m)) = args.memory_max {
        opts.limits.memory_max = m;
    }
    if let Some(Limit(n)) = args.pids_max {
        opts.limits.pids_max = n;
    }
    let mut outcome = turncoat_sandbox::watch(opts)?;
    outcome.warnings.extend(refused_registries);

    // Every sandboxed process is gone now: nothing can race these writes.
    let mut tampered = Vec::new();
    if let Some(g) = &guarded
        && let Some(why) = g.restore()?
    {
        tampered.push(why);
    }
    if let Some(out) = &events_out {
        out.write(&turncoat_sandbox::event::json_lines(&outcome.events))?;
    }
    let run_baseline = Baseline::from_events(&outcome.events, &outcome.home, &outcome.project);
    let mut novelties = Vec::new();
    match (&guarded, &baseline) {
        (Some(_), Some(b)) => novelties = b.novelties(&run_baseline),
        (Some(g), None) => g.output().write(run_baseline.to_json().as_bytes())?,
        _ => {}
    }
    outcome.warnings.extend(tampered.iter().cloned());
    let written = args.baseline.is_some() && baseline.is_none();
    summary(ctx, &args, &outcome, &novelties, written);
    let at = time::OffsetDateTime::from_unix_timestamp(ctx.now_unix())
        .unwrap_or_else(|_| time::OffsetDateTime::now_utc());
    let samples = samples(
        &outcome,
        baseline.as_ref().map(|_| novelties.as_slice()),
        at,
        &scope,
    );
    if !args.never_record {
        super::metrics::record(ctx, &args.record, record_policy, &samples)?;
    }
    if outcome.blocked || !novelties.is_empty() || !tampered.is_empty() {
        return Ok(Outcome::Violation);
    }
    if outcome.exit_code == 0 {
        Ok(Outcome::Pass)
    } else {
        Ok(Outcome::Code(outcome.exit_code.clamp(1, 255) as u8))
    }
}

/// The registries the user's own `.npmrc` names (default, scoped): the sandbox may always
/// reach them. Never the project's `.npmrc`: an earlier run's command could have written it
/// (a "registry" on the host's loopback would widen the next run's egress). A registry on a
/// loopback, private or link-local address is left out, with a note: such an address passes
/// the proxy only when named with `--allow-host` on the command line.
fn configured_registries() -> (Vec<String>, Vec<String>) {
    let env = |k: &str| std::env::var(k).ok();
    let user = env("NPM_CONFIG_USERCONFIG")
        .or_else(|| env("npm_config_userconfig"))
        .filter(|s| !s.is_empty())
        .map(PathBuf::from)
        .or_else(|| env("HOME").map(|h| std::path::Path::new(&h).join(".npmrc")));
    let text = user
        .as_ref()
        .and_then(|p| std::fs::read_to_string(p).ok().map(|t| (p.clone(), t)));
    let files: Vec<(&std::path::Path, &str)> = text
        .iter()
        .map(|(p, t)| (p.as_path(), t.as_str()))
        .collect();
    let cfg = match turncoat_registry::RegistryConfig::from_npmrc(&files, None, &env) {
        Ok(cfg) => cfg,
        Err(_) => return (vec!["https://registry.npmjs.org/".to_string()], Vec::new()),
    };
    let mut allowed = Vec::new();
    let mut notes = Vec::new();
    for u in std::iter::once(cfg.registry()).chain(cfg.scope_registries().values()) {
        let internal = u
            .host_str()
            .and_then(|h| internal_address(h, u.port_or_known_default()?));
        match internal {
            Some(addr) => notes.push(format!(
                "the npm configuration names a registry on an internal address ({u}); the \
                 sandbox's proxy refuses it unless you pass --allow-host {addr}"
            )),
            None => allowed.push(u.to_string()),
        }
    }
    (allowed, notes)
}

/// The Python index hosts (and PyPI's file host) configured outside the project, for a
/// command that runs pip, uv, poetry, …: the command line, the caller's environment, the
/// user's and system's `pip.conf`/`uv.toml` (never a file in the project, which an earlier
/// run could have written). An index on an internal address is opened only when the command
/// line names it (as literal as `--allow-host`); from the environment or a file it is left
/// out with a note.
fn python_indexes(
    project: &std::path::Path,
    command: &[String],
) -> anyhow::Result<(Vec<String>, Vec<String>)> {
    let cfg = turncoat_pypi::egress::load_outside(project, command)
        .context("reading the Python index configuration")?;
    let mut allowed = Vec::new();
    let mut notes = Vec::new();
    for h in turncoat_pypi::egress::hosts(&cfg, command) {
        let internal = h.ip_literal && {
            let (ip, port) = h.host_port.rsplit_once(':').unwrap_or((&h.host_port, "0"));
            internal_address(ip, port.parse().unwrap_or(0)).is_some()
        };
        if internal && !h.from_command {
            notes.push(format!(
                "the Python index configuration ({}) names an index on an internal address \
                 ({}); the sandbox's proxy refuses it unless the command line or --allow-host \
                 names it",
                h.source, h.host_port
            ));
        } else {
            allowed.push(h.host_port);
        }
    }
    Ok((allowed, notes))
}

/// `ip:port` of a URL whose host is a loopback, private, link-local or otherwise internal
/// IP literal (the proxy's rebinding guard refuses those unless named on the command line).
fn internal_address(host: &str, port: u16) -> Option<String> {
    let ip: std::net::IpAddr = host
        .trim_start_matches('[')
        .trim_end_matches(']')
        .parse()
        .ok()?;
    turncoat_sandbox::proxy::is_forbidden(ip)
        .then(|| std::net::SocketAddr::new(ip, port).to_string())
}

fn summary(
    ctx: &Context,
    args: &WatchArgs,
    o: &turncoat_sandbox::WatchOutcome,
    novelties: &[turncoat_sandbox::baseline::Novelty],
    baseline_written: bool,
) {
    let (bold, red, yellow, dim, reset) = if ctx.color_stderr {
        ("\x1b[1m", "\x1b[1;31m", "\x1b[33m", "\x1b[2m", "\x1b[0m")
    } else {
        ("", "", "", "", "")
    };
    let mode = if args.block { "block" } else { "audit" };
    let mut out = String::new();
    out.push_str(&format!(
        "\n{bold}turncoat watch{reset} ({mode}): `{}` exited {} after {:.1} s{}\n",
        args.command.join(" "),
        o.exit_code,
        o.duration.as_secs_f64(),
        if o.timed_out {
            " (timed out, killed)"
        } else {
            ""
        }
    ));
    out.push_str(&format!("{dim}  sandbox: {}{reset}\n", o.tier));
    let limits = limits_line(&o.limits);
    if o.limits.hit() {
        out.push_str(&format!("  {red}limit reached{reset}: {limits}\n"));
    } else {
        out.push_str(&format!("{dim}  limits: {limits}{reset}\n"));
    }
    for w in &o.warnings {
        out.push_str(&format!("{yellow}  warning:{reset} {w}\n"));
    }
    let count = |k: EventKind| o.events.iter().filter(|e| e.event == k).count();
    out.push_str(&format!(
        "  {} events: {} exec, {} dns, {} proxy, {} connect/send, {} sensitive reads, {} persistence writes, {} refused\n",
        o.events.len(),
        count(EventKind::Exec),
        count(EventKind::Dns),
        count(EventKind::Proxy),
        count(EventKind::Connect) + count(EventKind::Send),
        count(EventKind::SensitiveRead) + count(EventKind::CanaryRead),
        count(EventKind::PersistenceWrite),
        count(EventKind::Refused),
    ));
    // Every denial once per (kind, target); the resolver and the seccomp supervisor both see a
    // DNS query, and the copy that names the package is the one shown.
    let mut index: std::collections::HashMap<(EventKind, &str), usize> =
        std::collections::HashMap::new();
    let mut denied: Vec<&Event> = Vec::new();
    for e in o.events.iter().filter(|e| e.verdict == Verdict::Deny) {
        match index.get(&(e.event, e.target.as_str())) {
            Some(&i) if denied[i].package.is_none() && e.package.is_some() => denied[i] = e,
            Some(_) => {}
            None => {
                index.insert((e.event, e.target.as_str()), denied.len());
                denied.push(e);
            }
        }
    }
    if !denied.is_empty() {
        out.push_str(&format!("  {red}stopped{reset} ({}):\n", denied.len()));
        for e in denied.iter().take(40) {
            out.push_str(&format!(
                "    {:<17} {}{}\n",
                e.event.as_str(),
                clean(&e.target),
                who(e)
            ));
        }
        if denied.len() > 40 {
            out.push_str(&format!(
                "    … {} more in the events file\n",
                denied.len() - 40
            ));
        }
    }
    let observed: Vec<&Event> = o
        .events
        .iter()
        .filter(|e| {
            e.verdict == Verdict::Observe
                && matches!(
                    e.event,
                    EventKind::SensitiveRead | EventKind::PersistenceWrite | EventKind::CanaryRead
                )
        })
        .collect();
    if !observed.is_empty() {
        out.push_str(&format!("  {yellow}observed{reset}:\n"));
        for e in observed.iter().take(20) {
            out.push_str(&format!(
                "    {:<17} {}{}\n",
                e.event.as_str(),
                clean(&e.target),
                who(e)
            ));
        }
    }
    if !novelties.is_empty() {
        out.push_str(&format!(
            "  {red}new since the baseline{reset} ({}):\n",
            novelties.len()
        ));
        for n in novelties {
            out.push_str(&format!("    {:<17} {}\n", n.kind, clean(&n.item)));
        }
    } else if let Some(b) = &args.baseline {
        let what = if baseline_written {
            "written from this run"
        } else {
            "nothing new"
        };
        out.push_str(&format!("  baseline {}: {what}\n", b.display()));
    }
    if let Some(e) = &args.events {
        out.push_str(&format!("{dim}  events: {}{reset}\n", e.display()));
    }
    if o.blocked {
        out.push_str(&format!(
            "  {red}exit 1{reset}: --block refused {} action(s), listed under `stopped`\n",
            denied.len()
        ));
    }
    #[allow(clippy::print_stderr)]
    {
        eprint!("{out}");
    }
}

/// Most denied targets or new destinations kept in one sample's detail.
const MAX_ITEMS: usize = 100;

/// Egress event kinds: a denial of one of these is the egress policy stopping the build.
fn is_egress(k: EventKind) -> bool {
    matches!(
        k,
        EventKind::Dns | EventKind::Proxy | EventKind::Connect | EventKind::Send
    )
}

/// The run's battlecard samples (sans-IO: facts in, samples out).
///
/// - `egress-blocked-builds`: 1 when the egress policy stopped something in this run (a DNS
///   name, proxy request, connection or datagram with verdict `deny`, in either mode; or
///   `--block` stopping anything), else 0. Summed per week on the dashboard.
/// - `new-unapproved-domains` (only when a baseline was read, not when this run wrote it):
///   the distinct domains and endpoints the run reached that the baseline does not list.
///   The dashboard counts distinct ones per week from the `items` kept in the detail.
fn samples(
    o: &turncoat_sandbox::WatchOutcome,
    novelties: Option<&[turncoat_sandbox::baseline::Novelty]>,
    at: time::OffsetDateTime,
    scope: &str,
) -> Vec<turncoat_metrics::Sample> {
    let mut out = Vec::new();
    let denied: std::collections::BTreeSet<String> = o
        .events
        .iter()
        .filter(|e| e.verdict == Verdict::Deny && is_egress(e.event))
        .map(|e| clean(&e.target))
        .collect();
    let blocked = o.blocked || !denied.is_empty();
    if let Ok(s) = turncoat_metrics::Sample::new(
        "egress-blocked-builds",
        if blocked { 1.0 } else { 0.0 },
        at,
        scope,
    ) {
        out.push(
            s.with("denied_egress", denied.len())
                .with(
                    "denied",
                    denied.iter().take(MAX_ITEMS).cloned().collect::<Vec<_>>(),
                )
                .with("block_mode_refused", o.blocked),
        );
    }
    if let Some(novelties) = novelties {
        let new: std::collections::BTreeSet<String> = novelties
            .iter()
            .filter(|n| n.kind == "domain" || n.kind == "endpoint")
            .map(|n| clean(&n.item))
            .collect();
        if let Ok(s) =
            turncoat_metrics::Sample::new("new-unapproved-domains", new.len() as f64, at, scope)
        {
            out.push(s.with(
                "items",
                new.iter().take(MAX_ITEMS).cloned().collect::<Vec<_>>(),
            ));
        }
    }
    out
}

/// One line: the limits, what enforced them, and what they stopped.
fn limits_line(l: &turncoat_sandbox::cgroup::LimitReport) -> String {
    let mem = l.memory_max.map_or_else(
        || "memory unlimited".to_string(),
        |b| format!("memory {:.1} GiB", b as f64 / (1u64 << 30) as f64),
    );
    let pids = l.pids_max.map_or_else(
        || "processes unlimited".to_string(),
        |n| format!("{n} processes"),
    );
    let by = l
        .enforced_by
        .clone()
        .unwrap_or_else(|| "not enforced: no cgroup".to_string());
    let mut hits = Vec::new();
    if l.pids_max_hits > 0 {
        hits.push(format!(
            "{} fork(s) refused at the process limit",
            l.pids_max_hits
        ));
    }
    if l.oom_kills > 0 {
        hits.push(format!(
            "{} process(es) killed at the memory limit",
            l.oom_kills
        ));
    } else if l.memory_max_hits > 0 {
        hits.push(format!(
            "memory limit reached {} time(s)",
            l.memory_max_hits
        ));
    }
    let mut line = format!("{mem}, {pids} ({by})");
    if !hits.is_empty() {
        line.push_str(&format!(": {}", hits.join("; ")));
    }
    line
}

fn who(e: &Event) -> String {
    match (&e.package, &e.stage) {
        (Some(p), Some(s)) => format!("  ← {} ({})", clean(p), clean(s)),
        (Some(p), None) => format!("  ← {}", clean(p)),
        _ => String::new(),
    }
}

/// Targets, package names and stages come from the sandboxed processes: escape control
/// characters (terminal escapes) before they reach the terminal.
fn clean(s: &str) -> String {
    turncoat_finding::sanitize_snippet(s)
}

#[cfg(test)]
mod tests {
    use super::internal_address;
    use turncoat_sandbox::baseline::Novelty;
    use turncoat_sandbox::event::{Event, EventKind, Source, Verdict};

    fn ev(kind: EventKind, target: &str, verdict: Verdict) -> Event {
        Event {
            seq: 1,
            time: "2026-12-01T00:00:00.000Z".into(),
            event: kind,
            target: target.into(),
            verdict,
            source: Source::Proxy,
            pid: None,
            exe: None,
            argv: None,
            package: None,
            stage: None,
            detail: None,
        }
    }

    fn outcome(events: Vec<Event>, blocked: bool) -> turncoat_sandbox::WatchOutcome {
        turncoat_sandbox::WatchOutcome {
            exit_code: 0,
            events,
            blocked,
            timed_out: false,
            duration: std::time::Duration::from_secs(1),
            tier: "test".into(),
            warnings: Vec::new(),
            home: "/home/x".into(),
            project: "/p".into(),
            limits: Default::default(),
        }
    }

    #[test]
    fn egress_denials_make_a_blocked_build_and_new_destinations_are_counted_once() {
        let at = time::OffsetDateTime::from_unix_timestamp(1_790_000_000).unwrap();
        let o = outcome(
            vec![
                ev(EventKind::Dns, "evil.example", Verdict::Deny),
                ev(EventKind::Dns, "evil.example", Verdict::Deny),
                ev(EventKind::Proxy, "registry.npmjs.org:443", Verdict::Allow),
                // Not egress: a refused syscall or a secret read does not count here.
                ev(EventKind::Refused, "io_uring_setup", Verdict::Deny),
            ],
            false,
        );
        let novelties = vec![
            Novelty {
                kind: "domain",
                item: "evil.example".into(),
            },
            Novelty {
                kind: "endpoint",
                item: "evil.example:443".into(),
            },
            Novelty {
                kind: "executable",
                item: "x: curl".into(),
            },
        ];
        let s = super::samples(&o, Some(&novelties), at, "/p");
        assert_eq!(s.len(), 2);
        assert_eq!(s[0].metric, "egress-blocked-builds");
        assert_eq!(s[0].value, 1.0);
        assert_eq!(s[0].detail["denied"], serde_json::json!(["evil.example"]));
        assert_eq!(s[1].metric, "new-unapproved-domains");
        assert_eq!(s[1].value, 2.0);
        assert_eq!(
            s[1].detail["items"],
            serde_json::json!(["evil.example", "evil.example:443"])
        );

        // A clean run: 0 blocked; no baseline read: no new-domain sample at all.
        let clean = outcome(
            vec![ev(
                EventKind::Proxy,
                "registry.npmjs.org:443",
                Verdict::Allow,
            )],
            false,
        );
        let s = super::samples(&clean, None, at, "/p");
        assert_eq!(s.len(), 1);
        assert_eq!(s[0].value, 0.0);
        // --block refusing a persistence write is a blocked build too.
        let s = super::samples(&outcome(Vec::new(), true), None, at, "/p");
        assert_eq!(s[0].value, 1.0);
    }

    #[test]
    fn internal_registry_addresses() {
        assert_eq!(
            internal_address("127.0.0.1", 4873).as_deref(),
            Some("127.0.0.1:4873")
        );
        assert_eq!(
            internal_address("10.1.2.3", 443).as_deref(),
            Some("10.1.2.3:443")
        );
        assert_eq!(internal_address("[::1]", 80).as_deref(), Some("[::1]:80"));
        assert_eq!(
            internal_address("169.254.169.254", 80).as_deref(),
            Some("169.254.169.254:80")
        );
        assert_eq!(internal_address("registry.npmjs.org", 443), None);
        assert_eq!(
            internal_address("localhost", 443),
            None,
            "names resolve at the proxy"
        );
        assert_eq!(internal_address("104.16.0.1", 443), None);
    }
}

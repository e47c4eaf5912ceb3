//! `turncoat monitor`: follow the registry for every locked npm package and the team's own
//! packages; alert on new versions (judged by the gate against the locked one), maintainer,
//! publisher, provenance and dist-tag changes, unpublished versions, and the takeover alarm.
//!
//! Each package is polled with `If-None-Match` and the ETag stored beside its last snapshot in
//! the store (SQLite by default, `--database postgres://…` for a team). The store is the
//! trusted state: only this command writes it. A 304 is accepted only as an answer to the ETag
//! we sent for the snapshot we hold. Design, trust and examples: docs/monitor.md.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};
use std::time::Duration;

use anyhow::Context as _;
use clap::Args;
use turncoat_lockfile::{Ecosystem, LockedPackage, Lockfile, SourceKind};
use turncoat_monitor::{AlertLevel, Event, Snapshot, Watch, rules};
use turncoat_npm::{PackageName, Packument};
use turncoat_registry::Polled;
use turncoat_store::{MonitorState, Store};

use super::monitor_alerts::{Alert, AlertFormat, Sinks, Webhook, loudest};
use crate::Outcome;
use crate::settings::Context;

/// New versions of one package judged per poll; more at once are reported unjudged.
const MAX_JUDGED: usize = 5;

#[derive(Debug, Args)]
pub struct MonitorArgs {
    /// A lockfile whose registry packages to follow (repeatable; default: the lockfile of
    /// the current directory, unless --own is given).
    #[arg(long, value_name = "PATH")]
    pub lockfile: Vec<PathBuf>,
    /// One of the team's own npm packages (repeatable): a new version published by nobody in
    /// the roster is the takeover alarm.
    #[arg(long, value_name = "PACKAGE")]
    pub own: Vec<String>,
    /// The roster for --own (default: publishers.toml, else [publishers] in turncoat.toml).
    #[arg(long, value_name = "FILE")]
    pub roster: Option<PathBuf>,
    /// One pass, then exit (the default).
    #[arg(long, conflicts_with = "interval")]
    pub once: bool,
    /// Poll every DUR (`30s`, `10m`, `1h`) until interrupted.
    #[arg(long, value_name = "DUR")]
    pub interval: Option<String>,
    /// Alerts on stdout as human lines or JSON Lines.
    #[arg(long, value_enum, default_value_t = AlertFormat::Human)]
    pub format: AlertFormat,
    /// Also append every alert as a JSON line to this file.
    #[arg(long, value_name = "PATH")]
    pub alerts_file: Option<PathBuf>,
    /// Also POST every alert as JSON to this URL (https, or http to loopback); shown redacted.
    #[arg(long, value_name = "URL")]
    pub webhook: Option<String>,
    /// Registry URL; overrides .npmrc and the default.
    #[arg(long, value_name = "URL")]
    pub registry: Option<String>,
    /// Python package index (simple API root) for Python lockfiles; default: PIP_INDEX_URL /
    /// uv settings / pip.conf, else PyPI.
    #[arg(long, value_name = "URL")]
    pub index_url: Option<String>,
    /// Policy for the gate's verdicts (default: turncoat.toml beside the first lockfile or here).
    #[arg(long, value_name = "FILE")]
    pub policy: Option<PathBuf>,
    /// `--record` also stores the `monitor-detection-delay` metric; `--database` holds the
    /// monitor's state either way.
    #[command(flatten)]
    pub record: super::metrics::RecordArgs,
}

/// Where a followed package lives.
enum Source {
    Npm(PackageName),
    Pypi(turncoat_pypi::ProjectName),
}

/// One followed package.
struct Target {
    source: Source,
    own: bool,
    /// Locked entries: (lockfile, entry).
    locked: Vec<(LockfileRef, LockedPackage)>,
}

impl Target {
    fn name(&self) -> &str {
        match &self.source {
            Source::Npm(n) => n.as_str(),
            Source::Pypi(n) => n.as_str(),
        }
    }

    fn ecosystem(&self) -> &'static str {
        match self.source {
            Source::Npm(_) => "npm",
            Source::Pypi(_) => "pypi",
        }
    }
}

#[derive(Clone)]
struct LockfileRef {
    path: String,
    format: turncoat_lockfile::LockfileFormat,
}

/// What one pass did (on stderr at its end; tests read it).
#[derive(Debug, Default)]
struct Stats {
    polled: usize,
    not_modified: usize,
    changed: usize,
    baselines: usize,
    failed: usize,
    deferred: usize,
    alerts: usize,
    undelivered: usize,
}

struct Env<'a> {
    ctx: &'a Context,
    args: &'a MonitorArgs,
    project: PathBuf,
    roster: Option<BTreeSet<String>>,
    sinks: Sinks,
    once: bool,
}

pub fn run(args: MonitorArgs, ctx: &Context) -> anyhow::Result<Outcome> {
    let interval = match &args.interval {
        Some(s) => Some(parse_interval(s)?),
        None => None,
    };
    let lockfiles = lockfile_paths(&args)?;
    let project = lockfiles
        .first()
        .map(|p| super::project_dir_of(p))
        .unwrap_or_else(|| PathBuf::from("."));
    let roster = roster(&args)?;
    let targets = targets(&args, &lockfiles)?;
    if targets.is_empty() {
        anyhow::bail!(
            "nothing to follow: the lockfiles lock no registry package and no --own was given"
        );
    }
    let webhook = args.webhook.as_deref().map(Webhook::new).transpose()?;
    let mut store = args.record.db.open(ctx)?;
    let env = Env {
        ctx,
        args: &args,
        project,
        roster,
        sinks: Sinks {
            format: args.format,
            file: args.alerts_file.clone(),
            webhook,
        },
        once: interval.is_none(),
    };
    let Some(every) = interval else {
        let (stats, loudest) = pass(&env, &mut store, &targets)?;
        return Ok(outcome(&stats, loudest));
    };
    let mut n = 0u64;
    loop {
        n += 1;
        if !ctx.quiet {
            crate::output::note(ctx, &format!("monitor: pass {n}"));
        }
        pass(&env, &mut store, &targets)?;
        std::thread::sleep(every);
    }
}

/// 1 for a block-level alert; else 2 when a poll or a delivery failed; else 0.
fn outcome(stats: &Stats, loudest: Option<AlertLevel>) -> Outcome {
    if loudest == Some(AlertLevel::Block) {
        Outcome::Violation
    } else if stats.failed > 0 || stats.undelivered > 0 {
        Outcome::Code(2)
    } else {
        Outcome::Pass
    }
}

/// `30s`, `10m`, `1h`, `1d`; at least 10 s.
fn parse_interval(s: &str) -> anyhow::Result<Duration> {
    let t = s.trim();
    let secs = match t.strip_suffix('s') {
        Some(n) => n.trim().parse::<u64>().ok(),
        None => turncoat_policy::parse_duration(t),
    }
    .with_context(|| format!("--interval {s:?}: give a number with s, m, h or d (`10m`)"))?;
    if secs < 10 {
        anyhow::bail!("--interval {s:?} is shorter than 10 s; that hammers the registry");
    }
    Ok(Duration::from_secs(secs))
}

fn lockfile_paths(args: &MonitorArgs) -> anyhow::Result<Vec<PathBuf>> {
    if !args.lockfile.is_empty() {
        return args
            .lockfile
            .iter()
            .map(|p| super::single_lockfile(p))
            .collect();
    }
    if args.own.is_empty() {
        return Ok(vec![super::single_lockfile(Path::new("."))?]);
    }
    Ok(Vec::new())
}

/// The roster's npm accounts, lower-case; required with --own (fail closed: without it no
/// version of an own package could be told from a takeover).
fn roster(args: &MonitorArgs) -> anyhow::Result<Option<BTreeSet<String>>> {
    if args.own.is_empty() {
        return Ok(None);
    }
    let (roster, file) = super::evaluate::load_roster(args.roster.as_deref())
        .context("--own needs the roster of who may publish")?;
    let accounts: BTreeSet<String> = roster
        .people
        .iter()
        .filter_map(|p| p.account(turncoat_posture::evaluate::roster::Ecosystem::Npm))
        .map(str::to_ascii_lowercase)
        .collect();
    if accounts.is_empty() {
        anyhow::bail!(
            "{file} lists no npm account: every version of an --own package would be a takeover alarm"
        );
    }
    Ok(Some(accounts))
}

fn targets(args: &MonitorArgs, lockfiles: &[PathBuf]) -> anyhow::Result<Vec<Target>> {
    let mut by_name: BTreeMap<String, Target> = BTreeMap::new();
    for raw in &args.own {
        let name = PackageName::new(raw).with_context(|| format!("--own {raw:?}"))?;
        by_name.insert(
            format!("npm:{name}"),
            Target {
                source: Source::Npm(name),
                own: true,
                locked: Vec::new(),
            },
        );
    }
    for path in lockfiles {
        let lock = turncoat_lockfile::read(path)?;
        let lf = LockfileRef {
            path: lock.path.clone(),
            format: lock.format,
        };
        for p in lock.packages {
            if p.source != SourceKind::Registry || p.version.is_empty() || p.bundled {
                continue;
            }
            let (key, source) = match lock.ecosystem {
                Ecosystem::Npm => match PackageName::new(&p.name) {
                    Ok(n) => (format!("npm:{}", p.name), Source::Npm(n)),
                    Err(_) => continue,
                },
                Ecosystem::Pypi => match turncoat_pypi::ProjectName::new(&p.name) {
                    Ok(n) => (format!("pypi:{n}"), Source::Pypi(n)),
                    Err(_) => continue,
                },
            };
            by_name
                .entry(key)
                .or_insert_with(|| Target {
                    source,
                    own: false,
                    locked: Vec::new(),
                })
                .locked
                .push((lf.clone(), p));
        }
    }
    Ok(by_name.into_values().collect())
}

/// One poll of every target (those in backoff skipped, except with --once).
fn pass(
    env: &Env<'_>,
    store: &mut Store,
    targets: &[Target],
) -> anyhow::Result<(Stats, Option<AlertLevel>)> {
    let now = env.ctx.now_unix();
    // A fresh client per pass: its per-process memo must not answer the gate with the
    // packument of an earlier pass.
    let gate = super::GateEnv {
        policy: super::load_policy(env.args.policy.as_deref(), &env.project)?,
        client: super::client(env.ctx, &env.project, env.args.registry.as_deref(), false)?,
        keys: turncoat_attest::Keys::embedded().context("embedded npm registry keys")?,
        root: turncoat_attest::TrustRoot::embedded(),
        bar: crate::progress::Bar::new(false),
    };
    let pypi = if targets.iter().any(|t| matches!(t.source, Source::Pypi(_))) {
        Some(pypi_client(env)?)
    } else {
        None
    };
    let clients = Clients { gate, pypi };
    let mut stats = Stats::default();
    let mut alerts: Vec<Alert> = Vec::new();
    let mut records: Vec<MonitorState> = Vec::new();
    let progress = !env.ctx.quiet && targets.len() >= 20;
    for (i, t) in targets.iter().enumerate() {
        if progress && i % 20 == 0 {
            crate::output::note(
                env.ctx,
                &format!("monitor: {i}/{} packages polled", targets.len()),
            );
        }
        let (mut a, record) = follow(env, &clients, store, t, now, &mut stats)
            .with_context(|| format!("following {}", t.name()))?;
        alerts.append(&mut a);
        records.extend(record);
    }
    // One ordered batch for the whole pass: a takeover alarm comes first whatever the
    // package's place in the list.
    alerts.sort_by_key(|a| {
        (
            a.event.code != rules::takeover::RULE.code,
            std::cmp::Reverse(a.event.level),
            std::cmp::Reverse(a.event.severity),
        )
    });
    stats.alerts = alerts.len();
    match env.sinks.deliver(&alerts) {
        Ok(()) => {
            for r in &records {
                store.put_monitor_state(r)?;
            }
            if env.args.record.record {
                store
                    .record(&detection_delays(&alerts, now))
                    .context("cannot record the monitor's metrics")?;
            }
        }
        Err(e) => {
            // The new snapshots are not stored: the same alerts are raised at the next poll.
            stats.undelivered = records.len().max(1);
            crate::output::error(
                env.ctx,
                &e.context("alerts not delivered; they are raised again at the next poll"),
            );
        }
    }
    if !env.ctx.quiet {
        crate::output::note(
            env.ctx,
            &format!(
                "monitor: {} polled ({} changed or fetched, {} unchanged (304), {} baselines, \
                 {} failed), {} deferred by backoff, {} alerts{}",
                stats.polled,
                stats.changed,
                stats.not_modified,
                stats.baselines,
                stats.failed,
                stats.deferred,
                stats.alerts,
                if stats.undelivered > 0 {
                    format!(", {} packages' alerts not delivered", stats.undelivered)
                } else {
                    String::new()
                }
            ),
        );
    }
    Ok((stats, loudest(&alerts)))
}

/// `monitor-detection-delay` samples: publish time to this poll, per alerted new version.
fn detection_delays(alerts: &[Alert], now: i64) -> Vec<turncoat_metrics::Sample> {
    let at =
        time::OffsetDateTime::from_unix_timestamp(now).unwrap_or(time::OffsetDateTime::UNIX_EPOCH);
    let new_version = [
        rules::new_version::RULE.code,
        rules::takeover::RULE.code,
        rules::unjudged::RULE.code,
    ];
    let mut seen = BTreeSet::new();
    alerts
        .iter()
        .filter(|a| new_version.contains(&a.event.code.as_str()))
        .filter_map(|a| {
            let version = a.event.version.clone()?;
            // A time in the future is the registry's lie, not a delay.
            let delay = now.checked_sub(a.published?).filter(|d| *d >= 0)?;
            seen.insert((a.event.package.clone(), version.clone()))
                .then_some(())?;
            turncoat_metrics::Sample::new(
                "monitor-detection-delay",
                delay as f64,
                at,
                &a.event.package,
            )
            .ok()
            .map(|s| {
                s.with("version", version)
                    .with("code", a.event.code.clone())
            })
        })
        .collect()
}

/// The clients of one pass.
struct Clients {
    gate: super::GateEnv,
    pypi: Option<turncoat_pypi::PypiClient>,
}

fn pypi_client(env: &Env<'_>) -> anyhow::Result<turncoat_pypi::PypiClient> {
    let index = turncoat_pypi::IndexConfig::load(env.args.index_url.as_deref(), &env.project)?;
    let cache = super::cache(env.ctx)?;
    let pypi_cache = turncoat_pypi::PypiCache::new(&cache.dir().join("pypi"));
    Ok(turncoat_pypi::PypiClient::new(
        index.index_url.clone(),
        Some(pypi_cache),
        turncoat_pypi::ClientOptions::default(),
    )?)
}

/// What one fetch gave.
enum Fetched {
    Doc {
        snapshot: Snapshot,
        etag: Option<String>,
        /// PyPI: the sha256 of each release's files (the gate's expected hashes).
        hashes: BTreeMap<String, Vec<String>>,
    },
    NotModified,
    Failed {
        reason: String,
        retry_after: Option<u64>,
    },
}

/// Fetch `t`'s document; `sent` is the ETag sent (npm only).
fn fetch(clients: &Clients, t: &Target, sent: Option<&str>) -> Fetched {
    let failed = |reason: String| Fetched::Failed {
        reason,
        retry_after: None,
    };
    match &t.source {
        Source::Npm(name) => match clients.gate.client.poll_packument(name, sent) {
            Ok(Polled::Modified { bytes, etag }) => match snapshot(name.as_str(), &bytes) {
                Ok(snapshot) => Fetched::Doc {
                    snapshot,
                    etag,
                    hashes: BTreeMap::new(),
                },
                Err(why) => failed(why),
            },
            Ok(Polled::NotModified) if sent.is_some() => Fetched::NotModified,
            Ok(Polled::NotModified) => failed(
                "the registry answered 304 Not Modified to a request that sent no ETag; \
                 there is nothing it could be unchanged from"
                    .into(),
            ),
            Ok(Polled::Throttled {
                status,
                url,
                retry_after,
            }) => Fetched::Failed {
                reason: format!("HTTP {status} from {url}"),
                retry_after,
            },
            Err(e) => failed(e.to_string()),
        },
        Source::Pypi(name) => {
            let Some(client) = &clients.pypi else {
                return failed("no index client".into());
            };
            match client.project_meta(name) {
                Ok(meta) => match pypi_snapshot(name.as_str(), &meta) {
                    Ok(snapshot) => Fetched::Doc {
                        snapshot,
                        etag: None,
                        hashes: meta
                            .releases
                            .iter()
                            .map(|(v, files)| {
                                (
                                    v.clone(),
                                    files.iter().filter_map(|f| f.sha256.clone()).collect(),
                                )
                            })
                            .collect(),
                    },
                    Err(why) => failed(why),
                },
                Err(e) => failed(e.to_string()),
            }
        }
    }
}

fn pypi_snapshot(name: &str, meta: &turncoat_pypi::ProjectMeta) -> Result<Snapshot, String> {
    let project = turncoat_monitor::PypiProject {
        latest: meta.version.clone(),
        owners: meta
            .ownership
            .iter()
            .flat_map(|o| o.roles.iter().map(|r| r.user.clone()))
            .collect(),
        releases: meta
            .releases
            .iter()
            .map(|(v, files)| {
                let files = files
                    .iter()
                    .map(|f| turncoat_monitor::PypiFile {
                        filename: f.filename.clone(),
                        uploaded: f.upload_time.clone(),
                        yanked: f.yanked,
                    })
                    .collect();
                (v.clone(), files)
            })
            .collect(),
    };
    Snapshot::from_pypi(name, &project, &turncoat_monitor::Limits::default())
        .map_err(|e| e.to_string())
}

/// Poll one package, compare and judge: its alerts, and the state to store once they are
/// delivered (failures, 304s and baselines are stored at once). Err only for a store failure.
fn follow(
    env: &Env<'_>,
    clients: &Clients,
    store: &mut Store,
    t: &Target,
    now: i64,
    stats: &mut Stats,
) -> anyhow::Result<(Vec<Alert>, Option<MonitorState>)> {
    let name = t.name();
    let state = store
        .monitor_state(t.ecosystem(), name)?
        .unwrap_or_else(|| MonitorState {
            ecosystem: t.ecosystem().into(),
            name: name.into(),
            ..MonitorState::default()
        });
    if !env.once && state.next_poll > now {
        stats.deferred += 1;
        return Ok((Vec::new(), None));
    }
    stats.polled += 1;
    let registry = registry_shown(clients, t);
    // The ETag is sent only while we hold the snapshot it belongs to.
    let sent = state.snapshot.as_ref().and(state.etag.clone());
    let (new, etag, hashes) = match fetch(clients, t, sent.as_deref()) {
        Fetched::Doc {
            snapshot,
            etag,
            hashes,
        } => (snapshot, etag, hashes),
        Fetched::NotModified => {
            stats.not_modified += 1;
            let st = MonitorState {
                last_poll: now,
                failures: 0,
                next_poll: 0,
                last_error: None,
                ..state
            };
            store.put_monitor_state(&st)?;
            return Ok((Vec::new(), None));
        }
        Fetched::Failed {
            reason,
            retry_after,
        } => {
            let ctx = Poll {
                env,
                t,
                now,
                registry: &registry,
                hashes: BTreeMap::new(),
            };
            return ctx.fail(store, state, reason, retry_after, stats);
        }
    };
    let ctx = Poll {
        env,
        t,
        now,
        registry: &registry,
        hashes,
    };
    let old = stored_snapshot(env, &state);
    let record = MonitorState {
        etag,
        snapshot: Some(new.to_json()),
        last_poll: now,
        failures: 0,
        next_poll: 0,
        last_error: None,
        ..state
    };
    let Some(old) = old else {
        stats.baselines += 1;
        ctx.baseline(&new)?;
        store.put_monitor_state(&record)?;
        return Ok((Vec::new(), None));
    };
    stats.changed += 1;
    let watch = Watch {
        own: t.own,
        roster: env.roster.as_ref(),
        now_unix: now,
    };
    let events = turncoat_monitor::compare(&old, &new, &watch);
    let mut alerts = ctx.judge_and_wrap(clients, events, &old);
    for a in &mut alerts {
        a.published = a
            .event
            .version
            .as_ref()
            .and_then(|v| new.versions.get(v))
            .and_then(|r| r.published);
    }
    Ok((alerts, Some(record)))
}

/// The registry or index polled for `t`, without credentials or query.
fn registry_shown(clients: &Clients, t: &Target) -> String {
    match &t.source {
        Source::Npm(n) => {
            turncoat_registry::redact_url(clients.gate.client.config().registry_for(n))
        }
        Source::Pypi(_) => clients
            .pypi
            .as_ref()
            .map(|c| turncoat_registry::redact_url(c.index()))
            .unwrap_or_default(),
    }
}

/// The snapshot stored for a package; an unreadable one (a store written by a newer turncoat,
/// a damaged row) is replaced by a new baseline, and said so.
fn stored_snapshot(env: &Env<'_>, state: &MonitorState) -> Option<Snapshot> {
    match Snapshot::from_json(state.snapshot.as_deref()?) {
        Ok(s) => Some(s),
        Err(e) => {
            crate::output::note(
                env.ctx,
                &format!("{}: {e}; recording a new baseline", state.name),
            );
            None
        }
    }
}

/// The registry document, parsed and bounded.
fn snapshot(name: &str, bytes: &[u8]) -> Result<Snapshot, String> {
    let p = Packument::from_slice(bytes)
        .map_err(|e| format!("invalid registry document for {name}: {e}"))?;
    Snapshot::from_packument(name, &p, &turncoat_monitor::Limits::default())
        .map_err(|e| e.to_string())
}

/// One package's poll, for the helpers below.
struct Poll<'a> {
    env: &'a Env<'a>,
    t: &'a Target,
    now: i64,
    registry: &'a str,
    /// PyPI: sha256 of each release's files.
    hashes: BTreeMap<String, Vec<String>>,
}

impl Poll<'_> {
    fn alert(&self, event: Event) -> Alert {
        Alert {
            event,
            own: self.t.own,
            locked: None,
            published: None,
            verdict: None,
            findings: Vec::new(),
            registry: self.registry.to_string(),
            at: turncoat_incident::playbook::rfc3339(self.now),
        }
    }

    /// First sight: record, no alerts, and say so.
    fn baseline(&self, s: &Snapshot) -> anyhow::Result<()> {
        let msg = format!(
            "baseline  {}: {} versions, {} maintainers recorded (first sight raises no alerts)",
            s.name,
            s.versions.len(),
            s.maintainers.len()
        );
        match self.env.sinks.format {
            AlertFormat::Human => crate::output::emit(&format!("{msg}\n"), None),
            AlertFormat::Jsonl => {
                if !self.env.ctx.quiet {
                    crate::output::note(self.env.ctx, &msg);
                }
                Ok(())
            }
        }
    }

    /// A failed poll: alert, back off, keep the stored snapshot and ETag.
    fn fail(
        &self,
        store: &mut Store,
        mut state: MonitorState,
        reason: String,
        retry_after: Option<u64>,
        stats: &mut Stats,
    ) -> anyhow::Result<(Vec<Alert>, Option<MonitorState>)> {
        stats.failed += 1;
        let name = self.t.name();
        state.failures = state.failures.saturating_add(1);
        state.last_poll = self.now;
        let failures = u32::try_from(state.failures).unwrap_or(u32::MAX);
        let delay =
            turncoat_monitor::backoff::delay_secs(failures, retry_after, jitter(name, self.now));
        state.next_poll = self.now.saturating_add(delay as i64);
        state.last_error = Some(reason.chars().take(500).collect());
        let alert = self.alert(rules::poll_failed::event(
            name,
            &reason,
            state.failures,
            delay,
        ));
        // The backoff is stored at once; the snapshot and ETag stay as they were.
        store.put_monitor_state(&state)?;
        Ok((vec![alert], None))
    }

    /// Wrap events into alerts; each new version of a locked dependency judged by the gate.
    /// A new version of a locked dependency is judged against the locked version; one of an
    /// own npm package that nothing locks, against its previous release (a roster member's
    /// stolen token publishes under their name: the roster check passes, the gate may not).
    fn judge_and_wrap(&self, clients: &Clients, events: Vec<Event>, old: &Snapshot) -> Vec<Alert> {
        let mut judged = 0;
        let mut out: Vec<Alert> = Vec::with_capacity(events.len());
        for e in events {
            let mut a = self.alert(e);
            let version = a.event.version.clone().unwrap_or_default();
            let base = if a.event.code != rules::new_version::RULE.code {
                None
            } else if !self.t.locked.is_empty() {
                let (lf, entry) = base_entry(&self.t.locked, &version);
                Some((lf.clone(), entry.clone()))
            } else if let (true, Source::Npm(_)) = (self.t.own, &self.t.source) {
                previous_release(old, &version).map(|v| own_base(self.t.name(), v))
            } else {
                None
            };
            let Some((lf, entry)) = &base else {
                out.push(a);
                continue;
            };
            a.locked = Some(entry.version.clone());
            let name = self.t.name();
            if judged >= MAX_JUDGED {
                a.event = rules::unjudged::event(
                    name,
                    &version,
                    &format!(
                        "more than {MAX_JUDGED} new versions at once; run `turncoat diff` on each"
                    ),
                );
            } else {
                judged += 1;
                let verdict = match &self.t.source {
                    Source::Npm(_) => judge(&clients.gate, self.env.ctx, lf, entry, &version),
                    Source::Pypi(_) => match &clients.pypi {
                        Some(pypi) => judge_pypi(
                            pypi,
                            &clients.gate,
                            self.now,
                            lf,
                            entry,
                            &version,
                            self.hashes
                                .get(&version)
                                .map(Vec::as_slice)
                                .unwrap_or_default(),
                        ),
                        None => Err("no index client".into()),
                    },
                };
                match verdict {
                    Ok((verdict, codes)) => {
                        use turncoat_finding::Severity;
                        (a.event.level, a.event.severity) = match verdict {
                            turncoat_report::Verdict::Pass => (AlertLevel::Info, Severity::Info),
                            turncoat_report::Verdict::Warn => (AlertLevel::Warn, Severity::Medium),
                            turncoat_report::Verdict::Block => (AlertLevel::Block, Severity::High),
                        };
                        a.verdict = Some(verdict.as_str().to_string());
                        a.findings = codes;
                    }
                    Err(reason) => a.event = rules::unjudged::event(name, &version, &reason),
                }
            }
            out.push(a);
        }
        out
    }
}

/// The highest version of `old` below `to` (by semver).
fn previous_release<'a>(old: &'a Snapshot, to: &str) -> Option<&'a str> {
    let target: node_semver::Version = to.parse().ok()?;
    old.versions
        .keys()
        .filter_map(|v| v.parse::<node_semver::Version>().ok().map(|p| (p, v)))
        .filter(|(p, _)| p < &target)
        .max_by(|a, b| a.0.cmp(&b.0))
        .map(|(_, v)| v.as_str())
}

/// An own package's previous release as a lockfile entry, its tarball and integrity taken
/// from the registry (nothing locks it).
fn own_base(name: &str, version: &str) -> (LockfileRef, LockedPackage) {
    let entry = LockedPackage {
        name: name.to_string(),
        alias: None,
        version: version.to_string(),
        source: SourceKind::Registry,
        resolved: None,
        integrity: None,
        checksum: None,
        dev: false,
        optional: false,
        peer: false,
        bundled: false,
        has_install_script: None,
        paths: vec![format!("node_modules/{name}")],
        dependencies: Vec::new(),
        line: 0,
        index: None,
        hashes: Vec::new(),
        markers: None,
        requirement: None,
    };
    let lf = LockfileRef {
        path: format!("(registry: {name}@{version})"),
        format: turncoat_lockfile::LockfileFormat::PackageLock { version: 3 },
    };
    (lf, entry)
}

/// The locked entry a new version updates: the highest locked version below it, else the
/// first locked one.
fn base_entry<'a>(
    locked: &'a [(LockfileRef, LockedPackage)],
    to: &str,
) -> (&'a LockfileRef, &'a LockedPackage) {
    let parse = |v: &str| v.parse::<node_semver::Version>().ok();
    let target = parse(to);
    let below = locked
        .iter()
        .filter_map(|(l, p)| parse(&p.version).map(|v| (v, l, p)))
        .filter(|(v, ..)| target.as_ref().is_some_and(|t| v < t))
        .max_by(|a, b| a.0.cmp(&b.0))
        .map(|(_, l, p)| (l, p));
    below.unwrap_or_else(|| {
        let (l, p) = &locked[0];
        (l, p)
    })
}

/// A lockfile of one package, named like `lf`: what the gate compares for one update.
fn one_package(lf: &LockfileRef, p: LockedPackage, ecosystem: Ecosystem) -> Lockfile {
    Lockfile {
        path: lf.path.clone(),
        format: lf.format.clone(),
        packages: vec![p],
        importers: Vec::new(),
        ecosystem,
        indexes: Vec::new(),
    }
}

/// The gate on `name@locked → name@to`, through the same library path as `turncoat diff`:
/// two one-package lockfiles, the head entry taking its tarball and integrity from the
/// registry. Err: why it could not judge.
fn judge(
    gate: &super::GateEnv,
    ctx: &Context,
    lf: &LockfileRef,
    entry: &LockedPackage,
    to: &str,
) -> Result<(turncoat_report::Verdict, Vec<String>), String> {
    let lock = |p: LockedPackage| one_package(lf, p, Ecosystem::Npm);
    let mut head = entry.clone();
    head.version = to.to_string();
    head.resolved = None;
    head.integrity = None;
    head.checksum = None;
    head.has_install_script = None;
    let report = turncoat_gate::diff(&lock(entry.clone()), &lock(head), &gate.context(ctx, 1))
        .map_err(|e| e.to_string())?;
    verdict_of(&report, &entry.name, to)
}

/// The Python gate on `name==locked → name==to`, the head's expected hashes being the
/// index's sha256 of `to`'s files (as for npm, the new release's integrity comes from the
/// index; the old one's from the lockfile).
fn judge_pypi(
    pypi: &turncoat_pypi::PypiClient,
    gate: &super::GateEnv,
    now: i64,
    lf: &LockfileRef,
    entry: &LockedPackage,
    to: &str,
    hashes: &[String],
) -> Result<(turncoat_report::Verdict, Vec<String>), String> {
    let lock = |p: LockedPackage| one_package(lf, p, Ecosystem::Pypi);
    let mut head = entry.clone();
    head.version = to.to_string();
    head.resolved = None;
    head.requirement = None;
    head.hashes = hashes
        .iter()
        .map(|h| turncoat_lockfile::FileHash {
            file: None,
            algorithm: "sha256".into(),
            digest: h.clone(),
        })
        .collect();
    let report = turncoat_gate::python::diff_lockfiles(
        &lock(entry.clone()),
        &lock(head),
        pypi,
        &gate.root,
        &turncoat_gate::python::Judge {
            policy: &gate.policy,
            today: turncoat_policy::Date::from_unix(now),
            now_unix: now,
            detonator: None,
        },
        &|_| {},
    )
    .map_err(|e| e.to_string())?;
    verdict_of(&report, &entry.name, to)
}

/// The verdict and counted finding codes of `name → to` in a gate report.
fn verdict_of(
    report: &turncoat_report::Report,
    name: &str,
    to: &str,
) -> Result<(turncoat_report::Verdict, Vec<String>), String> {
    let p = report
        .packages
        .iter()
        .find(|p| p.name == name && p.to.as_deref() == Some(to))
        .ok_or_else(|| "the gate returned no verdict for it".to_string())?;
    let mut codes: Vec<String> = p
        .findings
        .iter()
        .filter(|f| f.excepted.is_none() && f.level != turncoat_finding::Level::Allow)
        .map(|f| f.code.clone())
        .collect();
    codes.dedup();
    Ok((p.verdict, codes))
}

/// A number in [0, 1) for the backoff's jitter (std's per-process random hash keys).
fn jitter(name: &str, now: i64) -> f64 {
    use std::hash::BuildHasher as _;
    let h = std::collections::hash_map::RandomState::new().hash_one((name, now));
    (h >> 11) as f64 / (1u64 << 53) as f64
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn intervals() {
        assert_eq!(parse_interval("10m").unwrap(), Duration::from_secs(600));
        assert_eq!(parse_interval("30s").unwrap(), Duration::from_secs(30));
        assert!(parse_interval("1s").is_err());
        assert!(parse_interval("soon").is_err());
        let j = jitter("x", 1);
        assert!((0.0..1.0).contains(&j));
    }
}

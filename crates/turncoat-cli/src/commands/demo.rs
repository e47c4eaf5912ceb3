//! `turncoat demo`: the seed scenario, offline. A Dependabot-style PR moves
//! `secure-data-sanitizer` 3.1.4 → 3.1.5 (a trojanized patch release with an obfuscated
//! postinstall that exfiltrates the environment over DNS) and `tiny-case` 1.2.0 → 1.2.1 (benign).

use anyhow::Context as _;
use clap::Args;

use crate::Outcome;
use crate::output::ReportFormat;
use crate::settings::Context;

#[derive(Debug, Args)]
pub struct DemoArgs {
    /// Output format of the gate's report.
    #[arg(long, value_enum, default_value_t = ReportFormat::Human)]
    pub format: ReportFormat,
    /// Keep the materialised demo (registry, lockfiles) in this directory instead of a temporary one.
    #[arg(long, value_name = "DIR")]
    pub keep: Option<std::path::PathBuf>,
    /// Skip detonation (by default each changed version is also installed and loaded in the
    /// sandbox, when this machine allows user namespaces).
    #[arg(long)]
    pub no_detonate: bool,
    /// The Python half: a trojanized patch release of a PyPI library in a requirements.txt
    /// update, judged from a bundled directory index.
    #[arg(long)]
    pub pypi: bool,
}

pub fn run(args: DemoArgs, ctx: &Context) -> anyhow::Result<Outcome> {
    if args.pypi {
        return pypi(args, ctx);
    }
    let tmp = tempfile::tempdir().context("cannot create a temporary directory")?;
    let root = args
        .keep
        .clone()
        .unwrap_or_else(|| tmp.path().to_path_buf());
    let world = turncoat_gate::demo::materialize_seed(&root)?;
    // Name the lockfiles relative to the demo root: the temporary directory is gone on exit.
    let read = |path: &std::path::Path| -> anyhow::Result<turncoat_lockfile::Lockfile> {
        let bytes =
            std::fs::read(path).with_context(|| format!("cannot read {}", path.display()))?;
        let label = path
            .strip_prefix(&root)
            .unwrap_or(path)
            .display()
            .to_string();
        Ok(turncoat_lockfile::parse(&label, &bytes)?)
    };
    let base = read(&world.base_lockfile)?;
    let head = read(&world.head_lockfile)?;
    let policy = turncoat_policy::Policy::builtin(&turncoat_gate::all_rules());
    let registry = format!("file://{}", world.registry.display());
    // A private cache: the demo must not depend on, or pollute, the user's cache.
    let cache = turncoat_registry::Cache::new(root.join("cache"));
    let config = turncoat_registry::RegistryConfig::load(&root, Some(&registry))?;
    let client =
        turncoat_registry::Client::new(config, cache, turncoat_registry::ClientOptions::default())?;
    let bar = crate::progress::Bar::new(false);
    let keys = turncoat_attest::Keys::embedded().context("embedded npm registry keys")?;
    let trust = turncoat_attest::TrustRoot::embedded();
    let mut gate = turncoat_gate::GateContext {
        client: &client,
        policy: &policy,
        now_unix: ctx.now_unix(),
        keys: &keys,
        trust_root: &trust,
        progress: &bar,
        jobs: 0,
        detonator: None,
    };
    crate::output::note(
        ctx,
        "turncoat demo: a Dependabot PR updates secure-data-sanitizer 3.1.4 → 3.1.5 and tiny-case 1.2.0 → 1.2.1 (offline, bundled registry)",
    );
    let detonator = turncoat_gate::detonation::SandboxDetonator {
        opts: Default::default(),
    };
    if !args.no_detonate {
        gate.detonator = Some(&detonator);
    }
    let report = match turncoat_gate::diff(&base, &head, &gate) {
        Ok(r) => r,
        // The demo must run anywhere: without namespaces, say so and judge statically.
        Err(turncoat_gate::GateError::Detonation { error, .. }) => {
            crate::output::note(
                ctx,
                &format!("demo: detonation could not run here, judging statically:\n{error}\n"),
            );
            gate.detonator = None;
            turncoat_gate::diff(&base, &head, &gate)?
        }
        Err(e) => return Err(e.into()),
    };
    let text = crate::output::render_report(&report, args.format, ctx, false, false);
    crate::output::emit(&text, None)?;
    // The demo succeeds when the gate did what the scenario expects.
    let mut unmet = Vec::new();
    for (name, expect) in &world.spec.expect {
        let got = report
            .packages
            .iter()
            .filter(|p| &p.name == name)
            .map(|p| p.verdict.as_str())
            .max_by_key(|v| match *v {
                "block" => 2,
                "warn" => 1,
                _ => 0,
            })
            .unwrap_or("absent");
        if got != expect.verdict() {
            unmet.push(format!("{name}: expected {}, got {got}", expect.verdict()));
        }
    }
    if !unmet.is_empty() {
        anyhow::bail!("the demo did not behave as expected: {}", unmet.join("; "));
    }
    crate::output::note(
        ctx,
        "demo: the trojanized update was blocked and the benign one passed, as expected (a real PR would exit 1).",
    );
    Ok(Outcome::Pass)
}

/// `turncoat demo --pypi`: `humanize-lite` 2.4.0 → 2.4.1 (AWS keys from the environment sent
/// at import) and `tinyfmt` 1.0.0 → 1.0.1, from a bundled directory index, offline.
fn pypi(args: DemoArgs, ctx: &Context) -> anyhow::Result<Outcome> {
    let tmp = tempfile::tempdir().context("cannot create a temporary directory")?;
    let root = args
        .keep
        .clone()
        .unwrap_or_else(|| tmp.path().to_path_buf());
    let world = turncoat_gate::demo::materialize_pypi(&root)
        .with_context(|| format!("cannot write the demo to {}", root.display()))?;
    let read =
        |path: &std::path::Path, label: &str| -> anyhow::Result<turncoat_lockfile::Lockfile> {
            let bytes =
                std::fs::read(path).with_context(|| format!("cannot read {}", path.display()))?;
            Ok(turncoat_lockfile::parse(label, &bytes)?)
        };
    let base = read(&world.base_lockfile, "base/requirements.txt")?;
    let head = read(&world.head_lockfile, "head/requirements.txt")?;
    let index = url::Url::parse(&world.index_url).context("demo index URL")?;
    let client =
        turncoat_pypi::PypiClient::new(index, None, turncoat_pypi::ClientOptions::default())?;
    let policy = turncoat_policy::Policy::builtin(&turncoat_gate::all_rules());
    crate::output::note(
        ctx,
        "turncoat demo --pypi: a Dependabot PR updates humanize-lite 2.4.0 → 2.4.1 and tinyfmt 1.0.0 → 1.0.1 in requirements.txt (offline, bundled index)",
    );
    let report = turncoat_gate::python::diff_lockfiles(
        &base,
        &head,
        &client,
        &turncoat_attest::TrustRoot::embedded(),
        &turncoat_gate::python::Judge {
            policy: &policy,
            today: turncoat_policy::Date::from_unix(ctx.now_unix()),
            now_unix: ctx.now_unix(),
            detonator: None,
        },
        &|_| {},
    )?;
    let text = crate::output::render_report(&report, args.format, ctx, false, false);
    crate::output::emit(&text, None)?;
    let mut unmet = Vec::new();
    for (name, expect) in &world.expect {
        let got = report
            .packages
            .iter()
            .find(|p| p.name == *name)
            .map(|p| p.verdict.as_str())
            .unwrap_or("absent");
        if got != *expect {
            unmet.push(format!("{name}: expected {expect}, got {got}"));
        }
    }
    if !unmet.is_empty() {
        anyhow::bail!("the demo did not behave as expected: {}", unmet.join("; "));
    }
    crate::output::note(
        ctx,
        "demo: the trojanized Python release was blocked and the benign one passed, as expected (a real PR would exit 1).",
    );
    Ok(Outcome::Pass)
}

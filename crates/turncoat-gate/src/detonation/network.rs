//! `detonation-network`: the package tried to reach the network (a DNS query, a connection, a
//! datagram or a proxy request) while being installed or loaded, where nothing should.

use turncoat_finding::{Level, RuleDoc, Severity};
use turncoat_sandbox::event::{Event, EventKind};

use super::{Context, Rule, denied, is_kind, stages};

pub const DETONATION_NETWORK: RuleDoc = RuleDoc {
    code: "detonation-network",
    group: "detonation",
    severity: Severity::High,
    default_level: Level::Deny,
    summary: "installed and loaded in the sandbox, the new version tried to reach the network",
    doc: "## What it flags\n\
With `turncoat diff --detonate`, a DNS query, a connect or datagram to an address, a connection \
to a host daemon's socket, or a request through the sandbox's proxy, made while the new version's \
lifecycle scripts ran or while it was loaded (a Python release: while pip installed it, at \
interpreter start, or at import; the evidence names the moment) — and not made by the version it \
replaces. The \
sandbox has no network: every such attempt was stopped and logged with the name or address asked \
for.\n\n\
## Why it matters\n\
Exfiltration needs the network. Hijacked releases send what they harvest over DNS (the seed \
scenario encodes the environment into `<chunk>.exfil.invalid` names), HTTPS (ua-parser-js \
fetched a miner; Shai-Hulud posted to webhook.site) or GitHub's API. A library that starts \
calling out on install or import, where the previous version did not, is the signal. Static \
analysis cannot always see it (encrypted or fetched code); running it can.\n\n\
## Example\n\
`detonation:postinstall  dns 0-eyJ….2yrqdis.exfil.invalid (by node) — TXT via the sandbox resolver`.\n\n\
## How to silence\n\
Packages that download a prebuilt binary on install (esbuild-style) show this for the download \
host; when the previous version did the same it is not reported. Otherwise add an exception \
pinned to `name@version`.",
};

pub(super) const RULE: Rule = Rule {
    doc: &DETONATION_NETWORK,
    matches,
    key,
    message,
};

fn matches(e: &Event) -> bool {
    match e.event {
        EventKind::Dns | EventKind::Proxy => true,
        // Loopback inside the sandbox reaches only the sandbox (a test server, a worker):
        // only what was stopped counts.
        EventKind::Connect | EventKind::Send => denied(e),
        _ => false,
    }
}

fn key(e: &Event, _ctx: &Context) -> String {
    let kind = if is_kind(e, &[EventKind::Dns]) {
        "dns"
    } else {
        "net"
    };
    format!(
        "{kind} {}",
        e.target.trim_end_matches('.').to_ascii_lowercase()
    )
}

fn message(pkg: &str, hits: &[&Event], _ctx: &Context) -> String {
    let dns = hits.iter().filter(|e| e.event == EventKind::Dns).count();
    let other = hits.len() - dns;
    let mut what = Vec::new();
    if dns > 0 {
        what.push(format!("{dns} DNS name{}", if dns == 1 { "" } else { "s" }));
    }
    if other > 0 {
        what.push(format!(
            "{other} address{}",
            if other == 1 { "" } else { "es" }
        ));
    }
    let first = hits.first().map(|e| e.target.as_str()).unwrap_or("");
    format!(
        "{pkg} tried to reach {} during {} with no network expected (first: {first})",
        what.join(" and "),
        stages(hits)
    )
}

#[cfg(test)]
mod tests {
    use super::super::testing::ev;
    use super::*;
    use turncoat_sandbox::event::Verdict;

    #[test]
    fn positive() {
        let d = ev(EventKind::Dns, "x.exfil.invalid", "postinstall");
        let c = ev(EventKind::Connect, "198.51.100.7:443", "require");
        assert!(matches(&d) && matches(&c));
        let m = message(
            "x@1",
            &[&d, &c],
            &Context {
                home: "/h",
                project: "/p",
            },
        );
        assert!(m.contains("1 DNS name and 1 address"), "{m}");
        assert!(m.contains("postinstall and require"), "{m}");
    }

    #[test]
    fn negative() {
        let mut lo = ev(EventKind::Connect, "127.0.0.1:9229", "require");
        lo.verdict = Verdict::Observe;
        assert!(
            !matches(&lo),
            "loopback inside the sandbox is not the network"
        );
        assert!(!matches(&ev(
            EventKind::Exec,
            "/usr/bin/curl",
            "postinstall"
        )));
    }
}

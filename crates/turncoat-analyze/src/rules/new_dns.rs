//! `new-dns`: The package uses the `dns` module for the first time.

use turncoat_finding::{Finding, Level, RuleDoc, Severity};

use super::{DiffCx, Weight, capability_rule};
use crate::facts::Capability;

pub(crate) const RULE: RuleDoc = RuleDoc {
    code: "new-dns",
    group: "analyze",
    severity: Severity::Medium,
    default_level: Level::Warn,
    summary: "The package uses the `dns` module for the first time.",
    doc: r#"Flags a version that requires `dns` / `dns/promises` (or calls `resolve*` / `lookup` on it) when the previous version did not.

**Why it matters.** DNS is the exfiltration channel egress filters forget: data hidden in the labels of a lookup (`<base64>.<id>.attacker.tld`) reaches the attacker's name server through any resolver. Ordinary libraries rarely call `dns` directly. See also `new-dns-from-data`.

**Example.** A sanitiser library's postinstall starts calling `dns.resolve`.

**How to silence.** Silence it for one package with a policy exception on `new-dns` for `name@version`, after reading the new code."#,
};

pub(crate) fn diff(cx: &DiffCx<'_>, out: &mut Vec<Finding>) {
    out.extend(capability_rule(
        cx,
        &RULE,
        Capability::Dns,
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
            r#"const dns = require('dns'); dns.lookup('example.com', () => {});"#,
        );
        let hit = find(&f, RULE.code).expect("finding");
        assert!(hit.message.contains("pkg 1.0.0"), "{}", hit.message);
        assert_eq!(hit.evidence[0].path, "index.js");
    }

    #[test]
    fn quiet_when_it_was_already_there() {
        let f = diff_index(
            r#"const dns = require('dns');"#,
            r#"const dns = require('dns'); dns.lookup('example.org', () => {});"#,
        );
        assert!(find(&f, RULE.code).is_none(), "{f:?}");
    }
}

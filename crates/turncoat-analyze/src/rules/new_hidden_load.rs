//! `new-hidden-load`: new code loads a module, or calls a global, by a name built to hide it.

use turncoat_finding::{Finding, Level, RuleDoc, Severity};

use super::{DiffCx, Weight, capability_rule};
use crate::facts::{Capability, Occurrence};

pub(crate) const RULE: RuleDoc = RuleDoc {
    code: "new-hidden-load",
    group: "analyze",
    severity: Severity::High,
    default_level: Level::Deny,
    summary: "New code loads a module or calls a global by a name built to hide it, or through Node's internal loader.",
    doc: r#"Module and global names are folded before they are classified: `require('child_' + 'process')`, `require(['child', 'process'].join('_'))`, `require(String.fromCharCode(…))`, `require(atob('…'))`, `cp['ex' + 'ec']`, `globalThis[atob('ZXZhbA==')]`, and `const` names holding such values, count as the module or function they name (so `new-child-process`, `new-eval` … fire as usual). This rule reports the *hiding* itself, when it is new:

- a Node core module that gives network, DNS, shell or `vm` access named by a string built from parts;
- a load by a name that is decoded (`atob`, `Buffer.from(…, 'base64')`, `String.fromCharCode`) or assembled and does not fold;
- Node's internal loaders: `module.constructor._load`, `Module._load`, `process.mainModule.require`, `require.main.require`;
- a global called by a computed name that does not fold (`globalThis[k](…)`).

**Why deny.** Plugin loaders compute module names from paths and configuration (`require(path.join(dir, name))`); that stays `new-dynamic-require`, which is allowed. Nothing in a published library needs to decode or splice the *name* of `child_process` or reach the internal loader: those forms exist to get past a reader or a scanner.

**How to silence.** A policy exception on `new-hidden-load` for the exact `name@version`, after reading the code."#,
};

pub(crate) fn is_hidden(o: &Occurrence) -> bool {
    o.detail
        .as_deref()
        .is_some_and(|d| d.starts_with("hidden load"))
}

pub(crate) fn diff(cx: &DiffCx<'_>, out: &mut Vec<Finding>) {
    out.extend(capability_rule(
        cx,
        &RULE,
        Capability::DynamicRequire,
        Weight::Fixed,
        is_hidden,
    ));
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::rules::testing::*;

    #[test]
    fn names_spliced_or_decoded_are_folded_and_reported() {
        for payload in [
            "const cp = require(String.fromCharCode(99,104,105,108,100,95,112,114,111,99,101,115,115));\ncp['ex' + 'ec']('id');",
            "const n = 'chi' + 'ld_process';\nrequire(n)[['ex', 'ec'].join('')]('id');",
            "module.constructor._load('child_process').execSync('id');",
            "process.mainModule.require('child_' + 'process').exec('id');",
        ] {
            let f = diff_index(
                "module.exports = 1;",
                &format!("module.exports = 1;\n{payload}"),
            );
            assert!(find(&f, RULE.code).is_some(), "{payload}: {:?}", codes(&f));
            assert!(
                find(&f, "new-child-process").is_some(),
                "{payload}: {:?}",
                codes(&f)
            );
        }
        let f = diff_index(
            "module.exports = 1;",
            "const m = require(atob(process.argv[2]));\nglobalThis[process.argv[3]]('x');",
        );
        assert!(find(&f, RULE.code).is_some(), "{:?}", codes(&f));
        let f = diff_index(
            "module.exports = 1;",
            "globalThis[atob('ZXZhbA==')]('1 + 1');",
        );
        assert!(find(&f, "new-eval").is_some(), "{:?}", codes(&f));
    }

    #[test]
    fn plugin_loaders_are_not_hidden() {
        let f = diff_index(
            "module.exports = 1;",
            "const path = require('path');\nmodule.exports = (dir, name) => require(path.join(dir, 'plugins', name));\nconst tpl = require('./templates/' + process.argv[2]);\n",
        );
        assert!(find(&f, RULE.code).is_none(), "{f:?}");
        assert!(find(&f, "new-dynamic-require").is_some(), "{:?}", codes(&f));
    }
}

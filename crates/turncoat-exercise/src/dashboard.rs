//! `turncoat report --html`: one self-contained page from battlecard [`Sample`]s.
//!
//! A pure function: samples in, HTML out. The page makes no request of any kind: CSS and SVG
//! are inline, there is no script, and a `Content-Security-Policy: default-src 'none'` meta tag
//! makes a browser refuse (and log) anything that would load. Every value that came from a
//! sample (scopes, package names, finding codes, detail) is HTML-escaped: they come from
//! repositories and registries an attacker may control.
//!
//! Hand-written rather than a template engine: the page is a few tiles and tables, and one
//! `escape` on every interpolation is easier to audit than a template's escaping rules.

use std::collections::BTreeMap;
use std::fmt::Write as _;

use time::OffsetDateTime;
use turncoat_metrics::{METRICS, MetricDef, Sample, Stage, Unit};

/// Rows shown in the drill and incident tables.
const MAX_ROWS: usize = 20;
/// Points in one trend plot (the latest ones).
const MAX_POINTS: usize = 60;

/// HTML-escape text for element content and quoted attribute values.
pub fn escape(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c if c.is_control() && c != '\n' && c != '\t' => out.push('\u{fffd}'),
            c => out.push(c),
        }
    }
    out
}

/// A value in its unit, for people.
pub fn format_value(unit: Unit, v: f64) -> String {
    match unit {
        Unit::Percent => format!("{v:.0} %"),
        Unit::Count if v.fract() == 0.0 && v.abs() < 1e15 => format!("{v:.0}"),
        Unit::Count => format!("{v:.1}"),
        Unit::Seconds => {
            if v < 120.0 {
                format!("{v:.1} s")
            } else if v < 7200.0 {
                format!("{:.1} min", v / 60.0)
            } else if v < 172_800.0 {
                format!("{:.1} h", v / 3600.0)
            } else {
                format!("{:.1} d", v / 86400.0)
            }
        }
    }
}

fn when(t: OffsetDateTime) -> String {
    let f = time::macros::format_description!("[year]-[month]-[day] [hour]:[minute] UTC");
    t.to_offset(time::UtcOffset::UTC)
        .format(&f)
        .unwrap_or_default()
}

const STYLE: &str = "body{font:14px/1.4 system-ui,sans-serif;margin:0;background:#f4f5f7;color:#1d2330}\
header{background:#1d2330;color:#fff;padding:16px 24px}header h1{margin:0;font-size:20px}\
header p{margin:4px 0 0;color:#b8c0d0}main{padding:16px 24px}\
.stages{display:grid;grid-template-columns:repeat(auto-fill,minmax(320px,1fr));gap:16px}\
.stage{background:#fff;border-radius:8px;padding:12px 16px;box-shadow:0 1px 2px #0002}\
.stage h2{margin:0 0 8px;font-size:16px}.metric{border-top:1px solid #e4e7ec;padding:8px 0}\
.metric .name{font-weight:600}.metric .sum{color:#5b6477;font-size:12px}\
.val{font-size:20px;font-weight:700}.ok{color:#12805c}.bad{color:#c4302b}.none{color:#8a93a6}\
.target{font-size:12px;color:#5b6477}svg{display:block;margin-top:4px}\
table{border-collapse:collapse;background:#fff;width:100%;margin-top:8px;box-shadow:0 1px 2px #0002}\
th,td{text-align:left;padding:6px 10px;border-bottom:1px solid #e4e7ec;font-size:13px}\
th{background:#eef0f4}section{margin-top:24px}.empty{background:#fff;border-radius:8px;padding:16px 20px}\
code{background:#eef0f4;padding:1px 4px;border-radius:3px}";

/// One incident as the store keeps it. The dashboard stays sans-IO: the CLI reads the store's
/// incident rows and passes them in.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IncidentRow {
    pub id: String,
    /// The affected packages, `name@range` each.
    pub spec: Vec<String>,
    /// Unix seconds.
    pub opened_at: i64,
    pub closed_at: Option<i64>,
    /// Closed with checklist items still open.
    pub forced: bool,
    pub items_total: usize,
    pub items_checked: usize,
}

/// Metrics whose samples are one per run and whose tile shows the sum per week (Monday
/// 00:00 UTC): builds blocked, new destinations.
pub const WEEKLY: &[&str] = &["egress-blocked-builds", "new-unapproved-domains"];

/// Days of gate alerts summed in the "alerts by code" table.
const ALERT_DAYS: i64 = 28;

/// The whole page, from samples only (no store incident rows).
pub fn render(samples: &[Sample], generated_at: OffsetDateTime) -> String {
    render_with(samples, &[], generated_at)
}

/// The whole page: samples, and the store's incident rows (open ones have no TTR sample yet).
pub fn render_with(
    samples: &[Sample],
    incident_rows: &[IncidentRow],
    generated_at: OffsetDateTime,
) -> String {
    let mut out = String::new();
    out.push_str("<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">");
    out.push_str(
        "<meta http-equiv=\"Content-Security-Policy\" content=\"default-src 'none'; style-src 'unsafe-inline'\">",
    );
    out.push_str("<meta name=\"viewport\" content=\"width=device-width,initial-scale=1\">");
    let _ = write!(
        out,
        "<title>turncoat metrics</title><style>{STYLE}</style></head><body>\
<header><h1>turncoat — battlecard metrics</h1><p>generated {} · {} sample(s)</p></header><main>",
        escape(&when(generated_at)),
        samples.len()
    );
    if samples.is_empty() && incident_rows.is_empty() {
        out.push_str(
            "<div class=\"empty\" id=\"empty\"><h2>No measurements yet</h2>\
<p>Nothing has been recorded. Fill the page by running a drill and recording it:</p>\
<p><code>turncoat drill --record metrics.jsonl</code> then \
<code>turncoat report --html metrics.html --samples metrics.jsonl</code>.</p>\
<p>Every battlecard metric (below) is written by the command named with it.</p></div>",
        );
    }
    out.push_str("<div class=\"stages\">");
    for stage in Stage::ALL {
        stage_tile(&mut out, stage, samples);
    }
    out.push_str("</div>");
    drills(&mut out, samples);
    alerts(&mut out, samples, generated_at);
    incidents(&mut out, samples, incident_rows, generated_at);
    let unknown = samples.iter().filter(|s| s.def().is_none()).count();
    if unknown > 0 {
        let _ = write!(
            out,
            "<section><p class=\"none\">{unknown} sample(s) of metrics this turncoat does not know \
(written by a newer version) are not shown.</p></section>"
        );
    }
    out.push_str("</main></body></html>\n");
    out
}

/// An `incident open` or `check` sample: the time so far, not a time to remediate.
fn interim(s: &Sample) -> bool {
    matches!(
        s.detail.get("event").and_then(|v| v.as_str()),
        Some("open" | "check")
    )
}

fn series<'a>(samples: &'a [Sample], def: &MetricDef) -> Vec<&'a Sample> {
    let mut v: Vec<&Sample> = samples
        .iter()
        .filter(|s| s.metric == def.name && s.value.is_finite() && !interim(s))
        .collect();
    v.sort_by_key(|s| s.at);
    v
}

fn stage_tile(out: &mut String, stage: Stage, samples: &[Sample]) {
    let _ = write!(
        out,
        "<div class=\"stage\" id=\"stage-{}\"><h2>{}</h2>",
        stage.as_str(),
        escape(stage.title())
    );
    for def in METRICS.iter().filter(|m| m.stage == stage) {
        let weekly_points;
        let s = if WEEKLY.contains(&def.name) {
            weekly_points = weekly(&series(samples, def), def.name);
            weekly_points.iter().collect()
        } else {
            series(samples, def)
        };
        let _ = write!(
            out,
            "<div class=\"metric\" id=\"metric-{}\"><div class=\"name\">{}</div><div class=\"sum\">{}</div>",
            def.name,
            escape(def.name),
            escape(def.summary)
        );
        let target = def
            .target
            .map(|t| {
                format!(
                    "target {} {}",
                    if def.better == turncoat_metrics::Better::Lower {
                        "≤"
                    } else {
                        "≥"
                    },
                    format_value(def.unit, t)
                )
            })
            .unwrap_or_else(|| "no universal target".into());
        match s.last() {
            None => {
                let _ = write!(
                    out,
                    "<div class=\"val none\">—</div><div class=\"target\">{} · not measured yet (<code>turncoat {}</code>)</div>",
                    escape(&target),
                    escape(def.source)
                );
            }
            Some(last) => {
                let class = match def.meets_target(last.value) {
                    Some(true) => "ok",
                    Some(false) => "bad",
                    None => "none",
                };
                let verdict = match def.meets_target(last.value) {
                    Some(true) => " · meets target",
                    Some(false) => " · misses target",
                    None => "",
                };
                let when_text = if WEEKLY.contains(&def.name) {
                    format!("week of {}", day(last.at))
                } else {
                    when(last.at)
                };
                let _ = write!(
                    out,
                    "<div class=\"val {class}\">{}</div><div class=\"target\">{}{} · {} · {}</div>",
                    escape(&format_value(def.unit, last.value)),
                    escape(&target),
                    verdict,
                    escape(&when_text),
                    escape(&last.scope)
                );
                out.push_str(&sparkline(&s, def));
            }
        }
        out.push_str("</div>");
    }
    out.push_str("</div>");
}

fn day(t: OffsetDateTime) -> String {
    let f = time::macros::format_description!("[year]-[month]-[day]");
    t.to_offset(time::UtcOffset::UTC)
        .format(&f)
        .unwrap_or_default()
}

/// The Monday 00:00 UTC that starts `t`'s week.
fn week_start(t: OffsetDateTime) -> OffsetDateTime {
    let t = t.to_offset(time::UtcOffset::UTC);
    let days = i64::from(t.weekday().number_days_from_monday());
    (t - time::Duration::days(days)).replace_time(time::Time::MIDNIGHT)
}

/// One point per week with samples: the sum of the week's values, except for
/// `new-unapproved-domains`, where a destination new in several runs of a week counts once
/// (the distinct `items` of the week; at least the largest single run's count, since a run
/// keeps at most 100 items). Scope is "all scopes" (the team's week).
fn weekly(s: &[&Sample], metric: &str) -> Vec<Sample> {
    let mut weeks: BTreeMap<OffsetDateTime, (f64, f64, std::collections::BTreeSet<String>)> =
        BTreeMap::new();
    for x in s {
        let w = weeks.entry(week_start(x.at)).or_default();
        w.0 += x.value;
        w.1 = w.1.max(x.value);
        if let Some(items) = x.detail.get("items").and_then(|v| v.as_array()) {
            w.2.extend(items.iter().filter_map(|i| i.as_str().map(str::to_string)));
        }
    }
    weeks
        .into_iter()
        .map(|(at, (sum, max, items))| {
            let value = if metric == "new-unapproved-domains" {
                (items.len() as f64).max(max)
            } else {
                sum
            };
            Sample {
                metric: metric.to_string(),
                value,
                at,
                scope: "all scopes".to_string(),
                source: String::new(),
                detail: serde_json::Map::new(),
            }
        })
        .collect()
}

/// An inline SVG trend of the latest points, with the target as a dashed line.
fn sparkline(s: &[&Sample], def: &MetricDef) -> String {
    let pts: Vec<f64> = s
        .iter()
        .rev()
        .take(MAX_POINTS)
        .rev()
        .map(|x| x.value)
        .collect();
    let (w, h, pad) = (280.0, 48.0, 4.0);
    let mut lo = pts.iter().copied().fold(f64::INFINITY, f64::min);
    let mut hi = pts.iter().copied().fold(f64::NEG_INFINITY, f64::max);
    if let Some(t) = def.target {
        lo = lo.min(t);
        hi = hi.max(t);
    }
    if (hi - lo).abs() < f64::EPSILON {
        hi = lo + 1.0;
    }
    let x = |i: usize| {
        if pts.len() == 1 {
            w / 2.0
        } else {
            pad + (w - 2.0 * pad) * i as f64 / (pts.len() - 1) as f64
        }
    };
    let y = |v: f64| h - pad - (h - 2.0 * pad) * (v - lo) / (hi - lo);
    let mut svg = format!(
        "<svg width=\"{w}\" height=\"{h}\" viewBox=\"0 0 {w} {h}\" role=\"img\" aria-label=\"trend of {}\">",
        escape(def.name)
    );
    if let Some(t) = def.target {
        let _ = write!(
            svg,
            "<line x1=\"0\" x2=\"{w}\" y1=\"{:.1}\" y2=\"{:.1}\" stroke=\"#12805c\" stroke-dasharray=\"4 3\" stroke-width=\"1\"/>",
            y(t),
            y(t)
        );
    }
    let line: Vec<String> = pts
        .iter()
        .enumerate()
        .map(|(i, v)| format!("{:.1},{:.1}", x(i), y(*v)))
        .collect();
    let _ = write!(
        svg,
        "<polyline fill=\"none\" stroke=\"#2f5fd0\" stroke-width=\"2\" points=\"{}\"/>",
        line.join(" ")
    );
    for (i, v) in pts.iter().enumerate() {
        let _ = write!(
            svg,
            "<circle cx=\"{:.1}\" cy=\"{:.1}\" r=\"2.5\" fill=\"#2f5fd0\"/>",
            x(i),
            y(*v)
        );
    }
    svg.push_str("</svg>");
    svg
}

fn detail(s: &Sample, key: &str) -> String {
    match s.detail.get(key) {
        Some(serde_json::Value::String(v)) => v.clone(),
        Some(serde_json::Value::Array(a)) => a
            .iter()
            .map(|v| {
                v.as_str()
                    .map(str::to_string)
                    .unwrap_or_else(|| v.to_string())
            })
            .collect::<Vec<_>>()
            .join(", "),
        Some(v) => v.to_string(),
        None => String::new(),
    }
}

fn latest<'a>(samples: &'a [Sample], metric: &str) -> Vec<&'a Sample> {
    let mut v: Vec<&Sample> = samples.iter().filter(|s| s.metric == metric).collect();
    v.sort_by_key(|s| std::cmp::Reverse(s.at));
    v.truncate(MAX_ROWS);
    v
}

fn drills(out: &mut String, samples: &[Sample]) {
    out.push_str("<section id=\"drills\"><h2>Last drills — time to detect</h2>");
    let rows = latest(samples, "time-to-detect");
    if rows.is_empty() {
        out.push_str("<p class=\"none\">No drill recorded: <code>turncoat drill --record FILE</code>.</p></section>");
        return;
    }
    let def = turncoat_metrics::metric("time-to-detect");
    out.push_str("<table><tr><th>detected</th><th>drill</th><th>scenario</th><th>layer</th><th>TTD</th><th>layer run</th><th>codes</th></tr>");
    for s in rows {
        let ok = def.and_then(|d| d.meets_target(s.value));
        let run = s
            .detail
            .get("run_seconds")
            .and_then(|v| v.as_f64())
            .map(|v| format_value(Unit::Seconds, v))
            .unwrap_or_default();
        let _ = write!(
            out,
            "<tr><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td class=\"{}\">{}</td><td>{}</td><td>{}</td></tr>",
            escape(&when(s.at)),
            escape(&s.scope),
            escape(&detail(s, "scenario")),
            escape(&detail(s, "layer")),
            if ok == Some(false) { "bad" } else { "ok" },
            escape(&format_value(Unit::Seconds, s.value)),
            escape(&run),
            escape(&detail(s, "codes")),
        );
    }
    out.push_str("</table></section>");
}

/// Gate alerts by finding code over the last [`ALERT_DAYS`] days (`by_code` of each
/// `gate-alerts` sample), most frequent first.
fn alerts(out: &mut String, samples: &[Sample], now: OffsetDateTime) {
    out.push_str("<section id=\"alerts\"><h2>Gate alerts by code — last 28 days</h2>");
    let since = now - time::Duration::days(ALERT_DAYS);
    let runs: Vec<&Sample> = samples
        .iter()
        .filter(|s| s.metric == "gate-alerts" && s.at >= since)
        .collect();
    let mut by_code: BTreeMap<String, (f64, usize)> = BTreeMap::new();
    for s in &runs {
        if let Some(m) = s.detail.get("by_code").and_then(|v| v.as_object()) {
            for (code, n) in m {
                let e = by_code.entry(code.clone()).or_default();
                e.0 += n.as_f64().unwrap_or(0.0);
                e.1 += 1;
            }
        }
    }
    if by_code.is_empty() {
        let _ = write!(
            out,
            "<p class=\"none\">No gate alert in {} recorded run(s) (<code>turncoat diff --record</code>).</p></section>",
            runs.len()
        );
        return;
    }
    let mut rows: Vec<(String, (f64, usize))> = by_code.into_iter().collect();
    rows.sort_by(|a, b| b.1.0.total_cmp(&a.1.0).then_with(|| a.0.cmp(&b.0)));
    let _ = write!(
        out,
        "<table><tr><th>finding code</th><th>alerts</th><th>runs with it (of {})</th></tr>",
        runs.len()
    );
    for (code, (n, r)) in rows.iter().take(MAX_ROWS) {
        let _ = write!(
            out,
            "<tr><td><code>{}</code></td><td>{}</td><td>{}</td></tr>",
            escape(code),
            escape(&format_value(Unit::Count, *n)),
            r
        );
    }
    out.push_str("</table></section>");
}

fn incidents(out: &mut String, samples: &[Sample], rows: &[IncidentRow], now: OffsetDateTime) {
    out.push_str("<section id=\"incidents\"><h2>Incidents — time to remediate</h2>");
    // Closed incidents known only from their samples (a `--samples` export, or rows not
    // passed in): the `close` sample, or a sample of an older turncoat without an event.
    let known: std::collections::BTreeSet<&str> = rows.iter().map(|r| r.id.as_str()).collect();
    let mut by_incident: BTreeMap<String, &Sample> = BTreeMap::new();
    for s in latest(samples, "time-to-remediate") {
        if interim(s) {
            continue;
        }
        let id = match detail(s, "incident") {
            d if d.is_empty() => s.scope.clone(),
            d => d,
        };
        if !known.contains(id.as_str()) {
            by_incident.entry(id).or_insert(s);
        }
    }
    if rows.is_empty() && by_incident.is_empty() {
        out.push_str("<p class=\"none\">No incident recorded (<code>turncoat incident open</code>).</p></section>");
        return;
    }
    let def = turncoat_metrics::metric("time-to-remediate");
    out.push_str("<table><tr><th>incident</th><th>packages</th><th>opened</th><th>status</th><th>TTR</th><th>checklist</th></tr>");
    // Open incidents first (newest first), then closed ones (newest first).
    let mut sorted: Vec<&IncidentRow> = rows.iter().collect();
    sorted.sort_by_key(|r| (r.closed_at.is_some(), std::cmp::Reverse(r.opened_at)));
    for r in sorted.iter().take(MAX_ROWS) {
        let opened = OffsetDateTime::from_unix_timestamp(r.opened_at).unwrap_or(now);
        let (status, ttr, class) = match r.closed_at {
            Some(c) => {
                let ttr = (c - r.opened_at).max(0) as f64;
                let ok = def.and_then(|d| d.meets_target(ttr));
                let closed = OffsetDateTime::from_unix_timestamp(c).unwrap_or(now);
                (
                    format!(
                        "closed {}{}",
                        when(closed),
                        if r.forced { " (forced)" } else { "" }
                    ),
                    format_value(Unit::Seconds, ttr),
                    if ok == Some(false) { "bad" } else { "ok" },
                )
            }
            None => {
                let open_for = (now.unix_timestamp() - r.opened_at).max(0) as f64;
                let over = def.and_then(|d| d.meets_target(open_for)) == Some(false);
                (
                    "open".to_string(),
                    format!("open for {}", format_value(Unit::Seconds, open_for)),
                    if over { "bad" } else { "none" },
                )
            }
        };
        let pct = if r.items_total == 0 {
            0.0
        } else {
            r.items_checked as f64 * 100.0 / r.items_total as f64
        };
        let _ = write!(
            out,
            "<tr class=\"incident\"><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td class=\"{class}\">{}</td>\
<td><svg width=\"80\" height=\"8\" role=\"img\" aria-label=\"{} of {} checked\"><rect width=\"80\" height=\"8\" fill=\"#e4e7ec\"/>\
<rect width=\"{:.1}\" height=\"8\" fill=\"#12805c\"/></svg> {}/{} checked</td></tr>",
            escape(&r.id),
            escape(&r.spec.join(", ")),
            escape(&when(opened)),
            escape(&status),
            escape(&ttr),
            r.items_checked,
            r.items_total,
            pct * 0.8,
            r.items_checked,
            r.items_total,
        );
    }
    for (id, s) in by_incident.iter().take(MAX_ROWS) {
        let _ = write!(
            out,
            "<tr class=\"incident\"><td>{}</td><td>{}</td><td></td><td>closed {}</td><td>{}</td><td></td></tr>",
            escape(id),
            escape(&detail(s, "packages")),
            escape(&when(s.at)),
            escape(&format_value(Unit::Seconds, s.value)),
        );
    }
    out.push_str("</table></section>");
}

/// Read samples from JSON Lines (one [`Sample`] per line; blank lines skipped). A bad line is
/// an error naming its line number, never a silently shorter dashboard.
pub fn read_jsonl(text: &str) -> Result<Vec<Sample>, String> {
    text.lines()
        .enumerate()
        .filter(|(_, l)| !l.trim().is_empty())
        .map(|(i, l)| serde_json::from_str::<Sample>(l).map_err(|e| format!("line {}: {e}", i + 1)))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(secs: i64) -> OffsetDateTime {
        OffsetDateTime::from_unix_timestamp(1_790_000_000 + secs).unwrap()
    }

    #[test]
    fn an_empty_store_says_how_to_fill_it() {
        let page = render(&[], at(0));
        assert!(page.contains("No measurements yet"));
        assert!(page.contains("turncoat drill --record"));
        for stage in Stage::ALL {
            assert!(page.contains(&format!("id=\"stage-{}\"", stage.as_str())));
        }
    }

    #[test]
    fn hostile_values_are_escaped() {
        let s = Sample::new("time-to-detect", 5.0, at(0), "<script>alert(1)</script>")
            .unwrap()
            .with("scenario", "\"><img src=x onerror=alert(1)>")
            .with("codes", vec!["<b>x</b>"]);
        let page = render(&[s], at(10));
        assert!(!page.contains("<script>alert"));
        assert!(!page.contains("<img"));
        assert!(!page.contains("<b>x"));
        assert!(page.contains("&lt;script&gt;alert(1)&lt;/script&gt;"));
        assert!(page.contains("&quot;&gt;&lt;img"));
        // Nothing in the page itself loads anything: no script, link, source or CSS import.
        let own = render(
            &[Sample::new("gate-alerts", 1.0, at(0), "x").unwrap()],
            at(1),
        );
        for needle in ["<script", "src=", "href=", "url(", "@import", "<link"] {
            assert!(!own.contains(needle), "{needle}");
        }
        assert!(own.contains("default-src 'none'"));
    }

    #[test]
    fn tiles_show_latest_value_and_target() {
        let samples = vec![
            Sample::new("personal-emails-exposed", 4.0, at(0), "org").unwrap(),
            Sample::new("personal-emails-exposed", 0.0, at(100), "org").unwrap(),
            Sample::new("time-to-detect", 7200.0, at(50), "drill x")
                .unwrap()
                .with("layer", "gate"),
        ];
        let page = render(&samples, at(200));
        let start = page.find("id=\"metric-personal-emails-exposed\"").unwrap();
        let rest = &page[start + 1..];
        let tile = &rest[..rest.find("id=\"metric-").unwrap_or(rest.len())];
        assert!(tile.contains("val ok\">0<"), "{tile}");
        assert!(tile.contains("meets target"));
        assert!(tile.contains("<polyline"));
        let ttd = &page[page.find("id=\"metric-time-to-detect\"").unwrap()..];
        assert!(ttd.contains("val bad\">2.0 h<"));
        assert!(page.contains("id=\"drills\""));
    }

    fn section<'a>(page: &'a str, id: &str) -> &'a str {
        let start = page.find(&format!("<section id=\"{id}\"")).expect(id);
        let rest = &page[start..];
        &rest[..rest.find("</section>").unwrap()]
    }

    #[test]
    fn incident_rows_show_open_incidents_with_checklist_progress_and_closed_ones_with_ttr() {
        let rows = vec![
            IncidentRow {
                id: "inc-open".into(),
                spec: vec!["evil@1.0.1".into()],
                opened_at: at(0).unix_timestamp(),
                closed_at: None,
                forced: false,
                items_total: 5,
                items_checked: 2,
            },
            IncidentRow {
                id: "inc-closed".into(),
                spec: vec!["<b>bad</b>@2".into()],
                opened_at: at(0).unix_timestamp(),
                closed_at: Some(at(7200).unix_timestamp()),
                forced: true,
                items_total: 3,
                items_checked: 3,
            },
        ];
        // The `open` sample (TTR 0 so far) is not a time to remediate.
        let samples = vec![
            Sample::new("time-to-remediate", 0.0, at(0), "inc-open")
                .unwrap()
                .with("event", "open"),
        ];
        let page = render_with(&samples, &rows, at(3600));
        let inc = section(&page, "incidents");
        assert_eq!(inc.matches("<tr class=\"incident\">").count(), 2, "{inc}");
        let open = &inc[inc.find("inc-open").unwrap()..inc.find("inc-closed").unwrap()];
        assert!(open.contains(">open<"), "{open}");
        assert!(open.contains("open for 60.0 min"), "{open}");
        assert!(open.contains("2/5 checked"), "{open}");
        let closed = &inc[inc.find("inc-closed").unwrap()..];
        assert!(
            closed.contains("(forced)") && closed.contains("2.0 h"),
            "{closed}"
        );
        assert!(closed.contains("3/3 checked"));
        assert!(closed.contains("&lt;b&gt;bad"));
        // The tile ignores the interim sample: nothing closed, nothing measured.
        let start = page.find("id=\"metric-time-to-remediate\"").unwrap();
        assert!(page[start..].contains("not measured yet"));
        // Without store rows, a closed incident known from its `close` sample still shows.
        let close = Sample::new("time-to-remediate", 600.0, at(600), "inc-x")
            .unwrap()
            .with("event", "close");
        let page = render(&[close], at(700));
        let inc = section(&page, "incidents");
        assert!(inc.contains("inc-x") && inc.contains("10.0 min"), "{inc}");
    }

    #[test]
    fn watch_metrics_are_summed_per_week_and_new_domains_counted_once() {
        // 1_790_000_000 is a Monday (14:13 UTC); +7 days is in the next week.
        let day = 86_400;
        let domains = |t: i64, items: &[&str]| {
            Sample::new("new-unapproved-domains", items.len() as f64, at(t), "p")
                .unwrap()
                .with("items", items.to_vec())
        };
        let samples = vec![
            Sample::new("egress-blocked-builds", 1.0, at(0), "a").unwrap(),
            Sample::new("egress-blocked-builds", 0.0, at(day), "b").unwrap(),
            Sample::new("egress-blocked-builds", 1.0, at(2 * day), "a").unwrap(),
            Sample::new("egress-blocked-builds", 1.0, at(7 * day), "a").unwrap(),
            domains(0, &["x.example", "y.example"]),
            domains(day, &["x.example"]),
        ];
        let refs: Vec<&Sample> = samples.iter().collect();
        let blocked: Vec<&Sample> = refs
            .iter()
            .copied()
            .filter(|s| s.metric == "egress-blocked-builds")
            .collect();
        let w = weekly(&blocked, "egress-blocked-builds");
        assert_eq!(
            w.iter().map(|s| s.value).collect::<Vec<_>>(),
            vec![2.0, 1.0]
        );
        assert_eq!(w[1].at.weekday(), time::Weekday::Monday);
        let d: Vec<&Sample> = refs
            .iter()
            .copied()
            .filter(|s| s.metric == "new-unapproved-domains")
            .collect();
        assert_eq!(weekly(&d, "new-unapproved-domains")[0].value, 2.0);
        let page = render(&samples, at(8 * day));
        let start = page.find("id=\"metric-egress-blocked-builds\"").unwrap();
        let tile = &page[start..start + page[start..].find("</svg>").unwrap()];
        assert!(tile.contains("val bad\">1<"), "{tile}");
        assert!(tile.contains("week of "), "{tile}");
    }

    #[test]
    fn gate_alerts_are_tabled_by_code_over_four_weeks() {
        let run = |t: i64, codes: serde_json::Value| {
            Sample::new("gate-alerts", 0.0, at(t), "repo")
                .unwrap()
                .with("by_code", codes)
        };
        let samples = vec![
            run(
                0,
                serde_json::json!({"new-install-script": 2, "new-network": 1}),
            ),
            run(100, serde_json::json!({"new-network": 4})),
            // Older than 28 days before the page: not counted.
            run(-40 * 86_400, serde_json::json!({"old-code": 9})),
        ];
        let page = render(&samples, at(200));
        let t = section(&page, "alerts");
        let net = t.find("new-network").unwrap();
        let inst = t.find("new-install-script").unwrap();
        assert!(net < inst, "most frequent first: {t}");
        assert!(
            t.contains("<code>new-network</code></td><td>5</td><td>2</td>"),
            "{t}"
        );
        assert!(!t.contains("old-code"));
        assert!(section(&render(&[], at(0)), "alerts").contains("No gate alert"));
    }

    #[test]
    fn jsonl_errors_name_the_line() {
        let good =
            serde_json::to_string(&Sample::new("gate-alerts", 1.0, at(0), "x").unwrap()).unwrap();
        assert_eq!(read_jsonl(&format!("{good}\n\n{good}\n")).unwrap().len(), 2);
        let err = read_jsonl(&format!("{good}\nnot json\n")).unwrap_err();
        assert!(err.starts_with("line 2:"), "{err}");
    }

    #[test]
    fn values_read_for_their_unit() {
        assert_eq!(format_value(Unit::Seconds, 30.0), "30.0 s");
        assert_eq!(format_value(Unit::Seconds, 600.0), "10.0 min");
        assert_eq!(format_value(Unit::Seconds, 86400.0 * 3.0), "3.0 d");
        assert_eq!(format_value(Unit::Percent, 99.6), "100 %");
        assert_eq!(format_value(Unit::Count, 3.0), "3");
    }
}

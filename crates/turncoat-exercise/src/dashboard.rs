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

/// The whole page.
pub fn render(samples: &[Sample], generated_at: OffsetDateTime) -> String {
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
    if samples.is_empty() {
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
    incidents(&mut out, samples);
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

fn series<'a>(samples: &'a [Sample], def: &MetricDef) -> Vec<&'a Sample> {
    let mut v: Vec<&Sample> = samples
        .iter()
        .filter(|s| s.metric == def.name && s.value.is_finite())
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
        let s = series(samples, def);
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
                let _ = write!(
                    out,
                    "<div class=\"val {class}\">{}</div><div class=\"target\">{}{} · {} · {}</div>",
                    escape(&format_value(def.unit, last.value)),
                    escape(&target),
                    verdict,
                    escape(&when(last.at)),
                    escape(&last.scope)
                );
                out.push_str(&sparkline(&s, def));
            }
        }
        out.push_str("</div>");
    }
    out.push_str("</div>");
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

fn incidents(out: &mut String, samples: &[Sample]) {
    out.push_str("<section id=\"incidents\"><h2>Incidents — time to remediate</h2>");
    let rows = latest(samples, "time-to-remediate");
    if rows.is_empty() {
        out.push_str("<p class=\"none\">No closed incident recorded (<code>turncoat incident</code>).</p></section>");
        return;
    }
    let mut by_incident: BTreeMap<String, &Sample> = BTreeMap::new();
    for s in rows {
        let key = format!("{}\u{0}{}", s.scope, detail(s, "incident"));
        by_incident.entry(key).or_insert(s);
    }
    out.push_str("<table><tr><th>closed</th><th>scope</th><th>incident</th><th>TTR</th></tr>");
    for s in by_incident.values() {
        let _ = write!(
            out,
            "<tr><td>{}</td><td>{}</td><td>{}</td><td>{}</td></tr>",
            escape(&when(s.at)),
            escape(&s.scope),
            escape(&detail(s, "incident")),
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

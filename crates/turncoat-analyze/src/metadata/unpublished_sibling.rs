//! `unpublished-sibling`: versions published near the candidate were unpublished.

use turncoat_finding::{Finding, Level, RuleDoc, Severity};

use super::{MetaCx, fmt_time};

pub(crate) const RULE: RuleDoc = RuleDoc {
    code: "unpublished-sibling",
    group: "metadata",
    severity: Severity::High,
    default_level: Level::Deny,
    summary: "Versions published close to the candidate have been unpublished: an incident may be in progress.",
    doc: r#"Fires when the packument's `time` lists versions that are gone from `versions` and were published within `sibling_window_days` (default 7) of the candidate (or of now, when the candidate's time is unknown).

**Why it matters.** Registries and maintainers remove malicious releases quickly, but siblings published by the same attacker in the same wave may still be up (chalk/debug 2025: 19 packages; TanStack 2026: 84 versions). A gap in `versions` next to your candidate is the cheapest incident signal there is.

**Example.** You update to 1.169.8; 1.169.5 and 1.169.6, published the same hour, were unpublished.

**How to silence.** Wait until the maintainers have published a statement, then add a policy exception on `unpublished-sibling` for `name@version`."#,
};

pub(crate) fn check(cx: &MetaCx<'_>, out: &mut Vec<Finding>) {
    let anchor = cx.time(cx.to).unwrap_or(cx.now);
    let window = i64::from(cx.opts.sibling_window_days) * 86_400;
    let near: Vec<(String, i64)> =
        cx.p.unpublished_versions()
            .into_iter()
            .filter(|v| *v != cx.to)
            .filter_map(|v| cx.time(v).map(|t| (v.to_string(), t)))
            .filter(|(_, t)| (t - anchor).abs() <= window)
            .collect();
    if near.is_empty() {
        return;
    }
    let list: Vec<String> = near
        .iter()
        .take(5)
        .map(|(v, t)| format!("{v} ({})", fmt_time(*t)))
        .collect();
    out.push(Finding::new(
        &RULE,
        format!(
            "{} version(s) of {} published within {} days of {} were unpublished: {}",
            near.len(),
            cx.name,
            cx.opts.sibling_window_days,
            cx.to,
            list.join(", ")
        ),
    ));
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::metadata::testing::*;
    use crate::metadata::{MetadataOptions, findings};

    #[test]
    fn nearby_unpublished_fires() {
        let p = packument(
            &[
                ("1.169.2", "2026-05-01T00:00:00Z"),
                ("1.169.8", "2026-05-11T19:26:00Z"),
            ],
            &[("1.169.5", "2026-05-11T19:20:00Z")],
        );
        let f = findings(
            &p,
            Some("1.169.2"),
            "1.169.8",
            at("2026-05-20T00:00:00Z"),
            &MetadataOptions::default(),
        );
        let hit = f.iter().find(|f| f.code == RULE.code).expect("finding");
        assert!(hit.message.contains("1.169.5"));
    }

    #[test]
    fn old_unpublish_is_quiet() {
        let p = packument(
            &[("2.0.0", "2024-01-01T00:00:00Z")],
            &[("1.0.1", "2019-01-01T00:00:00Z")],
        );
        let f = findings(
            &p,
            None,
            "2.0.0",
            at("2024-06-01T00:00:00Z"),
            &MetadataOptions::default(),
        );
        assert!(f.iter().all(|f| f.code != RULE.code));
    }
}

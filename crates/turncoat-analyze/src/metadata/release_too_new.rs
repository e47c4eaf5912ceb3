//! `release-too-new`: the candidate is younger than the cooldown.

use turncoat_finding::{Finding, Level, RuleDoc, Severity};

use super::{MetaCx, fmt_time};

pub(crate) const RULE: RuleDoc = RuleDoc {
    code: "release-too-new",
    group: "metadata",
    severity: Severity::Medium,
    default_level: Level::Warn,
    summary: "The version was published less than the cooldown (default 2 days) ago.",
    doc: r#"Fires when the candidate's publish time is less than `cooldown_days` (default 2) before now.

**Why it matters.** Cooldowns are the most effective single control against hijacked releases: 8 of 10 studied attacks were removed within a week, most within hours (ua-parser-js ~4 h, chalk/debug ~2 h, axios ~3 h, nx ~5 h). Waiting two days lets the ecosystem's scanners and users find them first.

**Example.** Updating to a version published 3 hours ago.

**How to silence.** Wait; or, for an urgent security fix, add a time-boxed policy exception on `release-too-new` for that exact `name@version`."#,
};

pub(crate) fn check(cx: &MetaCx<'_>, out: &mut Vec<Finding>) {
    let Some(t) = cx.time(cx.to) else { return };
    let age = cx.now - t;
    let cooldown = i64::from(cx.opts.cooldown_days) * 86_400;
    if age >= cooldown {
        return;
    }
    let hours = age.max(0) / 3600;
    let from = cx
        .from
        .map(|f| format!(" (update from {f})"))
        .unwrap_or_default();
    out.push(Finding::new(
        &RULE,
        format!(
            "{}@{}{from} was published {hours} h ago ({}); the cooldown is {} days",
            cx.name,
            cx.to,
            fmt_time(t),
            cx.opts.cooldown_days
        ),
    ));
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::metadata::testing::*;
    use crate::metadata::{MetadataOptions, findings};

    #[test]
    fn fresh_release_warns() {
        let p = packument(
            &[
                ("1.0.0", "2025-01-01T00:00:00Z"),
                ("1.0.1", "2025-09-08T13:16:00Z"),
            ],
            &[],
        );
        let f = findings(
            &p,
            Some("1.0.0"),
            "1.0.1",
            at("2025-09-08T16:16:00Z"),
            &MetadataOptions::default(),
        );
        let hit = f.iter().find(|f| f.code == RULE.code).expect("finding");
        assert!(hit.message.contains("3 h ago"), "{}", hit.message);
    }

    #[test]
    fn aged_release_is_quiet() {
        let p = packument(&[("1.0.1", "2025-09-01T00:00:00Z")], &[]);
        let f = findings(
            &p,
            None,
            "1.0.1",
            at("2025-09-08T00:00:00Z"),
            &MetadataOptions::default(),
        );
        assert!(f.iter().all(|f| f.code != RULE.code));
    }
}

use turncoat_finding::{Level, RuleDoc, Severity};

use crate::event::Event;

pub const RULE: RuleDoc = RuleDoc {
    code: "monitor-unjudged",
    group: super::GROUP,
    severity: Severity::High,
    default_level: Level::Deny,
    summary: "the gate could not judge a new version of a locked dependency",
    doc: r#"The monitor runs the gate on every new version of a locked dependency (the update
from the locked version, as `turncoat diff` would see it). When that fails — the tarball cannot
be fetched or does not match its integrity, the registry refuses, more new versions appeared at
once than the monitor judges per poll — the alert says the version could not be judged, at
block level: fail closed, never a silent pass. Run `turncoat diff` on a lockfile with the update
to see why."#,
};

/// The alert for a version the gate could not judge.
pub fn event(package: &str, version: &str, reason: &str) -> Event {
    Event::new(
        &RULE,
        package,
        Some(version),
        format!("could not judge {package}@{version}: {reason}"),
    )
}

#[cfg(test)]
mod tests {
    use crate::AlertLevel;

    #[test]
    fn is_a_block_and_names_the_reason() {
        let e = super::event("left-pad", "1.0.1", "HTTP 500");
        assert_eq!(e.level, AlertLevel::Block);
        assert!(
            e.message
                .starts_with("could not judge left-pad@1.0.1: HTTP 500")
        );
    }
}

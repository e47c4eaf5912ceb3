use turncoat_finding::{Level, RuleDoc, Severity};

use crate::event::Event;

pub const RULE: RuleDoc = RuleDoc {
    code: "monitor-poll-failed",
    group: super::GROUP,
    severity: Severity::Medium,
    default_level: Level::Warn,
    summary: "the registry document of a followed package could not be fetched or was refused",
    doc: r#"The poll failed: a network error, a throttling answer (429/503, `Retry-After`
honoured), a document that lies about itself (another package's name, thousands of
maintainers, names longer than any registry allows) or a 304 to a request that sent no ETag.
The stored state is kept as it was (a refused document never becomes the baseline) and the
package is polled again after an exponential backoff with jitter. While a package fails, changes
to it go unseen: the alert says so."#,
};

/// The alert for a failed poll; `retry_in` seconds until the next attempt.
pub fn event(package: &str, reason: &str, failures: i64, retry_in: u64) -> Event {
    Event::new(
        &RULE,
        package,
        None,
        format!(
            "cannot follow {package}: {reason} (failure {failures}; next attempt in {retry_in} s)"
        ),
    )
}

#[cfg(test)]
mod tests {
    #[test]
    fn says_when_the_next_attempt_is() {
        let e = super::event("x", "HTTP 503", 2, 120);
        assert_eq!(e.code, "monitor-poll-failed");
        assert!(e.message.contains("next attempt in 120 s"), "{}", e.message);
    }
}

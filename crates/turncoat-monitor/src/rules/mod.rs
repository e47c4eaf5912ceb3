//! The codes `turncoat monitor` reports, one per file, each with its cases beside it.

pub mod dist_tag_dangling;
pub mod dist_tag_moved;
pub mod file_added;
pub mod future_publish_time;
pub mod latest_backwards;
pub mod maintainer_added;
pub mod maintainer_removed;
pub mod new_version;
pub mod poll_failed;
pub mod provenance_lost;
pub mod publisher_changed;
pub mod takeover;
pub mod unjudged;
pub mod version_unpublished;
pub mod version_yanked;

use turncoat_finding::RuleDoc;

pub const GROUP: &str = "monitor";

pub const ALL: &[&RuleDoc] = &[
    &dist_tag_dangling::RULE,
    &dist_tag_moved::RULE,
    &file_added::RULE,
    &future_publish_time::RULE,
    &latest_backwards::RULE,
    &maintainer_added::RULE,
    &maintainer_removed::RULE,
    &new_version::RULE,
    &poll_failed::RULE,
    &provenance_lost::RULE,
    &publisher_changed::RULE,
    &takeover::RULE,
    &unjudged::RULE,
    &version_unpublished::RULE,
    &version_yanked::RULE,
];

/// `a, b, c and 4 more`: names in a message, bounded.
pub(crate) fn list(names: &[&str]) -> String {
    const SHOWN: usize = 10;
    let mut s = names
        .iter()
        .take(SHOWN)
        .map(|n| format!("`{n}`"))
        .collect::<Vec<_>>()
        .join(", ");
    if names.len() > SHOWN {
        s.push_str(&format!(" and {} more", names.len() - SHOWN));
    }
    s
}

#[cfg(test)]
mod tests {
    #[test]
    fn codes_are_kebab_case_and_in_the_monitor_namespace() {
        for r in super::ALL {
            assert!(turncoat_finding::is_kebab_case(r.code), "{}", r.code);
            assert!(r.code.starts_with("monitor-"), "{}", r.code);
            assert_eq!(r.group, super::GROUP);
        }
        assert_eq!(super::list(&["a"; 12]).matches('`').count(), 20);
        assert!(super::list(&["a"; 12]).ends_with("and 2 more"));
    }
}

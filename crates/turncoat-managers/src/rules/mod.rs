//! The codes `turncoat policy compile --check` reports, one per file.

pub mod manager_cannot_pin;
pub mod manager_setting_drift;
pub mod manager_setting_not_read;
pub mod manager_too_old;

use turncoat_finding::RuleDoc;

pub const GROUP: &str = "managers";

pub const ALL: &[&RuleDoc] = &[
    &manager_cannot_pin::RULE,
    &manager_setting_drift::RULE,
    &manager_setting_not_read::RULE,
    &manager_too_old::RULE,
];

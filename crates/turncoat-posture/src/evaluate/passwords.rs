//! `turncoat recon passwords` results joined into the people table.
//!
//! A results file (`--format json`, schema `turncoat-recon-passwords/1`) is one vault export's
//! verdict, so it is given per person (`--passwords NAME=FILE`). Only its `metrics` are read:
//! developer-platform logins, and how many are breached (Pwned Passwords), reused and weak.
//! The file carries no passwords or hashes, and nothing else of it is copied.

use serde::Serialize;

/// The schema `turncoat recon passwords --format json` writes.
pub const SCHEMA: &str = "turncoat-recon-passwords/1";

/// One person's password check.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct PasswordResults {
    pub person: String,
    pub file: String,
    pub developer_logins: u64,
    /// `None` when Pwned Passwords was not consulted (`--no-pwned`).
    pub breached: Option<u64>,
    pub reused: u64,
    pub weak: u64,
}

impl PasswordResults {
    /// `breached/reused/weak of N`, `-` for a check not made.
    pub fn summary(&self) -> String {
        format!(
            "{}/{}/{} of {}",
            self.breached.map_or("-".into(), |b| b.to_string()),
            self.reused,
            self.weak,
            self.developer_logins
        )
    }
}

/// Parse one results file for `person`; a file of another schema or shape is an error naming
/// the file, never an empty row.
pub fn parse(person: &str, file: &str, bytes: &[u8]) -> Result<PasswordResults, String> {
    let v: serde_json::Value =
        serde_json::from_slice(bytes).map_err(|e| format!("{file}: not JSON: {e}"))?;
    let schema = v.get("schema").and_then(serde_json::Value::as_str);
    if schema != Some(SCHEMA) {
        return Err(format!(
            "{file}: not a `turncoat recon passwords --format json` report (schema {}, expected {SCHEMA})",
            schema.unwrap_or("missing")
        ));
    }
    let m = v
        .get("metrics")
        .ok_or_else(|| format!("{file}: no `metrics`"))?;
    let count = |k: &str| -> Result<u64, String> {
        m.get(k)
            .and_then(serde_json::Value::as_u64)
            .ok_or_else(|| format!("{file}: `metrics.{k}` is not a count"))
    };
    let checked = m
        .get("checked_against_pwned_passwords")
        .and_then(serde_json::Value::as_bool)
        .unwrap_or(false);
    let logins = count("developer_logins")?;
    let out = PasswordResults {
        person: person.to_string(),
        file: file.to_string(),
        developer_logins: logins,
        breached: if checked {
            Some(count("breached")?)
        } else {
            None
        },
        reused: count("reused")?,
        weak: count("weak")?,
    };
    if [out.breached.unwrap_or(0), out.reused, out.weak]
        .iter()
        .any(|n| *n > logins)
    {
        return Err(format!("{file}: more flagged logins than developer logins"));
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_documented_report_is_read() {
        // docs/recon.md, "Passwords": the JSON example.
        let doc = br#"{"schema": "turncoat-recon-passwords/1", "format": "bitwarden-json",
 "metrics": {"entries": 4, "developer_logins": 3, "checked_against_pwned_passwords": true,
             "breached": 1, "reused": 1, "weak": 1,
             "breached_percent": 33.3, "reused_percent": 33.3, "weak_percent": 33.3,
             "platforms": {"github": 1, "npm": 1, "pypi": 1}},
 "entries": [], "findings": []}"#;
        let r = parse("Alice", "alice.json", doc).unwrap();
        assert_eq!(r.summary(), "1/1/1 of 3");
        let unchecked = br#"{"schema": "turncoat-recon-passwords/1", "metrics": {"developer_logins": 2, "checked_against_pwned_passwords": false, "breached": 0, "reused": 0, "weak": 2}}"#;
        assert_eq!(parse("B", "b", unchecked).unwrap().summary(), "-/0/2 of 2");
    }

    #[test]
    fn other_files_are_errors() {
        assert!(
            parse("A", "f", b"{}")
                .unwrap_err()
                .contains("schema missing")
        );
        assert!(parse("A", "f", br#"{"schema": "turncoat-recon-passwords/1"}"#).is_err());
        let lying = br#"{"schema": "turncoat-recon-passwords/1", "metrics": {"developer_logins": 1, "checked_against_pwned_passwords": true, "breached": 5, "reused": 0, "weak": 0}}"#;
        assert!(parse("A", "f", lying).is_err());
    }
}

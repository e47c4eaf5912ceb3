//! The roster: the team's packages and, per person, registry accounts and how each account is
//! protected. `publishers.toml`, or the `[publishers]` table of `turncoat.toml`:
//!
//! ```toml
//! [[package]]
//! name = "left-pad"          # ecosystem = "npm" (default) or "pypi"
//!
//! [[person]]
//! name = "Alice"
//! npm = "alice"              # registry user names (either or both)
//! pypi = "alice"
//! mfa = "hardware-key"       # hardware-key | passkey | totp | sms | none
//! password-manager = true
//! recovery-codes = true
//! ```
//!
//! Unknown keys are rejected; errors name the file, the line and the key (serde through
//! `toml`'s spans).

use serde::{Deserialize, Serialize};

#[derive(
    Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Default, Serialize, Deserialize,
)]
#[serde(rename_all = "lowercase")]
pub enum Ecosystem {
    #[default]
    Npm,
    Pypi,
}

impl Ecosystem {
    pub fn as_str(self) -> &'static str {
        match self {
            Ecosystem::Npm => "npm",
            Ecosystem::Pypi => "pypi",
        }
    }
}

/// The second factor a person uses on the registries.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Mfa {
    HardwareKey,
    Passkey,
    Totp,
    Sms,
    None,
}

impl Mfa {
    pub fn as_str(self) -> &'static str {
        match self {
            Mfa::HardwareKey => "hardware-key",
            Mfa::Passkey => "passkey",
            Mfa::Totp => "totp",
            Mfa::Sms => "sms",
            Mfa::None => "none",
        }
    }

    /// WebAuthn: bound to the real origin, so a phishing page cannot relay it.
    pub fn phishing_resistant(self) -> bool {
        matches!(self, Mfa::HardwareKey | Mfa::Passkey)
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
pub struct Package {
    pub name: String,
    #[serde(default)]
    pub ecosystem: Ecosystem,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
pub struct Person {
    pub name: String,
    #[serde(default)]
    pub npm: Option<String>,
    #[serde(default)]
    pub pypi: Option<String>,
    pub mfa: Mfa,
    pub password_manager: bool,
    #[serde(default)]
    pub recovery_codes: Option<bool>,
}

impl Person {
    /// This person's user name on `eco`.
    pub fn account(&self, eco: Ecosystem) -> Option<&str> {
        match eco {
            Ecosystem::Npm => self.npm.as_deref(),
            Ecosystem::Pypi => self.pypi.as_deref(),
        }
    }
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Roster {
    #[serde(default, rename = "package")]
    pub packages: Vec<Package>,
    #[serde(default, rename = "person")]
    pub people: Vec<Person>,
}

#[derive(Debug, thiserror::Error)]
#[error("{file}:{line}: {message}")]
pub struct RosterError {
    pub file: String,
    pub line: usize,
    pub message: String,
}

/// The `[publishers]` table of `turncoat.toml`; every other table is the policy's.
#[derive(Deserialize)]
struct InPolicy {
    #[serde(default)]
    publishers: Option<toml::Spanned<toml::Table>>,
}

fn line_of(text: &str, offset: usize) -> usize {
    text.get(..offset.min(text.len()))
        .map_or(1, |s| s.bytes().filter(|&b| b == b'\n').count() + 1)
}

fn error(file: &str, text: &str, e: &toml::de::Error, base: usize) -> RosterError {
    RosterError {
        file: file.to_string(),
        line: e.span().map_or(1, |s| line_of(text, s.start + base)),
        message: e.message().to_string(),
    }
}

/// Parse `publishers.toml`.
pub fn parse(file: &str, text: &str) -> Result<Roster, RosterError> {
    let roster: Roster = toml::from_str(text).map_err(|e| error(file, text, &e, 0))?;
    check(file, text, roster)
}

/// The `[publishers]` table of a `turncoat.toml`; `None` when it has none.
pub fn parse_in_policy(file: &str, text: &str) -> Result<Option<Roster>, RosterError> {
    let outer: InPolicy = toml::from_str(text).map_err(|e| error(file, text, &e, 0))?;
    let Some(table) = outer.publishers else {
        return Ok(None);
    };
    let start = table.span().start;
    let roster = Roster::deserialize(toml::Value::Table(table.into_inner())).map_err(|e| {
        RosterError {
            file: file.to_string(),
            // A value has no position of its own: the table's line.
            line: line_of(text, start),
            message: format!("[publishers]: {}", e.message()),
        }
    })?;
    check(file, text, roster).map(Some)
}

/// What serde cannot say: empty names, a person without any account, duplicates.
fn check(file: &str, text: &str, roster: Roster) -> Result<Roster, RosterError> {
    let line_with = |needle: &str| {
        text.lines()
            .position(|l| l.contains(needle))
            .map_or(1, |i| i + 1)
    };
    let fail = |needle: &str, message: String| RosterError {
        file: file.to_string(),
        line: line_with(needle),
        message,
    };
    for p in &roster.people {
        if p.npm.is_none() && p.pypi.is_none() {
            return Err(fail(
                &p.name,
                format!("person `{}` has no `npm` or `pypi` account", p.name),
            ));
        }
    }
    for eco in [Ecosystem::Npm, Ecosystem::Pypi] {
        let mut seen = std::collections::HashSet::new();
        for p in &roster.people {
            if let Some(a) = p.account(eco)
                && !seen.insert(a.to_ascii_lowercase())
            {
                return Err(fail(
                    a,
                    format!("{} account `{a}` is listed twice", eco.as_str()),
                ));
            }
        }
    }
    for p in &roster.packages {
        if p.name.trim().is_empty() {
            return Err(fail("[[package]]", "a package with an empty name".into()));
        }
    }
    Ok(roster)
}

#[cfg(test)]
mod tests {
    use super::*;

    const GOOD: &str = "[[package]]\nname = \"widget\"\n\n[[package]]\nname = \"widget-py\"\necosystem = \"pypi\"\n\n[[person]]\nname = \"Alice\"\nnpm = \"alice\"\nmfa = \"hardware-key\"\npassword-manager = true\n";

    #[test]
    fn parses_packages_and_people() {
        let r = parse("publishers.toml", GOOD).unwrap();
        assert_eq!(r.packages.len(), 2);
        assert_eq!(r.packages[1].ecosystem, Ecosystem::Pypi);
        assert_eq!(r.people[0].mfa, Mfa::HardwareKey);
        assert_eq!(r.people[0].account(Ecosystem::Npm), Some("alice"));
    }

    #[test]
    fn unknown_keys_and_bad_values_name_the_line_and_key() {
        let e = parse(
            "p.toml",
            &GOOD.replace("password-manager", "pasword-manager"),
        )
        .unwrap_err();
        assert_eq!(e.line, 12, "{e}");
        assert!(e.to_string().contains("pasword-manager"), "{e}");
        let e = parse("p.toml", &GOOD.replace("hardware-key", "yubikey")).unwrap_err();
        assert_eq!(e.line, 11, "{e}");
        assert!(
            e.to_string()
                .starts_with("p.toml:11: unknown variant `yubikey`"),
            "{e}"
        );
        let e = parse(
            "p.toml",
            "[[person]]\nname = \"Bob\"\nmfa = \"sms\"\npassword-manager = false\n",
        )
        .unwrap_err();
        assert!(
            e.to_string().contains("has no `npm` or `pypi` account"),
            "{e}"
        );
    }

    #[test]
    fn the_publishers_table_of_turncoat_toml() {
        let text = "[levels]\nsms-mfa = \"deny\"\n\n[publishers]\n[[publishers.person]]\nname = \"A\"\nnpm = \"a\"\nmfa = \"totp\"\npassword-manager = true\n";
        let r = parse_in_policy("turncoat.toml", text).unwrap().unwrap();
        assert_eq!(r.people[0].mfa, Mfa::Totp);
        assert!(
            parse_in_policy("turncoat.toml", "[levels]\n")
                .unwrap()
                .is_none()
        );
        let e =
            parse_in_policy("turncoat.toml", &text.replace("mfa = ", "mfa_kind = ")).unwrap_err();
        assert!(e.to_string().contains("mfa_kind"), "{e}");
        assert_eq!(e.line, 4);
    }
}

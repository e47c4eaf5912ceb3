//! `.turncoat/recon-baseline.json`: fingerprints of reviewed findings, which are then silenced.
//!
//! The file holds fingerprints only (`commit:path:rule:line` for secrets, `code:address` for
//! identities, `code:blob` for blobs not scanned): never a secret, not even hashed, so that a
//! committed baseline gives nothing to brute-force.
//!
//! ```json
//! {"version": 1, "fingerprints": ["3f2c…:config/.npmrc:npm-access-token:1"]}
//! ```

use std::collections::BTreeSet;

use serde::{Deserialize, Serialize};

use crate::Error;

pub const BASELINE_PATH: &str = ".turncoat/recon-baseline.json";

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Baseline {
    pub version: u32,
    pub fingerprints: BTreeSet<String>,
}

impl Baseline {
    pub fn parse(text: &str, path: &str) -> Result<Baseline, Error> {
        let b: Baseline = serde_json::from_str(text).map_err(|e| Error::Baseline {
            path: path.to_string(),
            message: e.to_string(),
        })?;
        if b.version != 1 {
            return Err(Error::Baseline {
                path: path.to_string(),
                message: format!("unsupported version {} (expected 1)", b.version),
            });
        }
        Ok(b)
    }

    pub fn contains(&self, fingerprint: &str) -> bool {
        self.fingerprints.contains(fingerprint)
    }

    /// A baseline listing `fingerprints` (what `--write-baseline` writes).
    pub fn of(fingerprints: impl IntoIterator<Item = String>) -> Baseline {
        Baseline {
            version: 1,
            fingerprints: fingerprints.into_iter().collect(),
        }
    }

    pub fn to_json(&self) -> String {
        let mut s = serde_json::to_string_pretty(self).unwrap_or_default();
        s.push('\n');
        s
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trip_and_strictness() {
        let b = Baseline::of(["a:b:c:1".to_string()]);
        let back = Baseline::parse(&b.to_json(), "x").unwrap();
        assert!(back.contains("a:b:c:1"));
        assert!(Baseline::parse(r#"{"version":2,"fingerprints":[]}"#, "x").is_err());
        assert!(
            Baseline::parse(r#"{"version":1,"fingerprints":[],"secrets":["x"]}"#, "x").is_err()
        );
    }
}

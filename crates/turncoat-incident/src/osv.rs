//! The affected packages of an OSV advisory file: one entry, `{"vulns": [...]}` or a list.
//! Only `npm` entries are read; `versions` lists become exact specs, `SEMVER`/`ECOSYSTEM`
//! ranges become npm ranges (`introduced: "0"` with nothing after it: every version).
//! Malicious-package entries are `MAL-…`; other ids are accepted too and reported.

use serde::Deserialize;

use crate::Error;

#[derive(Debug, Deserialize)]
struct Entry {
    id: String,
    #[serde(default)]
    affected: Vec<Affected>,
}

#[derive(Debug, Deserialize)]
struct Affected {
    package: Package,
    #[serde(default)]
    versions: Vec<String>,
    #[serde(default)]
    ranges: Vec<Range>,
}

#[derive(Debug, Deserialize)]
struct Package {
    ecosystem: String,
    name: String,
}

#[derive(Debug, Deserialize)]
struct Range {
    #[serde(rename = "type")]
    kind: String,
    #[serde(default)]
    events: Vec<serde_json::Map<String, serde_json::Value>>,
}

/// (advisory ids, `name@range` specs).
pub fn specs(json: &str) -> Result<(Vec<String>, Vec<String>), Error> {
    let v: serde_json::Value =
        serde_json::from_str(json).map_err(|e| Error::Invalid(format!("OSV file: {e}")))?;
    let list = match v {
        serde_json::Value::Array(a) => a,
        serde_json::Value::Object(mut o) => match o.remove("vulns") {
            Some(serde_json::Value::Array(a)) => a,
            _ => vec![serde_json::Value::Object(o)],
        },
        _ => {
            return Err(Error::Invalid(
                "OSV file: expected an object or a list".into(),
            ));
        }
    };
    let mut ids = Vec::new();
    let mut out = Vec::new();
    for item in list {
        let e: Entry =
            serde_json::from_value(item).map_err(|e| Error::Invalid(format!("OSV entry: {e}")))?;
        ids.push(e.id.clone());
        for a in e.affected {
            if !a.package.ecosystem.eq_ignore_ascii_case("npm") {
                continue;
            }
            for v in &a.versions {
                out.push(format!("{}@{v}", a.package.name));
            }
            for r in &a.ranges {
                if r.kind != "SEMVER" && r.kind != "ECOSYSTEM" {
                    continue;
                }
                if let Some(range) = range_of(&r.events) {
                    out.push(format!("{}@{range}", a.package.name));
                }
            }
        }
    }
    out.sort();
    out.dedup();
    if out.is_empty() {
        return Err(Error::Invalid(format!(
            "OSV file ({}): no npm package affected",
            ids.join(", ")
        )));
    }
    Ok((ids, out))
}

fn range_of(events: &[serde_json::Map<String, serde_json::Value>]) -> Option<String> {
    let mut parts = Vec::new();
    let mut alts = Vec::new();
    for ev in events {
        let get = |k: &str| ev.get(k).and_then(|v| v.as_str());
        if let Some(i) = get("introduced") {
            if !parts.is_empty() {
                alts.push(parts.join(" "));
                parts.clear();
            }
            if i != "0" {
                parts.push(format!(">={i}"));
            }
        } else if let Some(f) = get("fixed") {
            parts.push(format!("<{f}"));
            alts.push(parts.join(" "));
            parts.clear();
        } else if let Some(l) = get("last_affected") {
            parts.push(format!("<={l}"));
            alts.push(parts.join(" "));
            parts.clear();
        }
    }
    if !parts.is_empty() || alts.is_empty() {
        alts.push(parts.join(" "));
    }
    let alts: Vec<String> = alts
        .into_iter()
        .map(|a| if a.is_empty() { "*".to_string() } else { a })
        .collect();
    Some(alts.join(" || "))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn mal_entries() {
        let json = r#"{"id": "MAL-2025-1234", "affected": [
            {"package": {"ecosystem": "npm", "name": "secure-data-sanitizer"}, "versions": ["3.1.5"]},
            {"package": {"ecosystem": "npm", "name": "evil"}, "ranges": [{"type": "SEMVER", "events": [{"introduced": "0"}]}]},
            {"package": {"ecosystem": "npm", "name": "half"}, "ranges": [{"type": "SEMVER", "events": [{"introduced": "1.2.0"}, {"fixed": "1.2.3"}]}]},
            {"package": {"ecosystem": "PyPI", "name": "x"}, "versions": ["1"]}]}"#;
        let (ids, specs) = specs(json).unwrap();
        assert_eq!(ids, vec!["MAL-2025-1234"]);
        assert_eq!(
            specs,
            vec![
                "evil@*",
                "half@>=1.2.0 <1.2.3",
                "secure-data-sanitizer@3.1.5"
            ]
        );
        assert!(super::specs(r#"{"id": "MAL-1", "affected": []}"#).is_err());
        assert!(super::specs("[1]").is_err());
    }
}

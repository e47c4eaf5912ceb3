//! `bunfig.toml`, `uv.toml` and `pyproject.toml`, through toml_edit (comments and layout kept).

use toml_edit::{DocumentMut, Item, Table, Value};

use crate::Error;

fn parse(path: &str, text: &str) -> Result<DocumentMut, Error> {
    text.parse::<DocumentMut>().map_err(|e| Error::Parse {
        path: path.to_string(),
        format: "TOML",
        message: e.to_string().trim_end().to_string(),
    })
}

/// The value of `key` in table `table` (dotted path; empty for the root) as JSON.
pub fn get(
    path: &str,
    text: &str,
    table: &[&str],
    key: &str,
) -> Result<Option<serde_json::Value>, Error> {
    let doc = parse(path, text)?;
    let mut item: &Item = doc.as_item();
    for t in table {
        match item.get(t) {
            Some(i) => item = i,
            None => return Ok(None),
        }
    }
    Ok(item.get(key).and_then(|i| i.as_value()).map(json))
}

fn json(v: &Value) -> serde_json::Value {
    match v {
        Value::String(s) => serde_json::Value::String(s.value().clone()),
        Value::Integer(i) => serde_json::Value::from(*i.value()),
        Value::Float(f) => serde_json::Value::from(*f.value()),
        Value::Boolean(b) => serde_json::Value::Bool(*b.value()),
        Value::Datetime(d) => serde_json::Value::String(d.value().to_string()),
        Value::Array(a) => serde_json::Value::Array(a.iter().map(json).collect()),
        Value::InlineTable(t) => {
            serde_json::Value::Object(t.iter().map(|(k, v)| (k.to_string(), json(v))).collect())
        }
    }
}

/// Set `key` in table `table` (created when missing, as a `[table]` header) to `value`.
pub fn set(
    path: &str,
    text: &str,
    table: &[&str],
    key: &str,
    value: Value,
) -> Result<(Option<serde_json::Value>, String), Error> {
    let previous = get(path, text, table, key)?;
    let expected = json(&value);
    let mut doc = parse(path, text)?;
    let mut t: &mut Table = doc.as_table_mut();
    for (i, name) in table.iter().enumerate() {
        let last = i + 1 == table.len();
        let entry = t.entry(name).or_insert_with(|| {
            // A new intermediate table (`tool` of `[tool.uv]`) gets no header of its own.
            let mut new = Table::new();
            new.set_implicit(!last);
            Item::Table(new)
        });
        t = match entry {
            Item::Table(inner) => inner,
            _ => {
                return Err(Error::Unsupported {
                    path: path.to_string(),
                    message: format!("`{name}` is not a table; set `{key}` by hand"),
                });
            }
        };
    }
    match t.get_mut(key).and_then(|i| i.as_value_mut()) {
        Some(existing) => {
            let decor = existing.decor().clone();
            *existing = value;
            *existing.decor_mut() = decor;
        }
        None => {
            t.insert(key, Item::Value(value));
        }
    }
    let after = doc.to_string();
    let found = get(path, &after, table, key)?;
    if found.as_ref() != Some(&expected) {
        return Err(Error::ReadBack {
            path: path.to_string(),
            key: key.to_string(),
            expected: expected.to_string(),
            found: found.map(|v| v.to_string()).unwrap_or_default(),
        });
    }
    Ok((previous, after))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_are_set_in_their_table_and_comments_kept() {
        let text = "# bun settings\n[install]\nexact = true # pin\nminimumReleaseAge = 60\n\n[test]\nroot = \".\"\n";
        let (prev, out) = set(
            "bunfig.toml",
            text,
            &["install"],
            "minimumReleaseAge",
            Value::from(259_200),
        )
        .unwrap();
        assert_eq!(prev, Some(serde_json::json!(60)));
        assert!(
            out.contains("# bun settings") && out.contains("exact = true # pin"),
            "{out}"
        );
        assert!(out.contains("minimumReleaseAge = 259200"), "{out}");
        let (_, out) = set(
            "pyproject.toml",
            "[project]\nname = \"x\"\n",
            &["tool", "uv"],
            "exclude-newer",
            Value::from("P3D"),
        )
        .unwrap();
        assert!(out.contains("[tool.uv]\nexclude-newer = \"P3D\""), "{out}");
        assert!(set("b.toml", "install = 3\n", &["install"], "k", Value::from(1)).is_err());
        assert!(set("b.toml", "[install\n", &["install"], "k", Value::from(1)).is_err());
    }
}

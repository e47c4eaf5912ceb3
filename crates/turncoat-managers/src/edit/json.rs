//! `package.json` and `renovate.json` (JSON with comments allowed), through jsonc-parser's
//! concrete syntax tree: untouched members keep their text, order, comments and indentation.

use jsonc_parser::ParseOptions;
use jsonc_parser::cst::{CstInputValue, CstRootNode};
use serde_json::Value;

use crate::Error;

fn parse_err(path: &str, message: String) -> Error {
    Error::Parse {
        path: path.to_string(),
        format: "JSON",
        message,
    }
}

/// The whole document as a value (`{}` for an empty file).
pub fn read(path: &str, text: &str) -> Result<Value, Error> {
    if text.trim().is_empty() {
        return Ok(Value::Object(Default::default()));
    }
    let v: Value = jsonc_parser::parse_to_serde_value(text, &ParseOptions::default())
        .map_err(|e| parse_err(path, e.to_string()))?;
    if !v.is_object() {
        return Err(parse_err(path, "the top level is not an object".into()));
    }
    Ok(v)
}

fn input(v: &Value) -> CstInputValue {
    match v {
        Value::Null => CstInputValue::Null,
        Value::Bool(b) => CstInputValue::Bool(*b),
        Value::Number(n) => CstInputValue::Number(n.to_string()),
        Value::String(s) => CstInputValue::String(s.clone()),
        Value::Array(a) => CstInputValue::Array(a.iter().map(input).collect()),
        Value::Object(o) => {
            CstInputValue::Object(o.iter().map(|(k, v)| (k.clone(), input(v))).collect())
        }
    }
}

/// Set the top-level member `key` to `value`, keeping every other byte that can be kept.
/// Returns the previous value and the new text.
pub fn set_top(
    path: &str,
    text: &str,
    key: &str,
    value: &Value,
) -> Result<(Option<Value>, String), Error> {
    let before = read(path, text)?;
    let previous = before.get(key).cloned();
    let source = if text.trim().is_empty() { "{}\n" } else { text };
    let root = CstRootNode::parse(source, &ParseOptions::default())
        .map_err(|e| parse_err(path, e.to_string()))?;
    let obj = root.object_value_or_set();
    match obj.get(key) {
        Some(prop) => prop.set_value(input(value)),
        None => {
            obj.append(key, input(value));
        }
    }
    let after = root.to_string();
    let found = read(path, &after)?.get(key).cloned();
    if found.as_ref() != Some(value) {
        return Err(Error::ReadBack {
            path: path.to_string(),
            key: key.to_string(),
            expected: value.to_string(),
            found: found.map(|v| v.to_string()).unwrap_or_default(),
        });
    }
    Ok((previous, after))
}

/// In the top-level array `key` (created when missing), replace the element for which `is_ours`
/// holds with `value`, or append `value`; `None` removes it. Other elements keep their text.
pub fn upsert_in_array(
    path: &str,
    text: &str,
    key: &str,
    is_ours: impl Fn(&Value) -> bool,
    value: Option<&Value>,
) -> Result<(Option<Value>, String), Error> {
    let before = read(path, text)?;
    let previous = before.get(key).cloned();
    let source = if text.trim().is_empty() { "{}\n" } else { text };
    let root = CstRootNode::parse(source, &ParseOptions::default())
        .map_err(|e| parse_err(path, e.to_string()))?;
    let obj = root.object_value_or_set();
    let array = match obj.get(key) {
        Some(prop) => {
            prop.value()
                .and_then(|v| v.as_array())
                .ok_or_else(|| Error::Unsupported {
                    path: path.to_string(),
                    message: format!("`{key}` is not an array"),
                })?
        }
        None => {
            if value.is_none() {
                return Ok((previous, text.to_string()));
            }
            obj.append(key, CstInputValue::Array(Vec::new()));
            obj.get(key)
                .and_then(|p| p.value())
                .and_then(|v| v.as_array())
                .ok_or_else(|| parse_err(path, format!("cannot create `{key}`")))?
        }
    };
    let existing: Vec<Value> = previous
        .as_ref()
        .and_then(Value::as_array)
        .cloned()
        .unwrap_or_default();
    // Ours is removed and (when there is a new one) appended: the other elements keep their
    // text and order.
    let elements: Vec<_> = array
        .elements()
        .into_iter()
        .filter(|n| !n.is_trivia())
        .collect();
    if elements.len() != existing.len() {
        return Err(parse_err(
            path,
            format!("cannot line up the elements of `{key}`"),
        ));
    }
    for (node, v) in elements.into_iter().zip(existing.iter()) {
        if is_ours(v) {
            node.remove();
        }
    }
    if let Some(new) = value {
        array.append(input(new));
    }
    let after = root.to_string();
    let found = read(path, &after)?;
    let ours: Vec<&Value> = found
        .get(key)
        .and_then(Value::as_array)
        .map(|a| a.iter().filter(|v| is_ours(v)).collect())
        .unwrap_or_default();
    if ours != value.into_iter().collect::<Vec<_>>() {
        return Err(Error::ReadBack {
            path: path.to_string(),
            key: key.to_string(),
            expected: value.map(Value::to_string).unwrap_or_default(),
            found: format!("{ours:?}"),
        });
    }
    Ok((previous, after))
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn a_member_is_replaced_in_place_and_the_rest_kept() {
        let text = "{\n  // comment kept\n  \"name\": \"app\",\n  \"allowScripts\": { \"x\": true },\n  \"version\": \"1.0.0\"\n}\n";
        let (prev, out) = set_top(
            "package.json",
            text,
            "allowScripts",
            &json!({"esbuild@0.25.0": true}),
        )
        .unwrap();
        assert_eq!(prev, Some(json!({"x": true})));
        assert!(out.contains("// comment kept"), "{out}");
        assert!(out.contains("\"name\": \"app\","), "{out}");
        assert!(out.find("\"allowScripts\"").unwrap() < out.find("\"version\"").unwrap());
        assert_eq!(
            read("p", &out).unwrap()["allowScripts"],
            json!({"esbuild@0.25.0": true})
        );
    }

    #[test]
    fn a_missing_member_is_appended_and_an_empty_file_created() {
        let (prev, out) = set_top(
            "r.json",
            "{\n  \"extends\": [\"config:base\"]\n}\n",
            "minimumReleaseAge",
            &json!("3 days"),
        )
        .unwrap();
        assert_eq!(prev, None);
        assert_eq!(read("r", &out).unwrap()["extends"], json!(["config:base"]));
        assert_eq!(
            read("r", &out).unwrap()["minimumReleaseAge"],
            json!("3 days")
        );
        let (_, out) = set_top("r.json", "", "k", &json!(1)).unwrap();
        assert_eq!(read("r", &out).unwrap(), json!({"k": 1}));
    }

    #[test]
    fn hostile_documents_are_errors() {
        for bad in ["[1,2]", "{\"a\": ", "\"str\""] {
            assert!(set_top("p.json", bad, "k", &json!(1)).is_err(), "{bad}");
        }
    }
}

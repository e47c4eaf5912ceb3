//! `pnpm-workspace.yaml`, `.yarnrc.yml` and `dependabot.yml`, through yamlpatch: the edited
//! feature is rewritten, every other line (comments, quoting, order) stays as it was.

use serde_json::Value;
use yamlpatch::{Op, Patch};
use yamlpath::{Component, Document, Route};

use crate::Error;

fn parse_err(path: &str, message: String) -> Error {
    Error::Parse {
        path: path.to_string(),
        format: "YAML",
        message,
    }
}

/// The whole document as a value (`{}` for an empty file).
pub fn read(path: &str, text: &str) -> Result<Value, Error> {
    if text.trim().is_empty() {
        return Ok(Value::Object(Default::default()));
    }
    let v: Value = yaml_serde::from_str(text).map_err(|e| parse_err(path, e.to_string()))?;
    match v {
        Value::Null => Ok(Value::Object(Default::default())),
        Value::Object(_) => Ok(v),
        _ => Err(parse_err(path, "the top level is not a mapping".into())),
    }
}

/// The value at `route` (keys and indexes).
pub fn get<'a>(doc: &'a Value, route: &[Component<'_>]) -> Option<&'a Value> {
    route.iter().try_fold(doc, |v, c| match c {
        Component::Key(k) => v.get(k.as_ref()),
        Component::Index(i) => v.get(*i),
    })
}

fn to_yaml(path: &str, v: &Value) -> Result<yaml_serde::Value, Error> {
    yaml_serde::to_value(v).map_err(|e| parse_err(path, e.to_string()))
}

/// Set the value at `parent` + `key` (the parent mapping must exist; the root always does).
/// Returns the previous value and the new text.
pub fn set(
    path: &str,
    text: &str,
    parent: &[Component<'_>],
    key: &str,
    value: &Value,
) -> Result<(Option<Value>, String), Error> {
    let before = read(path, text)?;
    let mut full: Vec<Component<'_>> = parent.to_vec();
    full.push(Component::Key(key.into()));
    let previous = get(&before, &full).cloned();
    let after = if text.trim().is_empty() {
        let mut map = serde_json::Map::new();
        map.insert(key.to_string(), value.clone());
        yaml_serde::to_string(&Value::Object(map)).map_err(|e| parse_err(path, e.to_string()))?
    } else {
        let doc = Document::new(text.to_string()).map_err(|e| parse_err(path, e.to_string()))?;
        if doc.has_anchors() {
            return Err(Error::Unsupported {
                path: path.to_string(),
                message: "anchors and aliases make an edit ambiguous; set the keys by hand".into(),
            });
        }
        // A scalar is replaced in place. A sequence or mapping is removed and added again
        // (yamlpatch 1.26 cannot replace a block collection in place): the key moves to the
        // end of its mapping, every other line stays.
        let scalar = |v: &Value| !v.is_array() && !v.is_object();
        let add = Patch {
            route: Route::from(parent.to_vec()),
            operation: Op::Add {
                key: key.to_string(),
                value: to_yaml(path, value)?,
            },
        };
        let patches = match &previous {
            Some(prev) if scalar(prev) && scalar(value) => vec![Patch {
                route: Route::from(full.clone()),
                operation: Op::Replace(to_yaml(path, value)?),
            }],
            Some(_) => vec![
                Patch {
                    route: Route::from(full.clone()),
                    operation: Op::Remove,
                },
                add,
            ],
            None => vec![add],
        };
        let patched =
            yamlpatch::apply_yaml_patches(&doc, &patches).map_err(|e| Error::Unsupported {
                path: path.to_string(),
                message: format!("cannot edit `{key}` in place: {e}"),
            })?;
        patched.source().to_string()
    };
    let found = get(&read(path, &after)?, &full).cloned();
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

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn top_level_keys_are_replaced_or_added_and_comments_kept() {
        let text = "# workspace\npackages:\n  - 'apps/*'\n\nminimumReleaseAge: 1440 # one day\n";
        let (prev, out) = set("w.yaml", text, &[], "minimumReleaseAge", &json!(4320)).unwrap();
        assert_eq!(prev, Some(json!(1440)));
        assert!(
            out.starts_with("# workspace\npackages:\n  - 'apps/*'\n"),
            "{out}"
        );
        let (prev, out) = set(
            "w.yaml",
            &out,
            &[],
            "onlyBuiltDependencies",
            &json!(["esbuild@0.25.0"]),
        )
        .unwrap();
        assert_eq!(prev, None);
        let v = read("w", &out).unwrap();
        assert_eq!(v["minimumReleaseAge"], json!(4320));
        assert_eq!(v["onlyBuiltDependencies"], json!(["esbuild@0.25.0"]));
        assert_eq!(v["packages"], json!(["apps/*"]));
    }

    #[test]
    fn nested_mappings_in_list_items_are_edited() {
        let text = "version: 2\nupdates:\n  - package-ecosystem: npm # main\n    directory: /\n    schedule:\n      interval: daily\n";
        let route = [Component::Key("updates".into()), Component::Index(0)];
        let (_, out) = set(
            "d.yml",
            text,
            &route,
            "cooldown",
            &json!({"default-days": 3}),
        )
        .unwrap();
        assert!(out.contains("# main"), "{out}");
        let v = read("d", &out).unwrap();
        assert_eq!(v["updates"][0]["cooldown"]["default-days"], json!(3));
        assert_eq!(v["updates"][0]["schedule"]["interval"], json!("daily"));
    }

    #[test]
    fn new_files_and_refusals() {
        let (_, out) = set("y.yml", "", &[], "npmMinimalAgeGate", &json!("3d")).unwrap();
        assert_eq!(read("y", &out).unwrap(), json!({"npmMinimalAgeGate": "3d"}));
        let anchors = "base: &b\n  x: 1\nother: *b\n";
        assert!(matches!(
            set("y.yml", anchors, &[], "k", &json!(1)),
            Err(Error::Unsupported { .. })
        ));
        assert!(set("y.yml", "- a\n- b\n", &[], "k", &json!(1)).is_err());
        assert!(set("y.yml", "a: [\n", &[], "k", &json!(1)).is_err());
    }
}

//! `docs/report-schema.json` must describe what `--format json` prints: every scenario's JSON
//! report is validated against the committed schema.
//!
//! The validator is a small hand-written subset of JSON Schema 2020-12 (the keywords the schema
//! uses: `type`, `const`, `enum`, `required`, `properties`, `additionalProperties: false`,
//! `items`, `minimum`, local `$ref`s and the one `pattern`). Any other keyword is an error, so the
//! schema cannot outgrow the check silently.

mod scenarios;

use serde_json::Value;
use turncoat_report::{SCHEMA_VERSION, json};

const SCHEMA: &str = include_str!("../../../docs/report-schema.json");
const KEBAB_PATTERN: &str = "^[a-z0-9]+(-[a-z0-9]+)*$";
const ANNOTATIONS: &[&str] = &["$schema", "$id", "$defs", "title", "description"];

fn schema() -> Value {
    serde_json::from_str(SCHEMA).expect("docs/report-schema.json is JSON")
}

/// Every violation of `schema` by `value`, as `path: problem`.
fn validate(root: &Value, schema: &Value, value: &Value, path: &str, errors: &mut Vec<String>) {
    let Some(obj) = schema.as_object() else {
        errors.push(format!("{path}: schema is not an object"));
        return;
    };
    for (key, rule) in obj {
        match key.as_str() {
            k if ANNOTATIONS.contains(&k) => {}
            "$ref" => {
                let target = rule
                    .as_str()
                    .and_then(|r| r.strip_prefix("#/$defs/"))
                    .and_then(|name| root["$defs"].get(name));
                match target {
                    Some(t) => validate(root, t, value, path, errors),
                    None => errors.push(format!("{path}: unresolvable $ref {rule}")),
                }
            }
            "type" => {
                let types: Vec<&str> = match rule {
                    Value::String(s) => vec![s.as_str()],
                    Value::Array(a) => a.iter().filter_map(Value::as_str).collect(),
                    _ => vec![],
                };
                if !types.iter().any(|t| has_type(value, t)) {
                    errors.push(format!("{path}: expected {types:?}, got {value}"));
                }
            }
            "const" => {
                if value != rule {
                    errors.push(format!("{path}: expected {rule}, got {value}"));
                }
            }
            "enum" => {
                if !rule.as_array().is_some_and(|a| a.contains(value)) {
                    errors.push(format!("{path}: {value} is not one of {rule}"));
                }
            }
            "minimum" => {
                if let (Some(v), Some(min)) = (value.as_f64(), rule.as_f64())
                    && v < min
                {
                    errors.push(format!("{path}: {v} < {min}"));
                }
            }
            "pattern" => {
                if rule.as_str() != Some(KEBAB_PATTERN) {
                    errors.push(format!("{path}: the validator only knows {KEBAB_PATTERN}"));
                } else if let Some(s) = value.as_str()
                    && !turncoat_finding::is_kebab_case(s)
                {
                    errors.push(format!("{path}: {s:?} is not kebab-case"));
                }
            }
            "required" => {
                for name in rule
                    .as_array()
                    .into_iter()
                    .flatten()
                    .filter_map(Value::as_str)
                {
                    if value.as_object().is_some_and(|o| !o.contains_key(name)) {
                        errors.push(format!("{path}: missing required {name:?}"));
                    }
                }
            }
            "properties" => {
                if let (Some(props), Some(o)) = (rule.as_object(), value.as_object()) {
                    for (name, v) in o {
                        if let Some(s) = props.get(name) {
                            validate(root, s, v, &format!("{path}.{name}"), errors);
                        }
                    }
                }
            }
            "additionalProperties" => {
                if rule != &Value::Bool(false) {
                    errors.push(format!(
                        "{path}: only additionalProperties: false is supported"
                    ));
                }
                let known = obj.get("properties").and_then(Value::as_object);
                if let (Some(known), Some(o)) = (known, value.as_object()) {
                    for name in o.keys().filter(|n| !known.contains_key(*n)) {
                        errors.push(format!("{path}: unknown property {name:?}"));
                    }
                }
            }
            "items" => {
                for (i, v) in value.as_array().into_iter().flatten().enumerate() {
                    validate(root, rule, v, &format!("{path}[{i}]"), errors);
                }
            }
            other => errors.push(format!("{path}: unsupported schema keyword {other:?}")),
        }
    }
}

fn has_type(v: &Value, t: &str) -> bool {
    match t {
        "object" => v.is_object(),
        "array" => v.is_array(),
        "string" => v.is_string(),
        "integer" => v.is_u64() || v.is_i64(),
        "number" => v.is_number(),
        "boolean" => v.is_boolean(),
        "null" => v.is_null(),
        _ => false,
    }
}

fn errors_for(value: &Value) -> Vec<String> {
    let root = schema();
    let mut errors = Vec::new();
    validate(&root, &root, value, "$", &mut errors);
    errors
}

#[test]
fn every_scenario_matches_the_committed_schema() {
    for (name, report) in scenarios::all() {
        let value: Value = serde_json::from_str(&json::render(&report)).expect("JSON");
        let errors = errors_for(&value);
        assert!(errors.is_empty(), "{name}:\n{}", errors.join("\n"));
    }
}

#[test]
fn schema_version_is_the_model_version() {
    assert_eq!(schema()["properties"]["version"]["const"], SCHEMA_VERSION);
    assert_eq!(
        schema()["$schema"],
        "https://json-schema.org/draft/2020-12/schema"
    );
}

#[test]
fn the_check_catches_drift() {
    let report = scenarios::mixed_block_warn_pass();
    let good: Value = serde_json::from_str(&json::render(&report)).expect("JSON");

    let mut missing = good.clone();
    if let Some(p) = missing["packages"][0].as_object_mut() {
        p.remove("verdict");
    }
    assert_eq!(
        errors_for(&missing),
        [r#"$.packages[0]: missing required "verdict""#]
    );

    let mut unknown = good.clone();
    unknown["packages"][0]["findings"][0]["confidence"] = Value::from(0.9);
    assert_eq!(
        errors_for(&unknown),
        [r#"$.packages[0].findings[0]: unknown property "confidence""#]
    );

    let mut bad_enum = good.clone();
    bad_enum["packages"][1]["verdict"] = Value::from("fail");
    assert_eq!(
        errors_for(&bad_enum).len(),
        1,
        "{:?}",
        errors_for(&bad_enum)
    );

    let mut bad_code = good.clone();
    bad_code["packages"][0]["findings"][0]["code"] = Value::from("NewInstallScript");
    assert_eq!(errors_for(&bad_code).len(), 1);

    let mut bad_version = good;
    bad_version["version"] = Value::from(2);
    assert_eq!(errors_for(&bad_version).len(), 1);
}

#[test]
fn coverage_fields_match_the_schema() {
    let mut report = scenarios::mixed_block_warn_pass();
    report.packages[0].rests_on_cache = vec![turncoat_report::CacheUse {
        document: "packument of x".to_string(),
        fetched_at: 1_796_601_600,
        future: true,
    }];
    report.packages[0].detonation = Some(turncoat_report::DetonationCoverage {
        stages: vec!["postinstall".to_string(), "require".to_string()],
        timed_out: false,
        duration_ms: 830,
        events: 4,
        previous: Some("1.0.0".to_string()),
    });
    let value: Value = serde_json::from_str(&json::render(&report)).expect("JSON");
    assert_eq!(value["packages"][0]["rests_on_cache"][0]["future"], true);
    assert_eq!(value["packages"][0]["detonation"]["events"], 4);
    let errors = errors_for(&value);
    assert!(errors.is_empty(), "{}", errors.join("\n"));
}

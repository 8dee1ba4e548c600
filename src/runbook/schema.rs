//! The runbook's JSON Schema (draft-07), generated from [`super::raw`] for editors such as the
//! YAML language server. `schema/runbook.schema.json` is this output, kept in sync by a test.

use schemars::generate::SchemaSettings;
use serde_json::Value;

use super::raw::RawRunbook;

/// The schema as pretty JSON with a trailing newline, exactly as committed.
pub fn runbook_schema_json() -> String {
    let generator = SchemaSettings::draft07().into_generator();
    let schema = generator.into_root_schema_for::<RawRunbook>();
    let mut value = schema.to_value();
    drop_null_alternatives(&mut value);
    let mut text = serde_json::to_string_pretty(&value).unwrap_or_default();
    text.push('\n');
    text
}

/// Optional keys may be left out but not written as `null` (the parser refuses `key: ~`), so the
/// `anyOf: [X, {type: null}]` schemars generates for `Option<X>` becomes plain `X`.
fn drop_null_alternatives(value: &mut Value) {
    match value {
        Value::Object(map) => {
            if let Some(Value::Array(options)) = map.get("anyOf") {
                let non_null: Vec<Value> = options
                    .iter()
                    .filter(|o| o.get("type").and_then(Value::as_str) != Some("null"))
                    .cloned()
                    .collect();
                if non_null.len() == 1 && options.len() == 2 {
                    map.remove("anyOf");
                    if let Value::Object(inner) = &non_null[0] {
                        for (k, v) in inner {
                            map.entry(k.clone()).or_insert_with(|| v.clone());
                        }
                    }
                }
            }
            if let Some(Value::Array(types)) = map.get_mut("type") {
                types.retain(|t| t.as_str() != Some("null"));
                if types.len() == 1 {
                    let only = types.remove(0);
                    map.insert("type".to_owned(), only);
                }
            }
            map.values_mut().for_each(drop_null_alternatives);
        }
        Value::Array(items) => items.iter_mut().for_each(drop_null_alternatives),
        _ => {}
    }
}

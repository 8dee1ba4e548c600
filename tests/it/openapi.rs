//! `spec-tests/openapi.yaml` and the rule catalogue describe the same documented rules.

use std::collections::BTreeSet;

use serde_json::{Value, json};
use stopbook::check::rules;

use crate::support::root;

fn openapi() -> Value {
    let text = std::fs::read_to_string(root().join("spec-tests/openapi.yaml")).unwrap();
    serde_saphyr::from_str(&text).unwrap()
}

fn annotated(value: &Value, found: &mut BTreeSet<String>) {
    match value {
        Value::Object(map) => {
            if let Some(Value::Array(ids)) = map.get("x-stopbook-rules") {
                found.extend(ids.iter().filter_map(|v| v.as_str().map(str::to_owned)));
            }
            map.values().for_each(|v| annotated(v, found));
        }
        Value::Array(items) => items.iter().for_each(|v| annotated(v, found)),
        _ => {}
    }
}

#[test]
fn every_rule_is_annotated_and_nothing_else_is() {
    let mut found = BTreeSet::new();
    annotated(&openapi(), &mut found);
    let catalogue: BTreeSet<String> = rules::CATALOGUE.iter().map(|r| r.id.to_owned()).collect();
    assert_eq!(found, catalogue);
}

#[test]
fn the_description_states_what_the_rules_check() {
    let doc = openapi();
    assert_eq!(doc["openapi"], "3.0.3");
    let post = &doc["paths"]["/v5/{project_id}/jobs/{job_id}/stop"]["post"];
    assert!(
        post.is_object(),
        "[URI] POST /v5/{{project_id}}/jobs/{{job_id}}/stop"
    );
    let header = |name: &str| {
        post["parameters"]
            .as_array()
            .unwrap()
            .iter()
            .find(|p| p["name"] == name && p["in"] == "header")
            .cloned()
            .unwrap()
    };
    assert_eq!(header("Content-Type")["required"], true);
    assert_eq!(header("X-Auth-Token")["required"], true);
    assert_eq!(header("X-Language")["required"], false);
    assert_eq!(
        header("X-Language")["schema"]["enum"],
        json!(["en-us", "zh-cn"])
    );
    let force = &post["requestBody"]["content"]["application/json"]["schema"]["properties"]["is_force_stop"];
    assert_eq!(
        (force["type"].as_str(), force["default"].as_bool()),
        (Some("boolean"), Some(false))
    );
    assert_eq!(
        post["requestBody"]["required"], false,
        "the body parameter is optional"
    );
    let responses: BTreeSet<&str> = post["responses"]
        .as_object()
        .unwrap()
        .keys()
        .map(String::as_str)
        .collect();
    assert_eq!(
        responses,
        BTreeSet::from(["200", "400"]),
        "[SC] only 200 and 400 are documented"
    );
    for (code, table) in [("200", "T4"), ("400", "T5")] {
        let content = &post["responses"][code]["content"]["application/json"];
        let props = &content["schema"]["properties"];
        assert_eq!(
            (
                props["error_code"]["minLength"].as_u64(),
                props["error_code"]["maxLength"].as_u64()
            ),
            (Some(12), Some(12)),
            "[{table}.error_code]"
        );
        assert_eq!(
            (
                props["error_msg"]["minLength"].as_u64(),
                props["error_msg"]["maxLength"].as_u64()
            ),
            (Some(1), Some(512)),
            "[{table}.error_msg]"
        );
    }
    for field in ["id", "name", "status"] {
        assert_eq!(
            post["responses"]["200"]["content"]["application/json"]["schema"]["properties"][field]
                ["type"],
            "string",
            "[T4.{field}]"
        );
    }
    assert_eq!(
        post["responses"]["200"]["content"]["application/json"]["example"],
        json!({"status": "success"}),
        "[EX-200]"
    );
    assert_eq!(
        post["responses"]["400"]["content"]["application/json"]["example"],
        json!({"error_code": "DRS.10000010", "error_msg": "Job does not exist, please check job id."}),
        "[EX-400]"
    );
}

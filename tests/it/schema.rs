//! The committed JSON Schema is exactly what `stopbook schema` prints, and it describes the keys
//! the parser accepts.

use crate::support::{root, stopbook};

#[test]
fn committed_schema_is_in_sync() {
    let out = stopbook(["schema"]).output().unwrap();
    assert_eq!(out.status.code(), Some(0));
    let committed = std::fs::read_to_string(root().join("schema/runbook.schema.json")).unwrap();
    assert!(
        committed == String::from_utf8(out.stdout).unwrap(),
        "schema/runbook.schema.json is stale: run `cargo run -- schema > schema/runbook.schema.json`"
    );
}

#[test]
fn schema_is_draft_07_and_closed() {
    let schema: serde_json::Value = serde_json::from_str(
        &std::fs::read_to_string(root().join("schema/runbook.schema.json")).unwrap(),
    )
    .unwrap();
    assert_eq!(schema["$schema"], "http://json-schema.org/draft-07/schema#");
    assert_eq!(
        schema["required"],
        serde_json::json!(["version", "name", "phases"])
    );
    let phase = &schema["definitions"]["Phase"];
    assert_eq!(phase["additionalProperties"], false);
    let keys: Vec<&str> = phase["properties"]
        .as_object()
        .unwrap()
        .keys()
        .map(String::as_str)
        .collect();
    assert_eq!(
        keys,
        [
            "batch",
            "concurrency",
            "escalate",
            "expect",
            "force",
            "gate",
            "max_failures",
            "max_force",
            "name",
            "request_timeout",
            "retry",
            "select",
            "stops",
            "stops_file",
            "wait"
        ]
    );
    assert!(
        !serde_json::to_string(&schema).unwrap().contains("\"null\""),
        "optional keys may not be null"
    );
}

#[test]
fn examples_name_the_schema_for_editors() {
    for example in crate::support::example_runbooks() {
        let text = std::fs::read_to_string(root().join(&example)).unwrap();
        assert!(
            text.starts_with("# yaml-language-server: $schema=../schema/runbook.schema.json\n"),
            "{example} lacks the modeline"
        );
    }
}

//! `stopbook plan`: snapshots of the examples' plans, byte-identical output across processes, and
//! a plan_id anyone can recompute from the JSON plan.

use sha2::{Digest, Sha256};

use crate::support::{example_runbooks, snapshot_settings, stopbook};

fn plan(runbook: &str, format: &str) -> String {
    let output = stopbook(["plan", runbook, "--format", format])
        .output()
        .unwrap();
    assert_eq!(
        output.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    String::from_utf8(output.stdout).unwrap()
}

#[test]
fn markdown_plans_of_the_examples() {
    snapshot_settings().bind(|| {
        for runbook in example_runbooks() {
            let name = runbook
                .trim_start_matches("runbooks/")
                .trim_end_matches(".yaml")
                .to_owned();
            insta::assert_snapshot!(format!("plan-md-{name}"), plan(&runbook, "md"));
        }
    });
}

#[test]
fn json_plan_of_the_quickstart() {
    snapshot_settings().bind(|| {
        insta::assert_snapshot!(
            "plan-json-quickstart",
            plan("runbooks/quickstart.yaml", "json")
        );
    });
}

#[test]
fn plans_are_byte_identical_across_runs() {
    for runbook in example_runbooks() {
        for format in ["md", "json"] {
            assert_eq!(
                plan(&runbook, format),
                plan(&runbook, format),
                "{runbook} as {format}"
            );
        }
    }
}

#[test]
fn plan_id_is_the_sha256_of_the_sorted_compact_json_without_it() {
    for runbook in example_runbooks() {
        let text = plan(&runbook, "json");
        let mut value: serde_json::Value = serde_json::from_str(&text).unwrap();
        let plan_id = value["plan_id"].as_str().unwrap().to_owned();
        value.as_object_mut().unwrap().remove("plan_id");
        // serde_json's map keeps keys sorted: this is the canonical form, built independently.
        let canonical = serde_json::to_string(&value).unwrap();
        let digest: String = Sha256::digest(canonical.as_bytes())
            .iter()
            .map(|b| format!("{b:02x}"))
            .collect();
        assert_eq!(plan_id, format!("sha256:{digest}"), "{runbook}");
        assert!(plan(&runbook, "md").contains(&format!("**plan_id:** `{plan_id}`")));
    }
}

#[test]
fn the_plan_id_changes_with_anything_that_changes_behaviour() {
    let dir = tempfile::tempdir().unwrap();
    let base =
        std::fs::read_to_string(crate::support::root().join("runbooks/quickstart.yaml")).unwrap();
    let id_of = |text: &str| {
        let path = dir.path().join("rb.yaml");
        std::fs::write(&path, text).unwrap();
        let out = stopbook([
            "plan".as_ref(),
            path.as_os_str(),
            "--format".as_ref(),
            "json".as_ref(),
        ])
        .output()
        .unwrap();
        assert_eq!(
            out.status.code(),
            Some(0),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
        v["plan_id"].as_str().unwrap().to_owned()
    };
    let original = id_of(&base);
    assert_eq!(
        original,
        id_of(&base.replace("# Quickstart", "# A reworded comment")),
        "comments do not matter"
    );
    assert_eq!(
        original,
        id_of(&base.replace("poll: 250ms", "poll:    250ms")),
        "spacing does not matter"
    );
    for changed in [
        base.replace("  concurrency: 4", "  concurrency: 5"),
        base.replace("rate: 20/s", "rate: 19/s"),
        base.replace("  - name: bulk\n", "  - name: bulk\n    force: true\n"),
        base.replace("label: orders-cdc", "label: orders"),
        base.replace("timeout: 2m", "timeout: 3m"),
    ] {
        assert_ne!(original, id_of(&changed));
    }
}

#[test]
fn out_writes_a_file_and_picks_json_from_its_extension() {
    let dir = tempfile::tempdir().unwrap();
    let json = dir.path().join("plan.json");
    let md = dir.path().join("plan.md");
    for path in [&json, &md] {
        let out = stopbook([
            "plan".as_ref(),
            "runbooks/quickstart.yaml".as_ref(),
            "--out".as_ref(),
            path.as_os_str(),
        ])
        .output()
        .unwrap();
        assert_eq!(out.status.code(), Some(0));
        assert!(out.stdout.is_empty());
        assert!(String::from_utf8_lossy(&out.stderr).contains("sha256:"));
    }
    assert_eq!(
        std::fs::read_to_string(&json).unwrap(),
        plan("runbooks/quickstart.yaml", "json")
    );
    assert_eq!(
        std::fs::read_to_string(&md).unwrap(),
        plan("runbooks/quickstart.yaml", "md")
    );
    let leftovers: Vec<_> = std::fs::read_dir(dir.path())
        .unwrap()
        .filter_map(|e| e.ok())
        .map(|e| e.file_name())
        .collect();
    assert_eq!(
        leftovers.len(),
        2,
        "no temporary files left behind: {leftovers:?}"
    );
}

#[test]
fn an_invalid_runbook_writes_no_plan() {
    let dir = tempfile::tempdir().unwrap();
    let out_path = dir.path().join("plan.json");
    let out = stopbook([
        "plan".as_ref(),
        "tests/bad-runbooks/version.yaml".as_ref(),
        "--out".as_ref(),
        out_path.as_os_str(),
    ])
    .output()
    .unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(!out_path.exists());
}

/// `show plan.json` says the plan in words (issue 24: it printed the limits, each stop's wait
/// and retry and the select as raw JSON, with no target and no escalate column).
#[test]
fn show_says_an_approved_plan_in_words() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("approved.json");
    for runbook in [
        "runbooks/select-payments.yaml",
        "runbooks/maintenance-window.yaml",
    ] {
        std::fs::write(&file, plan(runbook, "json")).unwrap();
        let out = stopbook(["show", file.to_str().unwrap()]).output().unwrap();
        assert_eq!(out.status.code(), Some(0));
        let shown = String::from_utf8(out.stdout).unwrap();
        assert!(!shown.contains("{\""), "no raw JSON:\n{shown}");
        let name = runbook
            .trim_start_matches("runbooks/")
            .trim_end_matches(".yaml");
        snapshot_settings().bind(|| insta::assert_snapshot!(format!("show-plan-{name}"), shown));
    }
}

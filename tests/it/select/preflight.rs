//! `plan --live`: each planned job's status read (no stop sent) and a verdict per stop, for
//! every class: ready, already ending/ended, not found, will not end, expectation mismatch,
//! and the warnings for prepaid tasks and child/slave roles. And the shipped example runbook,
//! which selects from the fleet file beside it.

use super::*;

fn verdicts(plan: &Value) -> Vec<(u64, String, bool, usize)> {
    plan["live"]["stops"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| {
            (
                c["seq"].as_u64().unwrap(),
                c["verdict"].as_str().unwrap().to_owned(),
                c["meets"].as_bool().unwrap(),
                c["warnings"].as_array().map_or(0, Vec::len),
            )
        })
        .collect()
}

#[test]
fn every_class_gets_its_verdict_and_nothing_is_stopped() {
    let mut prepaid = task(9, "prepaid", "INCRE_TRANSFER_STARTED");
    prepaid.charging_mode = Some("period".to_owned());
    let mut child = task(10, "child", "FULL_TRANSFER_STARTED");
    child.job_mode_role = Some("slave".to_owned());
    let fleet = vec![
        task(1, "running", "INCRE_TRANSFER_STARTED"),
        task(2, "ended", "RELEASE_RESOURCE_COMPLETE"),
        task(5, "broken", "INCRE_TRANSFER_FAILED"),
        task(6, "broken-forced", "INCRE_TRANSFER_FAILED"),
        task(7, "broken-escalated", "INCRE_TRANSFER_FAILED"),
        task(8, "running-but-expected-missing", "INCRE_TRANSFER_STARTED"),
        prepaid,
        child,
    ];
    let mock = serve(fleet);
    let dir = tempfile::tempdir().unwrap();
    let id = |n| task(n, "", "").id;
    let missing = "{ http: 400, error_code: DRS.10000010 }";
    let phases = format!(
        "defaults: {{ wait: {{ timeout: 1m, poll: 1s }} }}\nphases:\n  - name: p\n    stops:\n\
         \x20     - job: {}\n      - job: {}\n      - job: {}\n      - job: {}\n        expect: {missing}\n\
         \x20     - job: {}\n      - job: {}\n        force: true\n      - job: {}\n        escalate: {{ after: 30s }}\n\
         \x20     - job: {}\n        expect: {missing}\n      - job: {}\n      - job: {}\n",
        id(1),
        id(2),
        id(3),
        id(4),
        id(5),
        id(6),
        id(7),
        id(8),
        id(9),
        id(10)
    );
    let rb = runbook(dir.path(), &mock.url, &phases);
    let out = super::plan(
        dir.path(),
        &[rb.to_str().unwrap(), "--live", "--format", "json"],
    );
    assert_eq!(
        out.status.code(),
        Some(1),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let plan: Value = serde_json::from_slice(&out.stdout).unwrap();
    let expected = [
        (1, "ready", true, 0),
        (2, "already ending/ended", false, 0),
        (3, "not found", false, 0),
        (4, "not found", true, 0),
        (5, "will not end", false, 0),
        (6, "ready", true, 0),
        (7, "ready", true, 0),
        (8, "expectation mismatch", false, 0),
        (9, "ready", true, 1),
        (10, "ready", true, 1),
    ];
    let expected: Vec<(u64, String, bool, usize)> = expected
        .iter()
        .map(|(s, v, m, w)| (*s, v.to_string(), *m, *w))
        .collect();
    assert_eq!(verdicts(&plan), expected);
    assert_eq!(
        plan["live"]["stops"][1]["status"],
        "RELEASE_RESOURCE_COMPLETE"
    );
    assert_eq!(plan["live"]["totals"]["fail"], 4);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains("4 predicted to fail their expectation; 2 with a warning"),
        "{stderr}"
    );
    assert!(mock.stops().is_empty(), "a pre-flight sends no stop");

    // The live part is not hashed: the plan_id is the one `plan` gives without it.
    let offline = plan_json(dir.path(), &rb);
    assert_eq!(plan["plan_id"], offline["plan_id"]);
    let md = super::plan(dir.path(), &[rb.to_str().unwrap(), "--live"]);
    let md = String::from_utf8_lossy(&md.stdout);
    assert!(
        md.contains("## Pre-flight (live, not part of plan_id)"),
        "{md}"
    );
    assert!(md.contains("| will not end | **no** |"), "{md}");
    assert!(md.contains("prepaid task (charging\\_mode period)"), "{md}");
    assert!(md.contains("slave role"), "{md}");
}

#[test]
fn the_shipped_runbook_selects_from_its_fleet_and_is_ready() {
    let root = crate::support::root();
    let rb = root.join("runbooks/select-payments.yaml");
    let out = super::plan(&root, &[rb.to_str().unwrap(), "--live", "--format", "json"]);
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let plan: Value = serde_json::from_slice(&out.stdout).unwrap();
    let sel = selected(&plan);
    assert_eq!(sel["replicating"].len(), 13);
    assert_eq!(sel["broken"], ["orders-13-cdc"]);
    assert_eq!(plan["target"]["jobs"], "fleets/payments.yaml");
    assert_eq!(plan["live"]["totals"]["warned"], 2);

    // `show` gives a reviewer handed only the JSON the query and the names found.
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("plan.json");
    let out = super::plan(
        &root,
        &[rb.to_str().unwrap(), "--out", file.to_str().unwrap()],
    );
    assert!(out.status.success());
    let shown = crate::support::stopbook(["show", file.to_str().unwrap()])
        .output()
        .unwrap();
    let shown = String::from_utf8_lossy(&shown.stdout);
    assert!(
        shown
            .contains("Selected from live state: job_type sync, status INCRE\\_TRANSFER\\_STARTED"),
        "{shown}"
    );
    assert!(shown.contains("orders-02-cdc *(selected)*"), "{shown}");
}

//! A select resolved against a server that answers what it should not: a `total_count` no
//! machine can page through, cut-off answers, filters ignored, pages that do not add up. Always
//! a clean refusal or the jobs the query describes, never a crash, a silent loss or a stranger.

use std::time::Duration;

use serde_json::{Value, json};

use crate::hostile::{Hostile, Script, answer, runtime};
use crate::support::stopbook;

const P: &str = "054ba152d480d55b2f5dc0069e7ddef0";

fn ok(body: &Value) -> Script {
    answer(
        "200 OK",
        &["content-type: application/json"],
        body.to_string().as_bytes(),
    )
}

fn cut(bytes: &[u8]) -> Script {
    answer("200 OK", &["content-type: application/json"], bytes)
}

/// A ListJobs item of the job numbered `n`.
fn item(n: usize, name: &str) -> Value {
    json!({"id": id(n), "name": name, "status": "INCRE_TRANSFER_STARTED", "job_type": "sync",
           "enterprise_project_id": "0"})
}

fn id(n: usize) -> String {
    format!("{n:08}-5e1e-4c00-8000-0000000host0")
}

/// `stopbook plan` (with `extra`) of one phase selecting with `select` (or listing `stops`)
/// against a server answering `answers` in turn.
fn plan(answers: Vec<Script>, phase: &str, extra: &[&str]) -> (std::process::Output, usize) {
    let runtime = runtime();
    let server = Hostile::start(&runtime, answers);
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(
        dir.path().join("rb.yaml"),
        format!(
            "version: 1\nname: hostile select\ntarget:\n  endpoint: {}\n  project_id: {P}\n  auth: {{ token_env: HOSTILE_TOKEN }}\ndefaults:\n  wait: false\nlimits: {{ concurrency: 2 }}\nphases:\n  - name: p\n{phase}",
            server.url
        ),
    )
    .unwrap();
    let out = stopbook(["plan", "rb.yaml", "--format", "json"])
        .args(extra)
        .current_dir(dir.path())
        .env("HOSTILE_TOKEN", "hostile-token-value")
        .timeout(Duration::from_secs(120))
        .output()
        .unwrap();
    (out, server.served())
}

fn err(out: &std::process::Output) -> String {
    String::from_utf8_lossy(&out.stderr).into_owned()
}

fn jobs(out: &std::process::Output) -> Vec<String> {
    let plan: Value = serde_json::from_slice(&out.stdout).unwrap();
    plan["phases"][0]["stops"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s["job"].as_str().unwrap().to_owned())
        .collect()
}

#[test]
fn a_huge_total_count_is_refused_cleanly_without_paging() {
    let huge = ok(&json!({"total_count": 10_000_000_000_000u64, "jobs": [item(1, "a")]}));
    let (out, served) = plan(vec![huge], "    select: { job_type: sync, max: 10 }\n", &[]);
    assert_eq!(out.status.code(), Some(3), "{}", err(&out));
    assert!(err(&out).contains("10000000000000"), "{}", err(&out));
    assert!(served <= 3, "no page past the first: {served}");
}

#[test]
fn a_cut_off_listing_answer_is_read_again() {
    let whole = ok(&json!({"total_count": 1, "jobs": [item(1, "a")]}));
    let (out, _) = plan(
        vec![cut(br#"{"total_count": 1, "jo"#), whole],
        "    select: { job_type: sync, max: 10 }\n",
        &[],
    );
    assert_eq!(out.status.code(), Some(0), "{}", err(&out));
    assert_eq!(jobs(&out), [id(1)]);
}

#[test]
fn every_server_filter_is_checked_again_on_every_item() {
    let listed = |items: Vec<Value>| ok(&json!({"total_count": items.len(), "jobs": items}));
    let mut untyped = item(2, "orders-2");
    untyped.as_object_mut().unwrap().remove("job_type");
    let mut unprojected = item(3, "orders-3");
    unprojected
        .as_object_mut()
        .unwrap()
        .remove("enterprise_project_id");
    let mut numbered = item(4, "orders-4");
    numbered["enterprise_project_id"] = json!(0);
    let items = vec![
        item(1, "orders-1"),
        untyped,
        unprojected,
        numbered,
        item(5, "ledger-5"),
    ];
    let select =
        "    select: { job_type: sync, name: orders, enterprise_project_id: \"0\", max: 10 }\n";
    let (out, _) = plan(vec![listed(items)], select, &[]);
    assert_eq!(out.status.code(), Some(0), "{}", err(&out));
    assert_eq!(
        jobs(&out),
        [id(1)],
        "name, job_type and the project, re-checked"
    );

    // A tag filter that ignores the tags: each resource's own tags are checked.
    let all = vec![item(1, "a"), item(2, "b"), item(3, "c")];
    let resources = json!({"total_count": 3, "resources": [
        {"resource_id": id(1), "resource_name": "a", "tags": [{"key": "team", "value": "payments"}]},
        {"resource_id": id(2), "resource_name": "b", "tags": [{"key": "team", "value": "finance"}]},
        {"resource_id": id(3), "resource_name": "c", "tags": []}]});
    let select = "    select: { job_type: sync, tags: { team: [payments] }, max: 10 }\n";
    let (out, _) = plan(vec![listed(all), ok(&resources)], select, &[]);
    assert_eq!(out.status.code(), Some(0), "{}", err(&out));
    assert_eq!(jobs(&out), [id(1)], "tags, re-checked");
}

#[test]
fn pages_that_repeat_a_job_and_miss_another_are_not_a_plan() {
    // 1,001 jobs: the first page holds 0..1000, the second repeats job 0 (the server's order
    // rotated between the pages), so job 1000 is never seen.
    let first: Vec<Value> = (0..1000).map(|n| item(n, &format!("j{n:04}"))).collect();
    let first = ok(&json!({"total_count": 1001, "jobs": first}));
    let second = ok(&json!({"total_count": 1001, "jobs": [item(0, "j0000")]}));
    let answers = [
        first.clone(),
        second.clone(),
        first.clone(),
        second.clone(),
        first,
        second,
    ];
    let (out, _) = plan(
        answers.to_vec(),
        "    select: { job_type: sync, max: 2000 }\n",
        &[],
    );
    assert_eq!(out.status.code(), Some(3), "{}", err(&out));
    assert!(err(&out).contains("1000 different jobs"), "{}", err(&out));
}

/// The pre-flight verdict and `meets` of one listed stop (`expect`: its expectation, or none)
/// whose status reads are answered with `answers`; and the exit code.
fn preflight(answers: Vec<Script>, expect: Option<&str>) -> (Option<i32>, String, Value) {
    let expect = expect
        .map(|e| format!("        expect: {e}\n"))
        .unwrap_or_default();
    let phase = format!("    stops:\n      - job: {}\n{expect}", id(1));
    let (out, _) = plan(answers, &phase, &["--live"]);
    let doc: Value = serde_json::from_slice(&out.stdout).unwrap_or(Value::Null);
    let check = doc["live"]["stops"][0].clone();
    (out.status.code(), err(&out), check)
}

const MISSING: &str = "{ http: 400, error_code: DRS.10000010 }";

#[test]
fn a_cut_off_status_read_is_read_again_and_never_taken_for_not_found() {
    let running = ok(&json!({"job": {"id": id(1), "status": "INCRE_TRANSFER_STARTED"}}));
    let (code, err, check) = preflight(vec![cut(br#"{"job": {"stat"#), running], None);
    assert_eq!(code, Some(0), "{err}");
    assert_eq!(check["verdict"], "ready", "{check}");

    let (code, err, check) = preflight(vec![cut(br#"{"job": {"stat"#)], Some(MISSING));
    assert_eq!(code, Some(3), "cannot be read: {err}\n{check}");
    assert!(err.contains("not JSON"), "{err}");
    assert!(!err.contains("not found"), "{err}");
}

#[test]
fn a_missing_or_unknown_status_is_a_verdict_of_its_own() {
    for body in [
        json!({"job": {"id": id(1)}}),
        json!({"job": {"id": id(1), "status": "FROBNICATING"}}),
        json!({}),
    ] {
        let (code, err, check) = preflight(vec![ok(&body)], None);
        assert_eq!(code, Some(1), "{body}: {err}");
        assert_eq!(check["verdict"], "status unknown", "{body}: {check}");
        assert_eq!(check["meets"], false, "{body}");
    }
}

#[test]
fn an_error_msg_expectation_is_never_predicted_met() {
    let missing = answer(
        "400 Bad Request",
        &["content-type: application/json"],
        br#"{"error_code": "DRS.10000010", "error_msg": "The job does not exist."}"#,
    );
    let expect = "{ http: 400, error_code: DRS.10000010, error_msg_contains: \"no such task\" }";
    let (code, err, check) = preflight(vec![missing], Some(expect));
    assert_eq!(code, Some(1), "{err}");
    assert_eq!(check["meets"], false, "{check}");
    assert_eq!(check["verdict"], "cannot tell", "{check}");
}

#[test]
fn unreadable_reads_are_retried_within_the_runbooks_retry_settings() {
    let whole = ok(&json!({"total_count": 1, "jobs": [item(1, "a")]}));
    let answers = vec![cut(b"{\"total"), cut(b"{\"total"), whole];
    let phase = |attempts: u32| {
        format!(
            "    retry: {{ attempts: {attempts}, backoff: 10ms, max_backoff: 20ms }}\n    select: {{ job_type: sync, max: 10 }}\n"
        )
    };
    let (out, served) = plan(answers.clone(), &phase(2), &[]);
    assert_eq!(out.status.code(), Some(3), "{}", err(&out));
    assert!(err(&out).contains("after 2 attempts"), "{}", err(&out));
    assert_eq!(served, 2);
    let (out, _) = plan(answers, &phase(3), &[]);
    assert_eq!(out.status.code(), Some(0), "{}", err(&out));
}

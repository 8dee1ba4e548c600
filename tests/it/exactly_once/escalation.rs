//! Escalation journaled like any stop: reported only when accepted, never sent twice.

use std::time::Duration;

use serde_json::{Value, json};
use stopbook::mock::MockConfig;

use super::*;
use crate::run::{
    External, config, job_id, jobs, journal_header, journaled, report, run, runbook, stderr,
    stops_yaml,
};

#[test]
fn escalated_is_reported_only_when_the_force_stop_was_accepted() {
    // The graceful stop takes 3s; escalation is due after 300ms, when the job is already
    // ending, so the force stop is refused ("already ending") and the job ends on its own.
    let mock = External::start(MockConfig {
        stop_delay: Duration::from_secs(3),
        ..config(jobs(0..1, "INCRE_TRANSFER_STARTED"))
    });
    let dir = tempfile::tempdir().unwrap();
    let body = format!(
        "defaults: {{ wait: {{ timeout: 20s, poll: 100ms }}, escalate: {{ after: 300ms }} }}\nphases:\n  - name: all\n    stops:\n{}",
        stops_yaml([job_id(0)])
    );
    let path = runbook(dir.path(), &mock.url, &body);
    let output = run(
        dir.path(),
        &[
            path.to_str().unwrap(),
            "--journal",
            "j.jsonl",
            "--report-json",
            "report.json",
            "--no-progress",
        ],
    );
    assert_eq!(output.status.code(), Some(0), "{}", stderr(&output));
    assert_eq!(
        mock.received().of(&job_id(0)),
        [TAKEN, FORCE_REFUSED],
        "one graceful stop, one force stop refused while the job was ending"
    );
    let result = &report(dir.path())["results"][0];
    assert_eq!(result["escalated"], false, "{result}");
    let journal = std::fs::read_to_string(dir.path().join("j.jsonl")).unwrap();
    assert!(journal.contains("\"kind\":\"escalating\""), "{journal}");
    // The refusal is journaled with its answer, so a resume knows the force stop took no
    // effect (this failed on the code before the window record: no such line existed).
    let refused: Vec<Value> = journal
        .lines()
        .map(|l| serde_json::from_str::<Value>(l).unwrap())
        .filter(|l| l["kind"] == "escalation_refused")
        .collect();
    assert_eq!(refused.len(), 1, "{journal}");
    assert_eq!(refused[0]["http"], 400, "{journal}");
    assert!(refused[0]["error_code"].is_string(), "{journal}");
    let history = &result["history"];
    let events: Vec<&str> = history
        .as_array()
        .unwrap()
        .iter()
        .map(|h| h["event"].as_str().unwrap())
        .collect();
    assert_eq!(
        events,
        ["sent", "accepted", "escalating", "refused", "ended"],
        "{history}"
    );
}

#[test]
fn a_resumed_run_never_sends_a_second_force_stop() {
    // The journal of a run killed right after it declared an escalation: the graceful stop
    // was accepted and the force stop may have gone out.
    let mock = External::start(MockConfig {
        stop_delay: Duration::from_millis(200),
        ..config(vec![spec(0, "RELEASE_RESOURCE_FAILED")])
    });
    let dir = tempfile::tempdir().unwrap();
    let body = format!(
        "defaults: {{ wait: {{ timeout: 3s, poll: 100ms }}, escalate: {{ after: 10m }} }}\nphases:\n  - name: all\n    stops:\n{}",
        stops_yaml([job_id(0)])
    );
    let path = runbook(dir.path(), &mock.url, &body);
    let plan = stopbook::plan::Plan::new(stopbook::runbook::load(&path).unwrap());
    let lines = [
        journal_header(&plan.plan_id, &mock.url),
        json!({"kind": "intent", "seq": 1, "job": job_id(0), "force": false}),
        json!({"kind": "accepted", "seq": 1, "job": job_id(0)}),
        json!({"kind": "escalating", "seq": 1, "job": job_id(0)}),
    ];
    let text: String = lines.iter().map(|l| format!("{l}\n")).collect();
    std::fs::write(dir.path().join("j.jsonl"), text).unwrap();
    let output = run(
        dir.path(),
        &[
            path.to_str().unwrap(),
            "--journal",
            "j.jsonl",
            "--resume",
            "--report-json",
            "report.json",
            "--no-progress",
        ],
    );
    assert_eq!(output.status.code(), Some(1), "{}", stderr(&output));
    assert_eq!(mock.received().total(), 0, "a second force stop was sent");
    let reason = report(dir.path())["results"][0]["reason"]
        .as_str()
        .unwrap()
        .to_owned();
    assert!(reason.contains("not sent again"), "{reason}");
}

#[test]
fn an_escalation_interrupted_while_throttled_is_finished_by_resume() {
    let mock = External::start(config(vec![spec(0, "INCRE_TRANSFER_FAILED")]));
    let dir = tempfile::tempdir().unwrap();
    let body = format!(
        "defaults: {{ wait: {{ timeout: 30s, poll: 100ms }}, escalate: {{ after: 30s }}, retry: {{ max_backoff: 5s, settle: 1s }} }}\nphases:\n  - name: all\n    stops:\n{}",
        stops_yaml([job_id(0)])
    );
    let path = runbook(dir.path(), &mock.url, &body);
    let args = journaled(&path);
    let child = spawn(dir.path(), &args);
    wait_until("the graceful stop was accepted", || {
        mock.stops().iter().any(|r| r["status"] == 200)
    });
    // The job ends RELEASE_RESOURCE_FAILED; from now on the gateway throttles hard.
    admin(
        &mock,
        reqwest::Method::PUT,
        "/__mock/faults",
        json!({"throttle": 1, "retry_after_s": 1}),
    );
    let forced = |r: &Value| r["body"].as_str().unwrap_or("").contains("true");
    wait_until("the force stop was throttled", || {
        mock.stops().iter().any(|r| forced(r) && r["status"] == 429)
    });
    sigint(&child);
    let output = child.wait_with_output().unwrap();
    assert_eq!(output.status.code(), Some(130), "{}", stderr(&output));
    assert_eq!(
        mock.received().of(&job_id(0)),
        [TAKEN],
        "no force stop arrived"
    );

    admin(
        &mock,
        reqwest::Method::PUT,
        "/__mock/faults",
        json!({"throttle": 0}),
    );
    let resumed = run(dir.path(), &[args.as_slice(), &["--resume"]].concat());
    assert_eq!(resumed.status.code(), Some(0), "{}", stderr(&resumed));
    let result = &report(dir.path())["results"][0];
    assert_eq!(result["escalated"], true, "{result}");
    assert_eq!(
        mock.received().of(&job_id(0)),
        [TAKEN, FORCE_TAKEN],
        "one force stop took effect"
    );
}

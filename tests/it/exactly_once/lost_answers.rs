//! Lost answers, lagging statuses and resends: never a second stop, every outcome known.

use std::path::Path;
use std::process::Output;
use std::time::Duration;

use serde_json::{Value, json};
use stopbook::mock::{Faults, MockConfig};

use super::*;
use crate::run::{
    External, Received, Stop, config, job_id, jobs, journal_header, journaled, report, run,
    run_with, runbook, stderr, stops_yaml,
};

/// Healthy jobs stopped gracefully (0..12), abnormal ones forced (12..18), and abnormal ones
/// stopped gracefully with escalation (18..22: their graceful stop ends
/// RELEASE_RESOURCE_FAILED, so exactly one force stop each is due), through a gateway that
/// loses answers after applying the stop; run with `env`.
fn gateway_faults(env: &[(&str, &str)]) -> (External, tempfile::TempDir, Output) {
    let mut fleet = jobs(0..12, "INCRE_TRANSFER_STARTED");
    fleet.extend(jobs(12..18, "INCRE_TRANSFER_FAILED"));
    fleet.extend(jobs(18..22, "FULL_TRANSFER_FAILED"));
    let mock = External::start(MockConfig {
        faults: Faults {
            error_after: 0.3,
            reset_after: 0.1,
            status_lag: Duration::from_millis(700),
            ..Faults::default()
        },
        seed: 7,
        // Releasing takes longer than the lag, as on a real service (minutes against seconds):
        // a job is seen ending before it is seen ended.
        stop_delay: Duration::from_millis(3000),
        ..config(fleet)
    });
    let dir = tempfile::tempdir().unwrap();
    let body = format!(
        "limits: {{ concurrency: 6 }}\n\
         defaults: {{ wait: {{ timeout: 60s, poll: 100ms }}, retry: {{ attempts: 6, backoff: 50ms, max_backoff: 200ms, settle: 2s }} }}\n\
         phases:\n  - name: healthy\n    stops:\n{}  - name: forced\n    force: true\n    stops:\n{}  - name: escalated\n    escalate: {{ after: 60s }}\n    stops:\n{}",
        stops_yaml((0..12).map(job_id)),
        stops_yaml((12..18).map(job_id)),
        stops_yaml((18..22).map(job_id)),
    );
    let path = runbook(dir.path(), &mock.url, &body);
    let args = [
        path.to_str().unwrap(),
        "--report-json",
        "report.json",
        "--no-progress",
    ];
    let output = run_with(dir.path(), &args, env);
    (mock, dir, output)
}

/// The jobs of a [`gateway_faults`] run that did not receive exactly the stops they needed.
fn needless_stops(got: &Received) -> Vec<(String, Vec<Stop>)> {
    let mut wrong = got.other_than((0..12).map(job_id), &[TAKEN]);
    wrong.extend(got.other_than((12..18).map(job_id), &[FORCE_TAKEN]));
    wrong.extend(got.other_than((18..22).map(job_id), &[TAKEN, FORCE_TAKEN]));
    wrong
}

#[test]
fn gateway_faults_never_cost_a_second_stop() {
    let (mock, dir, output) = gateway_faults(&[]);
    // Faults are drawn in arrival order (status reads too), so how many land on stops varies.
    let faults = mock
        .requests()
        .iter()
        .filter(|r| r["fault"].is_string())
        .count();
    assert!(faults >= 3, "the faults were not exercised ({faults})");
    assert_eq!(
        needless_stops(&mock.received()),
        [],
        "jobs that did not receive exactly the stops they needed\n{}",
        stderr(&output)
    );
    for n in 0..22 {
        assert_eq!(
            mock.status(&job_id(n)),
            "RELEASE_RESOURCE_COMPLETE",
            "job {n}"
        );
    }
    assert_eq!(output.status.code(), Some(0), "{}", stderr(&output));
    let report = report(dir.path());
    assert_eq!(report["summary"]["passed"], 22);
    let escalated = report["results"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|r| r["escalated"] == true)
        .count();
    assert_eq!(
        escalated, 4,
        "exactly the abnormal graceful stops escalated"
    );
}

/// The count above can fail: the deliberately broken build, which sends a stop again right
/// after an unknown outcome instead of reading the job's status, is caught by it, second stops
/// whose answers a fault replaced (a 502 or a reset instead of the 400) included.
#[cfg(feature = "failpoints")]
#[test]
fn the_count_catches_a_build_that_resends_after_an_unknown_outcome() {
    let (mock, _dir, output) = gateway_faults(&[("STOPBOOK_FAILPOINT", "resend-unknown")]);
    let wrong = needless_stops(&mock.received());
    assert!(
        wrong.iter().any(|(_, got)| got.len() > 1),
        "the broken build's second stops were not seen: {wrong:?}\n{}",
        stderr(&output)
    );
}

#[test]
fn sigint_while_an_outcome_is_unknown_is_skipped_and_resume_finishes_it() {
    // Every request fails with a 503 before it is applied, until the gateway heals.
    let mock = External::start(MockConfig {
        faults: Faults {
            error_rate: 1.0,
            burst: 1,
            ..Faults::default()
        },
        ..config(jobs(0..1, "INCRE_TRANSFER_STARTED"))
    });
    let dir = tempfile::tempdir().unwrap();
    let body = format!(
        "defaults: {{ wait: {{ timeout: 30s, poll: 100ms }}, retry: {{ attempts: 5, backoff: 3s, max_backoff: 5s, settle: 20s }} }}\n\
         phases:\n  - name: all\n    stops:\n{}",
        stops_yaml([job_id(0)])
    );
    let path = runbook(dir.path(), &mock.url, &body);
    let args = journaled(&path);
    let child = spawn(dir.path(), &args);
    wait_until_read_after_stops(&mock, "the stop's answer was taken in");
    sigint(&child);
    let output = child.wait_with_output().unwrap();
    assert_eq!(output.status.code(), Some(130), "{}", stderr(&output));
    assert_eq!(report(dir.path())["results"][0]["outcome"], "skipped");

    admin(
        &mock,
        reqwest::Method::PUT,
        "/__mock/faults",
        json!({"error_rate": 0.0}),
    );
    let mut resumed_args = args.to_vec();
    resumed_args.push("--resume");
    let resumed = run(dir.path(), &resumed_args);
    assert_eq!(resumed.status.code(), Some(0), "{}", stderr(&resumed));
    assert!(
        stderr(&resumed).contains("resuming: 0 of 1 stops done"),
        "{}",
        stderr(&resumed)
    );
    assert_eq!(mock.status(&job_id(0)), "RELEASE_RESOURCE_COMPLETE");
    assert_eq!(mock.received().of(&job_id(0)), [TAKEN]);
}

#[test]
fn a_resend_after_a_backoff_is_settled_from_when_it_was_sent_on_resume() {
    // One request a second: the test takes this second's place, so the stop is throttled (429,
    // surely not applied) and resent 4 s later; that resend is applied and answered 5xx, with
    // 2 to 4 s of status lag; the run is killed right after it.
    let mock = External::start(MockConfig {
        faults: Faults {
            throttle: Some(1),
            throttle_retry_after: Some(4),
            ..Faults::default()
        },
        ..config(jobs(0..1, "INCRE_TRANSFER_STARTED"))
    });
    let dir = tempfile::tempdir().unwrap();
    let body = format!(
        "defaults: {{ wait: {{ timeout: 30s, poll: 200ms }}, retry: {{ settle: 5500ms }} }}\nphases:\n  - name: all\n    stops:\n{}",
        stops_yaml([job_id(0)])
    );
    let path = runbook(dir.path(), &mock.url, &body);
    let args = journaled(&path);
    mock.get(&format!(
        "/v5/{}/jobs/{}?type=detail",
        crate::run::P,
        job_id(0)
    ));
    let mut child = spawn(dir.path(), &args);
    wait_until("the stop was throttled", || {
        mock.stops().iter().any(|r| r["status"] == 429)
    });
    admin(
        &mock,
        reqwest::Method::PUT,
        "/__mock/faults",
        json!({"throttle": 0, "error_after": 1.0, "status_lag_ms": 4000}),
    );
    wait_until("the resend was applied", || {
        mock.stops()
            .iter()
            .any(|r| r["fault"] == "server error after apply")
    });
    wait_until_read_after_stops(&mock, "the run settles the lost answer");
    child.kill().unwrap();
    child.wait().unwrap();
    admin(
        &mock,
        reqwest::Method::PUT,
        "/__mock/faults",
        json!({"error_after": 0.0}),
    );

    let resumed = run(dir.path(), &[args.as_slice(), &["--resume"]].concat());
    assert_eq!(resumed.status.code(), Some(0), "{}", stderr(&resumed));
    assert_eq!(
        mock.received().of(&job_id(0)),
        [TAKEN],
        "the throttled stop reached no job, the resend one: {:?}",
        mock.stops()
    );
    let throttled = mock.stops().iter().filter(|r| r["status"] == 429).count();
    assert_eq!(throttled, 1, "{:?}", mock.stops());
}

#[test]
fn stops_that_never_reached_the_server_are_tried_again_by_resume() {
    // A port with nobody listening: every connection is refused.
    let addr = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap();
    let dir = tempfile::tempdir().unwrap();
    let body = format!(
        "defaults: {{ wait: {{ timeout: 30s, poll: 100ms }}, retry: {{ attempts: 2, backoff: 50ms }} }}\nphases:\n  - name: all\n    stops:\n{}",
        stops_yaml((0..2).map(job_id))
    );
    let path = runbook(dir.path(), &format!("http://{addr}"), &body);
    let args = journaled(&path);
    let down = run(dir.path(), &args);
    assert_eq!(down.status.code(), Some(1), "{}", stderr(&down));

    let mock = External::start_at(addr, config(jobs(0..2, "INCRE_TRANSFER_STARTED")));
    let mut resumed_args = args.to_vec();
    resumed_args.push("--resume");
    let resumed = run(dir.path(), &resumed_args);
    assert_eq!(resumed.status.code(), Some(0), "{}", stderr(&resumed));
    assert_eq!(mock.received().other_than((0..2).map(job_id), &[TAKEN]), []);
    assert_eq!(mock.status(&job_id(1)), "RELEASE_RESOURCE_COMPLETE");
}

/// A journal a run left when it was killed right after declaring its stop(s): header and intents.
fn killed_journal(dir: &Path, path: &Path, url: &str, lines: &[Value]) {
    let plan = stopbook::plan::Plan::new(stopbook::runbook::load(path).unwrap());
    let mut text = format!("{}\n", journal_header(&plan.plan_id, url));
    for line in lines {
        text.push_str(&format!("{line}\n"));
    }
    std::fs::write(dir.join("j.jsonl"), text).unwrap();
}

#[test]
fn a_failed_status_that_cannot_tell_is_outcome_unknown_and_retry_failed_stops_it_again() {
    // The job was RELEASE_RESOURCE_FAILED before its force stop, whose intent is all the journal
    // holds: the status cannot tell whether the stop was taken.
    let mock = External::start(config(vec![spec(0, "RELEASE_RESOURCE_FAILED")]));
    let dir = tempfile::tempdir().unwrap();
    let body = format!(
        "defaults: {{ force: true, wait: {{ timeout: 10s, poll: 100ms }}, retry: {{ settle: 1s }} }}\nphases:\n  - name: all\n    stops:\n{}",
        stops_yaml([job_id(0)])
    );
    let path = runbook(dir.path(), &mock.url, &body);
    killed_journal(
        dir.path(),
        &path,
        &mock.url,
        &[json!({"kind": "intent", "seq": 1, "job": job_id(0), "force": true})],
    );
    let args = [
        path.to_str().unwrap(),
        "--journal",
        "j.jsonl",
        "--resume",
        "--report-json",
        "report.json",
        "--no-progress",
    ];
    let first = run(dir.path(), &args);
    assert_eq!(first.status.code(), Some(1), "{}", stderr(&first));
    let reason = report(dir.path())["results"][0]["reason"]
        .as_str()
        .unwrap()
        .to_owned();
    assert!(reason.contains("outcome unknown"), "{reason}");
    assert_eq!(
        mock.received().total(),
        0,
        "not sent again: the status cannot tell"
    );

    let again = run(dir.path(), &[args.as_slice(), &["--retry-failed"]].concat());
    assert_eq!(again.status.code(), Some(0), "{}", stderr(&again));
    assert_eq!(
        mock.received().of(&job_id(0)),
        [FORCE_TAKEN],
        "the operator asked: stopped again, once"
    );
    assert_eq!(mock.status(&job_id(0)), "RELEASE_RESOURCE_COMPLETE");
}

//! Exactly-once under the faults real gateways produce: answers lost after the stop was applied,
//! statuses that lag, interrupts, resumes, canaries, refused credentials. The mock's request
//! log is the witness: every stop request it received, not only those it refused.

use std::collections::HashMap;
use std::path::Path;
use std::time::{Duration, Instant};

use serde_json::{Value, json};
use stopbook::mock::{Faults, JobSpec, MockConfig};

use crate::run::{External, TOKEN, config, job_id, jobs, report, run, runbook, stderr, stops_yaml};

/// Stop requests the mock received, per job, whatever their answer.
fn stops_per_job(mock: &External) -> HashMap<String, usize> {
    let mut counts = HashMap::new();
    for r in mock.stops() {
        let path = r["path"].as_str().unwrap_or("");
        let job = path.rsplit('/').nth(1).unwrap_or("").to_owned();
        *counts.entry(job).or_insert(0) += 1;
    }
    counts
}

/// Stop requests the mock applied (answered 200, or answered otherwise after applying).
fn applied_per_job(mock: &External) -> HashMap<String, usize> {
    let mut counts = HashMap::new();
    for r in mock.stops() {
        let applied = r["status"] == 200
            || r["fault"] == "server error after apply"
            || r["fault"] == "reset after apply";
        if applied {
            let job = r["path"]
                .as_str()
                .unwrap_or("")
                .rsplit('/')
                .nth(1)
                .unwrap_or("")
                .to_owned();
            *counts.entry(job).or_insert(0) += 1;
        }
    }
    counts
}

/// Sends an admin request to the mock.
fn admin(mock: &External, method: reqwest::Method, path: &str, body: Value) {
    let url = format!("{}{path}", mock.url);
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    runtime.block_on(async {
        let client = reqwest::Client::builder().no_proxy().build().unwrap();
        let answer = client
            .request(method, url)
            .json(&body)
            .send()
            .await
            .unwrap();
        assert!(answer.status().is_success(), "{}", answer.status());
    });
}

fn spawn(dir: &Path, args: &[&str]) -> std::process::Child {
    std::process::Command::new(env!("CARGO_BIN_EXE_stopbook"))
        .arg("run")
        .args(args)
        .current_dir(dir)
        .env("STOPBOOK_TEST_TOKEN", TOKEN)
        .env_remove("HTTP_PROXY")
        .env_remove("http_proxy")
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap()
}

fn sigint(child: &std::process::Child) {
    // SAFETY: signalling our own child.
    unsafe { libc::kill(child.id() as i32, libc::SIGINT) };
}

fn wait_until(what: &str, mut done: impl FnMut() -> bool) {
    let deadline = Instant::now() + Duration::from_secs(30);
    while !done() {
        assert!(Instant::now() < deadline, "timed out waiting until {what}");
        std::thread::sleep(Duration::from_millis(20));
    }
}

fn spec(n: usize, status: &str) -> JobSpec {
    jobs(n..n + 1, status).remove(0)
}

#[test]
fn gateway_faults_never_cost_a_second_stop() {
    // Healthy jobs stopped gracefully, abnormal ones forced, and abnormal ones stopped
    // gracefully with escalation (their graceful stop ends RELEASE_RESOURCE_FAILED, so exactly
    // one force stop each is due).
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
    let output = run(
        dir.path(),
        &[
            path.to_str().unwrap(),
            "--report-json",
            "report.json",
            "--no-progress",
        ],
    );
    let faults: Vec<Value> = mock
        .stops()
        .into_iter()
        .filter(|r| r["fault"].is_string())
        .collect();
    assert!(
        faults.len() >= 3,
        "the faults were not exercised: {faults:?}"
    );
    let sent = stops_per_job(&mock);
    for n in 0..22 {
        let expected = if n >= 18 { 2 } else { 1 };
        assert_eq!(
            sent.get(&job_id(n)).copied().unwrap_or(0),
            expected,
            "job {n} received {:?} stop requests, not {expected}\n{}",
            sent.get(&job_id(n)),
            stderr(&output)
        );
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
    let args = [
        path.to_str().unwrap(),
        "--journal",
        "j.jsonl",
        "--report-json",
        "report.json",
        "--no-progress",
    ];
    let child = spawn(dir.path(), &args);
    wait_until("the stop was sent", || !mock.stops().is_empty());
    std::thread::sleep(Duration::from_millis(800));
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
    assert_eq!(applied_per_job(&mock).get(&job_id(0)), Some(&1));
}

#[test]
fn a_resumed_run_counts_the_failures_its_journal_holds() {
    // Jobs 90 and 91 do not exist: their stops fail. The budget allows one failure.
    let mock = External::start(MockConfig {
        stop_delay: Duration::from_secs(3),
        ..config(jobs(0..2, "INCRE_TRANSFER_STARTED"))
    });
    let dir = tempfile::tempdir().unwrap();
    let body = format!(
        "limits: {{ concurrency: 1, max_failures: 1 }}\n\
         defaults: {{ wait: {{ timeout: 30s, poll: 100ms }} }}\n\
         phases:\n  - name: one\n    stops:\n{}  - name: two\n    stops:\n{}  - name: three\n    stops:\n{}",
        stops_yaml([job_id(90)]),
        stops_yaml([job_id(0)]),
        stops_yaml([job_id(91), job_id(1)]),
    );
    let path = runbook(dir.path(), &mock.url, &body);
    let args = [
        path.to_str().unwrap(),
        "--journal",
        "j.jsonl",
        "--report-json",
        "report.json",
        "--no-progress",
    ];
    let child = spawn(dir.path(), &args);
    wait_until("phase two's stop was sent", || mock.stops().len() >= 2);
    sigint(&child);
    let output = child.wait_with_output().unwrap();
    assert_eq!(output.status.code(), Some(130), "{}", stderr(&output));

    let mut resumed_args = args.to_vec();
    resumed_args.push("--resume");
    let resumed = run(dir.path(), &resumed_args);
    assert_eq!(resumed.status.code(), Some(3), "{}", stderr(&resumed));
    let sent = stops_per_job(&mock);
    assert_eq!(sent.get(&job_id(91)), Some(&1), "{sent:?}");
    assert_eq!(
        sent.get(&job_id(1)),
        None,
        "the journal's failure and this run's make two, past a budget of one: nothing more starts"
    );
    let report = report(dir.path());
    assert_eq!(report["outcome"], "aborted");
    assert_eq!(
        report["summary"]["failed"], 2,
        "the budget line and the summary agree"
    );
    assert!(
        report["halted"]
            .as_str()
            .unwrap()
            .contains("2 failed, 1 allowed"),
        "{report}"
    );
}

#[test]
fn a_401_during_status_reads_halts_the_run_at_once() {
    let mock = External::start(MockConfig {
        stop_delay: Duration::from_secs(20),
        ..config(jobs(0..6, "INCRE_TRANSFER_STARTED"))
    });
    let dir = tempfile::tempdir().unwrap();
    let body = format!(
        "limits: {{ concurrency: 6, rate: 5/s }}\ndefaults: {{ wait: {{ timeout: 60s, poll: 200ms }} }}\nphases:\n  - name: all\n    stops:\n{}",
        stops_yaml((0..6).map(job_id))
    );
    let path = runbook(dir.path(), &mock.url, &body);
    let args = [
        path.to_str().unwrap(),
        "--journal",
        "j.jsonl",
        "--report-json",
        "report.json",
        "--no-progress",
    ];
    let child = spawn(dir.path(), &args);
    wait_until("every stop was accepted", || mock.stops().len() >= 6);
    std::thread::sleep(Duration::from_millis(300));
    admin(&mock, reqwest::Method::POST, "/__mock/revoke", json!({}));
    let output = child.wait_with_output().unwrap();
    assert_eq!(output.status.code(), Some(3), "{}", stderr(&output));
    let requests = mock.requests();
    let refused: Vec<&Value> = requests.iter().filter(|r| r["status"] == 401).collect();
    let first_answer = refused
        .iter()
        .filter_map(|r| r["finished_us"].as_u64())
        .min()
        .expect("a request was refused");
    // Requests are spaced 200ms apart by the rate; one the client had already started when the
    // 401 reached it may arrive a moment later, but none may start after that.
    let started_after: Vec<&Value> = requests
        .iter()
        .filter(|r| r["started_us"].as_u64().unwrap_or(0) > first_answer + 100_000)
        .collect();
    assert!(
        started_after.is_empty(),
        "{} requests started after the first 401 was answered: {started_after:?}",
        started_after.len()
    );
    let report = report(dir.path());
    assert_eq!(report["outcome"], "aborted");
    assert!(
        report["halted"]
            .as_str()
            .unwrap()
            .contains("authentication refused")
    );
    assert_eq!(
        report["summary"]["skipped"], 6,
        "accepted, not ended: --resume waits for them"
    );
}

#[test]
fn a_failed_canary_ends_the_run() {
    let mock = External::start(config(jobs(0..4, "INCRE_TRANSFER_STARTED")));
    let dir = tempfile::tempdir().unwrap();
    // The canary's job does not exist, so its stop fails; the run has no budget of its own.
    let body = format!(
        "defaults: {{ wait: {{ timeout: 30s, poll: 100ms }} }}\nphases:\n  - name: canary\n    max_failures: 0\n    stops:\n{}  - name: bulk\n    stops:\n{}",
        stops_yaml([job_id(99)]),
        stops_yaml((0..4).map(job_id))
    );
    let path = runbook(dir.path(), &mock.url, &body);
    let output = run(
        dir.path(),
        &[
            path.to_str().unwrap(),
            "--report-json",
            "report.json",
            "--no-progress",
        ],
    );
    assert_eq!(output.status.code(), Some(3), "{}", stderr(&output));
    assert_eq!(mock.stops().len(), 1, "nothing past the canary was sent");
    let report = report(dir.path());
    assert_eq!(report["summary"]["failed"], 1);
    assert_eq!(report["summary"]["skipped"], 4);
    assert!(
        report["halted"]
            .as_str()
            .unwrap()
            .contains("phase `canary`")
    );
}

#[test]
fn until_pauses_after_a_phase_and_resume_goes_on() {
    let mock = External::start(config(jobs(0..4, "INCRE_TRANSFER_STARTED")));
    let dir = tempfile::tempdir().unwrap();
    let body = format!(
        "defaults: {{ wait: {{ timeout: 30s, poll: 100ms }} }}\nphases:\n  - name: canary\n    stops:\n{}  - name: bulk\n    stops:\n{}",
        stops_yaml([job_id(0)]),
        stops_yaml((1..4).map(job_id))
    );
    let path = runbook(dir.path(), &mock.url, &body);
    let args = [
        path.to_str().unwrap(),
        "--journal",
        "j.jsonl",
        "--report-json",
        "report.json",
        "--no-progress",
    ];
    let mut paused_args = args.to_vec();
    paused_args.extend(["--until", "canary"]);
    let paused = run(dir.path(), &paused_args);
    assert_eq!(paused.status.code(), Some(0), "{}", stderr(&paused));
    assert_eq!(report(dir.path())["outcome"], "paused");
    assert_eq!(mock.stops().len(), 1);

    let mut resumed_args = args.to_vec();
    resumed_args.push("--resume");
    let resumed = run(dir.path(), &resumed_args);
    assert_eq!(resumed.status.code(), Some(0), "{}", stderr(&resumed));
    assert!(
        stderr(&resumed).contains("resuming: 1 of 4 stops done"),
        "{}",
        stderr(&resumed)
    );
    assert_eq!(report(dir.path())["outcome"], "passed");
    assert_eq!(mock.stops().len(), 4, "each job stopped once");
}

#[test]
fn resume_without_a_journal_exits_2_naming_the_path() {
    let mock = External::start(config(jobs(0..1, "INCRE_TRANSFER_STARTED")));
    let dir = tempfile::tempdir().unwrap();
    let path = runbook(
        dir.path(),
        &mock.url,
        &format!(
            "phases:\n  - name: all\n    stops:\n{}",
            stops_yaml([job_id(0)])
        ),
    );
    let output = run(
        dir.path(),
        &[path.to_str().unwrap(), "--resume", "--no-progress"],
    );
    assert_eq!(output.status.code(), Some(2), "{}", stderr(&output));
    assert!(
        stderr(&output).contains(".stopbook/journal-"),
        "{}",
        stderr(&output)
    );
    assert!(mock.requests().is_empty(), "nothing was sent");
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
    let args = [
        path.to_str().unwrap(),
        "--journal",
        "j.jsonl",
        "--report-json",
        "report.json",
        "--no-progress",
    ];
    let down = run(dir.path(), &args);
    assert_eq!(down.status.code(), Some(1), "{}", stderr(&down));

    let mock = External::start_at(addr, config(jobs(0..2, "INCRE_TRANSFER_STARTED")));
    let mut resumed_args = args.to_vec();
    resumed_args.push("--resume");
    let resumed = run(dir.path(), &resumed_args);
    assert_eq!(resumed.status.code(), Some(0), "{}", stderr(&resumed));
    assert_eq!(mock.stops().len(), 2);
    assert_eq!(mock.status(&job_id(1)), "RELEASE_RESOURCE_COMPLETE");
}

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
    assert_eq!(mock.stops().len(), 2, "one graceful stop, one force stop");
    let result = &report(dir.path())["results"][0];
    assert_eq!(result["escalated"], false, "{result}");
    let journal = std::fs::read_to_string(dir.path().join("j.jsonl")).unwrap();
    assert!(journal.contains("\"kind\":\"escalating\""), "{journal}");
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
        json!({"kind": "run", "plan_id": plan.plan_id, "runbook": "test run"}),
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
    assert!(mock.stops().is_empty(), "a second force stop was sent");
    let reason = report(dir.path())["results"][0]["reason"]
        .as_str()
        .unwrap()
        .to_owned();
    assert!(reason.contains("not sent again"), "{reason}");
}

#[test]
fn a_panic_in_a_stop_still_writes_the_journal_and_reports_and_exits_70() {
    let mock = External::start(config(jobs(0..4, "INCRE_TRANSFER_STARTED")));
    let dir = tempfile::tempdir().unwrap();
    let body = format!(
        "limits: {{ concurrency: 1 }}\ndefaults: {{ wait: {{ timeout: 30s, poll: 100ms }} }}\nphases:\n  - name: all\n    stops:\n{}",
        stops_yaml((0..4).map(job_id))
    );
    let path = runbook(dir.path(), &mock.url, &body);
    let args = [
        path.to_str().unwrap(),
        "--journal",
        "j.jsonl",
        "--report-json",
        "report.json",
        "--no-progress",
    ];
    let mut cmd = crate::support::stopbook(["run"]);
    cmd.args(args)
        .current_dir(dir.path())
        .env("STOPBOOK_TEST_TOKEN", TOKEN)
        .env("STOPBOOK_FAILPOINT", "panic-at-stop:2")
        .timeout(Duration::from_secs(60));
    let output = cmd.output().unwrap();
    assert_eq!(output.status.code(), Some(70), "{}", stderr(&output));
    assert!(
        stderr(&output).contains("internal error"),
        "{}",
        stderr(&output)
    );
    let report = report(dir.path());
    assert_eq!(report["summary"]["total"], 4, "every stop has a result");
    assert_eq!(report["summary"]["passed"], 1);
    assert_eq!(report["summary"]["skipped"], 3);

    let resumed = run(dir.path(), &[args.as_slice(), &["--resume"]].concat());
    assert_eq!(resumed.status.code(), Some(0), "{}", stderr(&resumed));
    assert_eq!(mock.stops().len(), 4, "each job stopped once");
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
    let args = [
        path.to_str().unwrap(),
        "--journal",
        "j.jsonl",
        "--report-json",
        "report.json",
        "--no-progress",
    ];
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
    std::thread::sleep(Duration::from_millis(500));
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
        applied_per_job(&mock).get(&job_id(0)),
        Some(&1),
        "{:?}",
        mock.stops()
    );
    assert_eq!(mock.stops().len(), 2, "one throttled, one applied");
}

/// A journal a run left when it was killed right after declaring its stop(s): header and intents.
fn killed_journal(dir: &Path, path: &Path, lines: &[Value]) {
    let plan = stopbook::plan::Plan::new(stopbook::runbook::load(path).unwrap());
    let mut text = format!(
        "{}\n",
        json!({"kind": "run", "plan_id": plan.plan_id, "runbook": "test run"})
    );
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
    assert!(
        mock.stops().is_empty(),
        "not resent: the status cannot tell"
    );

    let again = run(dir.path(), &[args.as_slice(), &["--retry-failed"]].concat());
    assert_eq!(again.status.code(), Some(0), "{}", stderr(&again));
    assert_eq!(
        mock.stops().len(),
        1,
        "the operator asked: stopped again, once"
    );
    assert_eq!(mock.status(&job_id(0)), "RELEASE_RESOURCE_COMPLETE");
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
    let args = [
        path.to_str().unwrap(),
        "--journal",
        "j.jsonl",
        "--report-json",
        "report.json",
        "--no-progress",
    ];
    let child = spawn(dir.path(), &args);
    wait_until("the graceful stop was accepted", || {
        mock.stops().iter().any(|r| r["status"] == 200)
    });
    // The job ends RELEASE_RESOURCE_FAILED; from now on the gateway throttles hard.
    admin(
        &mock,
        reqwest::Method::PUT,
        "/__mock/faults",
        json!({"throttle": 1, "retry_after_s": 30}),
    );
    let forced = |r: &Value| r["body"].as_str().unwrap_or("").contains("true");
    wait_until("the force stop was throttled", || {
        mock.stops().iter().any(|r| forced(r) && r["status"] == 429)
    });
    sigint(&child);
    let output = child.wait_with_output().unwrap();
    assert_eq!(output.status.code(), Some(130), "{}", stderr(&output));
    assert!(!mock.stops().iter().any(|r| forced(r) && r["status"] == 200));

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
    let applied = mock
        .stops()
        .iter()
        .filter(|r| forced(r) && r["status"] == 200)
        .count();
    assert_eq!(applied, 1, "one force stop took effect");
}

#[test]
fn the_budget_line_and_the_summary_agree() {
    // Nothing listens: every stop fails, two at a time, and one failure is allowed.
    let addr = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap();
    let dir = tempfile::tempdir().unwrap();
    let body = format!(
        "limits: {{ concurrency: 2, max_failures: 1 }}\ndefaults: {{ retry: {{ attempts: 1 }} }}\nphases:\n  - name: all\n    stops:\n{}",
        stops_yaml((0..5).map(job_id))
    );
    let path = runbook(dir.path(), &format!("http://{addr}"), &body);
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
    assert_eq!(output.status.code(), Some(3), "{}", stderr(&output));
    let report = report(dir.path());
    let failed = report["summary"]["failed"].as_u64().unwrap();
    let halted = report["halted"].as_str().unwrap();
    assert!(
        halted.contains(&format!("{failed} failed, 1 allowed")),
        "{halted} / {failed}"
    );
}

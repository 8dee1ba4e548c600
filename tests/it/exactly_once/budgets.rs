//! Budgets, canaries, `--until`, 401s and crashes: what stops a run, and what a resume finds.

use std::time::Duration;

use serde_json::{Value, json};
use stopbook::mock::MockConfig;

use super::*;
use crate::run::{
    External, config, job_id, jobs, journaled, report, run, runbook, stderr, stops_yaml,
};

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
    let args = journaled(&path);
    let child = spawn(dir.path(), &args);
    wait_until("phase two's stop was sent", || mock.stops().len() >= 2);
    sigint(&child);
    let output = child.wait_with_output().unwrap();
    assert_eq!(output.status.code(), Some(130), "{}", stderr(&output));

    let mut resumed_args = args.to_vec();
    resumed_args.push("--resume");
    let resumed = run(dir.path(), &resumed_args);
    assert_eq!(resumed.status.code(), Some(3), "{}", stderr(&resumed));
    let got = mock.received();
    assert_eq!(got.of(&job_id(90)), [REFUSED], "{got:?}");
    assert_eq!(got.of(&job_id(0)), [TAKEN], "{got:?}");
    assert_eq!(got.of(&job_id(91)), [REFUSED], "{got:?}");
    assert_eq!(
        got.count(&job_id(1)),
        0,
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
    let got = mock.received();
    assert_eq!(got.of(&job_id(99)), [REFUSED], "{got:?}");
    assert_eq!(got.total(), 1, "nothing past the canary was sent: {got:?}");
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
    let args = journaled(&path);
    let mut paused_args = args.to_vec();
    paused_args.extend(["--until", "canary"]);
    let paused = run(dir.path(), &paused_args);
    assert_eq!(paused.status.code(), Some(0), "{}", stderr(&paused));
    assert_eq!(report(dir.path())["outcome"], "paused");
    assert_eq!(mock.received().total(), 1);

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
    let got = mock.received();
    assert_eq!(
        got.other_than((0..4).map(job_id), &[TAKEN]),
        [],
        "each job stopped once"
    );
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
    let args = journaled(&path);
    let child = spawn(dir.path(), &args);
    wait_until("every stop was accepted", || {
        mock.stops().iter().filter(|r| r["status"] == 200).count() >= 6
    });
    wait_until_read_after_stops(&mock, "the status reads began");
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

#[cfg(feature = "failpoints")]
#[test]
fn a_panic_in_a_stop_still_writes_the_journal_and_reports_and_exits_70() {
    let mock = External::start(config(jobs(0..4, "INCRE_TRANSFER_STARTED")));
    let dir = tempfile::tempdir().unwrap();
    let body = format!(
        "limits: {{ concurrency: 1 }}\ndefaults: {{ wait: {{ timeout: 30s, poll: 100ms }} }}\nphases:\n  - name: all\n    stops:\n{}",
        stops_yaml((0..4).map(job_id))
    );
    let path = runbook(dir.path(), &mock.url, &body);
    let args = journaled(&path);
    let mut cmd = crate::support::stopbook(["run"]);
    cmd.args(args)
        .current_dir(dir.path())
        .env("STOPBOOK_TEST_TOKEN", crate::run::TOKEN)
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
    let got = mock.received();
    assert_eq!(
        got.other_than((0..4).map(job_id), &[TAKEN]),
        [],
        "each job stopped once"
    );
}

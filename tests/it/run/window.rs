//! The window record: one journal holds a whole maintenance window (a canary, an interrupt, a
//! kill -9, resumes), every report of the window is rendered from it, `stopbook report` renders
//! the same report offline, and shards of one plan merge into one window. The mock's own record
//! is the witness that each job was stopped once.

use std::path::Path;
use std::time::Duration;

use serde_json::Value;
use stopbook::mock::{Faults, MockConfig};

use super::{
    External, TAKEN, config, job_id, jobs, journaled, report, run, runbook, spawn, stderr,
    stops_yaml, wait_until,
};
use crate::support::stopbook;

/// 24 jobs: one listed canary, the rest found by a select (so their names are known), through
/// a gateway that loses answers after applying the stop.
fn window_mock() -> External {
    External::start(MockConfig {
        faults: Faults {
            error_after: 0.25,
            status_lag: Duration::from_millis(300),
            stops_only: true,
            ..Faults::default()
        },
        seed: 23,
        stop_delay: Duration::from_millis(1500),
        ..config(jobs(0..24, "INCRE_TRANSFER_STARTED"))
    })
}

fn window_runbook(dir: &Path, url: &str) -> std::path::PathBuf {
    let body = format!(
        "limits: {{ concurrency: 3 }}\n\
         defaults: {{ wait: {{ timeout: 60s, poll: 100ms }}, retry: {{ attempts: 6, backoff: 50ms, max_backoff: 200ms, settle: 2s }} }}\n\
         phases:\n  - name: canary\n    stops:\n{}  - name: bulk\n    select: {{ job_type: sync, status: [INCRE_TRANSFER_STARTED], max: 30 }}\n",
        stops_yaml([job_id(0)]),
    );
    runbook(dir, url, &body)
}

/// A mock of `count` running jobs and a runbook listing them all, with `defaults`.
fn listed(count: usize, defaults: &str) -> (External, tempfile::TempDir, std::path::PathBuf) {
    let mock = External::start(config(jobs(0..count, "INCRE_TRANSFER_STARTED")));
    let dir = tempfile::tempdir().unwrap();
    let body = format!(
        "defaults: {defaults}\nphases:\n  - name: all\n    stops:\n{}",
        stops_yaml((0..count).map(job_id))
    );
    let path = runbook(dir.path(), &mock.url, &body);
    (mock, dir, path)
}

/// Runs shards 1/n, 2/n, … of `runbook`, one journal each, each to exit 0.
fn run_shards(dir: &Path, runbook: &Path, n: usize, journals: &[&str]) {
    for (k, journal) in journals.iter().enumerate() {
        let shard = format!("{}/{n}", k + 1);
        let args = [
            runbook.to_str().unwrap(),
            "--journal",
            journal,
            "--shard",
            &shard,
            "--no-progress",
        ];
        let output = run(dir, &args);
        assert_eq!(output.status.code(), Some(0), "{}", stderr(&output));
    }
}

/// Whether the result's history has an `event`.
fn had(result: &Value, event: &str) -> bool {
    result["history"]
        .as_array()
        .unwrap()
        .iter()
        .any(|h| h["event"] == event)
}

/// Runs `stopbook report ARGS` in `dir`.
fn render(dir: &Path, args: &[&str]) -> std::process::Output {
    stopbook(["report"])
        .args(args)
        .current_dir(dir)
        .timeout(Duration::from_secs(60))
        .output()
        .unwrap()
}

fn json(dir: &Path, file: &str) -> Value {
    serde_json::from_str(&std::fs::read_to_string(dir.join(file)).unwrap()).unwrap()
}

/// Starts a resume, waits until the mock has received `stops` stops in all, and ends it with
/// `signal`; returns its exit code (`None` when the signal killed it).
fn resume_until(
    mock: &External,
    dir: &Path,
    args: &[&str],
    stops: usize,
    signal: i32,
) -> Option<i32> {
    let mut resume: Vec<&str> = args.to_vec();
    resume.push("--resume");
    let mut child = spawn(dir, &resume);
    wait_until("the mock received more stops", || {
        mock.received().total() >= stops
    });
    // SAFETY: signalling our own child.
    unsafe { libc::kill(child.id() as i32, signal) };
    child.wait().unwrap().code()
}

#[test]
fn a_canary_an_interrupt_a_kill_and_resumes_make_one_report() {
    let mock = window_mock();
    let dir = tempfile::tempdir().unwrap();
    let path = window_runbook(dir.path(), &mock.url);
    let args = journaled(&path);
    let canary = run(dir.path(), &[&args[..], &["--until", "canary"]].concat());
    assert_eq!(canary.status.code(), Some(0), "{}", stderr(&canary));
    assert_eq!(
        resume_until(&mock, dir.path(), &args, 6, libc::SIGINT),
        Some(130)
    );
    assert_eq!(
        resume_until(&mock, dir.path(), &args, 12, libc::SIGKILL),
        None
    );
    let last = run(dir.path(), &[&args[..], &["--resume"]].concat());
    assert_eq!(last.status.code(), Some(0), "{}", stderr(&last));

    // Each job stopped once, by the mock's own record.
    let got = mock.received();
    assert_eq!(got.other_than((0..24).map(job_id), &[TAKEN]), []);

    let report = report(dir.path());
    let window = &report["window"];
    let processes = window["processes"].as_array().unwrap();
    let commands: Vec<&str> = processes
        .iter()
        .map(|p| p["command"].as_str().unwrap())
        .collect();
    assert_eq!(
        commands,
        [
            "run --until canary",
            "run --resume",
            "run --resume",
            "run --resume"
        ]
    );
    let exits: Vec<&Value> = processes.iter().map(|p| &p["exit"]).collect();
    assert_eq!(
        exits,
        [
            &Value::from(0),
            &Value::from(130),
            &Value::Null,
            &Value::from(0)
        ]
    );
    assert_eq!(
        report["started_at"], window["started_at"],
        "the report's times are the window's"
    );
    assert_eq!(report["started_at"], processes[0]["started_at"]);
    assert_eq!(report["summary"]["total"], 24);
    assert_eq!(report["summary"]["passed"], 24);
    assert_eq!(
        report["timings"].as_array().unwrap().len(),
        24,
        "every stop of the window is timed"
    );

    let results = report["results"].as_array().unwrap();
    for r in results {
        let history = r["history"].as_array().unwrap();
        assert_eq!(history.first().unwrap()["event"], "sent", "{r}");
        assert_eq!(history.last().unwrap()["event"], "ended", "{r}");
        assert!(r["attempts"].as_u64().unwrap() >= 1, "{r}");
        if r["phase"] == "bulk" {
            let n = &r["job"].as_str().unwrap()[..8];
            let n: usize = n.parse().unwrap();
            assert_eq!(
                r["name"],
                format!("DRS-{n}"),
                "a selected stop keeps its task's name"
            );
        }
    }
    // The canary ran before the first resume began, and is in the window's timings.
    let canary_sent = &results[0]["history"][0]["at"];
    assert!(canary_sent.as_str() < processes[1]["started_at"].as_str());
    // Lost answers are in the record, each followed by the status read that settled it.
    let lost: Vec<&Value> = results.iter().filter(|r| had(r, "lost")).collect();
    assert!(
        !lost.is_empty(),
        "the gateway lost no answer: the test proves nothing"
    );
    for r in &lost {
        let events: Vec<&str> = r["history"]
            .as_array()
            .unwrap()
            .iter()
            .map(|h| h["event"].as_str().unwrap())
            .collect();
        let at = events.iter().position(|e| *e == "lost").unwrap();
        assert!(
            events[at + 1..].contains(&"status") || events[at + 1..].contains(&"interrupted"),
            "a lost answer not settled: {events:?}"
        );
        assert!(r["history"][at]["reason"].is_string(), "{r}");
    }
    // The interrupted processes left their mark on the stops they had in flight.
    let interrupted = results.iter().filter(|r| had(r, "interrupted")).count();
    assert!(
        interrupted > 0,
        "no stop was in flight at the interrupt or the kill"
    );

    // The report holds together, and with the journal (the plan: the one the run pinned).
    let verified = stopbook([
        "verify",
        "--plan",
        "j.jsonl.plan.json",
        "--report",
        "report.json",
        "--journal",
        "j.jsonl",
    ])
    .current_dir(dir.path())
    .output()
    .unwrap();
    let said = String::from_utf8_lossy(&verified.stdout);
    assert_eq!(
        verified.status.code(),
        Some(0),
        "{said}{}",
        stderr(&verified)
    );
    // The same report, rendered offline from the journal alone.
    let offline = render(dir.path(), &["j.jsonl", "--report-json", "offline.json"]);
    assert_eq!(offline.status.code(), Some(0), "{}", stderr(&offline));
    let offline = json(dir.path(), "offline.json");
    assert_eq!(offline["results"], report["results"]);
    assert_eq!(offline["window"], report["window"]);
    assert_eq!(offline["timings"], report["timings"]);
    assert_eq!(offline["outcome"], report["outcome"]);
}

#[test]
fn shards_of_one_plan_merge_into_one_window_and_other_plans_are_refused() {
    let (mock, dir, path) = listed(6, "{ wait: { timeout: 20s, poll: 100ms } }");
    run_shards(dir.path(), &path, 2, &["s1.jsonl", "s2.jsonl"]);
    let merged = render(
        dir.path(),
        &["s1.jsonl", "s2.jsonl", "--report-json", "w.json"],
    );
    assert_eq!(merged.status.code(), Some(0), "{}", stderr(&merged));
    let window = json(dir.path(), "w.json");
    let seqs: Vec<u64> = window["results"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["seq"].as_u64().unwrap())
        .collect();
    assert_eq!(seqs, [1, 2, 3, 4, 5, 6], "one window, in plan order");
    // Listed stops take their task's name from their answer.
    let names: Vec<&str> = window["results"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["name"].as_str().unwrap_or(""))
        .collect();
    assert_eq!(
        names,
        ["DRS-0", "DRS-1", "DRS-2", "DRS-3", "DRS-4", "DRS-5"]
    );
    assert_eq!(window["window"]["processes"].as_array().unwrap().len(), 2);
    assert_eq!(window["outcome"], "passed");
    // The merged report verifies against the plan and both shards' journals.
    let plan = stopbook([
        "plan",
        path.to_str().unwrap(),
        "--format",
        "json",
        "--out",
        "plan.json",
    ])
    .current_dir(dir.path())
    .output()
    .unwrap();
    assert_eq!(plan.status.code(), Some(0), "{}", stderr(&plan));
    let verified = stopbook([
        "verify",
        "--plan",
        "plan.json",
        "--report",
        "w.json",
        "--journal",
        "s1.jsonl",
        "--journal",
        "s2.jsonl",
    ])
    .current_dir(dir.path())
    .output()
    .unwrap();
    assert_eq!(
        verified.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&verified.stdout)
    );

    // A journal of another plan does not join the window, and nothing is written.
    let other = tempfile::tempdir().unwrap();
    let body = format!(
        "phases:\n  - name: other\n    stops:\n{}",
        stops_yaml([job_id(0)])
    );
    let other_path = runbook(other.path(), &mock.url, &body);
    let output = run(
        other.path(),
        &[
            other_path.to_str().unwrap(),
            "--journal",
            "o.jsonl",
            "--no-progress",
        ],
    );
    assert!(output.status.code().is_some(), "{}", stderr(&output));
    let o = other.path().join("o.jsonl");
    let refused = render(
        dir.path(),
        &["s1.jsonl", o.to_str().unwrap(), "--report-json", "x.json"],
    );
    assert_eq!(refused.status.code(), Some(2), "{}", stderr(&refused));
    assert!(
        stderr(&refused).contains("different plans"),
        "{}",
        stderr(&refused)
    );
    assert!(!dir.path().join("x.json").exists());
    // The same journal twice is not two shards.
    let twice = render(
        dir.path(),
        &["s1.jsonl", "s1.jsonl", "--report-json", "x.json"],
    );
    assert_eq!(twice.status.code(), Some(2), "{}", stderr(&twice));
}

#[test]
fn part_of_a_window_a_journal_in_use_and_a_report_over_a_journal_are_refused() {
    let (_mock, dir, path) = listed(3, "{ wait: false }");
    run_shards(dir.path(), &path, 3, &["t1.jsonl", "t2.jsonl"]);
    // Two of three shards would read as the whole window.
    let part = render(
        dir.path(),
        &["t1.jsonl", "t2.jsonl", "--report-json", "x.json"],
    );
    assert_eq!(part.status.code(), Some(2), "{}", stderr(&part));
    assert!(
        stderr(&part).contains("shards 3/3 are missing"),
        "{}",
        stderr(&part)
    );
    // A report may not replace the journal's lock, nor its pinned jobs, nor another report.
    for args in [
        [
            "t1.jsonl",
            "--report-md",
            "t1.jsonl.lock",
            "--report-json",
            "y.json",
        ],
        [
            "t1.jsonl",
            "--report-md",
            "t1.jsonl.plan.json",
            "--report-json",
            "y.json",
        ],
        [
            "t1.jsonl",
            "--report-md",
            "same.out",
            "--report-json",
            "same.out",
        ],
    ] {
        let refused = render(dir.path(), &args);
        assert_eq!(
            refused.status.code(),
            Some(2),
            "{args:?}: {}",
            stderr(&refused)
        );
    }
    assert!(!dir.path().join("x.json").exists() && !dir.path().join("same.out").exists());
    // A journal a run still holds is not rendered half-written.
    let lock = std::fs::OpenOptions::new()
        .create(true)
        .truncate(false)
        .write(true)
        .open(dir.path().join("t1.jsonl.lock"))
        .unwrap();
    lock.try_lock().unwrap();
    let held = render(dir.path(), &["t1.jsonl", "--report-json", "x.json"]);
    assert_eq!(held.status.code(), Some(2), "{}", stderr(&held));
    assert!(stderr(&held).contains("in use"), "{}", stderr(&held));
    drop(lock);
    let free = render(dir.path(), &["t1.jsonl", "--report-json", "x.json"]);
    assert_eq!(free.status.code(), Some(0), "{}", stderr(&free));
}

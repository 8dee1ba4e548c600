//! `stopbook run` against a real mock over loopback: the binary as users run it, with the mock's
//! request log as the witness of what was sent, when, and how often.

use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use serde_json::Value;
use stopbook::mock::{self, Faults, JobSpec, MockConfig};

use crate::support::stopbook;

pub(crate) const P: &str = "054ba152d480d55b2f5dc0069e7ddef0";
pub(crate) const TOKEN: &str = "run-test-token-5f3a9c";

/// A mock serving in a thread of its own, for as long as the value lives.
pub(crate) struct External {
    pub(crate) url: String,
    stop: Option<tokio::sync::oneshot::Sender<()>>,
    thread: Option<std::thread::JoinHandle<()>>,
}

impl External {
    pub(crate) fn start(config: MockConfig) -> Self {
        Self::start_at(std::net::SocketAddr::from(([127, 0, 0, 1], 0)), config)
    }

    /// A mock on `addr` (a port that a test kept free).
    pub(crate) fn start_at(addr: std::net::SocketAddr, config: MockConfig) -> Self {
        let (url_tx, url_rx) = std::sync::mpsc::channel();
        let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
        let thread = std::thread::spawn(move || {
            let runtime = tokio::runtime::Builder::new_multi_thread()
                .worker_threads(2)
                .enable_all()
                .build()
                .unwrap();
            runtime.block_on(async move {
                let server = mock::start(addr, config).await.unwrap();
                url_tx.send(server.url()).unwrap();
                let _ = stopped.await;
                server.shutdown().await;
            });
        });
        External {
            url: url_rx.recv().unwrap(),
            stop: Some(stop),
            thread: Some(thread),
        }
    }

    pub(crate) fn get(&self, path: &str) -> Value {
        let url = format!("{}{path}", self.url);
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .unwrap();
        stopbook::api::client::install_crypto_provider();
        runtime.block_on(async {
            let client = reqwest::Client::builder().no_proxy().build().unwrap();
            client
                .get(url)
                .send()
                .await
                .unwrap()
                .json::<Value>()
                .await
                .unwrap()
        })
    }

    /// Every request the mock received.
    pub(crate) fn requests(&self) -> Vec<Value> {
        self.get("/__mock/requests")["requests"]
            .as_array()
            .cloned()
            .unwrap_or_default()
    }

    pub(crate) fn stops(&self) -> Vec<Value> {
        self.requests()
            .into_iter()
            .filter(|r| {
                r["method"] == "POST" && r["path"].as_str().unwrap_or("").ends_with("/stop")
            })
            .collect()
    }

    pub(crate) fn status(&self, job: &str) -> String {
        let jobs = self.get("/__mock/jobs");
        jobs["jobs"]
            .as_array()
            .unwrap()
            .iter()
            .find(|j| j["id"] == job)
            .unwrap()["status"]
            .as_str()
            .unwrap()
            .to_owned()
    }
}

impl Drop for External {
    fn drop(&mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}

pub(crate) fn job_id(n: usize) -> String {
    format!("{n:08}-0000-4000-8000-00000000jb{:02}", n % 100)
}

pub(crate) fn jobs(range: std::ops::Range<usize>, status: &str) -> Vec<JobSpec> {
    range
        .map(|n| JobSpec {
            id: job_id(n),
            name: format!("DRS-{n}"),
            status: status.into(),
            job_type: "sync".into(),
        })
        .collect()
}

pub(crate) fn config(jobs: Vec<JobSpec>) -> MockConfig {
    MockConfig {
        jobs,
        token: Some(TOKEN.into()),
        stop_delay: Duration::from_millis(300),
        ..MockConfig::default()
    }
}

/// A runbook aimed at `url`, with `body` (limits, defaults, phases) after the target.
pub(crate) fn runbook(dir: &Path, url: &str, body: &str) -> PathBuf {
    runbook_with_auth(dir, url, "{ token_env: STOPBOOK_TEST_TOKEN }", body)
}

pub(crate) fn runbook_with_auth(dir: &Path, url: &str, auth: &str, body: &str) -> PathBuf {
    let text = format!(
        "version: 1\nname: test run\ntarget:\n  endpoint: {url}\n  project_id: {P}\n  auth: {auth}\n{body}"
    );
    let path = dir.join("runbook.yaml");
    std::fs::write(&path, text).unwrap();
    path
}

pub(crate) fn stops_yaml(ids: impl IntoIterator<Item = String>) -> String {
    ids.into_iter()
        .map(|id| format!("      - job: {id}\n"))
        .collect()
}

pub(crate) fn run(dir: &Path, args: &[&str]) -> std::process::Output {
    let mut cmd = stopbook(["run"]);
    cmd.args(args)
        .current_dir(dir)
        .env("STOPBOOK_TEST_TOKEN", TOKEN)
        .timeout(Duration::from_secs(120));
    cmd.output().unwrap()
}

pub(crate) fn report(dir: &Path) -> Value {
    serde_json::from_str(&std::fs::read_to_string(dir.join("report.json")).unwrap()).unwrap()
}

pub(crate) fn stderr(output: &std::process::Output) -> String {
    String::from_utf8_lossy(&output.stderr).into_owned()
}

/// Requests whose answers were a stop refused as "already ending": a second stop of a job.
pub(crate) fn doubled(mock: &External) -> Vec<Value> {
    mock.stops()
        .into_iter()
        .filter(|r| r["status"] == 400)
        .collect()
}

#[test]
fn the_quickstart_runs_end_to_end_against_the_embedded_mock() {
    let dir = tempfile::tempdir().unwrap();
    let out = |name: &str| dir.path().join(name).to_string_lossy().into_owned();
    let output = stopbook([
        "run",
        "runbooks/quickstart.yaml",
        "--report-json",
        &out("r.json"),
        "--report-junit",
        &out("r.xml"),
        "--report-md",
        &out("r.md"),
    ])
    .timeout(Duration::from_secs(120))
    .output()
    .unwrap();
    assert_eq!(output.status.code(), Some(0), "{}", stderr(&output));
    let report: Value =
        serde_json::from_str(&std::fs::read_to_string(out("r.json")).unwrap()).unwrap();
    for key in ["runbook", "plan_id", "outcome", "summary", "results"] {
        assert!(report.get(key).is_some(), "the JSON report lacks {key}");
    }
    assert_eq!(report["outcome"], "passed");
    assert_eq!(
        report["summary"],
        serde_json::json!({"total": 20, "passed": 20, "failed": 0, "skipped": 0})
    );
    let results = report["results"].as_array().unwrap();
    let seqs: Vec<u64> = results.iter().map(|r| r["seq"].as_u64().unwrap()).collect();
    assert_eq!(seqs, (1..=20).collect::<Vec<_>>(), "results in plan order");
    for r in results {
        for key in [
            "phase",
            "job",
            "force",
            "outcome",
            "http_status",
            "error_code",
            "final_status",
            "attempts",
            "escalated",
        ] {
            assert!(r.get(key).is_some(), "a result lacks {key}");
        }
        assert_eq!(r["final_status"], "RELEASE_RESOURCE_COMPLETE");
    }
    let junit = std::fs::read_to_string(out("r.xml")).unwrap();
    assert_eq!(junit.matches("<testcase ").count(), 20);
    assert_eq!(junit.matches("<testsuite ").count(), 2);
    let markdown = std::fs::read_to_string(out("r.md")).unwrap();
    assert!(markdown.contains("- **outcome:** passed"));
    let mut settings = crate::support::snapshot_settings();
    settings.add_filter(r#"time="[0-9.]+""#, r#"time="[time]""#);
    settings.bind(|| {
        insta::assert_json_snapshot!("run-quickstart-results", report["results"]);
        insta::assert_snapshot!("run-quickstart-markdown", markdown);
        insta::assert_snapshot!("run-quickstart-junit", junit);
    });
    let err = stderr(&output);
    assert!(err.contains("progress: 20/20 stops done"), "{err}");
    assert!(
        !err.contains('\u{1b}'),
        "no escape codes when stderr is not a terminal"
    );
}

#[test]
fn results_are_the_same_across_runs_and_timings_stand_apart() {
    let runs: Vec<Value> = (0..2)
        .map(|_| {
            let dir = tempfile::tempdir().unwrap();
            let path = dir.path().join("r.json");
            let output = stopbook([
                "run".as_ref(),
                "runbooks/quickstart.yaml".as_ref(),
                "--report-json".as_ref(),
                path.as_os_str(),
                "--no-progress".as_ref(),
            ])
            .timeout(Duration::from_secs(120))
            .output()
            .unwrap();
            assert_eq!(output.status.code(), Some(0));
            serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap()
        })
        .collect();
    assert_eq!(runs[0]["results"], runs[1]["results"]);
    assert_eq!(runs[0]["timings"].as_array().unwrap().len(), 20);
}

#[test]
fn every_expectation_is_checked_and_a_failure_exits_1() {
    let mock = External::start(config(
        [
            jobs(0..2, "INCRE_TRANSFER_STARTED"),
            jobs(2..3, "INCRE_TRANSFER_FAILED"),
        ]
        .concat(),
    ));
    let dir = tempfile::tempdir().unwrap();
    let missing = job_id(50);
    let body = format!(
        "defaults: {{ wait: {{ timeout: 20s, poll: 100ms }} }}\nphases:\n  - name: all\n    stops:\n{}      - job: {missing}\n        expect: {{ http: 400, error_code: DRS.10000010 }}\n      - job: {}\n        expect: accepted\n",
        stops_yaml([job_id(0), job_id(2)]),
        job_id(1)
    );
    let path = runbook(dir.path(), &mock.url, &body);
    let output = run(
        dir.path(),
        &[
            path.to_str().unwrap(),
            "--report-json",
            "report.json",
            "--report-md",
            "report.md",
            "--no-progress",
        ],
    );
    assert_eq!(output.status.code(), Some(1), "{}", stderr(&output));
    let report = report(dir.path());
    let outcome = |i: usize| report["results"][i]["outcome"].as_str().unwrap().to_owned();
    assert_eq!(outcome(0), "passed");
    assert_eq!(
        outcome(1),
        "failed",
        "a graceful stop of an abnormal task ends in RELEASE_RESOURCE_FAILED"
    );
    assert_eq!(
        report["results"][1]["final_status"],
        "RELEASE_RESOURCE_FAILED"
    );
    assert_eq!(outcome(2), "passed", "the expected rejection");
    assert_eq!(report["results"][2]["error_code"], "DRS.10000010");
    assert_eq!(outcome(3), "passed");
    assert_eq!(
        report["results"][3]["final_status"],
        Value::Null,
        "accepted does not wait"
    );
    assert_eq!(report["outcome"], "failed");
    let markdown = std::fs::read_to_string(dir.path().join("report.md")).unwrap();
    // The target is the mock's port, which is part of the plan: the plan_id changes run to run.
    let mut settings = crate::support::snapshot_settings();
    settings.add_filter("sha256:[0-9a-f]{64}", "sha256:[plan_id]");
    settings.bind(|| insta::assert_snapshot!("run-failures-markdown", markdown));
}

#[test]
fn escalation_force_stops_a_failed_release() {
    let mock = External::start(config(jobs(0..1, "INCRE_TRANSFER_FAILED")));
    let dir = tempfile::tempdir().unwrap();
    let body = format!(
        "defaults: {{ wait: {{ timeout: 20s, poll: 100ms }}, escalate: {{ after: 10m }} }}\nphases:\n  - name: all\n    stops:\n{}",
        stops_yaml([job_id(0)])
    );
    let path = runbook(dir.path(), &mock.url, &body);
    let output = run(
        dir.path(),
        &[path.to_str().unwrap(), "--report-json", "report.json"],
    );
    assert_eq!(output.status.code(), Some(0), "{}", stderr(&output));
    let result = &report(dir.path())["results"][0];
    assert_eq!(
        (
            result["escalated"].as_bool(),
            result["final_status"].as_str()
        ),
        (Some(true), Some("RELEASE_RESOURCE_COMPLETE"))
    );
    let stops = mock.stops();
    assert_eq!(stops.len(), 2);
    assert!(
        stops[0]["body"]
            .as_str()
            .unwrap()
            .contains("\"is_force_stop\":false")
    );
    assert!(
        stops[1]["body"]
            .as_str()
            .unwrap()
            .contains("\"is_force_stop\":true")
    );
}

#[test]
fn past_the_failure_budget_nothing_new_starts_and_the_run_exits_3() {
    let mock = External::start(config(jobs(1..6, "INCRE_TRANSFER_STARTED")));
    let dir = tempfile::tempdir().unwrap();
    let body = format!(
        "limits: {{ concurrency: 1, max_failures: 0 }}\ndefaults: {{ wait: false }}\nphases:\n  - name: all\n    stops:\n{}",
        stops_yaml((0..6).map(job_id))
    );
    let path = runbook(dir.path(), &mock.url, &body);
    let output = run(
        dir.path(),
        &[
            path.to_str().unwrap(),
            "--report-json",
            "report.json",
            "--report-md",
            "report.md",
        ],
    );
    assert_eq!(output.status.code(), Some(3), "{}", stderr(&output));
    let report = report(dir.path());
    assert_eq!(report["outcome"], "aborted");
    assert_eq!(report["summary"]["failed"], 1);
    assert_eq!(report["summary"]["skipped"], 5);
    assert_eq!(
        mock.stops().len(),
        1,
        "nothing was sent after the budget was spent"
    );
    assert!(
        std::fs::read_to_string(dir.path().join("report.md"))
            .unwrap()
            .contains("failure budget was exceeded")
    );
}

#[test]
fn a_refused_token_is_fatal_after_one_request() {
    let mock = External::start(config(jobs(0..5, "INCRE_TRANSFER_STARTED")));
    let dir = tempfile::tempdir().unwrap();
    let body = format!(
        "limits: {{ concurrency: 1 }}\nphases:\n  - name: all\n    stops:\n{}",
        stops_yaml((0..5).map(job_id))
    );
    let path = runbook(dir.path(), &mock.url, &body);
    let mut cmd = stopbook([
        "run",
        path.to_str().unwrap(),
        "--report-json",
        "report.json",
    ]);
    let output = cmd
        .current_dir(dir.path())
        .env("STOPBOOK_TEST_TOKEN", "wrong")
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(3), "{}", stderr(&output));
    assert_eq!(mock.requests().len(), 1);
    assert!(
        report(dir.path())["halted"]
            .as_str()
            .unwrap()
            .contains("authentication refused")
    );
}

#[test]
fn plan_drift_is_refused_before_anything_is_sent() {
    let mock = External::start(config(jobs(0..2, "INCRE_TRANSFER_STARTED")));
    let dir = tempfile::tempdir().unwrap();
    let body = format!(
        "phases:\n  - name: all\n    stops:\n{}",
        stops_yaml((0..2).map(job_id))
    );
    let path = runbook(dir.path(), &mock.url, &body);
    let planned = stopbook(["plan", path.to_str().unwrap(), "--format", "json"])
        .output()
        .unwrap();
    std::fs::write(dir.path().join("approved.json"), &planned.stdout).unwrap();
    std::fs::write(
        &path,
        std::fs::read_to_string(&path)
            .unwrap()
            .replace("  - name: all\n", "  - name: all\n    force: true\n"),
    )
    .unwrap();
    let output = run(
        dir.path(),
        &[path.to_str().unwrap(), "--plan", "approved.json"],
    );
    assert_eq!(output.status.code(), Some(2), "{}", stderr(&output));
    assert!(stderr(&output).contains("plan drift"));
    assert!(mock.requests().is_empty(), "nothing was sent");
    let unchanged = stopbook([
        "plan",
        path.to_str().unwrap(),
        "--out",
        dir.path().join("new.json").to_str().unwrap(),
    ])
    .output()
    .unwrap();
    assert_eq!(unchanged.status.code(), Some(0));
    let output = run(
        dir.path(),
        &[
            path.to_str().unwrap(),
            "--plan",
            "new.json",
            "--no-progress",
        ],
    );
    assert_eq!(output.status.code(), Some(0), "{}", stderr(&output));
}

/// The largest number of requests in flight at once, from arrival and answer times.
fn peak_in_flight(requests: &[Value]) -> usize {
    let mut edges: Vec<(u64, i32)> = Vec::new();
    for r in requests {
        edges.push((r["started_us"].as_u64().unwrap(), 1));
        edges.push((r["finished_us"].as_u64().unwrap_or(u64::MAX), -1));
    }
    edges.sort_by_key(|&(t, d)| (t, d));
    let (mut now, mut peak) = (0i32, 0i32);
    for (_, d) in edges {
        now += d;
        peak = peak.max(now);
    }
    peak as usize
}

#[test]
fn concurrency_rate_and_phase_barriers_hold_on_the_wire() {
    let mock = External::start(MockConfig {
        faults: Faults {
            latency: Duration::from_millis(40),
            ..Faults::default()
        },
        ..config(jobs(0..30, "INCRE_TRANSFER_STARTED"))
    });
    let dir = tempfile::tempdir().unwrap();
    let body = format!(
        "limits: {{ concurrency: 3, rate: 25/s }}\ndefaults: {{ wait: {{ timeout: 20s, poll: 100ms }} }}\nphases:\n  - name: first\n    stops:\n{}  - name: second\n    stops:\n{}",
        stops_yaml((0..10).map(job_id)),
        stops_yaml((10..30).map(job_id))
    );
    let path = runbook(dir.path(), &mock.url, &body);
    let output = run(dir.path(), &[path.to_str().unwrap(), "--no-progress"]);
    assert_eq!(output.status.code(), Some(0), "{}", stderr(&output));
    let requests = mock.requests();
    assert!(
        peak_in_flight(&requests) <= 3,
        "peak in flight {}",
        peak_in_flight(&requests)
    );
    let starts: Vec<u64> = requests
        .iter()
        .map(|r| r["started_us"].as_u64().unwrap())
        .collect();
    for (i, start) in starts.iter().enumerate() {
        let in_window = starts[i..]
            .iter()
            .take_while(|s| **s < start + 1_000_000)
            .count();
        assert!(
            in_window <= 25,
            "{in_window} requests started within one second"
        );
    }
    let second: Vec<String> = (10..30).map(job_id).collect();
    let first_of_second = requests
        .iter()
        .position(|r| {
            second
                .iter()
                .any(|id| r["path"].as_str().unwrap().contains(id.as_str()))
        })
        .unwrap();
    let last_finish_of_first = requests[..first_of_second]
        .iter()
        .map(|r| r["finished_us"].as_u64().unwrap())
        .max()
        .unwrap();
    assert!(
        requests[first_of_second]["started_us"].as_u64().unwrap() >= last_finish_of_first,
        "phase two started before phase one ended"
    );
    assert!(
        requests[..first_of_second]
            .iter()
            .any(|r| r["method"] == "GET"),
        "phase one waited for its jobs"
    );
}

#[test]
fn faults_are_survived_without_stopping_any_job_twice() {
    let faults = Faults {
        error_rate: 0.1,
        burst: 2,
        reset_before: 0.1,
        reset_after: 0.1,
        truncate: 0.05,
        malformed: 0.05,
        throttle: Some(40),
        ..Faults::default()
    };
    let mock = External::start(MockConfig {
        faults,
        seed: 11,
        ..config(jobs(0..30, "INCRE_TRANSFER_STARTED"))
    });
    let dir = tempfile::tempdir().unwrap();
    let body = format!(
        "limits: {{ concurrency: 6 }}\ndefaults: {{ retry: {{ attempts: 8, backoff: 20ms, max_backoff: 200ms, settle: 1s }}, wait: {{ timeout: 20s, poll: 100ms }} }}\nphases:\n  - name: all\n    stops:\n{}",
        stops_yaml((0..30).map(job_id))
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
    let report = report(dir.path());
    assert!(
        doubled(&mock).is_empty(),
        "a job was stopped twice: {:?}",
        doubled(&mock)
    );
    for n in 0..30 {
        assert_eq!(
            mock.status(&job_id(n)),
            "RELEASE_RESOURCE_COMPLETE",
            "job {n} was not stopped\n{}\n{report}",
            stderr(&output)
        );
    }
    assert_eq!(
        output.status.code(),
        Some(0),
        "{}\n{report}",
        stderr(&output)
    );
    let faults_seen = mock
        .requests()
        .iter()
        .filter(|r| !r["fault"].is_null())
        .count();
    assert!(faults_seen >= 5, "the mock injected {faults_seen} faults");
}

#[test]
fn a_reset_after_the_stop_was_applied_is_not_resent() {
    let mock = External::start(MockConfig {
        faults: Faults {
            reset_after: 0.5,
            ..Faults::default()
        },
        seed: 3,
        ..config(jobs(0..20, "INCRE_TRANSFER_STARTED"))
    });
    let dir = tempfile::tempdir().unwrap();
    let body = format!(
        "defaults: {{ wait: false, retry: {{ attempts: 6, backoff: 10ms, max_backoff: 50ms }} }}\nphases:\n  - name: all\n    stops:\n{}",
        stops_yaml((0..20).map(job_id))
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
    let resets = mock
        .stops()
        .iter()
        .filter(|r| r["fault"] == "reset after apply")
        .count();
    assert!(resets >= 3, "only {resets} resets after apply");
    assert!(
        doubled(&mock).is_empty(),
        "a stop was resent after it had been applied"
    );
    let report = report(dir.path());
    for r in report["results"].as_array().unwrap() {
        let reason = r["reason"].as_str().unwrap_or("");
        assert!(
            r["outcome"] == "passed" || reason.contains("not resent"),
            "{r}"
        );
    }
    assert!(output.status.code() == Some(0) || output.status.code() == Some(1));
}

#[test]
fn shards_split_the_stops_without_overlap() {
    let mock = External::start(config(jobs(0..10, "INCRE_TRANSFER_STARTED")));
    let dir = tempfile::tempdir().unwrap();
    let body = format!(
        "defaults: {{ wait: false }}\nphases:\n  - name: all\n    stops:\n{}",
        stops_yaml((0..10).map(job_id))
    );
    let path = runbook(dir.path(), &mock.url, &body);
    let mut seen = Vec::new();
    for shard in ["1/3", "2/3", "3/3"] {
        let output = run(
            dir.path(),
            &[
                path.to_str().unwrap(),
                "--shard",
                shard,
                "--report-json",
                "report.json",
                "--no-progress",
            ],
        );
        assert_eq!(output.status.code(), Some(0), "{}", stderr(&output));
        let report = report(dir.path());
        assert_eq!(report["shard"], shard);
        seen.extend(
            report["results"]
                .as_array()
                .unwrap()
                .iter()
                .map(|r| r["seq"].as_u64().unwrap()),
        );
    }
    seen.sort();
    assert_eq!(seen, (1..=10).collect::<Vec<_>>());
    assert!(doubled(&mock).is_empty());
}

#[test]
fn kill_9_then_resume_stops_every_job_exactly_once() {
    let mock = External::start(MockConfig {
        stop_delay: Duration::from_millis(1500),
        ..config(jobs(0..12, "INCRE_TRANSFER_STARTED"))
    });
    let dir = tempfile::tempdir().unwrap();
    let body = format!(
        "limits: {{ concurrency: 3 }}\ndefaults: {{ wait: {{ timeout: 30s, poll: 100ms }} }}\nphases:\n  - name: all\n    stops:\n{}",
        stops_yaml((0..12).map(job_id))
    );
    let path = runbook(dir.path(), &mock.url, &body);
    let mut child = std::process::Command::new(env!("CARGO_BIN_EXE_stopbook"))
        .args(["run", path.to_str().unwrap(), "--no-progress"])
        .current_dir(dir.path())
        .env("STOPBOOK_TEST_TOKEN", TOKEN)
        .stderr(std::process::Stdio::null())
        .spawn()
        .unwrap();
    let deadline = Instant::now() + Duration::from_secs(30);
    while mock.stops().len() < 4 {
        assert!(Instant::now() < deadline, "the run never got going");
        std::thread::sleep(Duration::from_millis(20));
    }
    child.kill().unwrap(); // SIGKILL: no chance to tidy up
    child.wait().unwrap();
    let before = mock.stops().len();
    assert!(before < 12, "the run had finished before it was killed");
    let journal = std::fs::read_dir(dir.path().join(".stopbook"))
        .unwrap()
        .next()
        .unwrap()
        .unwrap()
        .path();
    assert!(
        std::fs::read_to_string(&journal)
            .unwrap()
            .contains("\"kind\":\"intent\"")
    );

    let again = run(
        dir.path(),
        &[
            path.to_str().unwrap(),
            "--report-json",
            "report.json",
            "--no-progress",
        ],
    );
    assert_eq!(
        again.status.code(),
        Some(2),
        "without --resume an existing journal is refused: {}",
        stderr(&again)
    );
    let resumed = run(
        dir.path(),
        &[
            path.to_str().unwrap(),
            "--resume",
            "--report-json",
            "report.json",
            "--no-progress",
        ],
    );
    assert_eq!(resumed.status.code(), Some(0), "{}", stderr(&resumed));
    assert!(
        doubled(&mock).is_empty(),
        "a job was stopped twice: {:?}",
        doubled(&mock)
    );
    assert_eq!(mock.stops().len(), 12, "each job was sent exactly one stop");
    for n in 0..12 {
        assert_eq!(mock.status(&job_id(n)), "RELEASE_RESOURCE_COMPLETE");
    }
    assert_eq!(report(dir.path())["summary"]["passed"], 12);
}

#[test]
fn a_finished_run_resumed_sends_nothing_and_reports_the_same_results() {
    let mut jobs = jobs(0..6, "INCRE_TRANSFER_STARTED");
    jobs.extend(self::jobs(6..8, "RELEASE_RESOURCE_COMPLETE"));
    let mock = External::start(config(jobs));
    let dir = tempfile::tempdir().unwrap();
    let body = format!(
        "limits: {{ concurrency: 4 }}\ndefaults: {{ wait: {{ timeout: 30s, poll: 100ms }} }}\nphases:\n  - name: running\n    stops:\n{}  - name: ended\n    stops:\n{}",
        stops_yaml((0..6).map(job_id)),
        stops_yaml((6..8).map(job_id))
    );
    let path = runbook(dir.path(), &mock.url, &body);
    let args = [
        path.to_str().unwrap(),
        "--report-json",
        "report.json",
        "--no-progress",
    ];
    let first = run(dir.path(), &args);
    assert_eq!(
        first.status.code(),
        Some(1),
        "two stops of ended jobs fail: {}",
        stderr(&first)
    );
    let before = report(dir.path());
    let sent = mock.requests().len();

    let resumed = run(dir.path(), &[&args[..], &["--resume"]].concat());
    assert_eq!(resumed.status.code(), Some(1), "{}", stderr(&resumed));
    assert_eq!(
        mock.requests().len(),
        sent,
        "a finished run sends nothing when resumed"
    );
    let after = report(dir.path());
    let results = after["results"].as_array().unwrap();
    assert_eq!(results.len(), 8);
    for (was, is) in before["results"].as_array().unwrap().iter().zip(results) {
        assert_eq!(is["resumed"], true, "{is}");
        let mut is = is.clone();
        is.as_object_mut().unwrap().remove("resumed");
        assert_eq!(&is, was, "the journal gave back a different result");
    }
}

#[test]
fn a_journal_that_cannot_be_written_stops_the_run_before_anything_is_sent() {
    let mock = External::start(config(jobs(0..3, "INCRE_TRANSFER_STARTED")));
    let dir = tempfile::tempdir().unwrap();
    let body = format!(
        "defaults: {{ wait: false }}\nphases:\n  - name: all\n    stops:\n{}",
        stops_yaml((0..3).map(job_id))
    );
    let path = runbook(dir.path(), &mock.url, &body);
    // The journal's folder cannot be made: a file stands in its place. (Failing writes are
    // covered by the journal's unit tests, with /dev/full.)
    std::fs::write(dir.path().join("taken"), "").unwrap();
    let output = run(
        dir.path(),
        &[
            path.to_str().unwrap(),
            "--journal",
            "taken/journal.jsonl",
            "--no-progress",
        ],
    );
    assert_eq!(output.status.code(), Some(2), "{}", stderr(&output));
    assert!(
        stderr(&output).contains("nothing was sent"),
        "{}",
        stderr(&output)
    );
    assert!(
        mock.requests().is_empty(),
        "a stop was sent without a journal"
    );
}

#[test]
fn sigint_finishes_in_flight_requests_writes_reports_and_exits_130() {
    let mock = External::start(MockConfig {
        stop_delay: Duration::from_secs(20),
        ..config(jobs(0..6, "INCRE_TRANSFER_STARTED"))
    });
    let dir = tempfile::tempdir().unwrap();
    let body = format!(
        "limits: {{ concurrency: 2 }}\ndefaults: {{ wait: {{ timeout: 60s, poll: 100ms }} }}\nphases:\n  - name: all\n    stops:\n{}",
        stops_yaml((0..6).map(job_id))
    );
    let path = runbook(dir.path(), &mock.url, &body);
    let child = std::process::Command::new(env!("CARGO_BIN_EXE_stopbook"))
        .args([
            "run",
            path.to_str().unwrap(),
            "--report-json",
            "report.json",
            "--report-junit",
            "report.xml",
            "--no-progress",
        ])
        .current_dir(dir.path())
        .env("STOPBOOK_TEST_TOKEN", TOKEN)
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    let deadline = Instant::now() + Duration::from_secs(30);
    while mock.stops().len() < 2 {
        assert!(Instant::now() < deadline, "the run never got going");
        std::thread::sleep(Duration::from_millis(20));
    }
    // SAFETY: signalling our own child.
    unsafe { libc::kill(child.id() as i32, libc::SIGINT) };
    let output = child.wait_with_output().unwrap();
    assert_eq!(output.status.code(), Some(130), "{}", stderr(&output));
    let report = report(dir.path());
    assert_eq!(report["outcome"], "interrupted");
    assert_eq!(report["summary"]["total"], 6);
    assert_eq!(
        report["summary"]["skipped"], 6,
        "two were waiting, four never started"
    );
    let err = stderr(&output);
    assert!(
        err.contains(
            "2 accepted and not yet ended, 0 sent with the outcome not yet known, 4 never started"
        ),
        "{err}"
    );
    assert!(
        !err.contains("progress: 6/6"),
        "skipped stops are not counted as done: {err}"
    );
    assert!(dir.path().join("report.xml").exists());
    assert_eq!(
        mock.stops().len(),
        2,
        "nothing new started after the signal"
    );
}

#[test]
fn credentials_appear_in_nothing_stopbook_writes() {
    let mock = External::start(config(jobs(0..3, "INCRE_TRANSFER_STARTED")));
    let dir = tempfile::tempdir().unwrap();
    let body = format!(
        "defaults: {{ wait: {{ timeout: 20s, poll: 100ms }} }}\nphases:\n  - name: all\n    stops:\n{}",
        stops_yaml((0..3).map(job_id))
    );
    let path = runbook(dir.path(), &mock.url, &body);
    let plan = stopbook(["plan", path.to_str().unwrap(), "--format", "json"])
        .output()
        .unwrap();
    let output = stopbook([
        "run",
        path.to_str().unwrap(),
        "--report-json",
        "report.json",
        "--report-junit",
        "report.xml",
        "--report-md",
        "report.md",
        "--journal",
        "journal.jsonl",
    ])
    .current_dir(dir.path())
    .env("STOPBOOK_TEST_TOKEN", TOKEN)
    .env("RUST_LOG", "trace")
    .env("RUST_BACKTRACE", "full")
    .output()
    .unwrap();
    assert_eq!(output.status.code(), Some(0), "{}", stderr(&output));
    let mut written = String::from_utf8_lossy(&plan.stdout).into_owned();
    written += &format!(
        "{}{}",
        String::from_utf8_lossy(&output.stdout),
        stderr(&output)
    );
    for file in ["report.json", "report.xml", "report.md", "journal.jsonl"] {
        written.push_str(&std::fs::read_to_string(dir.path().join(file)).unwrap());
    }
    assert!(!written.contains(TOKEN), "the token leaked");
    assert!(
        !mock.get("/__mock/requests").to_string().contains(TOKEN),
        "the mock's log shows the token"
    );
}

#[test]
fn ak_sk_signed_runs_pass_and_a_wrong_key_is_fatal() {
    const AK: &str = "QTWAOYTTINDUT2QVKYUC";
    const SK: &str = "MFyfvK41ba2giqM7Uio6PznpdUKGpownRZlmVmHc";
    let mock = External::start(MockConfig {
        token: None,
        aksk: Some((AK.into(), SK.into())),
        ..config(jobs(0..4, "INCRE_TRANSFER_STARTED"))
    });
    let dir = tempfile::tempdir().unwrap();
    let body = format!(
        "defaults: {{ wait: {{ timeout: 20s, poll: 100ms }} }}\nphases:\n  - name: all\n    stops:\n{}",
        stops_yaml((0..3).map(job_id))
    );
    let path = runbook_with_auth(
        dir.path(),
        &mock.url,
        "{ ak_env: TEST_AK, sk_env: TEST_SK }",
        &body,
    );
    let signed = |sk: &str, extra: &[&str]| {
        let mut cmd = stopbook([
            "run",
            path.to_str().unwrap(),
            "--no-progress",
            "--report-json",
            "report.json",
        ]);
        cmd.args(extra)
            .current_dir(dir.path())
            .env("TEST_AK", AK)
            .env("TEST_SK", sk)
            .timeout(Duration::from_secs(60));
        cmd.output().unwrap()
    };
    let output = signed(SK, &["--journal", "ok.jsonl"]);
    assert_eq!(output.status.code(), Some(0), "{}", stderr(&output));
    let requests = mock.requests();
    assert!(requests.iter().all(|r| {
        r["headers"]["authorization"]
            .as_str()
            .unwrap_or("")
            .starts_with("SDK-HMAC-SHA256 Access=QTWAOYTTINDUT2QVKYUC")
    }));
    assert!(
        requests
            .iter()
            .all(|r| r["headers"]["x-sdk-date"].is_string())
    );

    let body = format!(
        "phases:\n  - name: more\n    stops:\n{}",
        stops_yaml([job_id(3)])
    );
    let path_wrong = runbook_with_auth(
        dir.path(),
        &mock.url,
        "{ ak_env: TEST_AK, sk_env: TEST_SK }",
        &body,
    );
    let mut cmd = stopbook([
        "run",
        path_wrong.to_str().unwrap(),
        "--no-progress",
        "--journal",
        "bad.jsonl",
    ]);
    let before = mock.requests().len();
    let output = cmd
        .current_dir(dir.path())
        .env("TEST_AK", AK)
        .env("TEST_SK", "WRONG-secret-key-0000000000")
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(3), "{}", stderr(&output));
    assert_eq!(
        mock.requests().len(),
        before + 1,
        "a refused signature stops the run after one request"
    );
    assert_eq!(mock.status(&job_id(3)), "INCRE_TRANSFER_STARTED");
    let mut written = stderr(&output);
    for file in ["report.json", "ok.jsonl", "bad.jsonl"] {
        written.push_str(&std::fs::read_to_string(dir.path().join(file)).unwrap_or_default());
    }
    assert!(!written.contains(SK) && !mock.get("/__mock/requests").to_string().contains(SK));
}

#[test]
fn an_iam_password_is_exchanged_once_for_a_token_that_the_run_uses() {
    let mock = External::start(MockConfig {
        token: None,
        // With AK/SK on and no fixed token, only tokens the IAM endpoint issued are accepted.
        aksk: Some(("UNUSEDAK".into(), "UNUSEDSK".into())),
        iam_user: Some(("ops".into(), "s3cret-Passw0rd".into())),
        ..config(jobs(0..4, "INCRE_TRANSFER_STARTED"))
    });
    let dir = tempfile::tempdir().unwrap();
    let auth = format!(
        "{{ iam_password: {{ endpoint: {}, user_env: TEST_USER, password_env: TEST_PASSWORD, domain: acme }} }}",
        mock.url
    );
    let body = format!(
        "defaults: {{ wait: false }}\nphases:\n  - name: all\n    stops:\n{}",
        stops_yaml((0..3).map(job_id))
    );
    let path = runbook_with_auth(dir.path(), &mock.url, &auth, &body);
    let attempt = |password: &str, journal: &str| {
        let mut cmd = stopbook([
            "run",
            path.to_str().unwrap(),
            "--no-progress",
            "--journal",
            journal,
        ]);
        cmd.current_dir(dir.path())
            .env("TEST_USER", "ops")
            .env("TEST_PASSWORD", password)
            .timeout(Duration::from_secs(60));
        cmd.output().unwrap()
    };
    let refused = attempt("wrong", "refused.jsonl");
    assert_eq!(refused.status.code(), Some(3), "{}", stderr(&refused));
    assert!(
        stderr(&refused).contains("IAM answered 401"),
        "{}",
        stderr(&refused)
    );
    assert_eq!(mock.stops().len(), 0, "no stop without a token");

    let output = attempt("s3cret-Passw0rd", "ok.jsonl");
    assert_eq!(output.status.code(), Some(0), "{}", stderr(&output));
    let exchanges = mock
        .requests()
        .iter()
        .filter(|r| r["path"] == "/v3/auth/tokens")
        .count();
    assert_eq!(
        exchanges, 2,
        "one exchange per run (one refused, one granted)"
    );
    assert_eq!(mock.stops().len(), 3);
    assert!(mock.stops().iter().all(|r| r["status"] == 200));
    let written = format!(
        "{}{}",
        stderr(&output),
        std::fs::read_to_string(dir.path().join("ok.jsonl")).unwrap()
    );
    assert!(
        !written.contains("s3cret-Passw0rd")
            && !mock
                .get("/__mock/requests")
                .to_string()
                .contains("s3cret-Passw0rd")
    );
}

#[test]
fn credentials_never_go_to_a_plaintext_remote_endpoint() {
    let dir = tempfile::tempdir().unwrap();
    let body = format!(
        "phases:\n  - name: all\n    stops:\n{}",
        stops_yaml([job_id(0)])
    );
    let path = runbook(
        dir.path(),
        "https://drs.cn-north-4.myhuaweicloud.com",
        &body,
    );
    for endpoint in [
        "http://drs.cn-north-4.myhuaweicloud.com",
        "http://10.1.2.3:8080",
        "http://user:pw@127.0.0.1:1",
    ] {
        let output = run(
            dir.path(),
            &[path.to_str().unwrap(), "--endpoint", endpoint],
        );
        assert_eq!(
            output.status.code(),
            Some(2),
            "{endpoint}: {}",
            stderr(&output)
        );
        assert!(
            stderr(&output).contains("--endpoint"),
            "{}",
            stderr(&output)
        );
        assert!(
            !dir.path().join(".stopbook").exists(),
            "nothing was started"
        );
    }
}

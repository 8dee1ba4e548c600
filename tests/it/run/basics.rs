//! A runbook end to end: the quickstart, expectations, escalation, plan drift, and results
//! that compare across runs.

use std::time::Duration;

use serde_json::Value;

use super::*;
use crate::support::stopbook;

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
        serde_json::json!({"total": 20, "passed": 20, "failed": 0, "skipped": 0, "forced": 0, "escalated": 0, "retried": 0})
    );
    assert_context(&report, "embedded");
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
    let mut settings = crate::support::report_snapshot_settings();
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

/// The context a reviewer needs (spec, Evidence for change review): version, runbook hash,
/// target without its credential, times, and per-stop times with the answer's request ID.
fn assert_context(report: &Value, auth: &str) {
    use sha2::Digest as _;
    let bytes = std::fs::read("runbooks/quickstart.yaml").unwrap();
    let hash: String = sha2::Sha256::digest(&bytes)
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect();
    assert_eq!(report["runbook_sha256"], hash.as_str());
    assert_eq!(report["stopbook_version"], env!("CARGO_PKG_VERSION"));
    assert_eq!(report["target"]["auth"], auth);
    assert!(
        report["target"]["endpoint"]
            .as_str()
            .unwrap()
            .starts_with("http://127.0.0.1:")
    );
    assert_eq!(report["target"]["project_id"].as_str().unwrap().len(), 32);
    let started = report["started_at"].as_str().unwrap();
    let finished = report["finished_at"].as_str().unwrap();
    assert!(started.ends_with('Z') && started.len() == 24, "{started}");
    assert!(started <= finished);
    assert!(report["duration_ms"].as_u64().is_some());
    let timings = report["timings"].as_array().unwrap();
    assert_eq!(timings.len(), 20);
    for t in timings {
        let (sent, ended) = (
            t["sent_at"].as_str().unwrap(),
            t["ended_at"].as_str().unwrap(),
        );
        let accepted = t["accepted_at"].as_str().unwrap();
        assert!(sent <= accepted && accepted <= ended, "{t}");
        assert_eq!(
            t["request_id"].as_str().unwrap().len(),
            32,
            "the mock's X-Request-Id"
        );
        assert!(t["job"].as_str().is_some());
    }
    for r in report["results"].as_array().unwrap() {
        assert!(r.get("request_id").is_none() && r.get("sent_at").is_none());
    }
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
    // Histories carry times and request IDs: like timings, they stand apart from comparisons.
    let comparable = |run: &Value| {
        let mut results = run["results"].clone();
        for r in results.as_array_mut().unwrap() {
            assert!(r["history"].is_array(), "every stop that ran has a history");
            r.as_object_mut().unwrap().remove("history");
        }
        results
    };
    assert_eq!(comparable(&runs[0]), comparable(&runs[1]));
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
    let mut settings = crate::support::report_snapshot_settings();
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

//! `stopbook run` against the hostile server: every stop gets some hostile answer, and the run
//! still ends in a verdict with its reports written, never in a panic.

use std::time::Duration;

use super::{Hostile, Script, answer, runtime};
use crate::support::stopbook;

const JOBS: [&str; 6] = [
    "c7debc9c-8e09-4a5d-8dd6-cc44f78jb20r",
    "0b1c2d3e-4f50-4a6b-8c7d-8e9f0a1jb11x",
    "5e6f7a8b-9c0d-4e1f-a2b3-c4d5e6f7ab99",
    "a4c123b1-612d-d272-d137-1c17149djb01",
    "439536b3-216f-daee-b975-729fae92jb02",
    "3d5a4fd1-2aab-fe22-8f21-9e9cb0ebjb03",
];

fn hostile_answers() -> Vec<Script> {
    let giant = format!("x-big: {}", "h".repeat(256 * 1024));
    vec![
        answer(
            "200 OK",
            &["content-type: application/json"],
            &vec![b' '; 2 << 20],
        ),
        answer("600 Beyond", &[], b"{}"),
        answer("200 OK", &[], b"\xff\xfe\xfd"),
        answer("302 Found", &["location: http://127.0.0.1:1/"], b""),
        Script::Bytes(b"HTTP/1.1 100 Continue\r\n\r\n".to_vec()),
        answer("200 OK", &[&giant], b"{}"),
        answer("429 Slow Down", &["retry-after: soon"], b"{}"),
        Script::Bytes(b"\x00\x01\x02 not http\r\n\r\n".to_vec()),
    ]
}

#[test]
fn a_run_against_a_hostile_server_ends_in_a_verdict_with_its_reports() {
    let runtime = runtime();
    let mut answers = hostile_answers();
    // Round after round of the same hostile answers, for the retries and status reads too.
    for _ in 0..6 {
        answers.extend(hostile_answers());
    }
    let server = Hostile::start(&runtime, answers);
    let dir = tempfile::tempdir().unwrap();
    let stops: String = JOBS.iter().map(|j| format!("      - job: {j}\n")).collect();
    std::fs::write(
        dir.path().join("rb.yaml"),
        format!(
            "version: 1\nname: hostile\ntarget:\n  endpoint: {}\n  project_id: 054ba152d480d55b2f5dc0069e7ddef0\n  auth: {{ token_env: HOSTILE_TOKEN }}\ndefaults:\n  wait: false\n  request_timeout: 1s\n  retry: {{ attempts: 2, backoff: 10ms, max_backoff: 20ms }}\nlimits: {{ concurrency: 2 }}\nphases:\n  - name: all\n    stops:\n{stops}",
            server.url
        ),
    )
    .unwrap();
    let output = stopbook([
        "run",
        "rb.yaml",
        "--no-progress",
        "--journal",
        "j.jsonl",
        "--report-json",
        "r.json",
    ])
    .current_dir(dir.path())
    .env("HOSTILE_TOKEN", "hostile-token-value")
    .timeout(Duration::from_secs(240))
    .output()
    .unwrap();
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        matches!(output.status.code(), Some(1 | 3)),
        "{:?}\n{stderr}",
        output.status
    );
    assert!(!stderr.contains("panicked"), "{stderr}");
    let report: serde_json::Value =
        serde_json::from_slice(&std::fs::read(dir.path().join("r.json")).unwrap()).unwrap();
    assert_eq!(report["results"].as_array().unwrap().len(), JOBS.len());
    assert!(server.served() >= 1);
}

#[test]
fn a_huge_retry_after_is_capped_at_the_stops_max_backoff() {
    let runtime = runtime();
    let ok = br#"{"id":"c7debc9c-8e09-4a5d-8dd6-cc44f78jb20r","name":"DRS-1","status":"success"}"#;
    let server = Hostile::start(
        &runtime,
        vec![
            answer(
                "429 Too Many Requests",
                &["retry-after: 18446744073709551615"],
                b"{}",
            ),
            answer(
                "429 Too Many Requests",
                &["retry-after: Fri, 31 Dec 9999 23:59:59 GMT"],
                b"{}",
            ),
            answer("200 OK", &["content-type: application/json"], ok),
        ],
    );
    let rest = format!(
        "defaults:\n  wait: false\n  retry: {{ attempts: 3, backoff: 10ms, max_backoff: 200ms }}\nphases:\n  - name: all\n    stops:\n      - job: {}\n",
        JOBS[0]
    );
    let (code, stderr, report) = run_against(&server.url, &rest);
    assert_eq!(code, Some(0), "{stderr}");
    assert_eq!(report["results"][0]["attempts"], 3, "{report}");
}

/// A batch-stop 200 that says nothing readable of a job (no `jobs` list, or an item without a
/// `status`) is no verdict for it: the job's status is read, and a job the stop did not reach
/// is never passed. (Before, a 200 without items passed every job of the batch, and an item
/// without a status was judged as an HTTP 400 that never happened.)
#[test]
fn a_batch_answer_without_readable_items_passes_no_job() {
    let runtime = runtime();
    let items = format!(
        r#"{{"jobs":[{{"id":"{}"}},{{"id":"{}"}}]}}"#,
        JOBS[0], JOBS[1]
    );
    let still = br#"{"job":{"id":"x","status":"INCRE_TRANSFER_STARTED"}}"#;
    for first in [br#"{"status":"success"}"#.to_vec(), items.into_bytes()] {
        let json = ["content-type: application/json"];
        let server = Hostile::start(
            &runtime,
            vec![
                answer("200 OK", &json, &first),
                answer("200 OK", &json, still),
            ],
        );
        let rest = format!(
            "defaults:\n  wait: false\n  expect: accepted\n  retry: {{ attempts: 2, backoff: 10ms, max_backoff: 20ms, settle: 200ms }}\nlimits: {{ batch: 2 }}\nphases:\n  - name: all\n    stops:\n      - job: {}\n      - job: {}\n",
            JOBS[0], JOBS[1]
        );
        let (code, stderr, report) = run_against(&server.url, &rest);
        assert_eq!(code, Some(1), "{stderr}");
        for result in report["results"].as_array().unwrap() {
            assert_eq!(result["outcome"], "failed", "{result}");
            assert!(result["http_status"] != 400, "a made-up 400: {result}");
        }
    }
}

/// Runs a runbook against `url` (its target's lines, then `rest`: defaults, limits, phases):
/// the exit code, stderr and JSON report.
fn run_against(url: &str, rest: &str) -> (Option<i32>, String, serde_json::Value) {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(
        dir.path().join("rb.yaml"),
        format!(
            "version: 1\nname: hostile\ntarget:\n  endpoint: {url}\n  project_id: 054ba152d480d55b2f5dc0069e7ddef0\n  auth: {{ token_env: HOSTILE_TOKEN }}\n{rest}"
        ),
    )
    .unwrap();
    let output = stopbook(["run", "rb.yaml", "--no-progress", "--report-json", "r.json"])
        .current_dir(dir.path())
        .env("HOSTILE_TOKEN", "hostile-token-value")
        .timeout(Duration::from_secs(60))
        .output()
        .unwrap();
    let report = serde_json::from_slice(&std::fs::read(dir.path().join("r.json")).unwrap())
        .unwrap_or_default();
    let stderr = String::from_utf8_lossy(&output.stderr).into_owned();
    (output.status.code(), stderr, report)
}

//! Faults a gateway produces, survived without a second stop.

use stopbook::mock::{Faults, MockConfig};

use super::*;

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
    // Throttled, reset-before and burst requests reached no job; every other one is counted.
    assert_eq!(
        mock.received().other_than((0..30).map(job_id), &[TAKEN]),
        [],
        "a job was stopped twice\n{}",
        stderr(&output)
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
    assert_eq!(
        mock.received().other_than((0..20).map(job_id), &[TAKEN]),
        [],
        "a stop was resent after it had been applied"
    );
    // No status lag: each reset stop is read as taken at once, and passes.
    let report = report(dir.path());
    assert_eq!(report["summary"]["passed"], 20, "{report}");
    assert_eq!(output.status.code(), Some(0), "{}", stderr(&output));
}

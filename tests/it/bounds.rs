//! Every value a runbook or a flag gives is bounded: an absurd one is a clear error (exit 2), never
//! a panic (exit 101) of the run it would have configured.

use std::time::Duration;

use crate::support::stopbook;

const PHASES: &str =
    "phases:\n  - name: p\n    stops:\n      - job: c7debc9c-8e09-4a5d-8dd6-cc44f78jb20r\n";

fn validate(runbook: &str) -> (Option<i32>, String) {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("rb.yaml");
    std::fs::write(&path, runbook).unwrap();
    let output = stopbook(["validate".as_ref(), path.as_os_str()])
        .timeout(Duration::from_secs(20))
        .output()
        .unwrap();
    (
        output.status.code(),
        String::from_utf8_lossy(&output.stderr).into_owned(),
    )
}

#[test]
fn absurd_rates_are_refused_by_validation() {
    for rate in ["2000000000/s", "4294967295/s", "1000001/s", "60000001/m"] {
        let (code, stderr) = validate(&format!(
            "version: 1\nname: n\nlimits: {{ rate: {rate} }}\n{PHASES}"
        ));
        assert_eq!(code, Some(2), "{rate}: {stderr}");
        assert!(stderr.contains("at most"), "{rate}: {stderr}");
    }
    let (code, stderr) = validate(&format!(
        "version: 1\nname: n\nlimits: {{ rate: 1000000/s }}\n{PHASES}"
    ));
    assert_eq!(code, Some(0), "{stderr}");
}

#[test]
fn an_absurd_rate_flag_is_a_usage_error_not_a_panic() {
    let output = stopbook([
        "run",
        "runbooks/quickstart.yaml",
        "--no-progress",
        "--rate",
        "2000000000/s",
    ])
    .timeout(Duration::from_secs(60))
    .output()
    .unwrap();
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert_eq!(output.status.code(), Some(2), "{stderr}");
    assert!(!stderr.contains("panicked"), "{stderr}");
}

#[test]
fn huge_numbers_anywhere_are_refused_without_a_panic() {
    for (settings, expected) in [
        (
            "limits: { concurrency: 99999999999999999999 }",
            "whole number",
        ),
        (
            "limits: { max_failures: 18446744073709551616 }",
            "a count such as",
        ),
        ("limits: { max_failures: 100.01% }", "over 100%"),
        (
            "limits: { max_failures: 99999999999999999999% }",
            "failure budget",
        ),
        (
            "defaults: { request_timeout: 18446744073709551615h }",
            "too long",
        ),
        (
            "defaults: { retry: { attempts: 4294967296 } }",
            "whole number",
        ),
        (
            "defaults: { retry: { backoff: 999999999999ms } }",
            "too long",
        ),
        ("defaults: { wait: { timeout: 1000000m } }", "too long"),
        ("defaults: { expect: { http: 99999 } }", "whole number"),
        ("defaults: { expect: { http: 600 } }", "100 to 599"),
    ] {
        let (code, stderr) = validate(&format!("version: 1\nname: n\n{settings}\n{PHASES}"));
        assert_eq!(code, Some(2), "{settings}: {stderr}");
        assert!(stderr.contains(expected), "{settings}: {stderr}");
        assert!(!stderr.contains("panicked"), "{settings}: {stderr}");
    }
}

#[test]
fn the_mock_refuses_to_generate_more_tasks_than_it_can_hold() {
    let output = stopbook(["mock", "--generate", "18446744073709551615"])
        .timeout(Duration::from_secs(20))
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&output.stderr).contains("--generate"));
}

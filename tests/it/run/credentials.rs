//! Credentials: tokens, AK/SK, IAM passwords; refused ones end the run, and none is ever written
//! anywhere.

use std::time::Duration;

use stopbook::mock::MockConfig;

use super::*;
use crate::support::stopbook;

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

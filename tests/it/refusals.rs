//! What a run refuses before it sends anything (exit 2): a token file that holds no token, a
//! report that cannot be written, a journal that is not a journal, a proxy that is not a URL,
//! a settle window of nothing.

use std::time::Duration;

use stopbook::mock::MockConfig;

use crate::run::{External, TOKEN, config, job_id, jobs, runbook_with_auth, stderr, stops_yaml};
use crate::support::stopbook;

fn one_stop() -> String {
    format!(
        "phases:\n  - name: p\n    stops:\n{}",
        stops_yaml([job_id(0)])
    )
}

fn refused(dir: &std::path::Path, args: &[&str], env: &[(&str, &str)]) -> String {
    let mut cmd = stopbook(["run"]);
    cmd.args(args)
        .current_dir(dir)
        .env("STOPBOOK_TEST_TOKEN", TOKEN)
        .timeout(Duration::from_secs(60));
    for (k, v) in env {
        cmd.env(k, v);
    }
    let output = cmd.output().unwrap();
    assert_eq!(output.status.code(), Some(2), "{}", stderr(&output));
    stderr(&output)
}

#[test]
fn bad_inputs_found_late_before_are_refused_before_anything_is_sent() {
    let mock = External::start(MockConfig {
        ..config(jobs(0..1, "INCRE_TRANSFER_STARTED"))
    });
    let dir = tempfile::tempdir().unwrap();
    let token_env = "{ token_env: STOPBOOK_TEST_TOKEN }";
    let path = runbook_with_auth(dir.path(), &mock.url, token_env, &one_stop());
    let rb = path.to_str().unwrap();

    let err = refused(
        dir.path(),
        &[rb, "--report-json", "no/such/folder/r.json"],
        &[],
    );
    assert!(err.contains("cannot write the report"), "{err}");

    let err = refused(dir.path(), &[rb], &[("HTTPS_PROXY", "http://u:pw@[bad")]);
    assert!(err.contains("not a URL") && !err.contains("pw@"), "{err}");

    std::fs::write(dir.path().join("j.jsonl"), "{\"kind\":\"intent\",\"seq\":1,\"job\":\"00000000-0000-4000-8000-00000000jb00\",\"force\":false}\n").unwrap();
    let err = refused(dir.path(), &[rb, "--journal", "j.jsonl", "--resume"], &[]);
    assert!(err.contains("before the journal's `run` header"), "{err}");

    for file in ["/dev/zero", "/proc/self/environ"] {
        let auth = format!("{{ token_file: {file} }}");
        let path = runbook_with_auth(dir.path(), &mock.url, &auth, &one_stop());
        let err = refused(dir.path(), &[path.to_str().unwrap()], &[]);
        assert!(err.contains("token_file"), "{err}");
    }
    assert!(mock.requests().is_empty(), "nothing was sent");
}

#[test]
fn a_settle_window_of_nothing_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let body = format!("defaults: {{ retry: {{ settle: 0s }} }}\n{}", one_stop());
    let path = runbook_with_auth(
        dir.path(),
        "https://drs.example.com",
        "{ token_env: T }",
        &body,
    );
    let output = stopbook(["validate", path.to_str().unwrap()])
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(2));
    assert!(
        stderr(&output).contains("`settle` must be longer than 0s"),
        "{}",
        stderr(&output)
    );
}

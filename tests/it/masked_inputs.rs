//! A credential pasted where a path or an endpoint belongs (`stops_file: <token>`, a fleet file
//! named by a token, `?token=` or a token in the path of `target.endpoint`, an IAM endpoint or
//! `--endpoint`) is never echoed: not by `validate` in any format, not by `plan`, not by `run`
//! nor its reports, not by `show`.

use std::path::Path;
use std::time::Duration;

use crate::support::stopbook;

/// Looks like a key: long mixed letters and digits.
const KEYLIKE: &str = "MIIDkgYJKoZIhvcNAQcCoIIDgzCCA38CAQExDTALBglghkgBZQMEAgEw";
/// Does not look like a key, but is one by where it stands (a URL's query or fragment).
const PLAIN: &str = "hunter2hunter2";

const PROJECT: &str = "054ba152d480d55b2f5dc0069e7ddef0";
const STOPS: &str =
    "phases:\n  - name: p\n    stops:\n      - job: c7debc9c-8e09-4a5d-8dd6-cc44f78jb20r\n";

fn with_endpoint(endpoint: &str) -> String {
    format!(
        "version: 1\nname: n\ntarget:\n  endpoint: {endpoint}\n  project_id: {PROJECT}\n  auth: {{ token_env: STOPBOOK_TEST_TOKEN }}\n{STOPS}"
    )
}

/// Runbooks with a credential where a path or an endpoint belongs, and the credential.
fn runbooks() -> Vec<(String, &'static str)> {
    let mut out = vec![
        (
            format!("version: 1\nname: n\nphases:\n  - name: p\n    stops_file: {KEYLIKE}\n"),
            KEYLIKE,
        ),
        (
            format!(
                "version: 1\nname: n\nphases:\n  - name: p\n    stops_file: secrets/{KEYLIKE}.txt\n"
            ),
            KEYLIKE,
        ),
        (
            format!(
                "version: 1\nname: n\ntarget:\n  mock: {{ jobs: {KEYLIKE} }}\nphases:\n  - name: p\n    select: {{ job_type: sync, status: [INCRE_TRANSFER_STARTED], max: 5 }}\n"
            ),
            KEYLIKE,
        ),
        (
            format!(
                "version: 1\nname: n\ntarget:\n  endpoint: https://drs.example.com\n  project_id: {PROJECT}\n  auth: {{ iam_password: {{ endpoint: https://iam.example.com/?token={PLAIN}, user_env: U, password_env: P, domain: d }} }}\n{STOPS}"
            ),
            PLAIN,
        ),
    ];
    for endpoint in endpoints() {
        out.push((with_endpoint(&endpoint.0), endpoint.1));
    }
    out
}

/// Endpoints carrying a credential, and the credential.
fn endpoints() -> Vec<(String, &'static str)> {
    vec![
        (format!("https://drs.example.com/?token={PLAIN}"), PLAIN),
        (
            format!("https://drs.example.com?access_token={PLAIN}"),
            PLAIN,
        ),
        (format!("https://drs.example.com/v5?x=1&sig={PLAIN}"), PLAIN),
        (format!("https://drs.example.com/#{PLAIN}"), PLAIN),
        (format!("https://drs.example.com/{KEYLIKE}"), KEYLIKE),
        (format!("https://admin:{PLAIN}@drs.example.com"), PLAIN),
        (
            format!("ftp://admin:{PLAIN}@drs.example.com/?token={PLAIN}"),
            PLAIN,
        ),
    ]
}

/// Everything `stopbook ARGS` wrote, run in `dir`: exit code and stdout + stderr.
fn everything(dir: &Path, args: &[&str]) -> (Option<i32>, String) {
    let output = stopbook(args)
        .current_dir(dir)
        .env("STOPBOOK_TEST_TOKEN", "t0k3n-for-the-test")
        .timeout(Duration::from_secs(60))
        .output()
        .unwrap();
    let all = format!(
        "{}{}",
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    );
    (output.status.code(), all)
}

/// Every file in `dir` other than the runbook, read as text.
fn written_files(dir: &Path) -> String {
    let mut all = String::new();
    for entry in walk(dir) {
        if entry.file_name().is_some_and(|n| n != "rb.yaml") {
            all.push_str(&String::from_utf8_lossy(&std::fs::read(&entry).unwrap()));
        }
    }
    all
}

fn walk(dir: &Path) -> Vec<std::path::PathBuf> {
    let mut out = Vec::new();
    for entry in std::fs::read_dir(dir).unwrap().flatten() {
        let path = entry.path();
        if path.is_dir() {
            out.extend(walk(&path));
        } else {
            out.push(path);
        }
    }
    out
}

#[test]
fn validate_never_echoes_a_credential_where_a_path_or_endpoint_belongs() {
    let mut leaks: Vec<String> = Vec::new();
    for (runbook, secret) in runbooks() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("rb.yaml"), &runbook).unwrap();
        for format in ["human", "json", "github"] {
            let (code, all) = everything(dir.path(), &["validate", "--format", format, "rb.yaml"]);
            assert_eq!(code, Some(2), "{runbook}\n{all}");
            if all.contains(secret) {
                leaks.push(format!("validate --format {format} of\n{runbook}{all}"));
            }
        }
    }
    assert!(
        leaks.is_empty(),
        "{} leaks:\n\n{}",
        leaks.len(),
        leaks.join("\n---\n")
    );
}

#[test]
fn plan_and_run_never_echo_a_credential_where_a_path_or_endpoint_belongs() {
    let mut leaks: Vec<String> = Vec::new();
    for (runbook, secret) in runbooks() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("rb.yaml"), &runbook).unwrap();
        for args in [
            &["plan", "rb.yaml"][..],
            &["plan", "rb.yaml", "--format", "json"],
            &[
                "run",
                "rb.yaml",
                "--no-progress",
                "--yes",
                "--report-json",
                "r.json",
                "--report-md",
                "r.md",
                "--report-html",
                "r.html",
                "--report-junit",
                "r.xml",
                "--journal",
                "j.jsonl",
            ],
        ] {
            let (code, all) = everything(dir.path(), args);
            assert_eq!(code, Some(2), "{args:?}\n{runbook}\n{all}");
            if all.contains(secret) {
                leaks.push(format!("{args:?} of\n{runbook}{all}"));
            }
            let files = written_files(dir.path());
            if files.contains(secret) {
                leaks.push(format!("{args:?} wrote it in a file:\n{files}"));
            }
        }
    }
    assert!(
        leaks.is_empty(),
        "{} leaks:\n\n{}",
        leaks.len(),
        leaks.join("\n---\n")
    );
}

#[test]
fn an_endpoint_flag_with_a_credential_is_refused_without_echoing_it() {
    let mut leaks: Vec<String> = Vec::new();
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(
        dir.path().join("rb.yaml"),
        with_endpoint("https://drs.example.com"),
    )
    .unwrap();
    std::fs::write(
        dir.path().join("fixtures.yaml"),
        format!(
            "target: {{ endpoint: https://drs.example.com, project_id: {PROJECT}, auth: {{ token_env: STOPBOOK_TEST_TOKEN }} }}\nrunning: [c7debc9c-8e09-4a5d-8dd6-cc44f78jb20r, c7debc9c-8e09-4a5d-8dd6-cc44f78jb21r, c7debc9c-8e09-4a5d-8dd6-cc44f78jb22r]\n"
        ),
    )
    .unwrap();
    for (endpoint, secret) in endpoints() {
        for args in [
            &[
                "run",
                "rb.yaml",
                "--no-progress",
                "--yes",
                "--endpoint",
                &endpoint,
            ][..],
            &["conform", "fixtures.yaml", "--endpoint", &endpoint],
        ] {
            let (code, all) = everything(dir.path(), args);
            assert_eq!(code, Some(2), "{args:?}\n{all}");
            if all.contains(secret) {
                leaks.push(format!("{args:?}:\n{all}"));
            }
        }
    }
    assert!(
        leaks.is_empty(),
        "{} leaks:\n\n{}",
        leaks.len(),
        leaks.join("\n---\n")
    );
}

#[test]
fn show_never_echoes_a_credential_in_a_doctored_report() {
    let mut leaks: Vec<String> = Vec::new();
    let dir = tempfile::tempdir().unwrap();
    for (endpoint, secret) in endpoints() {
        let report = serde_json::json!({
            "stopbook_report": 1,
            "runbook": "n",
            "plan_id": "sha256:0000000000000000000000000000000000000000000000000000000000000000",
            "outcome": "passed",
            "target": { "endpoint": endpoint, "project_id": PROJECT, "auth": "token" },
            "results": [],
        });
        let path = dir.path().join("report.json");
        std::fs::write(&path, report.to_string()).unwrap();
        let (code, all) = everything(dir.path(), &["show", "report.json"]);
        assert_eq!(code, Some(0), "{all}");
        assert!(all.contains("drs.example.com"), "{all}");
        if all.contains(secret) {
            leaks.push(format!("show of a report of {endpoint}:\n{all}"));
        }
    }
    assert!(
        leaks.is_empty(),
        "{} leaks:\n\n{}",
        leaks.len(),
        leaks.join("\n---\n")
    );
}

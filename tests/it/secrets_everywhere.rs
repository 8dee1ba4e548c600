//! Every command, a secret in every place a runbook, a fixtures file, a flag or the environment
//! can hold one, at `RUST_LOG=trace`: the secret is found nowhere in stdout, stderr, reports,
//! journals, plans or the mock's request log.

use std::io::{BufRead, BufReader, Read};
use std::path::Path;
use std::time::{Duration, Instant};

use crate::support::stopbook;

/// Looks like a pasted key to every check (long, mixed case, digits).
const SECRET: &str = "Zq8Wx3Lm0Pv7Rt2Yk5Hs9Nd4Gf6Jb1Cx";
const SK: &str = "Sk9Qw2Er4Ty6Ui8Op0As1Df3Gh5Jk7Lz";
const IAM_PASSWORD: &str = "Ia9Mp4Ss7Ww0Rd2Qx5Zc8Vb1Nm3Lk6Jh";
const P: &str = "054ba152d480d55b2f5dc0069e7ddef0";
const JOBS: [&str; 3] = [
    "c7debc9c-8e09-4a5d-8dd6-cc44f78jb20r",
    "0b1c2d3e-4f50-4a6b-8c7d-8e9f0a1jb11x",
    "5e6f7a8b-9c0d-4e1f-a2b3-c4d5e6f7ab99",
];

/// A target with a literal secret in every place one can be written.
fn leaky_target(endpoint_host: &str) -> String {
    format!(
        "target:\n  endpoint: https://admin:{SECRET}@{endpoint_host}\n  project_id: {P}\n  auth:\n    token: {SECRET}\n    password: {SECRET}\n    sk: \"{SECRET}\"\n    token_env: {SECRET}\n    ak_env: {SECRET}\n    sk_env: {SECRET}\n    security_token_env: {SECRET}\n    token_file: {SECRET}\n    iam_password: {{ user_env: {SECRET}, password_env: {SECRET}, password: {SECRET}, domain: {SECRET} }}\n"
    )
}

fn stops() -> String {
    let list: String = JOBS.iter().map(|j| format!("      - job: {j}\n")).collect();
    format!("phases:\n  - name: all\n    stops:\n{list}")
}

/// Every file under `dir`, and the output, hold no secret.
fn assert_clean(what: &str, output: &std::process::Output, dir: &Path) {
    let mut all = format!(
        "{}{}",
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    );
    for entry in walk(dir) {
        all.push_str(&String::from_utf8_lossy(&std::fs::read(entry).unwrap()));
    }
    for secret in [SECRET, SK, IAM_PASSWORD] {
        assert!(!all.contains(secret), "{what}: a secret leaked:\n{all}");
    }
    assert!(!all.contains("panicked"), "{what}:\n{all}");
}

/// Files under `dir` other than the inputs the test wrote (`*.yaml`).
fn walk(dir: &Path) -> Vec<std::path::PathBuf> {
    let mut out = Vec::new();
    for entry in std::fs::read_dir(dir).unwrap().flatten() {
        let path = entry.path();
        if path.is_dir() {
            out.extend(walk(&path));
        } else if path.extension().is_none_or(|e| e != "yaml") {
            out.push(path);
        }
    }
    out
}

fn run_in(dir: &Path, args: &[&str]) -> std::process::Output {
    stopbook(args)
        .current_dir(dir)
        .env("RUST_LOG", "trace")
        .env("T", SECRET)
        .env("AK", "AKAKAKAKAKAKAKAKAK01")
        .env("SK", SK)
        .env("IAM_USER", "operator")
        .env("IAM_PASSWORD", IAM_PASSWORD)
        .timeout(Duration::from_secs(120))
        .output()
        .unwrap()
}

#[test]
fn literal_secrets_are_refused_and_never_shown_by_any_command() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let runbook = format!(
        "version: 1\nname: n\n{}{}",
        leaky_target("drs.example.com"),
        stops()
    );
    std::fs::write(d.join("rb.yaml"), runbook).unwrap();
    let running: Vec<String> = JOBS.iter().map(|j| j.to_string()).collect();
    let fixtures = format!(
        "{}running: [{}]\n",
        leaky_target("drs.example.com"),
        running.join(", ")
    );
    std::fs::write(d.join("fixtures.yaml"), fixtures).unwrap();
    for args in [
        &["validate", "rb.yaml"][..],
        &["plan", "rb.yaml"],
        &["plan", "rb.yaml", "--format", "json", "--out", "plan.json"],
        &["run", "rb.yaml", "--no-progress", "--report-json", "r.json"],
        &["conform", "fixtures.yaml", "--report-json", "c.json"],
    ] {
        let output = run_in(d, args);
        assert_eq!(output.status.code(), Some(2), "{args:?}");
        assert_clean(&format!("{args:?}"), &output, d);
    }
}

/// `stopbook mock` with every credential flag from the environment; its URL.
fn start_mock(dir: &Path) -> (std::process::Child, String) {
    let jobs: String = JOBS
        .iter()
        .map(|j| format!("- {{ id: {j}, name: DRS-1, status: INCRE_TRANSFER_STARTED }}\n"))
        .collect();
    std::fs::write(dir.join("jobs.yaml"), jobs).unwrap();
    let mut child = std::process::Command::new(env!("CARGO_BIN_EXE_stopbook"))
        .args([
            "mock",
            "--jobs",
            "jobs.yaml",
            "--ak",
            "AKAKAKAKAKAKAKAKAK01",
        ])
        .args(["--iam-user", "operator", "--stop-delay", "100ms"])
        .current_dir(dir)
        .env("RUST_LOG", "trace")
        .env("STOPBOOK_MOCK_TOKEN", SECRET)
        .env("STOPBOOK_MOCK_SK", SK)
        .env("STOPBOOK_MOCK_IAM_PASSWORD", IAM_PASSWORD)
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    let mut first = String::new();
    BufReader::new(child.stdout.as_mut().unwrap())
        .read_line(&mut first)
        .unwrap();
    let url = first
        .trim()
        .strip_prefix("listening on ")
        .unwrap()
        .to_owned();
    (child, url)
}

/// Stops the mock with SIGTERM (bounded wait); everything it printed.
fn stop_mock(mut child: std::process::Child) -> String {
    // SAFETY: sending a signal to our own child process.
    unsafe { libc::kill(child.id() as i32, libc::SIGTERM) };
    let deadline = Instant::now() + Duration::from_secs(10);
    while child.try_wait().unwrap().is_none() {
        if Instant::now() > deadline {
            let _ = child.kill();
            break;
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    let mut out = String::new();
    let _ = child.stdout.take().unwrap().read_to_string(&mut out);
    let _ = child.stderr.take().unwrap().read_to_string(&mut out);
    out
}

#[test]
fn secrets_from_the_environment_never_reach_reports_journals_or_logs() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let (mock, url) = start_mock(d);
    let ways = [
        ("token", "{ token_env: T }".to_owned()),
        ("aksk", "{ ak_env: AK, sk_env: SK }".to_owned()),
        (
            "iam",
            format!(
                "{{ iam_password: {{ endpoint: {url}, user_env: IAM_USER, password_env: IAM_PASSWORD, domain: acme }} }}"
            ),
        ),
    ];
    for (name, auth) in &ways {
        let runbook = format!(
            "version: 1\nname: n\ntarget:\n  endpoint: {url}\n  project_id: {P}\n  auth: {auth}\ndefaults: {{ wait: {{ timeout: 20s, poll: 100ms }} }}\n{}",
            stops()
        );
        std::fs::write(d.join(format!("{name}.yaml")), runbook).unwrap();
        let output = run_in(
            d,
            &[
                "run",
                &format!("{name}.yaml"),
                "--no-progress",
                "--journal",
                &format!("{name}.jsonl"),
                "--report-json",
                &format!("{name}.json"),
                "--report-junit",
                &format!("{name}.xml"),
                "--report-md",
                &format!("{name}.md"),
            ],
        );
        // The first run stops the jobs; the later ones find them ended (exit 1): either way
        // every credential was accepted and the run ended in a verdict.
        assert!(
            matches!(output.status.code(), Some(0 | 1)),
            "{name}: {output:?}"
        );
        assert_clean(name, &output, d);
        let plan = run_in(
            d,
            &[
                "plan",
                &format!("{name}.yaml"),
                "--out",
                &format!("{name}-plan.json"),
            ],
        );
        assert_clean(name, &plan, d);
    }
    let fixtures = format!(
        "target: {{ endpoint: {url}, project_id: {P}, auth: {{ token_env: T }} }}\nrunning: [{}]\nwait: {{ timeout: 10s, poll: 100ms }}\n",
        JOBS.join(", ")
    );
    std::fs::write(d.join("fixtures.yaml"), fixtures).unwrap();
    let conform = run_in(
        d,
        &[
            "conform",
            "fixtures.yaml",
            "--report-json",
            "c.json",
            "--report-junit",
            "c.xml",
        ],
    );
    assert!(conform.status.code().is_some(), "{conform:?}");
    assert_clean("conform", &conform, d);
    let log = fetch(&format!("{url}/__mock/requests"));
    assert!(
        log.contains("/stop") && log.contains("/v3/auth/tokens"),
        "{log}"
    );
    for secret in [SECRET, SK, IAM_PASSWORD] {
        assert!(
            !log.contains(secret),
            "the request log shows a secret:\n{log}"
        );
    }
    let printed = stop_mock(mock);
    for secret in [SECRET, SK, IAM_PASSWORD] {
        assert!(
            !printed.contains(secret),
            "the mock printed a secret:\n{printed}"
        );
    }
}

fn fetch(url: &str) -> String {
    stopbook::api::transport::install_crypto_provider();
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    runtime.block_on(async {
        reqwest::Client::builder()
            .no_proxy()
            .build()
            .unwrap()
            .get(url)
            .send()
            .await
            .unwrap()
            .text()
            .await
            .unwrap()
    })
}

//! `stopbook run` against a real mock over loopback: the binary as users run it, with the mock's
//! request log as the witness of what was sent, when, and how often. The tests live in one
//! file per theme; this module holds what they share.

mod basics;
mod boundaries;
mod control;
mod credentials;
mod faults;
mod heartbeat;
mod limits;
mod operator;
mod received;
mod resume;
mod webhook;
mod window;

use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use serde_json::Value;
use stopbook::mock::{self, JobSpec, MockConfig};

pub(crate) use received::{FORCE_REFUSED, FORCE_TAKEN, REFUSED, Received, Stop, TAKEN};

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
        stopbook::api::transport::install_crypto_provider();
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

    /// The status reads the mock received: (detail reads, ListJobs pages).
    pub(crate) fn reads(&self) -> (usize, usize) {
        let gets: Vec<Value> = self
            .requests()
            .into_iter()
            .filter(|r| r["method"] == "GET")
            .collect();
        let lists = gets
            .iter()
            .filter(|r| r["path"].as_str().unwrap_or("").ends_with("/jobs"))
            .count();
        (gets.len() - lists, lists)
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
            ..Default::default()
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

/// The header a run of `plan_id` at `url` (with `runbook`'s token) writes to its journal, for
/// tests that write the journal a killed run would have left.
pub(crate) fn journal_header(plan_id: &str, url: &str) -> Value {
    serde_json::json!({
        "kind": "run",
        "plan_id": plan_id,
        "runbook": "test run",
        "target": { "endpoint": url, "project_id": P, "auth": "token" },
    })
}

pub(crate) fn stops_yaml(ids: impl IntoIterator<Item = String>) -> String {
    ids.into_iter()
        .map(|id| format!("      - job: {id}\n"))
        .collect()
}

pub(crate) fn run(dir: &Path, args: &[&str]) -> std::process::Output {
    run_with(dir, args, &[])
}

/// `run` with `env` set (a test switch: the suite is built with `--features failpoints`).
pub(crate) fn run_with(dir: &Path, args: &[&str], env: &[(&str, &str)]) -> std::process::Output {
    let mut cmd = stopbook(["run"]);
    cmd.args(args)
        .current_dir(dir)
        .env("STOPBOOK_TEST_TOKEN", TOKEN)
        .envs(env.iter().copied())
        .timeout(Duration::from_secs(120));
    cmd.output().unwrap()
}

pub(crate) fn report(dir: &Path) -> Value {
    serde_json::from_str(&std::fs::read_to_string(dir.join("report.json")).unwrap()).unwrap()
}

pub(crate) fn stderr(output: &std::process::Output) -> String {
    String::from_utf8_lossy(&output.stderr).into_owned()
}

/// The arguments of a run of `runbook` with a journal (`j.jsonl`) and a JSON report
/// (`report.json`), without progress: how the resume tests run it, `--resume` added where due.
pub(crate) fn journaled(runbook: &Path) -> [&str; 6] {
    [
        runbook.to_str().unwrap(),
        "--journal",
        "j.jsonl",
        "--report-json",
        "report.json",
        "--no-progress",
    ]
}

/// Sends an admin request to the mock.
pub(crate) fn admin(mock: &External, method: reqwest::Method, path: &str, body: Value) {
    let url = format!("{}{path}", mock.url);
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    runtime.block_on(async {
        let client = reqwest::Client::builder().no_proxy().build().unwrap();
        let answer = client
            .request(method, url)
            .json(&body)
            .send()
            .await
            .unwrap();
        assert!(answer.status().is_success(), "{}", answer.status());
    });
}

/// Starts `stopbook run ARGS` in `dir` (stderr piped), for tests that interrupt it.
pub(crate) fn spawn(dir: &Path, args: &[&str]) -> std::process::Child {
    std::process::Command::new(env!("CARGO_BIN_EXE_stopbook"))
        .arg("run")
        .args(args)
        .current_dir(dir)
        .env("STOPBOOK_TEST_TOKEN", TOKEN)
        .env_remove("STOPBOOK_FAILPOINT")
        .env_remove("HTTP_PROXY")
        .env_remove("http_proxy")
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap()
}

/// Waits until the client has taken in the answer to the last stop call the mock finished (a
/// lost one included): it started a status read after that answer was written, as it does when
/// it settles an unknown outcome or waits for a job to end.
pub(crate) fn wait_until_read_after_stops(mock: &External, what: &str) {
    wait_until(what, || {
        let requests = mock.requests();
        let answered = requests
            .iter()
            .filter(|r| r["method"] == "POST")
            .filter_map(|r| r["finished_us"].as_u64())
            .max();
        answered.is_some_and(|last| {
            requests
                .iter()
                .any(|r| r["method"] == "GET" && r["started_us"].as_u64() > Some(last))
        })
    });
}

/// Polls `done` every 20 ms for up to 30 s.
pub(crate) fn wait_until(what: &str, mut done: impl FnMut() -> bool) {
    let deadline = Instant::now() + Duration::from_secs(30);
    while !done() {
        assert!(Instant::now() < deadline, "timed out waiting until {what}");
        std::thread::sleep(Duration::from_millis(20));
    }
}

//! Exactly-once under the faults real gateways produce: answers lost after the stop was applied,
//! statuses that lag, interrupts, resumes, canaries, refused credentials. The mock's request
//! log is the witness: every stop request it received, not only those it refused.

mod budgets;
mod escalation;
mod lost_answers;
mod soak_found;

use std::collections::HashMap;
use std::path::Path;
use std::time::{Duration, Instant};

use serde_json::Value;
use stopbook::mock::JobSpec;

use crate::run::{External, TOKEN, jobs};

/// Stop requests the mock received, per job, whatever their answer.
fn stops_per_job(mock: &External) -> HashMap<String, usize> {
    let mut counts = HashMap::new();
    for r in mock.stops() {
        let path = r["path"].as_str().unwrap_or("");
        let job = path.rsplit('/').nth(1).unwrap_or("").to_owned();
        *counts.entry(job).or_insert(0) += 1;
    }
    counts
}

/// Stop requests the mock applied (answered 200, or answered otherwise after applying).
fn applied_per_job(mock: &External) -> HashMap<String, usize> {
    let mut counts = HashMap::new();
    for r in mock.stops() {
        let applied = r["status"] == 200
            || r["fault"] == "server error after apply"
            || r["fault"] == "reset after apply";
        if applied {
            let job = r["path"]
                .as_str()
                .unwrap_or("")
                .rsplit('/')
                .nth(1)
                .unwrap_or("")
                .to_owned();
            *counts.entry(job).or_insert(0) += 1;
        }
    }
    counts
}

/// Sends an admin request to the mock.
fn admin(mock: &External, method: reqwest::Method, path: &str, body: Value) {
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

fn spawn(dir: &Path, args: &[&str]) -> std::process::Child {
    std::process::Command::new(env!("CARGO_BIN_EXE_stopbook"))
        .arg("run")
        .args(args)
        .current_dir(dir)
        .env("STOPBOOK_TEST_TOKEN", TOKEN)
        .env_remove("HTTP_PROXY")
        .env_remove("http_proxy")
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap()
}

fn sigint(child: &std::process::Child) {
    // SAFETY: signalling our own child.
    unsafe { libc::kill(child.id() as i32, libc::SIGINT) };
}

fn wait_until(what: &str, mut done: impl FnMut() -> bool) {
    let deadline = Instant::now() + Duration::from_secs(30);
    while !done() {
        assert!(Instant::now() < deadline, "timed out waiting until {what}");
        std::thread::sleep(Duration::from_millis(20));
    }
}

fn spec(n: usize, status: &str) -> JobSpec {
    jobs(n..n + 1, status).remove(0)
}

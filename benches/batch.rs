//! Fewer calls under a gateway's limit (`cargo bench --bench batch`):
//!
//! (a) 500 stops against a mock throttled to 5 calls a second, one stop a call against 50 a
//!     call, in one run: the wall time and the calls each made (429s included);
//! (b) the adaptive rate: 600 stops against a mock throttled to 50 calls a second with no
//!     `limits.rate` in the runbook: the achieved rate against the limit (target at least 0.9)
//!     and the share of answers that were 429 (target at most 5 %).

mod support;

use std::path::Path;
use std::process::{Command, Stdio};

use support::{MockProcess, job_id};

const STOPS: usize = 500;
const THROTTLE: &str = "5";
const TOKEN: &str = "bench-token";

fn main() {
    let exe = env!("CARGO_BIN_EXE_stopbook");
    let dir = tempfile::tempdir().expect("a temporary folder");
    let jobs: Vec<String> = (0..STOPS)
        .map(|n| {
            format!(
                r#"{{"id":"{}","name":"DRS-{n}","status":"INCRE_TRANSFER_STARTED"}}"#,
                job_id(n)
            )
        })
        .collect();
    let jobs_file = dir.path().join("jobs.json");
    std::fs::write(&jobs_file, format!("[{}]", jobs.join(","))).expect("write the jobs");
    let ids: String = (0..STOPS).map(|n| job_id(n) + "\n").collect();
    std::fs::write(dir.path().join("stops.txt"), ids).expect("write the stops");
    println!(
        "{STOPS} stops against a mock throttled to {THROTTLE} calls/s, no limits.rate in the runbook"
    );
    let mut walls = Vec::new();
    for batch in [1, 50] {
        let mock = MockProcess::start(
            exe,
            [
                "--jobs",
                jobs_file.to_str().unwrap(),
                "--token",
                TOKEN,
                "--throttle",
                THROTTLE,
                "--stop-delay",
                "1h",
            ],
        );
        let runbook = write_runbook(dir.path(), &mock.url, batch);
        let _ = std::fs::remove_dir_all(dir.path().join(".stopbook"));
        let report = dir.path().join(format!("report-{batch}.json"));
        let mut command = Command::new(exe);
        command
            .args([
                "run",
                runbook.to_str().unwrap(),
                "--no-progress",
                "--report-json",
                report.to_str().unwrap(),
            ])
            .current_dir(dir.path())
            .env("BENCH_TOKEN", TOKEN)
            .stdout(Stdio::null())
            .stderr(Stdio::null());
        let (wall, _, status) = support::timed(command);
        assert_eq!(status, 0, "the batch {batch} run failed");
        let calls = call_count(&mock.url);
        drop(mock);
        println!(
            "  batch {batch:>2}: {:>7.1} s, {calls} calls (429s included)",
            wall.as_secs_f64()
        );
        walls.push(wall.as_secs_f64());
    }
    println!(
        "  batch 50 against batch 1: {:.1}x faster (target at least 20x)",
        walls[0] / walls[1]
    );
}

fn write_runbook(dir: &Path, url: &str, batch: usize) -> std::path::PathBuf {
    let text = format!(
        "version: 1\nname: bench\ntarget:\n  endpoint: {url}\n  project_id: {}\n  auth: {{ token_env: BENCH_TOKEN }}\nlimits: {{ concurrency: 8, batch: {batch} }}\ndefaults: {{ wait: false, retry: {{ attempts: 100, max_backoff: 2s }} }}\nphases:\n  - name: bulk\n    stops_file: stops.txt\n",
        support::PROJECT
    );
    let path = dir.join(format!("batch-{batch}.yaml"));
    std::fs::write(&path, text).expect("write the runbook");
    path
}

/// The calls the mock received (its request log), read with a bare HTTP/1.0 request.
fn call_count(url: &str) -> usize {
    use std::io::{Read, Write};
    let addr = url.trim_start_matches("http://");
    let mut stream = std::net::TcpStream::connect(addr).expect("connect to the mock");
    write!(
        stream,
        "GET /__mock/requests HTTP/1.0\r\nHost: {addr}\r\n\r\n"
    )
    .expect("ask");
    let mut text = String::new();
    stream.read_to_string(&mut text).expect("read the log");
    let body = text.split("\r\n\r\n").nth(1).unwrap_or("{}");
    let log: serde_json::Value = serde_json::from_str(body).unwrap_or_default();
    log["requests"]
        .as_array()
        .map_or(0, |r| r.iter().filter(|r| r["method"] == "POST").count())
}

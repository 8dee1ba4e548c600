//! Fewer calls under a gateway's limit (`cargo bench --bench batch`; `-- calls` or
//! `-- adaptive` runs one part):
//!
//! (a) 500 stops against a mock throttled to 5 calls a second, one stop a call against 50 a
//!     call, in one run: the wall time and the calls each made (429s included);
//! (b) the adaptive rate: 1,200 stops against a mock throttled to 50 calls a second with no
//!     `limits.rate` in the runbook, at concurrency 8 and 64: the achieved rate against the
//!     limit (target at least 0.9) and the share of answers that were 429 (target at most 5 %).

mod support;

use std::path::Path;
use std::process::{Command, Stdio};

use support::{MockProcess, job_id};

const STOPS: usize = 500;
const THROTTLE: &str = "5";
const ADAPTIVE_STOPS: usize = 1200;
const ADAPTIVE_LIMIT: usize = 50;
const TOKEN: &str = "bench-token";

fn main() {
    let exe = env!("CARGO_BIN_EXE_stopbook");
    let dir = tempfile::tempdir().expect("a temporary folder");
    let jobs_file = write_fleet(dir.path(), ADAPTIVE_STOPS);
    // `cargo bench --bench batch -- adaptive` runs (b) alone, `-- calls` (a) alone.
    let only: Vec<String> = std::env::args()
        .skip(1)
        .filter(|a| !a.starts_with('-'))
        .collect();
    let wanted = |part: &str| only.is_empty() || only.iter().any(|o| o == part);
    if wanted("calls") {
        batch_against_single(exe, dir.path(), &jobs_file);
    }
    if wanted("adaptive") {
        adaptive_rate(exe, dir.path(), &jobs_file);
    }
}

/// The jobs file (`count` running jobs) and the stops file of the first `count` jobs.
fn write_fleet(dir: &Path, count: usize) -> std::path::PathBuf {
    let jobs: Vec<String> = (0..count)
        .map(|n| {
            format!(
                r#"{{"id":"{}","name":"DRS-{n}","status":"INCRE_TRANSFER_STARTED"}}"#,
                job_id(n)
            )
        })
        .collect();
    let jobs_file = dir.join("jobs.json");
    std::fs::write(&jobs_file, format!("[{}]", jobs.join(","))).expect("write the jobs");
    jobs_file
}

fn write_stops(dir: &Path, count: usize) {
    let ids: String = (0..count).map(|n| job_id(n) + "\n").collect();
    std::fs::write(dir.join("stops.txt"), ids).expect("write the stops");
}

/// (a) batch 1 against batch 50 under a strict limit.
fn batch_against_single(exe: &str, dir: &Path, jobs_file: &Path) {
    write_stops(dir, STOPS);
    println!(
        "{STOPS} stops against a mock throttled to {THROTTLE} calls/s, no limits.rate in the runbook"
    );
    let mut walls = Vec::new();
    for batch in [1, 50] {
        let mock = throttled_mock(exe, jobs_file, THROTTLE);
        let runbook = write_runbook(dir, &mock.url, 8, batch);
        let (wall, status) = timed_run(exe, dir, &runbook);
        assert_eq!(status, 0, "the batch {batch} run failed");
        let (calls, _) = call_count(&mock.url);
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

/// (b) the adaptive rate against a gateway limit the runbook does not know.
fn adaptive_rate(exe: &str, dir: &Path, jobs_file: &Path) {
    write_stops(dir, ADAPTIVE_STOPS);
    println!(
        "{ADAPTIVE_STOPS} stops against a mock throttled to {ADAPTIVE_LIMIT} calls/s, no limits.rate"
    );
    for concurrency in [8, 64] {
        let mock = throttled_mock(exe, jobs_file, &ADAPTIVE_LIMIT.to_string());
        let runbook = write_runbook(dir, &mock.url, concurrency, 1);
        let (wall, status) = timed_run(exe, dir, &runbook);
        assert_eq!(status, 0, "the concurrency {concurrency} run failed");
        let (calls, throttled) = call_count(&mock.url);
        let achieved = ADAPTIVE_STOPS as f64 / wall.as_secs_f64();
        println!(
            "  concurrency {concurrency:>2}: {:.1} s, {achieved:.1} stops/s = {:.2} of the limit; {throttled} of {calls} calls answered 429 = {:.1} %",
            wall.as_secs_f64(),
            achieved / ADAPTIVE_LIMIT as f64,
            100.0 * throttled as f64 / calls as f64
        );
    }
}

/// A mock serving the jobs of `jobs_file`, throttled to `limit` calls a second, whose stops
/// never end (nothing waits in these runs).
fn throttled_mock(exe: &str, jobs_file: &Path, limit: &str) -> MockProcess {
    let jobs = jobs_file.to_str().unwrap();
    let args = [
        "--jobs",
        jobs,
        "--token",
        TOKEN,
        "--throttle",
        limit,
        "--stop-delay",
        "1h",
    ];
    MockProcess::start(exe, args)
}

/// `stopbook run RUNBOOK` in `dir`, journaled afresh: its wall time and exit status.
fn timed_run(exe: &str, dir: &Path, runbook: &Path) -> (std::time::Duration, i32) {
    let _ = std::fs::remove_dir_all(dir.join(".stopbook"));
    let mut command = Command::new(exe);
    command
        .args(["run", runbook.to_str().unwrap(), "--no-progress"])
        .current_dir(dir)
        .env("BENCH_TOKEN", TOKEN)
        .stdout(Stdio::null())
        .stderr(Stdio::null());
    let (wall, _, status) = support::timed(command);
    (wall, status)
}

fn write_runbook(dir: &Path, url: &str, concurrency: usize, batch: usize) -> std::path::PathBuf {
    let text = format!(
        "version: 1\nname: bench\ntarget:\n  endpoint: {url}\n  project_id: {}\n  auth: {{ token_env: BENCH_TOKEN }}\nlimits: {{ concurrency: {concurrency}, batch: {batch} }}\ndefaults: {{ wait: false, retry: {{ attempts: 100, max_backoff: 2s }} }}\nphases:\n  - name: bulk\n    stops_file: stops.txt\n",
        support::PROJECT
    );
    let path = dir.join(format!("batch-{batch}-c{concurrency}.yaml"));
    std::fs::write(&path, text).expect("write the runbook");
    path
}

/// The calls the mock received (its request log), and how many it answered 429, read with a
/// bare HTTP/1.0 request.
fn call_count(url: &str) -> (usize, usize) {
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
    let calls: Vec<&serde_json::Value> = log["requests"]
        .as_array()
        .map(|r| r.iter().filter(|r| r["method"] == "POST").collect())
        .unwrap_or_default();
    let throttled = calls.iter().filter(|r| r["status"] == 429).count();
    (calls.len(), throttled)
}

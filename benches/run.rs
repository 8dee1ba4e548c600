//! The executor against the same mock (`cargo bench --bench run`; needs `wrk`).
//!
//! (a) `stopbook run` of 200,000 stops from a stops_file, concurrency 64, no waiting, against
//!     `wrk -c64` sending the same stop requests to an identical mock: the ratio of the rates
//!     (target at least 0.5);
//! (b) the run's peak memory (target under 128 MiB);
//! (c) 5,000 stops at concurrency 50 against a mock adding 100 ms to every answer: the wall
//!     time against the ideal 5,000 / 50 × 100 ms = 10 s (target within 5 %).
//!
//! The mocks are `stopbook mock` processes, and the run journals durably, as for real.

mod support;

use std::ffi::OsString;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

use support::{MockProcess, job_id};

const STOPS: usize = 200_000;
const LATENCY_STOPS: usize = 5_000;
const TOKEN: &str = "bench-token";

fn main() {
    support::require_wrk();
    let exe = env!("CARGO_BIN_EXE_stopbook");
    let dir = tempfile::tempdir().expect("a temporary folder");
    let jobs = write_jobs(dir.path(), STOPS);

    // (a) and (b): the run.
    let mock = MockProcess::start(exe, mock_args(&jobs, &[]));
    let runbook = write_runbook(dir.path(), "big.yaml", &mock.url, 64, "jobs.txt");
    let (wall, peak_kib, status) = support::timed(run_command(exe, dir.path(), &runbook));
    assert_eq!(status, 0, "the run failed");
    drop(mock);
    let run_rate = STOPS as f64 / wall.as_secs_f64();

    // (a) baseline: wrk on a fresh, identical mock.
    let mock = MockProcess::start(exe, mock_args(&jobs, &[]));
    let script = dir.path().join("stop.lua");
    support::write_stop_script(&script, STOPS / 2, TOKEN);
    let wrk_rate = support::wrk(&mock.url, &script, 2, 64, 5, 0);
    drop(mock);

    // (c) latency-bound: 5,000 stops, concurrency 50, 100 ms per answer.
    let mock = MockProcess::start(exe, mock_args(&jobs, &["--latency", "100ms"]));
    let ids: String = (0..LATENCY_STOPS).map(|n| job_id(n) + "\n").collect();
    std::fs::write(dir.path().join("few.txt"), ids).expect("write few.txt");
    let runbook = write_runbook(dir.path(), "latency.yaml", &mock.url, 50, "few.txt");
    let (latency_wall, _, status) = support::timed(run_command(exe, dir.path(), &runbook));
    assert_eq!(status, 0, "the latency run failed");
    drop(mock);
    let ideal = (LATENCY_STOPS as f64 / 50.0) * 0.1;
    let latency_wall = latency_wall.as_secs_f64();
    let peak_mib = peak_kib as f64 / 1024.0;

    println!(
        "stopbook run, {STOPS} stops from a stops_file, concurrency 64, no waiting, durable journal"
    );
    println!(
        "  (a) stopbook run     {run_rate:>9.0} stops/s  ({:.1} s)",
        wall.as_secs_f64()
    );
    println!("      wrk -t2 -c64     {wrk_rate:>9.0} requests/s (same stop requests, same mock)");
    println!(
        "      ratio run / wrk  {:>9.2}  (target at least 0.50)",
        run_rate / wrk_rate
    );
    println!(
        "  (b) peak memory      {peak_mib:>9.1} MiB (target under 128 MiB; ratio {:.2})",
        peak_mib / 128.0
    );
    println!(
        "  (c) {LATENCY_STOPS} stops at 100 ms, concurrency 50: {latency_wall:.2} s against the ideal {ideal:.0} s, ratio {:.3} (target at most 1.05)",
        latency_wall / ideal
    );
}

/// `stopbook mock` arguments serving `jobs`, with `extra` flags.
fn mock_args(jobs: &Path, extra: &[&str]) -> Vec<OsString> {
    let mut args: Vec<OsString> = vec![
        "--jobs".into(),
        jobs.into(),
        "--token".into(),
        TOKEN.into(),
        "--stop-delay".into(),
        "1h".into(),
    ];
    args.extend(extra.iter().map(Into::into));
    args
}

fn run_command(exe: &str, dir: &Path, runbook: &Path) -> Command {
    let mut command = Command::new(exe);
    command
        .args([
            "run".as_ref(),
            runbook.as_os_str(),
            "--no-progress".as_ref(),
        ])
        .current_dir(dir)
        .env("BENCH_TOKEN", TOKEN)
        .stdout(Stdio::null())
        .stderr(Stdio::null());
    command
}

/// Writes `jobs.json` (for the mocks) and `jobs.txt` (the stops file); returns the former.
fn write_jobs(dir: &Path, count: usize) -> PathBuf {
    let mut json = String::with_capacity(count * 100);
    let mut ids = String::with_capacity(count * 37);
    json.push('[');
    for n in 0..count {
        if n > 0 {
            json.push(',');
        }
        json.push_str(&format!(
            r#"{{"id":"{}","name":"DRS-{n}","status":"INCRE_TRANSFER_STARTED"}}"#,
            job_id(n)
        ));
        ids.push_str(&job_id(n));
        ids.push('\n');
    }
    json.push(']');
    let path = dir.join("jobs.json");
    std::fs::write(&path, json).expect("write jobs.json");
    std::fs::write(dir.join("jobs.txt"), ids).expect("write jobs.txt");
    path
}

fn write_runbook(
    dir: &Path,
    name: &str,
    url: &str,
    concurrency: usize,
    stops_file: &str,
) -> PathBuf {
    let text = format!(
        "version: 1\nname: bench\ntarget:\n  endpoint: {url}\n  project_id: {}\n  auth: {{ token_env: BENCH_TOKEN }}\nlimits: {{ concurrency: {concurrency} }}\ndefaults: {{ wait: false }}\nphases:\n  - name: bulk\n    stops_file: {stops_file}\n",
        support::PROJECT
    );
    let path = dir.join(name);
    std::fs::write(&path, text).expect("write the runbook");
    path
}

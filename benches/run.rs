//! The executor against the same mock (`cargo bench --bench run`; needs `wrk`).
//!
//! (a) `stopbook run` of 200,000 stops from a stops_file, concurrency 64, no waiting, against
//!     `wrk -c64` sending the same stop requests to an identical mock: the median ratio of the
//!     rates over three alternating rounds (target at least 0.5);
//! (b) the run's peak memory, the highest of the rounds (target under 128 MiB);
//! (c) 5,000 stops at concurrency 50 against a mock adding 100 ms to every answer: the wall
//!     time against the ideal 5,000 / 50 × 100 ms = 10 s (target within 5 %).
//!
//! (d) 2,000 stops at concurrency 50 against a mock that answers 10 % of requests with a 502/504
//!     after applying them and shows new statuses 1 s late: the wall time against the same run
//!     without faults (what exactly-once costs when answers are lost).
//!
//! (e) `stopbook report` of the last round's journal into the JSON report: its wall time (target
//!     under 2 s), its peak memory, and the journal's bytes a stop.
//!
//! The mocks are `stopbook mock` processes, and the run journals durably, as for real.

mod support;

use std::ffi::OsString;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

use support::{MockProcess, job_id};

const STOPS: usize = 200_000;
const ROUNDS: usize = 3;
const LATENCY_STOPS: usize = 5_000;
const GATEWAY_STOPS: usize = 2_000;
const TOKEN: &str = "bench-token";

fn main() {
    support::require_wrk();
    let exe = env!("CARGO_BIN_EXE_stopbook");
    let dir = tempfile::tempdir().expect("a temporary folder");
    let jobs = write_jobs(dir.path(), "jobs", STOPS);
    // wrk's mock holds twice the tasks: 2 threads × 200,000 last to 100,000 requests/s in 4 s.
    let wrk_jobs = write_jobs(dir.path(), "wrk-jobs", 2 * STOPS);

    println!(
        "stopbook run, {STOPS} stops from a stops_file, concurrency 64, no waiting, durable journal"
    );
    // (a) and (b): rounds of the run and of wrk, each on a fresh mock, alternating, so that a
    // drift in this shared machine's speed touches both sides of a ratio alike.
    let script = dir.path().join("stop.lua");
    support::write_stop_script(&script, STOPS, TOKEN);
    let mut ratios = Vec::new();
    let mut peak_kib = 0;
    for round in 1..=ROUNDS {
        let _ = std::fs::remove_dir_all(dir.path().join(".stopbook"));
        let mock = MockProcess::start(exe, mock_args(&jobs, &[]));
        let runbook = write_runbook(dir.path(), "big.yaml", &mock.url, 64, "jobs.txt");
        let (wall, peak, status) = support::timed(run_command(exe, dir.path(), &runbook));
        assert_eq!(status, 0, "the run failed");
        drop(mock);
        let run_rate = STOPS as f64 / wall.as_secs_f64();
        peak_kib = peak_kib.max(peak);

        let mock = MockProcess::start(exe, mock_args(&wrk_jobs, &[]));
        let wrk_rate = support::wrk(&mock.url, &script, 2, 64, 4, 0);
        drop(mock);
        let ratio = run_rate / wrk_rate;
        println!(
            "  (a) round {round}: stopbook run {run_rate:>7.0} stops/s ({:.1} s), wrk -t2 -c64 {wrk_rate:>7.0} requests/s, ratio {ratio:.2}",
            wall.as_secs_f64()
        );
        ratios.push(ratio);
    }
    ratios.sort_by(f64::total_cmp);
    // (e) the last round's journal (200,000 stops) rendered offline into the JSON report.
    let journal = only_journal(&dir.path().join(".stopbook"));
    let bytes_per_stop = std::fs::metadata(&journal).map_or(0, |m| m.len()) as f64 / STOPS as f64;
    let mut render = Command::new(exe);
    render
        .args([
            "report".as_ref(),
            journal.as_os_str(),
            "--report-json".as_ref(),
        ])
        .arg(dir.path().join("window.json"))
        .stdout(Stdio::null())
        .stderr(Stdio::null());
    let (render_wall, render_peak, status) = support::timed(render);
    assert_eq!(status, 0, "stopbook report failed");

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

    gateway_runs(exe, dir.path(), &jobs);

    println!(
        "      median ratio run / wrk {:.2}  (rounds {:.2}..{:.2}; target at least 0.50)",
        ratios[ROUNDS / 2],
        ratios[0],
        ratios[ROUNDS - 1]
    );
    println!(
        "  (b) peak memory      {peak_mib:>9.1} MiB (target under 128 MiB; ratio {:.2})",
        peak_mib / 128.0
    );
    println!(
        "  (c) {LATENCY_STOPS} stops at 100 ms, concurrency 50: {latency_wall:.2} s against the ideal {ideal:.0} s, ratio {:.3} (target at most 1.05)",
        latency_wall / ideal
    );
    println!(
        "  (e) stopbook report of that window's journal ({bytes_per_stop:.0} bytes a stop) to JSON: {:.2} s (target under 2 s; ratio {:.2}), peak {:.1} MiB",
        render_wall.as_secs_f64(),
        render_wall.as_secs_f64() / 2.0,
        render_peak as f64 / 1024.0
    );
}

/// The one journal a run left in `dir`.
fn only_journal(dir: &Path) -> PathBuf {
    std::fs::read_dir(dir)
        .expect("the run's journal folder")
        .filter_map(Result::ok)
        .map(|e| e.path())
        .find(|p| p.extension().is_some_and(|x| x == "jsonl"))
        .expect("the run's journal")
}

/// (d): the same 2,000 stops without faults, then with 10 % 5xx-after-apply and 1 s status lag;
/// prints both wall times and their ratio.
fn gateway_runs(exe: &str, dir: &Path, jobs: &Path) {
    let ids: String = (0..GATEWAY_STOPS).map(|n| job_id(n) + "\n").collect();
    std::fs::write(dir.join("gateway.txt"), ids).expect("write gateway.txt");
    let mut walls = Vec::new();
    for faults in [
        &[][..],
        &["--error-after", "0.1", "--status-lag", "1s", "--seed", "3"][..],
    ] {
        let _ = std::fs::remove_dir_all(dir.join(".stopbook"));
        let mock = MockProcess::start(exe, mock_args(jobs, faults));
        let runbook = write_runbook(dir, "gateway.yaml", &mock.url, 50, "gateway.txt");
        let (wall, _, status) = support::timed(run_command(exe, dir, &runbook));
        assert_eq!(status, 0, "the gateway run failed");
        drop(mock);
        walls.push(wall.as_secs_f64());
    }
    let (clean, faulty) = (walls[0], walls[1]);
    println!(
        "  (d) {GATEWAY_STOPS} stops, concurrency 50: {clean:.2} s without faults, {faulty:.2} s with 10 % 5xx-after-apply and 1 s status lag, ratio {:.1}",
        faulty / clean
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

/// Writes `NAME.json` (for a mock) and `NAME.txt` (a stops file) of `count` tasks; returns the
/// former.
fn write_jobs(dir: &Path, name: &str, count: usize) -> PathBuf {
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
    let path = dir.join(format!("{name}.json"));
    std::fs::write(&path, json).expect("write the jobs");
    std::fs::write(dir.join(format!("{name}.txt")), ids).expect("write the stops file");
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

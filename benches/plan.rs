//! Planning a 200,000-stop runbook (`cargo bench --bench plan`).
//!
//! Runs the release binary as a user would, on a generated runbook whose stops come from a
//! `stops_file`, and measures wall time (median of several runs) and peak memory. Two baselines
//! run in the same session on the same files, so the figures compare across machines as ratios:
//! `stopbook validate` of the same runbook (reading and checking alone), and `sha256sum` of the
//! JSON plan (plan_id hashes a document of about that size).
//!
//! Targets from the issue: under 1 s and under 100 MiB peak for the plan.

mod support;

use std::path::Path;
use std::process::{Command, Stdio};
use std::time::Duration;

const STOPS: usize = 200_000;
const RUNS: usize = 5;

fn main() {
    let dir = tempfile::tempdir().expect("temporary folder");
    write_runbook(dir.path());
    let exe = env!("CARGO_BIN_EXE_stopbook");
    let runbook = dir.path().join("bench.yaml");
    let plan_json = dir.path().join("plan.json");
    let plan_md = dir.path().join("plan.md");

    let quiet = |program: &str, args: &[&std::ffi::OsStr]| {
        let mut command = Command::new(program);
        command
            .args(args)
            .stdout(Stdio::null())
            .stderr(Stdio::null());
        command
    };
    let plan_to = |out: &Path| {
        let args = [
            "plan".as_ref(),
            runbook.as_os_str(),
            "--out".as_ref(),
            out.as_os_str(),
        ];
        quiet(exe, &args)
    };
    let (json_time, json_peak) = measure(|| plan_to(&plan_json));
    let (md_time, md_peak) = measure(|| plan_to(&plan_md));
    let (validate_time, validate_peak) =
        measure(|| quiet(exe, &["validate".as_ref(), runbook.as_os_str()]));
    let (hash_time, _) = measure(|| quiet("sha256sum", &[plan_json.as_os_str()]));

    let mib = |kib: u64| kib as f64 / 1024.0;
    let secs = |d: Duration| d.as_secs_f64();
    let json_size = std::fs::metadata(&plan_json).map(|m| m.len()).unwrap_or(0);
    println!("plan of {STOPS} stops from a stops_file, median of {RUNS} runs");
    println!(
        "  plan --out plan.json   {:>7.3} s  peak {:>6.1} MiB  ({:.1} MiB written)",
        secs(json_time),
        mib(json_peak),
        json_size as f64 / 1048576.0
    );
    println!(
        "  plan --out plan.md     {:>7.3} s  peak {:>6.1} MiB",
        secs(md_time),
        mib(md_peak)
    );
    println!(
        "  validate (baseline)    {:>7.3} s  peak {:>6.1} MiB",
        secs(validate_time),
        mib(validate_peak)
    );
    println!(
        "  sha256sum plan.json    {:>7.3} s  (baseline)",
        secs(hash_time)
    );
    println!("ratios");
    println!(
        "  plan json / validate   {:>7.2}",
        secs(json_time) / secs(validate_time)
    );
    println!(
        "  plan json / sha256sum  {:>7.2}",
        secs(json_time) / secs(hash_time)
    );
    println!("  plan json / 1 s target {:>7.2}", secs(json_time));
    println!(
        "  peak / 100 MiB target  {:>7.2}",
        mib(json_peak.max(md_peak)) / 100.0
    );
}

/// Runs the command RUNS times; the median wall time and its peak resident memory in KiB.
fn measure(command: impl Fn() -> Command) -> (Duration, u64) {
    let mut times = Vec::with_capacity(RUNS);
    let mut peak = 0;
    for _ in 0..RUNS {
        let (time, peak_kib, status) = support::timed(command());
        assert!(
            status == 0,
            "the benchmarked command failed with wait status {status}"
        );
        times.push(time);
        peak = peak.max(peak_kib);
    }
    times.sort();
    (times[RUNS / 2], peak)
}

fn write_runbook(dir: &Path) {
    let mut jobs = String::with_capacity(STOPS * 37);
    let mut state: u64 = 0x9e37_79b9_7f4a_7c15;
    let alphabet = b"0123456789abcdefghijklmnopqrstuvwxyz";
    for _ in 0..STOPS {
        for (i, len) in [8, 4, 4, 4, 12].into_iter().enumerate() {
            if i > 0 {
                jobs.push('-');
            }
            for _ in 0..len {
                // xorshift64: deterministic, dependency-free job IDs.
                state ^= state << 13;
                state ^= state >> 7;
                state ^= state << 17;
                jobs.push(alphabet[(state % 36) as usize] as char);
            }
        }
        jobs.push('\n');
    }
    std::fs::write(dir.join("jobs.txt"), jobs).expect("write jobs.txt");
    std::fs::write(
        dir.join("bench.yaml"),
        "version: 1\nname: bench\nlimits: { concurrency: 64 }\nphases:\n  - name: bulk\n    stops_file: jobs.txt\n",
    )
    .expect("write bench.yaml");
}

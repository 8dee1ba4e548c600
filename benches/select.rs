//! Reading live state (`cargo bench --bench select`; needs `wrk`), against a `stopbook mock`
//! process serving 100,000 tasks:
//!
//! (a) `stopbook plan` of a runbook whose select matches all 100,000: 100 ListJobs pages of
//!     1,000, read 8 at a time (the runbook's concurrency), then the plan of 100,000 stops
//!     written as JSON;
//! (b) `stopbook plan --live` of 10,000 listed stops: 10,000 status reads, 64 at a time.
//!
//! The floor of each is the time the same number of the same requests takes with wrk at the
//! same concurrency, measured in the same run against the same mock: requests / wrk's rate.
//! Target: each within 1.5× its floor. Rounds alternate, as the machine's speed drifts.

mod support;

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

use support::{MockProcess, PROJECT, job_id};

const FLEET: usize = 100_000;
const LIVE_STOPS: usize = 10_000;
const PAGE: usize = 1_000;
const ROUNDS: usize = 3;
const TOKEN: &str = "bench-token";

fn main() {
    support::require_wrk();
    let exe = env!("CARGO_BIN_EXE_stopbook");
    let dir = tempfile::tempdir().expect("a temporary folder");
    let fleet = write_fleet(dir.path());
    let mock = MockProcess::start(
        exe,
        [
            "--jobs".as_ref(),
            fleet.as_os_str(),
            "--token".as_ref(),
            TOKEN.as_ref(),
        ],
    );
    let select = write_runbook(
        dir.path(),
        "select.yaml",
        &mock.url,
        8,
        "    select: { job_type: sync, status: [INCRE_TRANSFER_STARTED], max: 100000 }\n",
    );
    let ids: String = (0..LIVE_STOPS).map(|n| job_id(n) + "\n").collect();
    std::fs::write(dir.path().join("live.txt"), ids).expect("write live.txt");
    let live = write_runbook(
        dir.path(),
        "live.yaml",
        &mock.url,
        64,
        "    stops_file: live.txt\n",
    );
    let pages = FLEET / PAGE;
    let list_script = dir.path().join("list.lua");
    write_script(
        &list_script,
        &format!(
            "local n = 0\nrequest = function()\n  local offset = (n % {pages}) * {PAGE}\n  n = n + 1\n  return wrk.format(nil, string.format(\"/v5/{PROJECT}/jobs?job_type=sync&status=INCRE_TRANSFER_STARTED&limit={PAGE}&offset=%d\", offset))\nend\n"
        ),
    );
    let detail_script = dir.path().join("detail.lua");
    write_script(
        &detail_script,
        &format!(
            "local n = 0\nrequest = function()\n  local id = n % {LIVE_STOPS}\n  n = n + 1\n  return wrk.format(nil, string.format(\"/v5/{PROJECT}/jobs/%08d-0000-4000-8000-%012d?type=detail\", id, id))\nend\n"
        ),
    );
    println!(
        "reading live state from a mock of {FLEET} tasks; ratios are stopbook's time over wrk's for the same requests"
    );
    let mut select_ratios = Vec::new();
    let mut live_ratios = Vec::new();
    for round in 1..=ROUNDS {
        let wall = plan(exe, dir.path(), &select, &[]);
        let rate = support::wrk(&mock.url, &list_script, 2, 8, 3, 0);
        let floor = pages as f64 / rate;
        let ratio = wall / floor;
        println!(
            "  (a) round {round}: plan with a select of {FLEET}: {wall:.2} s; wrk -c8: {pages} pages in {floor:.2} s ({rate:.0}/s); ratio {ratio:.2}"
        );
        select_ratios.push(ratio);

        let wall = plan(exe, dir.path(), &live, &["--live"]);
        let rate = support::wrk(&mock.url, &detail_script, 2, 64, 3, 0);
        let floor = LIVE_STOPS as f64 / rate;
        let ratio = wall / floor;
        println!(
            "  (b) round {round}: plan --live of {LIVE_STOPS}: {wall:.2} s; wrk -c64: {LIVE_STOPS} reads in {floor:.2} s ({rate:.0}/s); ratio {ratio:.2}"
        );
        live_ratios.push(ratio);
    }
    for (what, ratios) in [
        ("(a) select of 100,000", &mut select_ratios),
        ("(b) plan --live of 10,000", &mut live_ratios),
    ] {
        ratios.sort_by(f64::total_cmp);
        let median = ratios[ratios.len() / 2];
        println!("{what}: median ratio {median:.2} of the wrk floor (target at most 1.5)");
    }
}

/// `count` running sync tasks, as a `--jobs` JSON file.
fn write_fleet(dir: &Path) -> PathBuf {
    let items: Vec<String> = (0..FLEET)
        .map(|n| {
            format!(
                "{{\"id\":\"{}\",\"name\":\"fleet-{n:06}\",\"status\":\"INCRE_TRANSFER_STARTED\"}}",
                job_id(n)
            )
        })
        .collect();
    let path = dir.join("fleet.json");
    std::fs::write(&path, format!("[{}]", items.join(","))).expect("write the fleet");
    path
}

fn write_runbook(dir: &Path, name: &str, url: &str, concurrency: u32, phase: &str) -> PathBuf {
    let text = format!(
        "version: 1\nname: bench\ntarget:\n  endpoint: {url}\n  project_id: {PROJECT}\n  auth: {{ token_env: BENCH_TOKEN }}\nlimits: {{ concurrency: {concurrency} }}\nphases:\n  - name: p\n{phase}"
    );
    let path = dir.join(name);
    std::fs::write(&path, text).expect("write the runbook");
    path
}

fn write_script(path: &Path, request: &str) {
    let script = format!("wrk.headers[\"X-Auth-Token\"] = \"{TOKEN}\"\n{request}");
    std::fs::write(path, script).expect("write the wrk script");
}

/// The wall time of `stopbook plan RUNBOOK --format json --out FILE` with `extra`, in seconds.
fn plan(exe: &str, dir: &Path, runbook: &Path, extra: &[&str]) -> f64 {
    let mut command = Command::new(exe);
    command
        .arg("plan")
        .arg(runbook)
        .args(["--format", "json", "--out"])
        .arg(dir.join("out.json"))
        .args(extra)
        .env("BENCH_TOKEN", TOKEN)
        .stdout(Stdio::null())
        .stderr(Stdio::null());
    let (wall, _, status) = support::timed(command);
    assert_eq!(status, 0, "stopbook plan failed");
    wall.as_secs_f64()
}

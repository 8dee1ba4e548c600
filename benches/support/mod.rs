//! What the benchmarks share: timing and peak memory of child processes, the wrk driver and its
//! stop-request script, and task IDs a script can compute.

#![allow(dead_code)]

use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

pub const PROJECT: &str = "054ba152d480d55b2f5dc0069e7ddef0";

/// Task `n`'s ID; the wrk script computes the same.
pub fn job_id(n: usize) -> String {
    format!("{n:08}-0000-4000-8000-{n:012}")
}

/// Runs `command` to completion: wall time and its own peak resident memory in KiB.
pub fn timed(mut command: Command) -> (Duration, u64, i32) {
    let start = Instant::now();
    #[expect(
        clippy::zombie_processes,
        reason = "reaped by wait4, which also reports its peak memory"
    )]
    let child = command.spawn().expect("the command starts");
    let (status, peak) = wait_with_peak(child.id());
    (start.elapsed(), peak, status)
}

/// Waits for child `pid`; its wait status and its own peak resident memory (Linux: KiB).
pub fn wait_with_peak(pid: u32) -> (i32, u64) {
    let mut status = 0;
    // SAFETY: wait4 writes only into the two values we pass, for a child we spawned and have
    // not waited for (std's `Child` never waits on drop).
    let mut usage: libc::rusage = unsafe { std::mem::zeroed() };
    let waited = unsafe { libc::wait4(pid as libc::pid_t, &mut status, 0, &mut usage) };
    assert_eq!(waited, pid as libc::pid_t, "wait4 failed");
    (status, usage.ru_maxrss as u64)
}

/// A `stopbook mock` process; killed when dropped.
pub struct MockProcess {
    pub url: String,
    child: Child,
}

impl MockProcess {
    pub fn start<I, S>(exe: &str, args: I) -> Self
    where
        I: IntoIterator<Item = S>,
        S: AsRef<std::ffi::OsStr>,
    {
        use std::io::{BufRead, BufReader};
        let mut child = Command::new(exe)
            .arg("mock")
            .args(args)
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .expect("the mock starts");
        let mut line = String::new();
        BufReader::new(child.stdout.take().expect("stdout"))
            .read_line(&mut line)
            .expect("the mock's first line");
        let url = line
            .trim()
            .strip_prefix("listening on ")
            .expect("listening on URL")
            .to_owned();
        MockProcess { url, child }
    }
}

impl Drop for MockProcess {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

pub fn require_wrk() {
    if Command::new("wrk").arg("--version").output().is_err() {
        eprintln!("this benchmark needs wrk: apt-get install wrk");
        std::process::exit(1);
    }
}

/// Writes the wrk script: each thread stops its own range of tasks, one new task a request,
/// starting at the task given as the script's argument.
pub fn write_stop_script(path: &Path, jobs_per_thread: usize, token: &str) {
    let script = format!(
        r#"local counter = 0
function setup(thread)
  thread:set("base", counter * {jobs_per_thread})
  counter = counter + 1
end
function init(args)
  base = base + tonumber(args[1])
end
local n = 0
wrk.method = "POST"
wrk.body = '{{"is_force_stop": false}}'
wrk.headers["Content-Type"] = "application/json"
wrk.headers["X-Auth-Token"] = "{token}"
request = function()
  local id = base + (n % {jobs_per_thread})
  n = n + 1
  local path = string.format("/v5/{PROJECT}/jobs/%08d-0000-4000-8000-%012d/stop", id, id)
  return wrk.format(nil, path)
end
"#
    );
    std::fs::write(path, script).expect("write the wrk script");
}

/// Runs wrk and returns its request rate; every answer must have been a 2xx.
pub fn wrk(
    url: &str,
    script: &Path,
    threads: usize,
    connections: usize,
    seconds: u64,
    first_task: usize,
) -> f64 {
    let output = Command::new("wrk")
        .args([
            "-t",
            &threads.to_string(),
            "-c",
            &connections.to_string(),
            "-d",
            &format!("{seconds}s"),
            "-s",
        ])
        .arg(script)
        .arg(url)
        .args(["--", &first_task.to_string()])
        .output()
        .expect("wrk runs");
    let text = String::from_utf8_lossy(&output.stdout);
    assert!(
        !text.contains("Non-2xx"),
        "some stops were refused; the task supply ran out:\n{text}"
    );
    text.lines()
        .find_map(|l| l.strip_prefix("Requests/sec:"))
        .and_then(|v| v.trim().parse().ok())
        .unwrap_or_else(|| panic!("no rate in wrk's output:\n{text}"))
}

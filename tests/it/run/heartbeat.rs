//! No wait is silent (issue 24): while stops wait for their jobs to end, the plain progress
//! lines off a terminal keep coming, at least every two seconds, each with a census of what is
//! waited on; on a terminal the bar's message carries the same census.

use std::io::{BufRead, BufReader};
use std::process::Stdio;
use std::time::{Duration, Instant};

use super::*;

/// Three jobs whose stops take `delay` to end, waited for with a poll of 500 ms.
fn slow(dir: &Path, delay: Duration) -> (External, PathBuf) {
    let mut cfg = config(jobs(0..3, "INCRE_TRANSFER_STARTED"));
    cfg.stop_delay = delay;
    let mock = External::start(cfg);
    let body = format!(
        "defaults: {{ wait: {{ timeout: 1m, poll: 500ms }} }}\nphases:\n  - name: all\n    stops:\n{}",
        stops_yaml((0..3).map(job_id))
    );
    let rb = runbook(dir, &mock.url, &body);
    (mock, rb)
}

#[test]
fn off_a_terminal_a_wait_of_seconds_gets_a_census_line_at_least_every_two_seconds() {
    let dir = tempfile::tempdir().unwrap();
    let (_mock, rb) = slow(dir.path(), Duration::from_secs(6));
    let mut child = std::process::Command::new(env!("CARGO_BIN_EXE_stopbook"))
        .arg("run")
        .arg(&rb)
        .env_remove("HTTPS_PROXY")
        .env_remove("HTTP_PROXY")
        .env_remove("ALL_PROXY")
        .current_dir(dir.path())
        .env("STOPBOOK_TEST_TOKEN", TOKEN)
        .stderr(Stdio::piped())
        .stdout(Stdio::null())
        .spawn()
        .unwrap();
    let started = Instant::now();
    let mut lines: Vec<(Duration, String)> = Vec::new();
    for line in BufReader::new(child.stderr.take().unwrap()).lines() {
        lines.push((started.elapsed(), line.unwrap()));
        assert!(started.elapsed() < Duration::from_secs(60), "no end in 60s");
    }
    assert!(child.wait().unwrap().success(), "{lines:?}");
    let census: Vec<&(Duration, String)> = lines
        .iter()
        .filter(|(_, l)| l.starts_with("progress: ") && l.contains("; waiting on 3: 3 "))
        .collect();
    assert!(
        census.len() >= 2,
        "a 6 s wait gives several census lines: {lines:#?}"
    );
    assert!(
        census.iter().all(|(_, l)| l.contains("; oldest ")),
        "{census:#?}"
    );
    assert!(
        census
            .iter()
            .any(|(_, l)| l.contains("3 RELEASE_RESOURCE_STARTED") || l.contains("3 not read yet")),
        "{census:#?}"
    );
    // Two seconds, and a second's slack for a loaded machine (the line is due every 1.5 s).
    let progress: Vec<Duration> = lines
        .iter()
        .filter(|(_, l)| l.starts_with("progress: "))
        .map(|(at, _)| *at)
        .collect();
    let widest = progress.windows(2).map(|w| w[1] - w[0]).max().unwrap();
    assert!(
        widest <= Duration::from_secs(3),
        "a gap of {widest:?} between progress lines: {lines:#?}"
    );
}

#[test]
fn on_a_terminal_the_bar_carries_the_census() {
    let dir = tempfile::tempdir().unwrap();
    let (_mock, rb) = slow(dir.path(), Duration::from_secs(3));
    let command = format!(
        "{} run {} --yes",
        env!("CARGO_BIN_EXE_stopbook"),
        rb.display()
    );
    let output = std::process::Command::new("script")
        .args(["-q", "-e", "-c", &command, "/dev/null"])
        .current_dir(dir.path())
        .env("STOPBOOK_TEST_TOKEN", TOKEN)
        .env("TERM", "xterm")
        .env_remove("HTTPS_PROXY")
        .env_remove("HTTP_PROXY")
        .env_remove("ALL_PROXY")
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .output()
        .expect("util-linux `script` runs");
    let shown = String::from_utf8_lossy(&output.stdout);
    assert_eq!(output.status.code(), Some(0), "{shown}");
    assert!(shown.contains("waiting on 3: 3 "), "{shown}");
}

//! What an operator sees around a run: the question before a real run (in a pseudo-terminal,
//! through util-linux `script`), notes when flags override the plan, and the plain progress
//! lines off a terminal.

use std::io::Write;
use std::process::Stdio;
use std::time::Duration;

use super::*;
use crate::support::snapshot_settings;

fn fresh() -> External {
    External::start(config(jobs(0..3, "INCRE_TRANSFER_STARTED")))
}

/// Three stops against `mock`, one of them forced, one phase.
fn three_stops(dir: &Path, mock: &External) -> PathBuf {
    let body = format!(
        "defaults: {{ wait: false }}\nphases:\n  - name: all\n    stops:\n{}      - job: {}\n        force: true\n",
        stops_yaml((0..2).map(job_id)),
        job_id(2)
    );
    runbook(dir, &mock.url, &body)
}

/// `stopbook ARGS` in a pseudo-terminal, `answer` typed at it; the exit code and all it printed.
fn in_a_terminal(dir: &Path, args: &str, answer: &str) -> (Option<i32>, String) {
    let command = format!("{} {args}", env!("CARGO_BIN_EXE_stopbook"));
    let mut child = std::process::Command::new("script")
        .args(["-q", "-e", "-c", &command, "/dev/null"])
        .current_dir(dir)
        .env("STOPBOOK_TEST_TOKEN", TOKEN)
        .env("TERM", "dumb")
        .env_remove("HTTPS_PROXY")
        .env_remove("HTTP_PROXY")
        .env_remove("ALL_PROXY")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("util-linux `script` runs");
    // Typed once the question is likely up; a line typed earlier waits in the terminal anyway.
    std::thread::sleep(Duration::from_millis(300));
    let mut stdin = child.stdin.take().unwrap();
    let _ = stdin.write_all(answer.as_bytes());
    let deadline = std::time::Instant::now() + Duration::from_secs(60);
    while child.try_wait().unwrap().is_none() {
        assert!(std::time::Instant::now() < deadline, "no exit within 60s");
        std::thread::sleep(Duration::from_millis(50));
    }
    drop(stdin);
    let output = child.wait_with_output().unwrap();
    let text = String::from_utf8_lossy(&output.stdout).replace('\r', "");
    (output.status.code(), text)
}

#[test]
fn a_real_run_asks_first_on_a_terminal() {
    let mock = fresh();
    let dir = tempfile::tempdir().unwrap();
    three_stops(dir.path(), &mock);

    let (code, shown) = in_a_terminal(dir.path(), "run runbook.yaml", "n\n");
    assert_eq!(code, Some(2), "{shown}");
    for expected in [
        "about to stop DRS tasks",
        &format!("endpoint: {}", mock.url),
        &format!("project:  {P}"),
        "stops:    3 in 1 phase, 1 forced",
        "proceed? [y/N]",
        "not confirmed: nothing was sent",
    ] {
        assert!(shown.contains(expected), "`{expected}` not in\n{shown}");
    }
    assert!(mock.requests().is_empty(), "a stop was sent without a yes");

    let (code, shown) = in_a_terminal(dir.path(), "run runbook.yaml --journal j1", "y\n");
    assert_eq!(code, Some(0), "{shown}");
    assert_eq!(mock.stops().len(), 3, "{shown}");

    let (mock, dir) = (fresh(), tempfile::tempdir().unwrap());
    three_stops(dir.path(), &mock);
    let (code, shown) = in_a_terminal(dir.path(), "run runbook.yaml --yes", "");
    assert_eq!(code, Some(0), "{shown}");
    assert_eq!(mock.stops().len(), 3, "{shown}");
    assert!(!shown.contains("proceed?"), "--yes asked anyway:\n{shown}");
}

#[test]
fn flags_that_override_the_plan_are_named_and_nothing_is_asked_off_a_terminal() {
    let mock = fresh();
    let dir = tempfile::tempdir().unwrap();
    let path = three_stops(dir.path(), &mock);
    let plan = path.with_file_name("approved.json");
    stopbook([
        "plan",
        path.to_str().unwrap(),
        "--out",
        plan.to_str().unwrap(),
    ])
    .assert()
    .success();
    let other = mock.url.replace("127.0.0.1", "localhost");
    let args = [
        path.to_str().unwrap(),
        "--plan",
        "approved.json",
        "--endpoint",
        &other,
        "--concurrency",
        "2",
        "--rate",
        "50/s",
        "--no-progress",
    ];
    let output = run(dir.path(), &args);
    let err = stderr(&output);
    assert_eq!(output.status.code(), Some(0), "{err}");
    for expected in [
        format!(
            "note: --endpoint {other} overrides the approved plan `approved.json`'s target {}",
            mock.url
        ),
        "note: --concurrency 2 overrides the approved plan `approved.json`'s concurrency 8"
            .to_owned(),
        "note: --rate 50/s overrides the approved plan `approved.json`'s rate (no ceiling)"
            .to_owned(),
    ] {
        assert!(err.contains(&expected), "`{expected}` not in\n{err}");
    }
    assert!(!err.contains("proceed?"), "{err}");

    // The same again on fresh tasks, quietly: no notes, no target, no progress.
    let (mock, dir) = (fresh(), tempfile::tempdir().unwrap());
    let path = three_stops(dir.path(), &mock);
    let output = run(
        dir.path(),
        &[path.to_str().unwrap(), "--concurrency", "2", "--quiet"],
    );
    let err = stderr(&output);
    assert_eq!(output.status.code(), Some(0), "{err}");
    assert_eq!(
        err.lines().collect::<Vec<_>>(),
        ["passed: 3 stops, 3 passed, 0 failed, 0 skipped"],
        "--quiet: the closing line only"
    );
}

#[test]
fn progress_lines_off_a_terminal_read_well() {
    let dir = tempfile::tempdir().unwrap();
    let body = format!(
        "version: 1\nname: progress\ndefaults: {{ wait: false }}\nphases:\n  - name: canary\n    stops:\n{}  - name: bulk\n    stops:\n{}",
        stops_yaml((0..1).map(job_id)),
        stops_yaml((1..4).map(job_id))
    );
    std::fs::write(dir.path().join("runbook.yaml"), body).unwrap();
    let output = run(dir.path(), &["runbook.yaml"]);
    let err = stderr(&output);
    assert_eq!(output.status.code(), Some(0), "{err}");
    assert!(!err.contains('\x1b'), "escape codes off a terminal:\n{err}");
    // Lines printed on the two-second timer depend on the machine's speed: only the last
    // progress line, at 4/4, is kept; rates, times and the port are masked.
    let mask = masker();
    let shown: Vec<String> = err
        .lines()
        .filter(|l| !l.starts_with("progress: ") || l.starts_with("progress: 4/4"))
        .map(&mask)
        .collect();
    snapshot_settings().bind(|| insta::assert_snapshot!("run-progress-lines", shown.join("\n")));
}

/// Masks the port, the rate (`2.4/s`, `55/min`) and the elapsed time (`3s`, `1m05s`) of a line.
fn masker() -> impl Fn(&str) -> String {
    |line: &str| {
        let words: Vec<String> = line
            .split(' ')
            .map(|w| {
                let core = w.trim_end_matches([';', ',']);
                let tail = &w[core.len()..];
                let number =
                    |s: &str| !s.is_empty() && s.chars().all(|c| c.is_ascii_digit() || c == '.');
                let masked = if let Some(n) = core
                    .strip_suffix("/s")
                    .or_else(|| core.strip_suffix("/min"))
                {
                    number(n).then_some("[rate]")
                } else if core.ends_with('s')
                    && core.chars().next().is_some_and(|c| c.is_ascii_digit())
                {
                    Some("[elapsed]")
                } else if core.starts_with("http://127.0.0.1:") {
                    Some("http://127.0.0.1:[port]")
                } else {
                    None
                };
                masked.map_or_else(|| w.to_owned(), |m| format!("{m}{tail}"))
            })
            .collect();
        words.join(" ")
    }
}

#[test]
fn until_announces_only_the_phases_it_runs() {
    let dir = tempfile::tempdir().unwrap();
    let body = format!(
        "version: 1\nname: until\ndefaults: {{ wait: false }}\nphases:\n  - name: canary\n    stops:\n{}  - name: bulk\n    stops:\n{}",
        stops_yaml((0..1).map(job_id)),
        stops_yaml((1..4).map(job_id))
    );
    std::fs::write(dir.path().join("runbook.yaml"), body).unwrap();
    let output = run(
        dir.path(),
        &["runbook.yaml", "--until", "canary", "--journal", "j.jsonl"],
    );
    let err = stderr(&output);
    assert_eq!(output.status.code(), Some(0), "{err}");
    assert!(err.contains("phase canary: 1 stop"), "{err}");
    assert!(
        !err.contains("phase bulk"),
        "a phase --until leaves for later is not announced:\n{err}"
    );
}

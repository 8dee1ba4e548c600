//! Operating a window live (issue 26): watched from an event file, a signed webhook and
//! `ctl status`; gated after its canary and let go on from another shell; drained, paused and
//! aborted from another shell and resumed, with every job still stopped once (counted from the
//! mock's own record).

use std::process::{Child, Output};

use super::webhook::{Receiver, refusing};
use super::*;

const SECRET: &str = "hook-secret-d5a1";

/// `stopbook run ARGS` started in `dir`, with the webhook secret set.
fn start(dir: &Path, args: &[&str]) -> Child {
    std::process::Command::new(env!("CARGO_BIN_EXE_stopbook"))
        .arg("run")
        .args(args)
        .current_dir(dir)
        .env("STOPBOOK_TEST_TOKEN", TOKEN)
        .env("HOOK_SECRET", SECRET)
        .env_remove("STOPBOOK_FAILPOINT")
        .env_remove("HTTP_PROXY")
        .env_remove("http_proxy")
        .stdin(std::process::Stdio::null())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap()
}

/// `stopbook ctl ACTION --journal j.jsonl` in `dir`.
fn ctl(dir: &Path, action: &str) -> Output {
    stopbook(["ctl", action, "--journal", "j.jsonl"])
        .current_dir(dir)
        .timeout(Duration::from_secs(30))
        .output()
        .unwrap()
}

/// Waits for the run to end (within 60 s); its exit code and standard error.
fn finish(child: Child) -> (Option<i32>, String) {
    let deadline = Instant::now() + Duration::from_secs(60);
    let mut child = child;
    loop {
        if let Some(status) = child.try_wait().unwrap() {
            let mut err = String::new();
            std::io::Read::read_to_string(&mut child.stderr.take().unwrap(), &mut err).unwrap();
            return (status.code(), err);
        }
        if Instant::now() > deadline {
            let _ = child.kill();
            panic!("the run did not end within 60 s");
        }
        std::thread::sleep(Duration::from_millis(20));
    }
}

/// The event stream's lines.
fn events(dir: &Path) -> Vec<Value> {
    std::fs::read_to_string(dir.join("ev.ndjson"))
        .unwrap_or_default()
        .lines()
        .map(|l| serde_json::from_str(l).expect("each line one JSON object"))
        .collect()
}

fn names(events: &[Value]) -> Vec<String> {
    events
        .iter()
        .map(|e| e["event"].as_str().unwrap().to_owned())
        .collect()
}

#[test]
fn a_gated_window_is_watched_from_a_file_a_signed_webhook_and_ctl_status_and_let_go_on_by_ctl_go() {
    let dir = tempfile::tempdir().unwrap();
    let mock = External::start(config(jobs(0..4, "INCRE_TRANSFER_STARTED")));
    let hook = Receiver::start(SECRET);
    let body = format!(
        "defaults: {{ wait: {{ timeout: 1m, poll: 100ms }} }}\nnotify:\n  - url: {}\n    secret_env: HOOK_SECRET\n    on: [phase_done, gate_waiting, run_done]\nphases:\n  - name: canary\n    stops:\n{}  - name: bulk\n    gate: manual\n    concurrency: 3\n    stops:\n{}",
        hook.url,
        stops_yaml([job_id(0)]),
        stops_yaml((1..4).map(job_id))
    );
    let rb = runbook(dir.path(), &mock.url, &body);
    let mut args = journaled(&rb).to_vec();
    args.extend(["--events", "ev.ndjson", "--yes"]);
    let child = start(dir.path(), &args);
    wait_until("the run waits at the gate", || {
        names(&events(dir.path())).contains(&"gate_waiting".to_owned())
    });
    // `--yes` does not pass a gate: the bulk waits.
    std::thread::sleep(Duration::from_millis(500));
    assert_eq!(
        mock.received().total(),
        1,
        "only the canary before the gate"
    );
    let status = ctl(dir.path(), "status");
    let said = String::from_utf8_lossy(&status.stdout).into_owned();
    assert!(status.status.success(), "{status:?}");
    assert!(said.contains("phase canary: 1/4 stops done"), "{said}");
    assert!(said.contains("gate: waiting before phase bulk"), "{said}");
    assert!(said.contains("429s: 0"), "{said}");
    let go = ctl(dir.path(), "go");
    assert!(go.status.success(), "{go:?}");
    assert!(stderr(&go).contains("the gate before phase bulk is let pass"));
    let (code, err) = finish(child);
    assert_eq!(code, Some(0), "{err}");
    let received = mock.received();
    assert!(received.other_than((0..4).map(job_id), &[TAKEN]).is_empty());

    let lines = events(dir.path());
    let seen = names(&lines);
    for name in [
        "run_started",
        "phase_started",
        "phase_done",
        "gate_waiting",
        "gate_passed",
        "control",
        "intent",
        "accepted",
        "result",
        "run_done",
    ] {
        assert!(seen.contains(&name.to_owned()), "no {name}: {seen:?}");
    }
    let plan_id = lines[0]["plan_id"].as_str().unwrap().to_owned();
    for line in &lines {
        assert_eq!(line["plan_id"], plan_id.as_str(), "{line}");
        let at = line["at"].as_str().unwrap();
        assert!(at.ends_with('Z') && at.contains('T'), "RFC 3339: {line}");
    }
    let gate_passed = lines.iter().find(|l| l["event"] == "gate_passed").unwrap();
    assert!(
        gate_passed["by"].as_str().unwrap().contains("pid"),
        "{gate_passed}"
    );
    let done = lines.last().unwrap();
    assert_eq!(done["event"], "run_done");
    assert_eq!(done["outcome"], "passed");
    let text = std::fs::read_to_string(dir.path().join("ev.ndjson")).unwrap();
    assert!(
        !text.contains(TOKEN) && !text.contains(SECRET),
        "a credential in the stream"
    );

    let told = hook.told();
    let events: Vec<&str> = told
        .iter()
        .map(|t| t.body["event"].as_str().unwrap())
        .collect();
    assert_eq!(
        events,
        ["phase_done", "gate_waiting", "phase_done", "run_done"],
        "{told:#?}"
    );
    for t in &told {
        assert!(t.signed, "a signature that does not check out: {t:#?}");
        assert!(
            t.timestamp
                .as_deref()
                .is_some_and(|s| s.parse::<u64>().is_ok())
        );
        assert_eq!(t.path, "/hooks/t0ken-in-path");
        assert_eq!(t.body["plan_id"], plan_id.as_str());
        assert_eq!(t.body["runbook"], "test run");
    }
    assert_eq!(told[3].body["counts"]["passed"], 4, "{:#?}", told[3]);
    assert_eq!(told[1].body["phase"], "bulk");
    let journal = std::fs::read_to_string(dir.path().join("j.jsonl")).unwrap();
    assert!(
        journal.contains(r#""kind":"control","action":"go""#),
        "{journal}"
    );
    assert!(journal.contains(r#""kind":"gate_passed""#));
    assert!(
        !dir.path().join("j.jsonl.ctl").exists(),
        "the socket is removed at the end"
    );
}

/// Eight jobs whose stops take a while, two at a time: room to steer the run midway.
fn slow_window(dir: &Path, concurrency: u32) -> (External, PathBuf) {
    let mut cfg = config(jobs(0..8, "INCRE_TRANSFER_STARTED"));
    cfg.stop_delay = Duration::from_millis(1200);
    let mock = External::start(cfg);
    let body = format!(
        "defaults: {{ wait: {{ timeout: 1m, poll: 100ms }} }}\nphases:\n  - name: all\n    concurrency: {concurrency}\n    stops:\n{}",
        stops_yaml((0..8).map(job_id))
    );
    let rb = runbook(dir, &mock.url, &body);
    (mock, rb)
}

/// Resumes the window and checks that every job received exactly one stop, taken.
fn resume_and_count(dir: &Path, rb: &Path, mock: &External) {
    let mut args = journaled(rb).to_vec();
    args.push("--resume");
    let resumed = run(dir, &args);
    assert_eq!(resumed.status.code(), Some(0), "{}", stderr(&resumed));
    let received = mock.received();
    let wrong = received.other_than((0..8).map(job_id), &[TAKEN]);
    assert!(wrong.is_empty(), "not stopped exactly once: {wrong:?}");
}

#[test]
fn a_drain_from_another_shell_lets_sent_stops_finish_ends_paused_and_a_resume_stops_each_job_once()
{
    let dir = tempfile::tempdir().unwrap();
    let (mock, rb) = slow_window(dir.path(), 2);
    let child = start(dir.path(), &journaled(&rb));
    wait_until("a stop was sent", || mock.received().total() >= 1);
    let drain = ctl(dir.path(), "drain");
    assert!(drain.status.success(), "{drain:?}");
    let (code, err) = finish(child);
    assert_eq!(code, Some(0), "paused with nothing failed: {err}");
    assert!(err.contains("paused:"), "{err}");
    assert!(err.contains("drained by"), "{err}");
    let report = report(dir.path());
    assert_eq!(report["outcome"], "paused");
    let sent = mock.received().total();
    assert!(sent < 8, "the drain started nothing new: {sent} sent");
    for r in report["results"].as_array().unwrap() {
        // Nothing left "sent, outcome unknown": each stop passed, or was never sent.
        let settled = r["outcome"] == "passed" || (r["outcome"] == "skipped" && r["attempts"] == 0);
        assert!(settled, "{r}");
    }
    let passed = report["results"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|r| r["outcome"] == "passed")
        .count();
    assert_eq!(passed, sent, "every stop sent was seen to its end");
    let journal = std::fs::read_to_string(dir.path().join("j.jsonl")).unwrap();
    assert!(journal.contains(r#""kind":"control","action":"drain""#));
    resume_and_count(dir.path(), &rb, &mock);
}

#[test]
fn a_pause_holds_new_stops_until_go() {
    let dir = tempfile::tempdir().unwrap();
    let (mock, rb) = slow_window(dir.path(), 1);
    let child = start(dir.path(), &journaled(&rb));
    wait_until("a stop was sent", || mock.received().total() >= 1);
    let pause = ctl(dir.path(), "pause");
    assert!(pause.status.success(), "{pause:?}");
    // The stop in flight finishes (1.2 s); nothing new starts while held.
    std::thread::sleep(Duration::from_millis(2000));
    let held = mock.received().total();
    std::thread::sleep(Duration::from_millis(1500));
    assert_eq!(mock.received().total(), held, "a stop started while paused");
    assert!(held < 8);
    let status = String::from_utf8_lossy(&ctl(dir.path(), "status").stdout).into_owned();
    assert!(status.contains("paused by"), "{status}");
    let go = ctl(dir.path(), "go");
    assert!(stderr(&go).contains("held stops start again"), "{go:?}");
    let (code, err) = finish(child);
    assert_eq!(code, Some(0), "{err}");
    let received = mock.received();
    assert!(received.other_than((0..8).map(job_id), &[TAKEN]).is_empty());
    assert_eq!(
        ctl(dir.path(), "go").status.code(),
        Some(2),
        "no run holds it now"
    );
}

#[test]
fn an_abort_from_another_shell_is_an_interrupt_and_the_resume_stops_each_job_once() {
    let dir = tempfile::tempdir().unwrap();
    let (mock, rb) = slow_window(dir.path(), 2);
    let child = start(dir.path(), &journaled(&rb));
    wait_until("a stop was sent", || mock.received().total() >= 1);
    let abort = ctl(dir.path(), "abort");
    assert!(abort.status.success(), "{abort:?}");
    let (code, err) = finish(child);
    assert_eq!(code, Some(130), "{err}");
    assert_eq!(report(dir.path())["outcome"], "interrupted");
    resume_and_count(dir.path(), &rb, &mock);
}

#[test]
fn ctl_with_no_run_holding_the_journal_exits_2_saying_so() {
    let dir = tempfile::tempdir().unwrap();
    for action in ["status", "go", "drain"] {
        let out = ctl(dir.path(), action);
        assert_eq!(out.status.code(), Some(2), "{out:?}");
        assert!(stderr(&out).contains("no run holds j.jsonl"), "{out:?}");
    }
    assert!(
        !dir.path().join("j.jsonl.lock").exists(),
        "ctl creates nothing"
    );
}

#[test]
fn a_webhook_that_refuses_connections_never_fails_a_stop_and_is_named_by_host_and_port() {
    let dir = tempfile::tempdir().unwrap();
    let mock = External::start(config(jobs(0..2, "INCRE_TRANSFER_STARTED")));
    let url = refusing();
    let body = format!(
        "defaults: {{ wait: {{ timeout: 1m, poll: 100ms }} }}\nnotify:\n  - url: {url}\n    secret_env: HOOK_SECRET\n    on: [run_done]\nphases:\n  - name: all\n    stops:\n{}",
        stops_yaml((0..2).map(job_id))
    );
    let rb = runbook(dir.path(), &mock.url, &body);
    let (code, err) = finish(start(dir.path(), &journaled(&rb)));
    assert_eq!(code, Some(0), "{err}");
    let shown = url.trim_end_matches("/secret-path");
    assert!(err.contains("notifications not delivered (1):"), "{err}");
    assert!(err.contains(&format!("run_done to {shown}: ")), "{err}");
    assert!(
        !err.contains("secret-path"),
        "the webhook's path is shown nowhere: {err}"
    );
    let report = report(dir.path());
    assert_eq!(report["outcome"], "passed");
    let undelivered = &report["window"]["undelivered"];
    assert_eq!(undelivered[0]["url"], shown, "{report:#}");
    assert_eq!(undelivered[0]["event"], "run_done");
    assert!(
        mock.received()
            .other_than((0..2).map(job_id), &[TAKEN])
            .is_empty()
    );
}

#[test]
fn a_webhooks_secret_not_set_is_refused_before_anything_is_sent() {
    let dir = tempfile::tempdir().unwrap();
    let mock = External::start(config(jobs(0..1, "INCRE_TRANSFER_STARTED")));
    let body = format!(
        "notify:\n  - url: https://chat.example.com/hooks/abc\n    secret_env: NOT_SET_ANYWHERE\nphases:\n  - name: all\n    stops:\n{}",
        stops_yaml([job_id(0)])
    );
    let rb = runbook(dir.path(), &mock.url, &body);
    let out = run(dir.path(), &journaled(&rb));
    assert_eq!(out.status.code(), Some(2), "{}", stderr(&out));
    assert!(
        stderr(&out).contains("`NOT_SET_ANYWHERE` is not set"),
        "{}",
        stderr(&out)
    );
    assert!(!stderr(&out).contains("/hooks/abc"));
    assert_eq!(mock.received().total(), 0);
}

/// A canary and a gated bulk of three, on `mock`.
fn gated(dir: &Path, mock: &External) -> PathBuf {
    let body = format!(
        "defaults: {{ wait: {{ timeout: 1m, poll: 100ms }} }}\nphases:\n  - name: canary\n    stops:\n{}  - name: bulk\n    gate: manual\n    stops:\n{}",
        stops_yaml([job_id(0)]),
        stops_yaml((1..4).map(job_id))
    );
    runbook(dir, &mock.url, &body)
}

#[test]
fn sigint_at_a_gate_is_an_interrupt_and_the_resume_waits_at_the_gate_again() {
    let dir = tempfile::tempdir().unwrap();
    let mock = External::start(config(jobs(0..4, "INCRE_TRANSFER_STARTED")));
    let rb = gated(dir.path(), &mock);
    let mut args = journaled(&rb).to_vec();
    args.extend(["--events", "ev.ndjson"]);
    let child = start(dir.path(), &args);
    wait_until("the run waits at the gate", || {
        names(&events(dir.path())).contains(&"gate_waiting".to_owned())
    });
    // SAFETY: a plain kill(2) on the pid of a child this test owns and has not reaped.
    unsafe { libc::kill(child.id() as i32, libc::SIGINT) };
    let (code, err) = finish(child);
    assert_eq!(code, Some(130), "{err}");
    assert_eq!(mock.received().total(), 1, "only the canary");
    args.push("--resume");
    let resumed = start(dir.path(), &args);
    wait_until("the resume waits at the gate again", || {
        names(&events(dir.path()))
            .iter()
            .filter(|e| *e == "gate_waiting")
            .count()
            == 2
    });
    assert_eq!(mock.received().total(), 1, "the resume waits too");
    assert!(ctl(dir.path(), "go").status.success());
    let (code, err) = finish(resumed);
    assert_eq!(code, Some(0), "{err}");
    let received = mock.received();
    assert!(received.other_than((0..4).map(job_id), &[TAKEN]).is_empty());
    assert_eq!(
        names(&events(dir.path()))
            .iter()
            .filter(|e| *e == "run_started")
            .count(),
        2,
        "each process appends its lines to the stream"
    );
}

#[test]
fn on_a_terminal_the_gate_asks_and_y_lets_it_pass() {
    use std::io::{Read, Write};
    let dir = tempfile::tempdir().unwrap();
    let mock = External::start(config(jobs(0..4, "INCRE_TRANSFER_STARTED")));
    let rb = gated(dir.path(), &mock);
    let command = format!(
        "{} run {} --yes --journal j.jsonl --no-progress",
        env!("CARGO_BIN_EXE_stopbook"),
        rb.display()
    );
    let mut child = std::process::Command::new("script")
        .args(["-q", "-e", "-c", &command, "/dev/null"])
        .current_dir(dir.path())
        .env("STOPBOOK_TEST_TOKEN", TOKEN)
        .env("TERM", "xterm")
        .env_remove("HTTPS_PROXY")
        .env_remove("HTTP_PROXY")
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::null())
        .spawn()
        .expect("util-linux `script` runs");
    let mut stdout = child.stdout.take().unwrap();
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        let mut buf = [0u8; 4096];
        while let Ok(n) = stdout.read(&mut buf) {
            if n == 0 || tx.send(buf[..n].to_vec()).is_err() {
                break;
            }
        }
    });
    let mut shown = String::new();
    let deadline = Instant::now() + Duration::from_secs(30);
    while !shown.contains("proceed to phase bulk? [y/N]") {
        assert!(Instant::now() < deadline, "no prompt: {shown}");
        if let Ok(chunk) = rx.recv_timeout(Duration::from_millis(100)) {
            shown.push_str(&String::from_utf8_lossy(&chunk));
        }
    }
    assert_eq!(
        mock.received().total(),
        1,
        "only the canary before the answer"
    );
    child.stdin.as_mut().unwrap().write_all(b"y\n").unwrap();
    let status = child.wait().unwrap();
    while let Ok(chunk) = rx.recv_timeout(Duration::from_millis(200)) {
        shown.push_str(&String::from_utf8_lossy(&chunk));
    }
    assert_eq!(status.code(), Some(0), "{shown}");
    let received = mock.received();
    assert!(received.other_than((0..4).map(job_id), &[TAKEN]).is_empty());
    let journal = std::fs::read_to_string(dir.path().join("j.jsonl")).unwrap();
    assert!(
        journal.contains(r#""kind":"gate_passed","phase":"bulk","by":"the terminal prompt"#),
        "{journal}"
    );
}

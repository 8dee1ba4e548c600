//! Exactly-once at the boundaries of one process (issue 22): a second run on a journal in use,
//! a journal that changed under a run, a resume at another endpoint or project, report paths
//! that would overwrite the run's own inputs, and the runbook's bytes as parsed.
//!
//! Stops are counted from the mock's own record of what reached its model (`/__mock/jobs`),
//! never from the answers the client saw.

use std::io::{Read, Write};
use std::process::{Child, Command, Stdio};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use stopbook::mock::MockConfig;

use super::*;

/// The stops the mock's model received for `job`: (force, taken), in arrival order.
fn received(mock: &External, job: &str) -> Vec<(bool, bool)> {
    mock.received().of(job).to_vec()
}

/// `stopbook run ARGS` on a terminal of its own (util-linux `script`), so that it asks before
/// sending; its screen is gathered as it comes.
struct OnTerminal {
    child: Child,
    screen: Arc<Mutex<String>>,
}

impl OnTerminal {
    fn start(dir: &Path, args: &[&str]) -> Self {
        let line = std::iter::once(env!("CARGO_BIN_EXE_stopbook").to_owned())
            .chain(std::iter::once("run".to_owned()))
            .chain(args.iter().map(|a| (*a).to_owned()))
            .collect::<Vec<_>>()
            .join(" ");
        let mut child = Command::new("script")
            .args(["-qfec", &line, "/dev/null"])
            .current_dir(dir)
            .env("STOPBOOK_TEST_TOKEN", TOKEN)
            .env("TERM", "dumb")
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .expect("util-linux `script` runs the command on a terminal");
        let screen = Arc::new(Mutex::new(String::new()));
        let mut out = child.stdout.take().unwrap();
        let shared = Arc::clone(&screen);
        std::thread::spawn(move || {
            let mut chunk = [0u8; 4096];
            while let Ok(n) = out.read(&mut chunk) {
                if n == 0 {
                    break;
                }
                shared
                    .lock()
                    .unwrap()
                    .push_str(&String::from_utf8_lossy(&chunk[..n]));
            }
        });
        OnTerminal { child, screen }
    }

    fn screen(&self) -> String {
        self.screen.lock().unwrap().clone()
    }

    /// Answers the question and waits for the run to end; its exit code.
    fn answer(mut self, answer: &str) -> (Option<i32>, String) {
        let mut stdin = self.child.stdin.take().unwrap();
        stdin.write_all(answer.as_bytes()).unwrap();
        stdin.flush().unwrap();
        let deadline = Instant::now() + Duration::from_secs(60);
        let status = loop {
            if let Some(status) = self.child.try_wait().unwrap() {
                break status;
            }
            assert!(
                Instant::now() < deadline,
                "the run on a terminal never ended"
            );
            std::thread::sleep(Duration::from_millis(20));
        };
        drop(stdin);
        (status.code(), self.screen())
    }
}

fn three_jobs(dir: &Path, mock: &External) -> PathBuf {
    let body = format!(
        "defaults: {{ wait: {{ timeout: 30s, poll: 100ms }} }}\nphases:\n  - name: all\n    stops:\n{}",
        stops_yaml((0..3).map(job_id))
    );
    runbook(dir, &mock.url, &body)
}

/// Hole 1: a run waiting at its question holds the journal; a second run on it is refused,
/// naming the holder, and no job is stopped twice whichever order they are confirmed in.
#[test]
fn a_second_run_on_a_journal_in_use_is_refused_naming_the_holder() {
    let mock = External::start(config(jobs(0..3, "INCRE_TRANSFER_STARTED")));
    let dir = tempfile::tempdir().unwrap();
    let path = three_jobs(dir.path(), &mock);
    let args = [
        path.to_str().unwrap(),
        "--journal",
        "j.jsonl",
        "--no-progress",
    ];
    let asking = OnTerminal::start(dir.path(), &args);
    wait_until("the first run asks", || {
        asking.screen().contains("proceed?")
    });

    let second = run(dir.path(), &[&args[..], &["--yes"]].concat());
    let (code, screen) = asking.answer("y\n");
    for n in 0..3 {
        let got = received(&mock, &job_id(n));
        assert_eq!(
            got.len(),
            1,
            "job {n} got {got:?}; first run: {screen}\nsecond run: {}",
            stderr(&second)
        );
    }
    assert_eq!(second.status.code(), Some(2), "{}", stderr(&second));
    let refusal = stderr(&second);
    assert!(
        refusal.contains("in use") && refusal.contains("pid ") && refusal.contains("since"),
        "the refusal names the holder: {refusal}"
    );
    assert_eq!(code, Some(0), "{screen}");
}

/// A journal written while a run waited at its question (by anything that ignores the lock)
/// is refused when the run goes on: it no longer knows what that journal says.
#[test]
fn a_journal_that_changed_since_the_run_read_it_is_refused() {
    let mock = External::start(config(jobs(0..3, "INCRE_TRANSFER_STARTED")));
    let dir = tempfile::tempdir().unwrap();
    let path = three_jobs(dir.path(), &mock);
    let args = [
        path.to_str().unwrap(),
        "--journal",
        "j.jsonl",
        "--no-progress",
    ];
    let asking = OnTerminal::start(dir.path(), &args);
    wait_until("the run asks", || asking.screen().contains("proceed?"));
    std::fs::write(dir.path().join("j.jsonl"), "{\"kind\":\"run\"}\n").unwrap();
    let (code, screen) = asking.answer("y\n");
    assert_eq!(code, Some(2), "{screen}");
    assert!(screen.contains("appeared"), "{screen}");
    assert!(mock.stops().is_empty(), "nothing was sent");
}

/// A run of three slow jobs (a mock whose stops take 120 s) that escalate after 2 s, killed
/// once all three were accepted; the mock, kept running, and the runbook.
fn killed_while_waiting(dir: &Path) -> (External, PathBuf) {
    let first = External::start(MockConfig {
        stop_delay: Duration::from_secs(120),
        ..config(jobs(0..3, "INCRE_TRANSFER_STARTED"))
    });
    let body = format!(
        "defaults: {{ wait: {{ timeout: 60s, poll: 100ms }}, escalate: {{ after: 2s }} }}\nphases:\n  - name: all\n    stops:\n{}",
        stops_yaml((0..3).map(job_id))
    );
    let path = runbook(dir, &first.url, &body);
    let args = [
        path.to_str().unwrap(),
        "--journal",
        "j.jsonl",
        "--no-progress",
    ];
    let mut child = spawn(dir, &args);
    let journal = dir.join("j.jsonl");
    wait_until("all three stops were accepted", || {
        std::fs::read_to_string(&journal)
            .map(|t| t.matches("\"kind\":\"accepted\"").count() == 3)
            .unwrap_or(false)
    });
    child.kill().unwrap();
    child.wait().unwrap();
    (first, path)
}

/// The journal `j.jsonl` of `path` resumed at another endpoint (a fresh mock of three jobs):
/// refused without `--retarget` with nothing sent there, then resumed with it (exit 0).
fn refused_then_retargeted(dir: &Path, path: &Path) -> External {
    let other = External::start(config(jobs(0..3, "INCRE_TRANSFER_STARTED")));
    let resume = [
        path.to_str().unwrap(),
        "--journal",
        "j.jsonl",
        "--no-progress",
        "--resume",
        "--endpoint",
        &other.url,
    ];
    let refused = run(dir, &resume);
    assert_eq!(refused.status.code(), Some(2), "{}", stderr(&refused));
    assert!(
        stderr(&refused).contains("--retarget"),
        "{}",
        stderr(&refused)
    );
    assert!(other.requests().is_empty(), "nothing reached {}", other.url);
    let moved = run(dir, &[&resume[..], &["--retarget"]].concat());
    assert_eq!(moved.status.code(), Some(0), "{}", stderr(&moved));
    other
}

/// Hole 3: killed while waiting to escalate, then resumed at another endpoint: refused, and
/// nothing reaches the other endpoint; with `--retarget`, every stop there starts graceful.
#[test]
fn a_resume_at_another_endpoint_needs_retarget_and_starts_graceful_there() {
    let dir = tempfile::tempdir().unwrap();
    let (_first, path) = killed_while_waiting(dir.path());
    let other = refused_then_retargeted(dir.path(), &path);
    for n in 0..3 {
        let got = received(&other, &job_id(n));
        assert_eq!(got, vec![(false, true)], "job {n}: one graceful stop");
    }
    let journal = std::fs::read_to_string(dir.path().join("j.jsonl")).unwrap();
    assert!(journal.contains("retargeted_from"), "{journal}");
}

/// A journal bound to another project is refused, `--retarget` or not, and nothing is sent.
#[test]
fn a_resume_against_another_project_is_refused() {
    let mock = External::start(config(jobs(0..3, "INCRE_TRANSFER_STARTED")));
    let dir = tempfile::tempdir().unwrap();
    let path = three_jobs(dir.path(), &mock);
    let args = [
        path.to_str().unwrap(),
        "--journal",
        "j.jsonl",
        "--no-progress",
    ];
    let first = run(dir.path(), &[&args[..], &["--until", "all"]].concat());
    assert_eq!(first.status.code(), Some(0), "{}", stderr(&first));
    let journal = dir.path().join("j.jsonl");
    let text = std::fs::read_to_string(&journal).unwrap();
    assert!(text.contains(P), "the header names the project: {text}");
    let other = "0123456789abcdef0123456789abcdef";
    std::fs::write(&journal, text.replace(P, other)).unwrap();
    let sent = mock.requests().len();
    for extra in [&[][..], &["--retarget"][..]] {
        let resumed = run(dir.path(), &[&args[..], &["--resume"], extra].concat());
        assert_eq!(resumed.status.code(), Some(2), "{}", stderr(&resumed));
        assert!(stderr(&resumed).contains(other), "{}", stderr(&resumed));
    }
    assert_eq!(mock.requests().len(), sent, "nothing was sent");
}

/// Report paths that would overwrite the journal, the runbook, the approved plan or another
/// report are refused before anything is sent.
#[test]
fn report_paths_that_name_the_runs_own_files_are_refused() {
    let mock = External::start(config(jobs(0..3, "INCRE_TRANSFER_STARTED")));
    let dir = tempfile::tempdir().unwrap();
    let path = three_jobs(dir.path(), &mock);
    let plan = stopbook(["plan", path.to_str().unwrap(), "--format", "json"])
        .current_dir(dir.path())
        .output()
        .unwrap();
    std::fs::write(dir.path().join("approved.json"), &plan.stdout).unwrap();
    let runbook = path.to_str().unwrap();
    let cases: [&[&str]; 5] = [
        &["--journal", "j.jsonl", "--report-json", "j.jsonl"],
        &["--report-md", runbook],
        &["--report-json", "r.json", "--report-md", "./r.json"],
        &["--plan", "approved.json", "--report-html", "approved.json"],
        &["--report-junit", "r.xml", "--attest", "r.xml"],
    ];
    for case in cases {
        let args = [&[runbook, "--no-progress"][..], case].concat();
        let refused = run(dir.path(), &args);
        assert_eq!(
            refused.status.code(),
            Some(2),
            "{case:?}: {}",
            stderr(&refused)
        );
        assert!(
            stderr(&refused).contains("nothing was sent"),
            "{case:?}: {}",
            stderr(&refused)
        );
    }
    assert!(mock.requests().is_empty(), "nothing was sent");
    let text = std::fs::read_to_string(&path).unwrap();
    assert!(text.starts_with("version: 1"), "the runbook is untouched");
}

/// The report's `runbook_sha256` is of the bytes that were parsed, not of the file at the end.
#[test]
fn the_runbook_digest_is_of_the_bytes_that_were_parsed() {
    let mock = External::start(MockConfig {
        stop_delay: Duration::from_millis(1500),
        ..config(jobs(0..3, "INCRE_TRANSFER_STARTED"))
    });
    let dir = tempfile::tempdir().unwrap();
    let path = three_jobs(dir.path(), &mock);
    let parsed = std::fs::read(&path).unwrap();
    let args = [
        path.to_str().unwrap(),
        "--journal",
        "j.jsonl",
        "--report-json",
        "report.json",
        "--no-progress",
    ];
    let mut child = spawn(dir.path(), &args);
    wait_until("a stop was sent", || !mock.stops().is_empty());
    std::fs::write(&path, [&parsed[..], b"# edited during the run\n"].concat()).unwrap();
    assert!(child.wait().unwrap().success());
    use sha2::Digest;
    let digest: String = sha2::Sha256::digest(&parsed)
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect();
    assert_eq!(report(dir.path())["runbook_sha256"], digest.as_str());
    let journal = std::fs::read_to_string(dir.path().join("j.jsonl")).unwrap();
    assert!(
        journal.contains(&digest),
        "the journal's header binds it: {journal}"
    );
}

/// A journal is bound to the shard that wrote it: resuming shard 1's journal as shard 2 would
/// take none of shard 2's own journal into account and stop its jobs a second time.
#[test]
fn a_resume_of_another_shards_journal_is_refused() {
    let mock = External::start(config(jobs(0..4, "INCRE_TRANSFER_STARTED")));
    let dir = tempfile::tempdir().unwrap();
    let body = format!(
        "defaults: {{ wait: {{ timeout: 30s, poll: 100ms }} }}\nphases:\n  - name: all\n    stops:\n{}",
        stops_yaml((0..4).map(job_id))
    );
    let path = runbook(dir.path(), &mock.url, &body);
    let path = path.to_str().unwrap();
    for (shard, journal) in [("1/2", "s1.jsonl"), ("2/2", "s2.jsonl")] {
        let args = [
            path,
            "--shard",
            shard,
            "--journal",
            journal,
            "--no-progress",
        ];
        let out = run(dir.path(), &args);
        assert_eq!(out.status.code(), Some(0), "{shard}: {}", stderr(&out));
    }
    let sent = mock.requests().len();
    let crossed = [
        path,
        "--shard",
        "2/2",
        "--journal",
        "s1.jsonl",
        "--resume",
        "--no-progress",
    ];
    let out = run(dir.path(), &crossed);
    for n in 0..4 {
        let got = received(&mock, &job_id(n));
        assert_eq!(got.len(), 1, "job {n} got {got:?}: {}", stderr(&out));
    }
    assert_eq!(out.status.code(), Some(2), "{}", stderr(&out));
    assert!(stderr(&out).contains("shard 1/2"), "{}", stderr(&out));
    assert_eq!(mock.requests().len(), sent, "nothing was sent");
}

/// A journal whose headers name no target (written by hand, or by a build before headers
/// named one) binds to no endpoint it could be checked against: a resume is refused unless
/// `--retarget` says to move it, and then every stop in doubt starts graceful.
#[test]
fn a_journal_that_names_no_target_is_resumed_only_with_retarget() {
    let dir = tempfile::tempdir().unwrap();
    let (_first, path) = killed_while_waiting(dir.path());
    let journal = dir.path().join("j.jsonl");
    let stripped: String = std::fs::read_to_string(&journal)
        .unwrap()
        .lines()
        .map(|line| {
            let mut entry: serde_json::Value = serde_json::from_str(line).unwrap();
            if let Some(header) = entry.as_object_mut().filter(|e| e["kind"] == "run") {
                header.remove("target");
            }
            format!("{entry}\n")
        })
        .collect();
    std::fs::write(&journal, stripped).unwrap();
    let other = refused_then_retargeted(dir.path(), &path);
    for n in 0..3 {
        let got = received(&other, &job_id(n));
        assert_eq!(got, vec![(false, true)], "job {n}: one graceful stop");
    }
}

/// An empty journal (wiped, or a symlink to /dev/null) says nothing of what was sent: a resume
/// is refused, `--retarget` or not, and nothing is sent (before, `--retarget` sent every stop
/// again with no status read).
#[test]
fn an_empty_journal_is_refused_even_with_retarget() {
    let mock = External::start(config(jobs(0..3, "INCRE_TRANSFER_STARTED")));
    let dir = tempfile::tempdir().unwrap();
    let path = three_jobs(dir.path(), &mock);
    std::fs::write(dir.path().join("j.jsonl"), "").unwrap();
    let args = [
        path.to_str().unwrap(),
        "--journal",
        "j.jsonl",
        "--no-progress",
        "--resume",
    ];
    for extra in [&[][..], &["--retarget"][..]] {
        let out = run(dir.path(), &[&args[..], extra].concat());
        assert_eq!(out.status.code(), Some(2), "{extra:?}: {}", stderr(&out));
        assert!(stderr(&out).contains("no run header"), "{}", stderr(&out));
    }
    assert!(mock.requests().is_empty(), "nothing was sent");
}

/// Reports are written by replacing the file at their path: a path that is a symbolic link,
/// a device or a pipe is refused before anything is sent, and left as it was.
#[test]
fn a_report_path_that_is_not_a_regular_file_is_refused() {
    let mock = External::start(config(jobs(0..3, "INCRE_TRANSFER_STARTED")));
    let dir = tempfile::tempdir().unwrap();
    let path = three_jobs(dir.path(), &mock);
    std::fs::write(dir.path().join("target.json"), "keep").unwrap();
    std::os::unix::fs::symlink("target.json", dir.path().join("link.json")).unwrap();
    for report in ["link.json", "/dev/null"] {
        let args = [
            path.to_str().unwrap(),
            "--report-json",
            report,
            "--no-progress",
        ];
        let out = run(dir.path(), &args);
        assert_eq!(out.status.code(), Some(2), "{report}: {}", stderr(&out));
        assert!(
            stderr(&out).contains("not a regular file"),
            "{}",
            stderr(&out)
        );
    }
    assert!(mock.requests().is_empty(), "nothing was sent");
    let link = std::fs::symlink_metadata(dir.path().join("link.json")).unwrap();
    assert!(link.file_type().is_symlink(), "the link is left as it was");
}

//! Interrupted runs: kill -9 and SIGINT, the journal, and `--resume`.

use std::time::Duration;

use stopbook::mock::MockConfig;

use super::*;

#[test]
fn kill_9_then_resume_stops_every_job_exactly_once() {
    let mock = External::start(MockConfig {
        stop_delay: Duration::from_millis(1500),
        ..config(jobs(0..12, "INCRE_TRANSFER_STARTED"))
    });
    let dir = tempfile::tempdir().unwrap();
    let body = format!(
        "limits: {{ concurrency: 3 }}\ndefaults: {{ wait: {{ timeout: 30s, poll: 100ms }} }}\nphases:\n  - name: all\n    stops:\n{}",
        stops_yaml((0..12).map(job_id))
    );
    let path = runbook(dir.path(), &mock.url, &body);
    let mut child = spawn(dir.path(), &[path.to_str().unwrap(), "--no-progress"]);
    wait_until("four stops were sent", || mock.stops().len() >= 4);
    child.kill().unwrap(); // SIGKILL: no chance to tidy up
    child.wait().unwrap();
    let before = mock.stops().len();
    assert!(before < 12, "the run had finished before it was killed");
    let journal = std::fs::read_dir(dir.path().join(".stopbook"))
        .unwrap()
        .map(|entry| entry.unwrap().path())
        .find(|path| path.extension().is_some_and(|e| e == "jsonl"))
        .expect("the run's journal, beside its lock");
    assert!(
        std::fs::read_to_string(&journal)
            .unwrap()
            .contains("\"kind\":\"intent\"")
    );

    let again = run(
        dir.path(),
        &[
            path.to_str().unwrap(),
            "--report-json",
            "report.json",
            "--no-progress",
        ],
    );
    assert_eq!(
        again.status.code(),
        Some(2),
        "without --resume an existing journal is refused: {}",
        stderr(&again)
    );
    let resumed = run(
        dir.path(),
        &[
            path.to_str().unwrap(),
            "--resume",
            "--report-json",
            "report.json",
            "--no-progress",
        ],
    );
    assert_eq!(resumed.status.code(), Some(0), "{}", stderr(&resumed));
    assert_eq!(
        mock.received().other_than((0..12).map(job_id), &[TAKEN]),
        [],
        "each job was sent exactly one stop"
    );
    for n in 0..12 {
        assert_eq!(mock.status(&job_id(n)), "RELEASE_RESOURCE_COMPLETE");
    }
    assert_eq!(report(dir.path())["summary"]["passed"], 12);
}

#[test]
fn a_finished_run_resumed_sends_nothing_and_reports_the_same_results() {
    let mut jobs = jobs(0..6, "INCRE_TRANSFER_STARTED");
    jobs.extend(self::jobs(6..8, "RELEASE_RESOURCE_COMPLETE"));
    let mock = External::start(config(jobs));
    let dir = tempfile::tempdir().unwrap();
    let body = format!(
        "limits: {{ concurrency: 4 }}\ndefaults: {{ wait: {{ timeout: 30s, poll: 100ms }} }}\nphases:\n  - name: running\n    stops:\n{}  - name: ended\n    stops:\n{}",
        stops_yaml((0..6).map(job_id)),
        stops_yaml((6..8).map(job_id))
    );
    let path = runbook(dir.path(), &mock.url, &body);
    let args = [
        path.to_str().unwrap(),
        "--report-json",
        "report.json",
        "--no-progress",
    ];
    let first = run(dir.path(), &args);
    assert_eq!(
        first.status.code(),
        Some(1),
        "two stops of ended jobs fail: {}",
        stderr(&first)
    );
    let before = report(dir.path());
    let sent = mock.requests().len();

    let resumed = run(dir.path(), &[&args[..], &["--resume"]].concat());
    assert_eq!(resumed.status.code(), Some(1), "{}", stderr(&resumed));
    assert_eq!(
        mock.requests().len(),
        sent,
        "a finished run sends nothing when resumed"
    );
    let after = report(dir.path());
    let results = after["results"].as_array().unwrap();
    assert_eq!(results.len(), 8);
    for (was, is) in before["results"].as_array().unwrap().iter().zip(results) {
        assert_eq!(is["resumed"], true, "{is}");
        let mut is = is.clone();
        is.as_object_mut().unwrap().remove("resumed");
        assert_eq!(&is, was, "the journal gave back a different result");
    }
}

#[test]
fn a_journal_that_cannot_be_written_stops_the_run_before_anything_is_sent() {
    let mock = External::start(config(jobs(0..3, "INCRE_TRANSFER_STARTED")));
    let dir = tempfile::tempdir().unwrap();
    let body = format!(
        "defaults: {{ wait: false }}\nphases:\n  - name: all\n    stops:\n{}",
        stops_yaml((0..3).map(job_id))
    );
    let path = runbook(dir.path(), &mock.url, &body);
    // The journal's folder cannot be made: a file stands in its place. (Failing writes are
    // covered by the journal's unit tests, with /dev/full.)
    std::fs::write(dir.path().join("taken"), "").unwrap();
    let output = run(
        dir.path(),
        &[
            path.to_str().unwrap(),
            "--journal",
            "taken/journal.jsonl",
            "--no-progress",
        ],
    );
    assert_eq!(output.status.code(), Some(2), "{}", stderr(&output));
    assert!(
        stderr(&output).contains("nothing was sent"),
        "{}",
        stderr(&output)
    );
    assert!(
        mock.requests().is_empty(),
        "a stop was sent without a journal"
    );
}

#[test]
fn sigint_finishes_in_flight_requests_writes_reports_and_exits_130() {
    let mock = External::start(MockConfig {
        stop_delay: Duration::from_secs(20),
        ..config(jobs(0..6, "INCRE_TRANSFER_STARTED"))
    });
    let dir = tempfile::tempdir().unwrap();
    let body = format!(
        "limits: {{ concurrency: 2 }}\ndefaults: {{ wait: {{ timeout: 60s, poll: 100ms }} }}\nphases:\n  - name: all\n    stops:\n{}",
        stops_yaml((0..6).map(job_id))
    );
    let path = runbook(dir.path(), &mock.url, &body);
    let child = std::process::Command::new(env!("CARGO_BIN_EXE_stopbook"))
        .args([
            "run",
            path.to_str().unwrap(),
            "--report-json",
            "report.json",
            "--report-junit",
            "report.xml",
            "--no-progress",
        ])
        .current_dir(dir.path())
        .env("STOPBOOK_TEST_TOKEN", TOKEN)
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    wait_until("two stops were sent", || mock.stops().len() >= 2);
    // SAFETY: signalling our own child.
    unsafe { libc::kill(child.id() as i32, libc::SIGINT) };
    let output = child.wait_with_output().unwrap();
    assert_eq!(output.status.code(), Some(130), "{}", stderr(&output));
    let report = report(dir.path());
    assert_eq!(report["outcome"], "interrupted");
    assert_eq!(report["summary"]["total"], 6);
    assert_eq!(
        report["summary"]["skipped"], 6,
        "two were waiting, four never started"
    );
    let err = stderr(&output);
    assert!(
        err.contains(
            "2 accepted and not yet ended, 0 sent with the outcome not yet known, 4 never sent"
        ),
        "{err}"
    );
    assert!(
        !err.contains("progress: 6/6"),
        "skipped stops are not counted as done: {err}"
    );
    assert!(dir.path().join("report.xml").exists());
    assert_eq!(
        mock.received().total(),
        2,
        "nothing new started after the signal"
    );
}

#[test]
fn a_closed_stderr_does_not_crash_the_run() {
    let dir = tempfile::tempdir().unwrap();
    let mut child = std::process::Command::new(env!("CARGO_BIN_EXE_stopbook"))
        .args(["run", "runbooks/quickstart.yaml", "--report-json"])
        .arg(dir.path().join("r.json"))
        .current_dir(crate::support::root())
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    // The reader goes away at once, as `| head -c 100` does: every write to stderr fails.
    drop(child.stderr.take());
    let status = child.wait().unwrap();
    assert_eq!(status.code(), Some(0));
    let report: Value =
        serde_json::from_slice(&std::fs::read(dir.path().join("r.json")).unwrap()).unwrap();
    assert_eq!(report["summary"]["passed"], 20);
}

/// A stop never sent before a kill -9 is sent by the resumed run and judged on its answer:
/// only stops whose requests may really have left are read as "maybe sent". (Before intents
/// were written just before each send, the next stops' intents were already on disk, so the
/// resumed run took the ended jobs for stops it had taken, and failed their exact 400s as
/// "outcome unknown".)
#[test]
fn stops_never_sent_before_a_kill_are_judged_on_their_answers_after_resume() {
    let mut fleet = jobs(0..1, "INCRE_TRANSFER_STARTED");
    fleet.extend(jobs(1..7, "RELEASE_RESOURCE_COMPLETE"));
    let mock = External::start(MockConfig {
        faults: stopbook::mock::Faults {
            latency: Duration::from_millis(1500),
            ..Default::default()
        },
        ..config(fleet)
    });
    let dir = tempfile::tempdir().unwrap();
    let ended: String = (1..7)
        .map(|n| {
            format!(
                "      - job: {}\n        expect: {{ http: 400, error_code: DRS.10000001 }}\n",
                job_id(n)
            )
        })
        .collect();
    let body = format!(
        "limits: {{ concurrency: 1 }}\ndefaults: {{ wait: false, retry: {{ settle: 1s }} }}\nphases:\n  - name: all\n    stops:\n{}{ended}",
        stops_yaml([job_id(0)])
    );
    let path = runbook(dir.path(), &mock.url, &body);
    let args = journaled(&path);
    let mut child = spawn(dir.path(), &args);
    wait_until("the first stop was sent", || !mock.stops().is_empty());
    child.kill().unwrap(); // the first stop is in flight; none of the others has left
    child.wait().unwrap();
    admin(
        &mock,
        reqwest::Method::PUT,
        "/__mock/faults",
        serde_json::json!({"latency_ms": 0}),
    );
    let resumed = run(dir.path(), &[args.as_slice(), &["--resume"]].concat());
    assert_eq!(resumed.status.code(), Some(0), "{}", stderr(&resumed));
    let got = mock.received();
    assert_eq!(got.of(&job_id(0)), [TAKEN], "{got:?}");
    assert_eq!(
        got.other_than((1..7).map(job_id), &[REFUSED]),
        [],
        "each ended job sent its one stop, refused"
    );
}

/// `--retry-failed` sends a refused stop again and judges it on its new answer: the job's
/// status cannot show that a refused stop was taken. (Before, a stop refused because its job
/// had already ended was passed on resume as "an earlier run's stop was taken".)
#[test]
fn retry_failed_judges_a_refused_stop_on_its_new_answer() {
    let mut fleet = jobs(0..1, "RELEASE_RESOURCE_COMPLETE");
    fleet.extend(jobs(1..2, "INCRE_TRANSFER_STARTED"));
    let mock = External::start(config(fleet));
    let dir = tempfile::tempdir().unwrap();
    let body = format!(
        "defaults: {{ wait: false }}\nphases:\n  - name: all\n    stops:\n{}",
        stops_yaml((0..2).map(job_id))
    );
    let path = runbook(dir.path(), &mock.url, &body);
    let args = journaled(&path);
    let first = run(dir.path(), &args);
    assert_eq!(first.status.code(), Some(1), "{}", stderr(&first));
    let retried = run(
        dir.path(),
        &[args.as_slice(), &["--resume", "--retry-failed"]].concat(),
    );
    assert_eq!(retried.status.code(), Some(1), "{}", stderr(&retried));
    let result = &report(dir.path())["results"][0];
    assert_eq!(result["outcome"], "failed", "{result}");
    assert_eq!(result["http_status"], 400, "{result}");
    let got = mock.received();
    assert_eq!(
        got.of(&job_id(0)),
        [REFUSED, REFUSED],
        "the refused stop sent again, once"
    );
    assert_eq!(got.of(&job_id(1)), [TAKEN], "{got:?}");
}
